/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The speed layer's background workers.
 *
 * A launcher, registered at postmaster start, starts one worker per
 * database that has lambda views (at most lambda.workers at a time).  After
 * a restart it probes every database once, so speed layers come back
 * without anyone connecting; later, any backend that hands off a delta or
 * runs a batch asks for a worker in its database (SharedWantDatabase).
 * When more databases want a worker than there are slots, they wait in
 * line (behind the databases still to probe after a start), and each
 * worker gives its slot back after TURN_ROUNDS rounds.
 *
 * A database worker, every lambda.naptime:
 *
 *	- settles committed deltas into the generations that do not cover them,
 *	  drops aborted deltas, publishes generations whose batch committed and
 *	  drops those no snapshot can resolve to any more (SpeedSettle);
 *	- frees the state of views that were dropped;
 *	- runs a batch for each view whose newest generation is missing or
 *	  incomplete (after a restart, an overflow or a failed capture), once
 *	  every transaction whose delta may be lost has finished, so that the
 *	  new generation is complete and the fast path comes back by itself;
 *	- compacts each view whose settled speed state passed
 *	  lambda.compact_threshold (compact.c), so that the speed layer's
 *	  memory stays bounded and reads stay fast between batches.
 *
 * A worker connects as the bootstrap superuser, but never runs a view's
 * code as such: settling (which merges states with the functions of the
 * view's types), recovery batches and compactions run as the view's owner,
 * restricted
 * (identity.c), and the worker's own SQL is resolved under a pinned
 * search_path.
 *
 * Errors are contained: each view's settling runs in an error boundary of
 * its own (an error costs that view its speed state until a batch, never
 * the others theirs), each recovery batch and compaction too (retried after
 * RETRY_SECONDS), and each round (after a failed round the worker waits longer, up to a
 * minute).  A worker that still dies within seconds of its start makes the
 * launcher back off before starting the next (MAX_BACKOFF_SECONDS).
 *
 * A worker that dies is started again by the launcher; one killed hard
 * makes the postmaster restart the cluster, after which the speed layers
 * are rebuilt the same way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "catalog.h"
#include "compact.h"
#include "guc.h"
#include "identity.h"
#include "lambda.h"
#include "layout.h"
#include "persist.h"
#include "restore.h"
#include "shmem.h"
#include "speed.h"
#include "worker.h"

/*
 * Seconds to wait before retrying a view's failed recovery batch or
 * compaction, twice as long after each failure in a row, up to
 * MAX_RETRY_SECONDS
 */
#define RETRY_SECONDS		10
#define MAX_RETRY_SECONDS	600

/* Rounds a worker runs before giving its slot to a waiting database */
#define TURN_ROUNDS		50

/*
 * After a worker exits with an error within QUICK_EXIT_SECONDS of its start,
 * the launcher waits before starting the next one for its database slot,
 * twice as long after each such failure in a row (from 2 seconds), up to
 * MAX_BACKOFF_SECONDS, rather than crash-looping.  A worker that ran longer
 * before an error (its database dropped the extension, say) is replaced at
 * once.
 */
#define QUICK_EXIT_SECONDS	10
#define MAX_BACKOFF_SECONDS	60

/*
 * After GIVE_UP_STARTS quick failures in a row, a database's worker slot
 * goes to the next database: one whose workers cannot start (a database
 * that cannot be connected to, say) must not hold it from the others.  It
 * asks again at its next hand-off or batch.
 */
#define GIVE_UP_STARTS		5

/*
 * Databases that gave their slot up (GiveUpSlot), until one of their
 * workers runs: at their next turn, the first quick failure gives the slot
 * up again, rather than holding it through another round of backoffs.
 * The launcher's own memory.
 */
static List *givenUp = NIL;

/* The launcher's record of a database slot's worker */
typedef struct WorkerStart
{
	Oid			dbid;			/* the database it was last started for */
	BackgroundWorkerHandle *handle;	/* the running worker, or NULL */
	TimestampTz started;
	TimestampTz notBefore;		/* start no new one before */
	int			failures;		/* quick exits in a row */
} WorkerStart;

PGDLLEXPORT void lambda_launcher_main(Datum main_arg);
PGDLLEXPORT void lambda_worker_main(Datum main_arg);

static List *ProbeDatabases(void);
static List *SkipDroppedDatabases(List *probe);
static void StartWorkers(WorkerStart *starts);
static void GiveUpSlot(LambdaDatabaseSlot *slot, WorkerStart *start);
static void ExitUnlessInstalled(void);
static bool DatabaseExists(Oid dbid);
static void ForgetDatabase(LambdaDatabaseSlot *slot, Oid dbid);
static void ForgetDroppedDatabases(void);
static void WorkerExit(int code, Datum arg);
static List *ViewsOfDatabase(void);
static bool CaptureInPlace(Oid viewid);
static void WorkerRound(void);
static bool ProtectedRound(MemoryContext roundContext);
static bool WorkerBatch(Oid viewid, bool compaction);
static void SettleView(LambdaSharedView *view, Oid viewid, TransactionId horizon);
static void SettleErrorContext(void *arg);
static void ForgetDroppedViews(List *views);

/* Views whose recovery batch or compaction failed, and when to try again */
typedef struct RetryEntry
{
	Oid			viewid;
	TimestampTz notBefore;
	int			failures;		/* in a row: each doubles the wait */
} RetryEntry;

static List *retries = NIL;

/*
 * Register the launcher.  Called from _PG_init while preloading.
 */
void
WorkerInit(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "lambda");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "lambda_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "lambda launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "lambda launcher");
	RegisterBackgroundWorker(&worker);
}

/*
 * The launcher's main loop.
 */
void
lambda_launcher_main(Datum main_arg)
{
	WorkerStart *starts;
	List	   *probe;
	uint64		round;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	/* The speed layer saved at the last clean shutdown, before all else */
	PersistLoad();

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	lambda_shared->launcherLatch = MyLatch;
	LWLockRelease(lambda_shared->lock);

	starts = MemoryContextAllocZero(TopMemoryContext,
									sizeof(WorkerStart) * lambda_shared->ndatabases);

	/*
	 * Probe every database once: those beyond the slots wait their turn,
	 * ahead of the line (SharedServeWaiting)
	 */
	probe = ProbeDatabases();

	for (round = 0;; round++)
	{
		probe = SkipDroppedDatabases(probe);
		probe = SharedServeWaiting(probe);
		StartWorkers(starts);
		if (round % 10 == 0)
			ForgetDroppedDatabases();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
		{
			/* ... and kept for the next start (persist.c) */
			PersistSave();
			proc_exit(1);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/*
 * The databases a worker could serve: those that accept connections.
 */
static List *
ProbeDatabases(void)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext old;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	old = MemoryContextSwitchTo(TopMemoryContext);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (db->datallowconn && !db->datistemplate)
			dbs = lappend_oid(dbs, db->oid);
	}
	MemoryContextSwitchTo(old);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/*
 * Leave out of probe the databases dropped since it was made, among those
 * next in turn (as many as there are database slots), so that no worker is
 * started for them.
 */
static List *
SkipDroppedDatabases(List *probe)
{
	ListCell   *lc;
	int			looked = 0;

	foreach(lc, probe)
	{
		if (looked++ >= lambda_shared->ndatabases)
			break;
		if (!DatabaseExists(lfirst_oid(lc)))
			probe = foreach_delete_current(probe, lc);
	}
	return probe;
}

/*
 * DROP DATABASE (or a rename, a move, a copy of the database) is about to
 * run (guard.c): stop the database's worker, which would otherwise count
 * as a session using it and make the command fail, and free its slot, or
 * its place in line.  True when it had either: the command asks for a
 * worker again once it is over, unless it dropped the database (guard.c).
 */
bool
WorkerReleaseDatabase(Oid dbid)
{
	pid_t		pid = 0;
	bool		released = SharedReleaseDatabase(dbid, &pid);

	/* DROP DATABASE waits (5 s) for the sessions it counts to go */
	if (pid != 0)
		(void) kill(pid, SIGTERM);
	return released;
}

/*
 * Does database dbid (still) exist, and can a worker connect to it?
 */
static bool
DatabaseExists(Oid dbid)
{
	bool		exists;

	HeapTuple	tuple;

	StartTransactionCommand();
	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dbid));
	exists = HeapTupleIsValid(tuple);
	/* one whose DROP DATABASE was interrupted: only dropping it is left */
	if (exists &&
		((Form_pg_database) GETSTRUCT(tuple))->datconnlimit == DATCONNLIMIT_INVALID_DB)
		exists = false;
	if (HeapTupleIsValid(tuple))
		ReleaseSysCache(tuple);
	CommitTransactionCommand();
	return exists;
}

/*
 * A database that wanted a worker was dropped: free its slot, and the
 * speed state of its views, which no worker of its own will ever forget
 * (ForgetDroppedViews runs in the view's database).
 */
static void
ForgetDatabase(LambdaDatabaseSlot *slot, Oid dbid)
{
	List	   *views = SharedViewsOf(dbid);
	ListCell   *lc;

	foreach(lc, views)
		SpeedForget(dbid, lfirst_oid(lc), 0);
	list_free(views);
	if (slot != NULL)
	{
		LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
		if (slot->dbid == dbid)
		{
			slot->dbid = InvalidOid;
			slot->wanted = false;
			slot->failed = false;
		}
		LWLockRelease(lambda_shared->lock);
	}
	SetLatch(MyLatch);			/* a waiting database may take the slot */
}

/*
 * Free the speed state of views whose database was dropped: no worker of
 * theirs will ever run again to do it.  Called by the launcher now and
 * then.
 */
static void
ForgetDroppedDatabases(void)
{
	List	   *dbids = NIL;
	ListCell   *lc;
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		Oid			dbid = lambda_shared->views[i].dbid;

		if (OidIsValid(dbid))
			dbids = list_append_unique_oid(dbids, dbid);
	}
	LWLockRelease(lambda_shared->lock);
	foreach(lc, dbids)
	{
		if (!DatabaseExists(lfirst_oid(lc)))
			ForgetDatabase(NULL, lfirst_oid(lc));
	}
	list_free(dbids);
}

/*
 * A database's workers keep failing at once: give its slot to the next
 * database in turn (the failures are in the log).
 */
static void
GiveUpSlot(LambdaDatabaseSlot *slot, WorkerStart *start)
{
	bool		given = false;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	if (slot->dbid == start->dbid && OidIsValid(start->dbid))
	{
		slot->dbid = InvalidOid;
		slot->wanted = false;
		slot->failed = false;
		given = true;
	}
	LWLockRelease(lambda_shared->lock);
	if (given)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		givenUp = list_append_unique_oid(givenUp, start->dbid);
		MemoryContextSwitchTo(old);
		ereport(LOG,
				(errmsg("lambda: database %u gives its worker slot to others: its workers fail to start",
						start->dbid),
				 errdetail("Failed starts in a row: %d.  The database asks for a worker again at its next write or batch.",
						   start->failures)));
	}
	start->dbid = InvalidOid;
	start->failures = 0;
	start->notBefore = 0;
}

/*
 * Start a worker for every database slot that wants one and has none, unless
 * the slot's workers keep failing (see MAX_BACKOFF_SECONDS).
 */
static void
StartWorkers(WorkerStart *starts)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		LambdaDatabaseSlot *slot = &lambda_shared->databases[i];
		WorkerStart *start = &starts[i];
		BackgroundWorker worker;
		pid_t		pid;
		Oid			dbid;
		bool		wanted;

		if (start->handle != NULL)
		{
			bool		failed;

			if (GetBackgroundWorkerPid(start->handle, &pid) != BGWH_STOPPED)
				continue;
			pfree(start->handle);
			start->handle = NULL;
			LWLockAcquire(lambda_shared->lock, LW_SHARED);
			failed = slot->failed;
			LWLockRelease(lambda_shared->lock);
			if (failed &&
				!TimestampDifferenceExceeds(start->started, now, QUICK_EXIT_SECONDS * 1000))
			{
				start->failures++;
				start->notBefore = TimestampTzPlusMilliseconds(now,
															   Min(1 << Min(start->failures, 6),
																   MAX_BACKOFF_SECONDS) * 1000);
				if (start->failures >= GIVE_UP_STARTS ||
					list_member_oid(givenUp, start->dbid))
					GiveUpSlot(slot, start);
			}
			else
			{
				start->failures = 0;
				givenUp = list_delete_oid(givenUp, start->dbid);
			}
		}

		LWLockAcquire(lambda_shared->lock, LW_SHARED);
		dbid = slot->dbid;
		wanted = slot->wanted;
		LWLockRelease(lambda_shared->lock);

		/* the backoff is the database's, not the next one's in the slot */
		if (dbid != start->dbid)
		{
			start->dbid = dbid;
			start->failures = 0;
			start->notBefore = 0;
		}
		if (now < start->notBefore)
			continue;
		if (!OidIsValid(dbid) || !wanted)
			continue;
		if (!DatabaseExists(dbid))
		{
			ForgetDatabase(slot, dbid);
			continue;
		}

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "lambda");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "lambda_worker_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "lambda worker for database %u", dbid);
		snprintf(worker.bgw_type, BGW_MAXLEN, "lambda worker");
		worker.bgw_main_arg = Int32GetDatum(i);
		memcpy(worker.bgw_extra, &dbid, sizeof(Oid));
		worker.bgw_notify_pid = MyProcPid;

		/*
		 * Failed until the worker says otherwise (WorkerExit): one that dies
		 * before it has a connection to register with counts as a failure,
		 * not as a worker that finished its turn, and the next start for
		 * the slot backs off
		 */
		LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
		if (slot->dbid != dbid || !slot->wanted)
		{
			/* given to another database meanwhile: its turn comes next */
			LWLockRelease(lambda_shared->lock);
			continue;
		}
		slot->failed = true;
		LWLockRelease(lambda_shared->lock);

		/* no free worker slot: try again later */
		if (RegisterDynamicBackgroundWorker(&worker, &start->handle))
			start->started = now;
		else
			start->handle = NULL;
	}
}

/*
 * A database worker's main loop.
 */
void
lambda_worker_main(Datum main_arg)
{
	int			slotno = DatumGetInt32(main_arg);
	LambdaDatabaseSlot *slot = &lambda_shared->databases[slotno];
	MemoryContext roundContext;
	Oid			dbid;
	int			rounds = 0;
	int			errors = 0;

	memcpy(&dbid, MyBgworkerEntry->bgw_extra, sizeof(Oid));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/*
	 * As autovacuum does, also into a database that does not accept
	 * connections (ALTER DATABASE ... ALLOW_CONNECTIONS false): sessions
	 * already in it still write, and their deltas still need settling.
	 */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid,
											  BGWORKER_BYPASS_ALLOWCONN);
	IdentityPinSearchPath();

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	if (slot->dbid != dbid || (slot->workerPid != 0 && slot->workerPid != MyProcPid))
	{
		/* Another worker serves this database */
		LWLockRelease(lambda_shared->lock);
		proc_exit(0);
	}
	slot->workerPid = MyProcPid;
	LWLockRelease(lambda_shared->lock);
	on_shmem_exit(WorkerExit, Int32GetDatum(slotno));

	roundContext = AllocSetContextCreate(TopMemoryContext, "lambda worker round",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(roundContext);

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (ProtectedRound(roundContext))
			errors = 0;
		else
			errors++;
		rounds++;

		MemoryContextSwitchTo(old);
		MemoryContextReset(roundContext);

		/*
		 * Take turns with databases waiting for a slot: after a while, give
		 * the slot back and wait in line again.  Meanwhile this database's
		 * deltas stay pending, which readers see.
		 */
		if (rounds >= TURN_ROUNDS && SharedOthersWaiting())
		{
			SharedYieldDatabase(slot);
			proc_exit(0);
		}

		/* after failed rounds, wait twice as long each time, up to a minute */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 errors == 0 ? lambda_naptime :
						 Min(1000L << Min(errors - 1, 6), MAX_BACKOFF_SECONDS * 1000L),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * One round, in an error boundary: an error that no view's own boundary
 * caught (the catalog, say, while the extension is being dropped) is logged,
 * its transaction aborted, and the worker carries on; the next round exits
 * if the extension is gone.  False when the round failed.
 */
static bool
ProtectedRound(MemoryContext roundContext)
{
	volatile bool ok = true;

	PG_TRY();
	{
		pgstat_report_activity(STATE_RUNNING, "lambda: settling");
		WorkerRound();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(roundContext);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Exit, freeing this database's slot, when the extension is not installed
 * here.  Caller is in a transaction, before connecting to SPI.
 */
static void
ExitUnlessInstalled(void)
{
	int			j;

	if (OidIsValid(get_extension_oid(LAMBDA_EXTENSION_NAME, true)))
		return;

	/* The extension was dropped here (or never created): free its views */
	ForgetDroppedViews(NIL);

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	for (j = 0; j < lambda_shared->ndatabases; j++)
	{
		LambdaDatabaseSlot *slot = &lambda_shared->databases[j];

		if (slot->dbid == MyDatabaseId)
		{
			slot->dbid = InvalidOid;
			slot->wanted = false;
		}
	}
	if (lambda_shared->launcherLatch)
		SetLatch(lambda_shared->launcherLatch);
	LWLockRelease(lambda_shared->lock);
	CommitTransactionCommand();
	proc_exit(0);
}

/*
 * On exit, give the database slot back to the launcher's next worker, and
 * say whether this one failed (proc_exit(1) after an error).
 */
static void
WorkerExit(int code, Datum arg)
{
	LambdaDatabaseSlot *slot = &lambda_shared->databases[DatumGetInt32(arg)];

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	if (slot->workerPid == MyProcPid)
	{
		slot->workerPid = 0;
		slot->failed = code != 0;
	}
	LWLockRelease(lambda_shared->lock);
}

/*
 * The lambda views of this database.
 */
static List *
ViewsOfDatabase(void)
{
	List	   *views = NIL;
	uint64		i;
	int			ret;

	ret = SPI_execute("SELECT view FROM lambda.view", true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		views = lappend_oid(views,
							DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc,
														   1, &isnull)));
	}
	return views;
}

/*
 * Are a view's capture triggers all in place?  Not yet while a restore
 * that brought the view back has not reached its triggers (restore.c).
 */
static bool
CaptureInPlace(Oid viewid)
{
	LambdaViewEntry entry;

	return CatalogGetView(viewid, &entry) &&
		RestoreCaptureInPlace(entry.id, entry.master);
}

/*
 * One round: settle every view, forget dropped ones, rebuild incomplete
 * ones.
 */
static void
WorkerRound(void)
{
	MemoryContext round = CurrentMemoryContext;
	List	   *views;
	List	   *rebuild = NIL;
	List	   *compact = NIL;
	bool		compactable;
	ListCell   *lc;

	StartTransactionCommand();
	ExitUnlessInstalled();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	views = ViewsOfDatabase();
	compactable = CatalogHasCompactions();
	foreach(lc, views)
	{
		Oid			viewid = lfirst_oid(lc);
		/* the slot is checked to be the view's again under its lock */
		LambdaSharedView *view = SharedViewFind(MyDatabaseId, viewid, true);
		TransactionId horizon = GetOldestNonRemovableTransactionId(NULL);

		if (view == NULL)
			continue;			/* registry full */
		SharedViewCommitted(view, viewid);
		SettleView(view, viewid, horizon);
		if (SpeedNeedsBatch(view, viewid) && CaptureInPlace(viewid))
		{
			/* the list outlives the transaction and SPI's memory */
			MemoryContext old = MemoryContextSwitchTo(round);

			rebuild = lappend_oid(rebuild, viewid);
			MemoryContextSwitchTo(old);
		}
		else if (compactable && SpeedNeedsCompaction(view, viewid))
		{
			MemoryContext old = MemoryContextSwitchTo(round);

			compact = lappend_oid(compact, viewid);
			MemoryContextSwitchTo(old);
		}
	}
	ForgetDroppedViews(views);

	/* a failed view's retry goes with the view: the list stays this short */
	foreach(lc, retries)
	{
		RetryEntry *retry = lfirst(lc);

		if (!list_member_oid(views, retry->viewid))
		{
			retries = foreach_delete_current(retries, lc);
			pfree(retry);
		}
	}

	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();

	rebuild = list_concat(rebuild, compact);
	foreach(lc, rebuild)
	{
		Oid			viewid = lfirst_oid(lc);
		bool		compaction = list_member_oid(compact, viewid);
		TimestampTz now = GetCurrentTimestamp();
		ListCell   *rlc;
		RetryEntry *retry = NULL;

		foreach(rlc, retries)
		{
			if (((RetryEntry *) lfirst(rlc))->viewid == viewid)
				retry = lfirst(rlc);
		}
		if (retry != NULL && retry->notBefore > now)
			continue;
		if (WorkerBatch(viewid, compaction))
		{
			if (retry != NULL)
				retries = list_delete_ptr(retries, retry);
		}
		else
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			if (retry == NULL)
			{
				retry = palloc0(sizeof(RetryEntry));
				retry->viewid = viewid;
				retries = lappend(retries, retry);
			}
			retry->failures++;
			retry->notBefore = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														   Min(RETRY_SECONDS << Min(retry->failures - 1, 6),
															   MAX_RETRY_SECONDS) * 1000L);
			MemoryContextSwitchTo(old);
		}
	}
}

/*
 * Settle one view, in an error boundary of its own: an error in its merge
 * functions (a float sum that overflows, a type's function that fails) is
 * logged once, with the view named, and costs that view its speed state
 * until a batch restores it (SpeedDiscard); the other views, and the
 * worker, carry on.  Merging calls the functions of the view's types: it
 * runs as the view's owner (identity.c).
 */
static void
SettleView(LambdaSharedView *view, Oid viewid, TransactionId horizon)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorContextCallback callback;
	volatile bool ok = true;
	char	   *volatile why = NULL;

	callback.callback = SettleErrorContext;
	callback.arg = &viewid;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		LambdaLayout *layout = LayoutGet(viewid);
		LambdaIdentity save;

		IdentityBecomeViewOwner(viewid, &save);
		SpeedSettle(view, layout, horizon);
		IdentityRestore(&save);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		why = pstrdup(edata->message ? edata->message : "?");
		EmitErrorReport();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
		ok = false;
	}
	PG_END_TRY();
	error_context_stack = callback.previous;

	if (!ok)
	{
		SpeedDiscard(view, viewid, why);
		ereport(LOG,
				(errmsg("lambda: view \"%s\" answers through the exact slow path until a batch restores its speed layer",
						get_rel_name(viewid))));
	}
}

static void
SettleErrorContext(void *arg)
{
	char	   *name = get_rel_name(*(Oid *) arg);

	errcontext("lambda worker settling view \"%s\"", name ? name : "?");
}

/*
 * Free the speed state of this database's views that no longer exist.  A
 * view missing from views may be one whose creating transaction has not
 * committed yet (or had not when views was read): its slot stays until that
 * transaction is over and the relation is gone from the catalog.
 */
static void
ForgetDroppedViews(List *views)
{
	ListCell   *lc;

	foreach(lc, SharedViewsOf(MyDatabaseId))
	{
		Oid			viewid = lfirst_oid(lc);
		LambdaSharedView *view;
		TransactionId creator;
		uint64		taken;

		if (list_member_oid(views, viewid))
			continue;
		view = SharedViewLock(MyDatabaseId, viewid, false, LW_SHARED);
		if (view == NULL)
			continue;
		creator = view->creatorXid;
		taken = view->taken;
		LWLockRelease(&view->lock);

		/*
		 * The transaction that took the slot, while in progress, may be the
		 * view's creator (the slot is CREATING, or was taken by a write
		 * before the view's first batch): others cannot see its relation.
		 */
		if (TransactionIdIsValid(creator) && TransactionIdIsInProgress(creator))
			continue;

		/*
		 * A view missing from views may be one committed after views was
		 * read (the database's first, say, or one of an extension created
		 * again since installed was found false): it is forgotten only once
		 * its relation is gone.  A dropped extension took its views along.
		 */
		InvalidateCatalogSnapshot();
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(viewid)))
			continue;
		LayoutForget(viewid);
		SpeedForget(MyDatabaseId, viewid, taken);
	}
}


/*
 * Run a batch that restores a view's fast path, or with compaction, compact
 * a view whose speed layer grew past lambda.compact_threshold (compact.c).
 * Returns false when it failed (the error is logged); a compaction that
 * would wait for a batch run or another compaction of the view is left to
 * a later round.
 */
static bool
WorkerBatch(Oid viewid, bool compaction)
{
	MemoryContext old = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		LambdaViewEntry entry;
		const char *name;

		StartTransactionCommand();
		name = get_rel_name(viewid) ? get_rel_name(viewid) : "?";
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING,
							   psprintf(compaction ? "lambda: compaction of view %s" :
										"lambda: recovery batch of view %s",
										quote_identifier(name)));
		if (lambda_recovery_timeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, lambda_recovery_timeout);
		if (CatalogGetView(viewid, &entry))
		{
			if (compaction)
			{
				int64		groups = Compact(&entry, false);

				if (groups >= 0)
					ereport(DEBUG1,
							(errmsg_internal("lambda: compacted view \"%s\": " INT64_FORMAT " groups",
											 name, groups)));
			}
			else
			{
				int64		groups = RunBatch(&entry);

				ereport(LOG,
						(errmsg("lambda: rebuilt the speed layer of view \"%s\" with a batch of " INT64_FORMAT " groups",
								name, groups)));
			}
		}
		disable_timeout(STATEMENT_TIMEOUT, false);
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(old);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(old);
	return ok;
}
