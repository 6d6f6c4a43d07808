/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The extension's shared memory.
 *
 * At postmaster start the library reserves a fixed segment holding:
 *
 *	- the registry of views (lambda.max_views slots), each with the LWLock
 *	  that guards its speed state;
 *	- the database slots of the speed layer's workers (lambda.workers);
 *	- the start of a dynamic shared memory area (DSA) in which speed states
 *	  live, grown in DSM segments up to lambda.speed_memory.  The area is
 *	  created in place, as PostgreSQL's own statistics do, so it is there
 *	  for every backend and worker without anyone creating it.
 *
 * Locking: lambda_shared->lock guards slot allocation in the registry and
 * the database slots (exclusive to change, shared to look up).  Each view
 * slot's lock guards that view's state (see speed.c).  A slot's identity
 * (state, dbid, viewid, taken, creatorXid) changes only under both the
 * registry lock and the slot's lock, exclusively, taken in that order: a
 * pointer to a slot stays a pointer into the registry (which never moves),
 * but means a view only while the caller holds the slot's lock and has
 * checked its identity (SharedViewLock, SharedViewLockIfStill), or holds
 * the registry lock.  A process never waits for the registry lock while
 * holding a view lock.
 *
 * A view slot's life cycle (LambdaSlotState):
 *
 *	FREE -> CREATING	create_view's transaction takes a slot for its new
 *						view (SharedViewFindExtended, fresh);
 *	FREE -> LIVE		a slot is taken for an existing view: after a restart,
 *						once the registry has room again, or by the launcher
 *						loading the state saved at shutdown;
 *	CREATING -> LIVE	a worker finds the view in the catalog, so its
 *						creating transaction committed (SharedViewCommitted);
 *	CREATING, LIVE -> FREE	the view's relation is gone (the worker's
 *						ForgetDroppedViews, whose check and free are apart:
 *						it frees only the same taking of the slot it saw, by
 *						taken), its database was dropped, or a new view took
 *						its OID (SharedViewForget).
 *
 * Forgetting, which frees the slot's DSA data, is one step under both locks:
 * no one sees a slot half forgotten, so it has no state of its own.  A
 * slot whose taking transaction is in progress (a CREATING one's always
 * is, until it commits or aborts) is never forgotten: its view's relation
 * may only look missing to others.
 *
 * The rest of LambdaShared: the locks' tranches, the sizes and the arrays'
 * addresses are set at startup and never change; the database slots, the
 * waiting line (nwaiting, waiting[], nprobing) and the saved state's
 * loading flags (loading, loaderActive, persist.c; loadedCV wakes who waits
 * for them) change only under the registry lock, exclusively (loading is
 * also read without it, as a hint checked again under it: it only ever
 * goes from true to false).  speedChunks is an atomic counter that only
 * SharedAllocate and SharedFree change, without a lock; it is exact
 * whenever no allocation is in flight.  DSA memory is allocated and freed
 * through those two alone, and a dsa_pointer found in a view's state may be
 * followed only while that view's lock is held (speed.c, grouptable.c).
 *
 * Heavyweight locks come first: no LWLock of this file's is held while
 * waiting for one, nor across anything that may wait for one, so the two
 * never form a cycle.  Among heavyweight locks, the one order of DDL and
 * capture is master before view: an insert holds its master from its start
 * and opens its views' relations only at the end of its statement, to
 * capture, so DROP VIEW and lambda.drop_view take the master before the
 * view (guard.c, LockMasterFirst); create_view makes relations no insert
 * can have open yet, and waits for running inserts when it takes the
 * master to give it the capture trigger (views.c).  test/specs/
 * ddl_capture.spec interleaves each with a capturing insert: none
 * deadlocks, no insert fails.
 *
 * A crash restart re-creates all of it empty; speed.c treats a view without
 * state as not whole until a batch rebuilds it.  After a clean shutdown the
 * state saved then is loaded back (persist.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "guc.h"
#include "persist.h"
#include "shmem.h"

/* Bytes of the DSA that live in the fixed segment; the rest grows in DSM */
#define LAMBDA_DSA_IN_PLACE		(256 * 1024)

LambdaShared *lambda_shared = NULL;

static dsa_area *lambda_dsa = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size SharedSize(void);
static bool DatabaseHasViews(Oid dbid);
static bool DatabaseHasSlot(Oid dbid);
static void WaitInLine(Oid dbid);
static void LeaveLine(int i);
static void lambda_shmem_request(void);
static void lambda_shmem_startup(void);

/*
 * Install the hooks.  Called from _PG_init while preloading.
 */
void
ShmemInit(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = lambda_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = lambda_shmem_startup;
}

static Size
SharedSize(void)
{
	Size		size = MAXALIGN(sizeof(LambdaShared));

	size = add_size(size, MAXALIGN(mul_size(lambda_max_views, sizeof(LambdaSharedView))));
	size = add_size(size, MAXALIGN(mul_size(lambda_workers, sizeof(LambdaDatabaseSlot))));
	size = add_size(size, MAXALIGN(mul_size(lambda_max_views, sizeof(Oid))));
	size = add_size(size, LAMBDA_DSA_IN_PLACE);
	return size;
}

static void
lambda_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(SharedSize());
	RequestNamedLWLockTranche("lambda", 1);
}

static void
lambda_shmem_startup(void)
{
	bool		found;
	char	   *p;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	lambda_shared = ShmemInitStruct("lambda", SharedSize(), &found);
	p = (char *) lambda_shared + MAXALIGN(sizeof(LambdaShared));
	if (!found)
	{
		dsa_area   *dsa;

		memset(lambda_shared, 0, sizeof(LambdaShared));
		lambda_shared->lock = &(GetNamedLWLockTranche("lambda"))->lock;
		lambda_shared->dsaTrancheId = LWLockNewTrancheId();
		lambda_shared->viewTrancheId = LWLockNewTrancheId();

		lambda_shared->nviews = lambda_max_views;
		lambda_shared->views = (LambdaSharedView *) p;
		for (i = 0; i < lambda_max_views; i++)
		{
			LambdaSharedView *view = &lambda_shared->views[i];

			memset(view, 0, sizeof(LambdaSharedView));
			LWLockInitialize(&view->lock, lambda_shared->viewTrancheId);
			view->pending = InvalidDsaPointer;
			view->generations = InvalidDsaPointer;
		}
		p += MAXALIGN(mul_size(lambda_max_views, sizeof(LambdaSharedView)));

		lambda_shared->ndatabases = lambda_workers;
		lambda_shared->databases = (LambdaDatabaseSlot *) p;
		memset(p, 0, mul_size(lambda_workers, sizeof(LambdaDatabaseSlot)));
		p += MAXALIGN(mul_size(lambda_workers, sizeof(LambdaDatabaseSlot)));

		lambda_shared->waiting = (Oid *) p;
		p += MAXALIGN(mul_size(lambda_max_views, sizeof(Oid)));

		lambda_shared->rawDsaArea = p;
		dsa = dsa_create_in_place(lambda_shared->rawDsaArea, LAMBDA_DSA_IN_PLACE,
								  lambda_shared->dsaTrancheId, NULL);
		dsa_set_size_limit(dsa, (size_t) lambda_speed_memory * 1024);
		dsa_pin(dsa);
		dsa_detach(dsa);

		ConditionVariableInit(&lambda_shared->loadedCV);
		pg_atomic_init_u64(&lambda_shared->speedChunks, 0);
		PersistCheckAtStart();
	}

	LWLockRelease(AddinShmemInitLock);

	LWLockRegisterTranche(lambda_shared->dsaTrancheId, "lambda_dsa");
	LWLockRegisterTranche(lambda_shared->viewTrancheId, "lambda_view");
}

/*
 * The speed layer's DSA, attached in this process on first use.
 */
dsa_area *
LambdaDsa(void)
{
	if (lambda_dsa == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		lambda_dsa = dsa_attach_in_place(lambda_shared->rawDsaArea, NULL);
		dsa_pin_mapping(lambda_dsa);
		MemoryContextSwitchTo(old);
	}
	return lambda_dsa;
}

/*
 * The registry slot of a view, or NULL.  With create, a free slot is taken
 * for it (NULL when the registry is full).
 *
 * A slot created for an existing view (after a restart, or once the
 * registry had room again) starts out not trusting any transaction that may
 * have inserted before it existed: their deltas may be lost, so they count
 * as lost until a batch's snapshot sees them all (speed.c).  Only a view
 * being created starts out clean: CREATE TRIGGER waited for every
 * transaction that had inserted into its master.
 */
LambdaSharedView *
SharedViewFind(Oid dbid, Oid viewid, bool create)
{
	return SharedViewFindExtended(dbid, viewid, create, false);
}

LambdaSharedView *
SharedViewFindExtended(Oid dbid, Oid viewid, bool create, bool fresh)
{
	LambdaSharedView *free = NULL;
	int			i;

	/* Not before the state saved at the last shutdown is back */
	if (unlikely(lambda_shared->loading))
		PersistWaitLoaded();

	/*
	 * Every committing writer looks its views up: do that under a shared
	 * lock, and take the exclusive one only to create a slot.
	 */
	if (create)
	{
		free = SharedViewFindExtended(dbid, viewid, false, false);
		if (free != NULL)
			return free;
	}

	LWLockAcquire(lambda_shared->lock, create ? LW_EXCLUSIVE : LW_SHARED);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		LambdaSharedView *view = &lambda_shared->views[i];

		if (view->dbid == dbid && view->viewid == viewid)
		{
			LWLockRelease(lambda_shared->lock);
			return view;
		}
		if (free == NULL && view->state == LAMBDA_SLOT_FREE)
			free = view;
	}
	if (create && free != NULL)
	{
		TransactionId xid = GetTopTransactionIdIfAny();

		/*
		 * A process that found this slot before it was freed may be waiting
		 * for its lock: it sees the new identity once it has the lock
		 * (SharedViewLock), never a half-made slot.
		 */
		LWLockAcquire(&free->lock, LW_EXCLUSIVE);
		free->state = fresh && TransactionIdIsValid(xid) ?
			LAMBDA_SLOT_CREATING : LAMBDA_SLOT_LIVE;
		free->dbid = dbid;
		free->viewid = viewid;
		free->taken++;
		free->creatorXid = xid;
		free->pending = InvalidDsaPointer;
		free->generations = InvalidDsaPointer;
		free->lossyMaxXid = InvalidTransactionId;
		if (!fresh)
		{
			FullTransactionId next = ReadNextFullTransactionId();

			FullTransactionIdRetreat(&next);
			free->lossyMaxXid = XidFromFullTransactionId(next);
		}
		free->lost = false;
		free->overflowed = false;
		free->pendingBytes = 0;
		free->settleRounds = 0;
		free->slowReason[0] = '\0';
		free->slowSince = 0;
		if (!fresh)
		{
			strlcpy(free->slowReason,
					"no speed layer was kept for it (a crash, a restore, or a full registry): a batch rebuilds it",
					LAMBDA_REASON_LEN);
			free->slowSince = GetCurrentTimestamp();
		}
		LWLockRelease(&free->lock);
	}
	else
		free = NULL;
	LWLockRelease(lambda_shared->lock);
	return free;
}

/*
 * The slot of view viewid of database dbid, locked in mode, or NULL when
 * there is none (and create is false, or the registry is full).  The slot
 * is the view's for as long as the caller holds its lock: its identity
 * changes only under the registry lock and its own, exclusively
 * (SharedViewFindExtended, SharedViewForget), so it is checked again once
 * the lock is held, and looked up again if it changed meanwhile.
 */
LambdaSharedView *
SharedViewLock(Oid dbid, Oid viewid, bool create, LWLockMode mode)
{
	for (;;)
	{
		LambdaSharedView *view = SharedViewFind(dbid, viewid, create);

		if (view == NULL)
			return NULL;
		LWLockAcquire(&view->lock, mode);
		if (view->dbid == dbid && view->viewid == viewid)
			return view;
		LWLockRelease(&view->lock);
	}
}

/*
 * The views of database dbid that have a slot, as the registry lock saw
 * them: each may be forgotten by the time the caller locks it.
 */
List *
SharedViewsOf(Oid dbid)
{
	List	   *views = NIL;
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		LambdaSharedView *view = &lambda_shared->views[i];

		if (view->state != LAMBDA_SLOT_FREE && view->dbid == dbid)
			views = lappend_oid(views, view->viewid);
	}
	LWLockRelease(lambda_shared->lock);
	return views;
}

/*
 * Lock a slot found earlier in mode, if it is still view viewid's of this
 * database: false (and not locked) when it was freed or given to another
 * view meanwhile.
 */
bool
SharedViewLockIfStill(LambdaSharedView *view, Oid viewid, LWLockMode mode)
{
	LWLockAcquire(&view->lock, mode);
	if (view->dbid == MyDatabaseId && view->viewid == viewid)
		return true;
	LWLockRelease(&view->lock);
	return false;
}

/*
 * Free a view's slot, once the view no longer exists: under the registry
 * lock and the slot's own, both exclusively, drop(view) frees its DSA data,
 * then the slot is free.  Nobody holding the slot's lock can see it half
 * freed, nor keep using it after (SharedViewLock checks its identity).
 * With taken other than 0, only that taking of the slot is freed: a caller
 * that found the view missing has let go of the slot's lock since, and the
 * slot may be a new view's by now (one created again with the same OID).
 */
void
SharedViewForget(Oid dbid, Oid viewid, uint64 taken,
				 void (*drop) (LambdaSharedView *view))
{
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		LambdaSharedView *view = &lambda_shared->views[i];

		if (view->state != LAMBDA_SLOT_FREE && view->dbid == dbid &&
			view->viewid == viewid && (taken == 0 || view->taken == taken))
		{
			LWLockAcquire(&view->lock, LW_EXCLUSIVE);
			drop(view);
			view->state = LAMBDA_SLOT_FREE;
			view->dbid = InvalidOid;
			view->viewid = InvalidOid;
			view->creatorXid = InvalidTransactionId;
			LWLockRelease(&view->lock);
		}
	}
	LWLockRelease(lambda_shared->lock);
}

/*
 * A worker found view viewid in its database's catalog: the transaction
 * that created it committed, and its slot, if it is still CREATING, is
 * LIVE from now on.
 */
void
SharedViewCommitted(LambdaSharedView *view, Oid viewid)
{
	bool		creating;

	/* usually not: look under the slot's lock alone first */
	if (!SharedViewLockIfStill(view, viewid, LW_SHARED))
		return;
	creating = view->state == LAMBDA_SLOT_CREATING;
	LWLockRelease(&view->lock);
	if (!creating)
		return;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	LWLockAcquire(&view->lock, LW_EXCLUSIVE);
	if (view->state == LAMBDA_SLOT_CREATING && view->dbid == MyDatabaseId &&
		view->viewid == viewid)
		view->state = LAMBDA_SLOT_LIVE;
	LWLockRelease(&view->lock);
	LWLockRelease(lambda_shared->lock);
}

/*
 * Ask the launcher for a worker in a database.  When all lambda.workers
 * slots serve other databases, the database waits for its turn (workers
 * take turns when databases wait: see worker.c) and false is returned.
 */
bool
SharedWantDatabase(Oid dbid)
{
	LambdaDatabaseSlot *free = NULL;
	int			i;

	/* Called at every commit that captured rows: usually nothing to do */
	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		LambdaDatabaseSlot *db = &lambda_shared->databases[i];

		if (db->dbid == dbid && db->wanted)
		{
			LWLockRelease(lambda_shared->lock);
			return true;
		}
	}
	LWLockRelease(lambda_shared->lock);

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		LambdaDatabaseSlot *db = &lambda_shared->databases[i];

		if (db->dbid == dbid)
		{
			if (!db->wanted)
			{
				db->wanted = true;
				if (lambda_shared->launcherLatch)
					SetLatch(lambda_shared->launcherLatch);
			}
			LWLockRelease(lambda_shared->lock);
			return true;
		}
		if (free == NULL && !OidIsValid(db->dbid))
			free = db;
	}
	/*
	 * A free slot goes to whoever asks only when nobody waits: otherwise
	 * the launcher hands it out in turn (SharedServeWaiting), or a database
	 * whose backends commit all the time would take back at once the slot
	 * its worker just gave up for the others.
	 */
	if (free != NULL && lambda_shared->nwaiting == 0 && lambda_shared->nprobing == 0)
	{
		free->dbid = dbid;
		free->wanted = true;
	}
	else
	{
		free = NULL;
		WaitInLine(dbid);
	}
	if (lambda_shared->launcherLatch)
		SetLatch(lambda_shared->launcherLatch);
	LWLockRelease(lambda_shared->lock);
	return free != NULL;
}

/*
 * Does database dbid have a view slot?  A database without one has nothing
 * for a worker to do: no delta to settle, no generation to publish or drop,
 * no view to rebuild or compact (a worker makes the slots of its database's
 * views, but only once it runs, and a hand-off makes one before it asks).
 * The caller holds the registry lock.
 */
static bool
DatabaseHasViews(Oid dbid)
{
	int			i;

	for (i = 0; i < lambda_shared->nviews; i++)
	{
		if (lambda_shared->views[i].state != LAMBDA_SLOT_FREE &&
			lambda_shared->views[i].dbid == dbid)
			return true;
	}
	return false;
}

/*
 * Does database dbid hold a database slot?  The caller holds the registry
 * lock.
 */
static bool
DatabaseHasSlot(Oid dbid)
{
	int			i;

	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		if (lambda_shared->databases[i].dbid == dbid)
			return true;
	}
	return false;
}

/*
 * Put database dbid at the end of the waiting line, unless it is in it
 * already, or has nothing for a worker to do.  The caller holds the
 * registry lock exclusively.
 *
 * The line never overflows, however many databases ask: when it is full,
 * the databases in it that have no view slot left (their views were
 * dropped, or the database was, since they asked) leave it, after which
 * each one in it has a view slot of its own, and so has dbid, which is not
 * in it: at most lambda.max_views - 1 remain.
 */
static void
WaitInLine(Oid dbid)
{
	int			i;
	int			kept;

	for (i = 0; i < lambda_shared->nwaiting; i++)
	{
		if (lambda_shared->waiting[i] == dbid)
			return;
	}
	if (!DatabaseHasViews(dbid))
		return;

	if (lambda_shared->nwaiting == lambda_shared->nviews)
	{
		kept = 0;
		for (i = 0; i < lambda_shared->nwaiting; i++)
		{
			if (DatabaseHasViews(lambda_shared->waiting[i]))
				lambda_shared->waiting[kept++] = lambda_shared->waiting[i];
		}
		lambda_shared->nwaiting = kept;
	}
	Assert(lambda_shared->nwaiting < lambda_shared->nviews);
	if (lambda_shared->nwaiting < lambda_shared->nviews)
		lambda_shared->waiting[lambda_shared->nwaiting++] = dbid;
}

/*
 * Take the database at place i out of the waiting line.  The caller holds
 * the registry lock exclusively.
 */
static void
LeaveLine(int i)
{
	lambda_shared->nwaiting--;
	memmove(&lambda_shared->waiting[i], &lambda_shared->waiting[i + 1],
			sizeof(Oid) * (lambda_shared->nwaiting - i));
}

/*
 * Free database dbid's slot and take it out of the waiting line (its
 * worker, whose pid is set in *pid, is being stopped: worker.c).  True
 * when it had either.
 */
bool
SharedReleaseDatabase(Oid dbid, pid_t *pid)
{
	bool		released = false;
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		LambdaDatabaseSlot *slot = &lambda_shared->databases[i];

		if (slot->dbid == dbid)
		{
			/* the slot is free; WorkerExit still clears workerPid */
			slot->dbid = InvalidOid;
			slot->wanted = false;
			*pid = slot->workerPid;
			released = true;
		}
	}
	for (i = 0; i < lambda_shared->nwaiting; i++)
	{
		if (lambda_shared->waiting[i] == dbid)
		{
			LeaveLine(i);
			released = true;
			break;
		}
	}
	LWLockRelease(lambda_shared->lock);
	return released;
}

/*
 * Give free database slots to the databases of probe first (the launcher's
 * list of those to probe after a start, which may be any number: they wait
 * in the launcher's memory, not in the line), then to waiting databases,
 * first come first served.  Probes go first because a database that gives
 * its slot back for them (SharedOthersWaiting) gets in line again at once:
 * served before them, it would take its slot back every time, and they
 * would wait for ever.  Returns what is left of probe.  Called by the
 * launcher.
 */
List *
SharedServeWaiting(List *probe)
{
	int			i;

	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < lambda_shared->ndatabases; i++)
	{
		LambdaDatabaseSlot *db = &lambda_shared->databases[i];
		Oid			dbid = InvalidOid;

		if (OidIsValid(db->dbid))
			continue;
		/* a database neither holds two slots nor waits for one it holds */
		while (!OidIsValid(dbid) && probe != NIL)
		{
			dbid = linitial_oid(probe);
			probe = list_delete_first(probe);
			if (DatabaseHasSlot(dbid))
				dbid = InvalidOid;
		}
		while (!OidIsValid(dbid) && lambda_shared->nwaiting > 0)
		{
			dbid = lambda_shared->waiting[0];
			LeaveLine(0);
			if (DatabaseHasSlot(dbid))
				dbid = InvalidOid;
		}
		if (!OidIsValid(dbid))
			break;
		db->dbid = dbid;
		db->wanted = true;
	}
	lambda_shared->nprobing = list_length(probe);
	LWLockRelease(lambda_shared->lock);
	return probe;
}

/*
 * Give a database's slot to the next waiting database and get in line
 * behind the others.  Called by the slot's worker before it exits.
 */
void
SharedYieldDatabase(LambdaDatabaseSlot *slot)
{
	LWLockAcquire(lambda_shared->lock, LW_EXCLUSIVE);
	/* unless the slot was taken from it meanwhile (WorkerReleaseDatabase) */
	if (slot->dbid == MyDatabaseId && slot->workerPid == MyProcPid)
	{
		WaitInLine(slot->dbid);
		slot->dbid = InvalidOid;
		slot->wanted = false;
	}
	if (lambda_shared->launcherLatch)
		SetLatch(lambda_shared->launcherLatch);
	LWLockRelease(lambda_shared->lock);
}

/*
 * Are databases waiting for a worker slot, or yet to be probed?
 */
bool
SharedOthersWaiting(void)
{
	bool		waiting;

	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	waiting = lambda_shared->nwaiting > 0 || lambda_shared->nprobing > 0;
	LWLockRelease(lambda_shared->lock);
	return waiting;
}

/*
 * Every DSA chunk of the speed layer is allocated and freed here (speed.c,
 * grouptable.c), and counted in LambdaShared.speedChunks, so that
 * lambda.speed_memory_used can show that none is left once every view is
 * gone.  Never an error for want of memory: callers handle
 * InvalidDsaPointer (the speed layer loses a delta, or keeps it pending,
 * rather than fail a commit or a worker).
 */
dsa_pointer
SharedAllocate(dsa_area *dsa, Size size, int flags)
{
	dsa_pointer dp = dsa_allocate_extended(dsa, size, flags | DSA_ALLOC_NO_OOM);

	if (DsaPointerIsValid(dp))
		pg_atomic_fetch_add_u64(&lambda_shared->speedChunks, 1);
	return dp;
}

void
SharedFree(dsa_area *dsa, dsa_pointer dp)
{
	dsa_free(dsa, dp);
	pg_atomic_fetch_sub_u64(&lambda_shared->speedChunks, 1);
}
