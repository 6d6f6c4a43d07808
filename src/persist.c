/*-------------------------------------------------------------------------
 *
 * persist.c
 *	  Keeping the speed layer across a clean restart.
 *
 * At a clean shutdown the launcher writes every view's speed state to
 * pg_stat/lambda_speed.state, where PostgreSQL keeps its own statistics
 * across a restart; the next start loads it, so a view is on the fast path
 * at once.  A saved state is used only if it is exactly what the speed
 * layer would hold had the server never stopped:
 *
 *	- When saving, no transaction of a running process holds an xid: every
 *	  transaction that will ever commit with an xid below N, the next xid at
 *	  the save, has handed its deltas off already (at PRE_COMMIT), so they
 *	  are in the state saved.  Prepared transactions handed theirs off at
 *	  PRE_PREPARE, and commit or abort after the restart as usual.
 *	- At the next postmaster start, before any process runs, the control
 *	  file must say the cluster shut down cleanly, and its shutdown
 *	  checkpoint must record N as the next xid: no transaction got an xid
 *	  after the save, so none handed off a delta the file lacks.  And no
 *	  WAL may be replayed before the launcher loads the file: not with
 *	  standby.signal, recovery.signal or backup_label in the data
 *	  directory (a standby, point-in-time recovery, a base backup), whose
 *	  recovery would bring transactions the file does not know.  After a
 *	  crash, an immediate shutdown or any of those the file is removed
 *	  unread, and views are rebuilt by a batch as before (speed.c,
 *	  worker.c).  In single-user mode, where no launcher runs, the file is
 *	  neither loaded nor removed: the next start checks it again.
 *
 * The file is read once: the launcher loads it into the DSA when it starts
 * and removes it.  Until it is done, every process that looks a view's
 * slot up waits for it (PersistWaitLoaded), so that nobody hands off a
 * delta or decides on the fast path before the state is there.
 *
 * Postmaster memory holds no DSA: the postmaster only checks the file,
 * the launcher (a background worker) does the rest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xlog.h"
#include "catalog/pg_control.h"
#include "common/controldata_utils.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/timestamp.h"

#include "persist.h"
#include "shmem.h"
#include "speed.h"

/* Where PostgreSQL keeps statistics across a clean restart */
#define PERSIST_FILE		"pg_stat/lambda_speed.state"
#define PERSIST_TEMP_FILE	PERSIST_FILE ".tmp"

#define PERSIST_MAGIC		0x4C414D42	/* "LAMB" */
#define PERSIST_VERSION		1

/* How long a shutdown waits for other processes to finish their transactions */
#define SAVE_WAIT_SECONDS	10

/*
 * How long a look-up waits for a launcher that has not begun to load: one
 * that could not be registered never will.
 */
#define LOAD_WAIT_SECONDS	30

typedef struct PersistHeader
{
	uint32		magic;
	uint32		version;
	uint64		systemId;		/* the cluster's */
	uint64		nextXid;		/* N, the next full xid at the save */
	int32		nviews;
} PersistHeader;

typedef struct PersistViewHeader
{
	Oid			dbid;
	Oid			viewid;
} PersistViewHeader;

/* Set in the launcher while it loads: its look-ups must not wait */
static bool loader = false;

static bool OthersHoldXids(void);
static bool RecoveryPending(void);

/*
 * At postmaster start, before any other process: does the saved state
 * belong to this start?  If so the launcher is to load it
 * (lambda_shared->loading); if not it is removed.  Caller holds
 * AddinShmemInitLock and has made lambda_shared.
 */
void
PersistCheckAtStart(void)
{
	FILE	   *file;
	PersistHeader header;
	ControlFileData *control;
	bool		crcOk;
	bool		valid = false;

	lambda_shared->loading = false;
	lambda_shared->loaderActive = false;
	if (!IsPostmasterEnvironment)
		return;
	file = AllocateFile(PERSIST_FILE, PG_BINARY_R);
	if (file == NULL)
		return;
	if (fread(&header, sizeof(header), 1, file) == 1 &&
		header.magic == PERSIST_MAGIC && header.version == PERSIST_VERSION)
	{
		control = get_controlfile(DataDir, &crcOk);
		valid = crcOk && control->state == DB_SHUTDOWNED &&
			control->system_identifier == header.systemId &&
			U64FromFullTransactionId(control->checkPointCopy.nextXid) == header.nextXid &&
			!RecoveryPending();
		pfree(control);
	}
	FreeFile(file);

	if (valid)
		lambda_shared->loading = true;
	else
	{
		ereport(LOG,
				(errmsg("lambda: not loading the speed layer saved at the last shutdown"),
				 errdetail("The server did not shut down cleanly after it was saved, or transactions ran after it."),
				 errhint("Lambda views answer through the exact slow path until a batch rebuilds them.")));
		(void) unlink(PERSIST_FILE);
	}
}

/*
 * Wait until the launcher has loaded the saved state.  Called when
 * lambda_shared->loading was seen set; the launcher never waits for itself.
 */
void
PersistWaitLoaded(void)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   LOAD_WAIT_SECONDS * 1000);

	if (loader)
		return;
	ConditionVariablePrepareToSleep(&lambda_shared->loadedCV);
	for (;;)
	{
		bool		loading;

		LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
		loading = lambda_shared->loading;
		if (loading && !lambda_shared->loaderActive && GetCurrentTimestamp() >= deadline)
		{
			/* no launcher came: give the saved state up, as after a crash */
			lambda_shared->loading = false;
			loading = false;
			ereport(WARNING,
					(errmsg("lambda: the speed layer saved at the last shutdown was not loaded within %d seconds",
							LOAD_WAIT_SECONDS),
					 errdetail("The lambda launcher did not start."),
					 errhint("Lambda views answer through the exact slow path until a batch rebuilds them.")));
		}
		LWLockRelease(lambda_shared->lock);
		if (!loading)
			break;
		(void) ConditionVariableTimedSleep(&lambda_shared->loadedCV, 1000L, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * In the launcher, at its start: load the saved state, if the postmaster
 * found it valid, and remove the file.  A view whose state does not load
 * (a short file, or too little lambda.speed_memory) counts as lost, as
 * after a crash; the others are on the fast path at once.
 */
void
PersistLoad(void)
{
	FILE	   *file;
	PersistHeader header;
	volatile int loaded = 0;
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	if (lambda_shared->loading)
		lambda_shared->loaderActive = true;
	LWLockRelease(lambda_shared->lock);
	if (!lambda_shared->loaderActive)
		return;

	loader = true;
	file = AllocateFile(PERSIST_FILE, PG_BINARY_R);
	PG_TRY();
	{
		if (file != NULL && fread(&header, sizeof(header), 1, file) == 1)
		{
			for (i = 0; i < header.nviews; i++)
			{
				PersistViewHeader vh;
				LambdaSharedView *view;

				if (fread(&vh, sizeof(vh), 1, file) != 1)
					break;
				view = SharedViewFindExtended(vh.dbid, vh.viewid, true, true);
				if (view == NULL || !SpeedLoad(view, file))
					break;		/* the file's rest is not worth trusting */
				loaded++;
			}
		}
	}
	PG_FINALLY();
	{
		if (file != NULL)
			FreeFile(file);
		(void) unlink(PERSIST_FILE);
		loader = false;
		LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
		lambda_shared->loading = false;
		lambda_shared->loaderActive = false;
		LWLockRelease(lambda_shared->lock);
		ConditionVariableBroadcast(&lambda_shared->loadedCV);
	}
	PG_END_TRY();

	ereport(LOG,
			(errmsg_plural("lambda: loaded the speed layer of %d view saved at the last shutdown",
						   "lambda: loaded the speed layer of %d views saved at the last shutdown",
						   loaded, loaded)));
}

/*
 * In the launcher, at a shutdown request: save every view's speed state.
 * Nothing is saved (and an older file is removed) if another process still
 * holds an xid after SAVE_WAIT_SECONDS, or the file cannot be written.
 */
void
PersistSave(void)
{
	FILE	   *file;
	PersistHeader header = {0};
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   SAVE_WAIT_SECONDS * 1000);
	bool		ok;
	int			i;

	(void) unlink(PERSIST_FILE);

	/* N first: any xid given out later is N or newer, and voids the file */
	header.magic = PERSIST_MAGIC;
	header.version = PERSIST_VERSION;
	header.systemId = GetSystemIdentifier();
	header.nextXid = U64FromFullTransactionId(ReadNextFullTransactionId());
	while (OthersHoldXids())
	{
		if (GetCurrentTimestamp() >= deadline)
		{
			ereport(LOG,
					(errmsg("lambda: not saving the speed layer: transactions are still running")));
			return;
		}
		pg_usleep(10000L);
	}

	file = AllocateFile(PERSIST_TEMP_FILE, PG_BINARY_W);
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", PERSIST_TEMP_FILE)));
		return;
	}

	/*
	 * Workers told to stop may still be taking or freeing slots: the
	 * registry lock keeps every slot's identity as counted and written
	 */
	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		if (lambda_shared->views[i].state != LAMBDA_SLOT_FREE)
			header.nviews++;
	}
	ok = fwrite(&header, sizeof(header), 1, file) == 1;
	for (i = 0; ok && i < lambda_shared->nviews; i++)
	{
		LambdaSharedView *view = &lambda_shared->views[i];
		PersistViewHeader vh;

		vh.dbid = view->dbid;
		vh.viewid = view->viewid;
		if (view->state == LAMBDA_SLOT_FREE)
			continue;
		ok = fwrite(&vh, sizeof(vh), 1, file) == 1 && SpeedSave(view, file);
	}
	LWLockRelease(lambda_shared->lock);
	if (FreeFile(file) != 0)
		ok = false;
	if (!ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", PERSIST_TEMP_FILE)));
		(void) unlink(PERSIST_TEMP_FILE);
		return;
	}
	(void) durable_rename(PERSIST_TEMP_FILE, PERSIST_FILE, LOG);
	ereport(LOG,
			(errmsg_plural("lambda: saved the speed layer of %d view for the next start",
						   "lambda: saved the speed layer of %d views for the next start",
						   header.nviews, header.nviews)));
}

/*
 * Does a process other than this one run a transaction that holds an xid?
 * Prepared transactions do not count: they have handed off already.
 */
static bool
OthersHoldXids(void)
{
	bool		found = false;
	int			i;

	LWLockAcquire(ProcArrayLock, LW_SHARED);
	for (i = 0; i < MaxBackends && !found; i++)
	{
		PGPROC	   *proc = &ProcGlobal->allProcs[i];

		if (proc != MyProc && proc->pid != 0 && TransactionIdIsValid(proc->xid))
			found = true;
	}
	LWLockRelease(ProcArrayLock);
	return found;
}

/*
 * Will the startup process replay WAL the saved state does not know?  A
 * standby, an archive recovery and a base backup each leave a file in the
 * data directory (the postmaster's working directory) that says so.
 */
static bool
RecoveryPending(void)
{
	struct stat st;

	return stat(STANDBY_SIGNAL_FILE, &st) == 0 ||
		stat(RECOVERY_SIGNAL_FILE, &st) == 0 ||
		stat(BACKUP_LABEL_FILE, &st) == 0;
}
