/*-------------------------------------------------------------------------
 *
 * speed.c
 *	  The speed layer's shared state: per view, the deltas that committed
 *	  transactions handed off, and per batch generation the settled
 *	  partial states of every transaction that batch does not cover.
 *
 * The correctness contract (exact, fresh, nothing lost, no double count)
 * rests on these rules.
 *
 * Deltas.  A writing transaction folds the rows it inserts into partial
 * states (capture.c) and, just before it commits or prepares, hands them off
 * here, tagged with its top-level xid: a LambdaDelta on the view's pending
 * list.  Until the xid commits the delta counts for nobody but, locally, its
 * own transaction; if it aborts it is dropped.
 *
 * Generations.  Every batch run registers a generation with its snapshot S
 * and its transaction id B.  A committed transaction X is covered by the
 * generation iff S sees X: X < S.xmin, or X < S.xmax and X not in S.xip (the
 * batch's own transaction is recorded as in progress: see batch.c).  The
 * generation holds the partial states of every committed delta it does not
 * cover, settled into a hash table of groups (grouptable.c).
 *
 * Readers.  A reader resolves to the newest generation whose B its
 * snapshot sees (or that its own transaction registered): exactly the batch
 * table contents it reads.  Its speed part is that generation's settled
 * states, plus pending deltas whose xid its snapshot sees and the
 * generation does not cover, plus its own transaction's uncommitted rows.
 *
 * Settling.  A worker moves a pending delta into the generations that do
 * not cover it once its xid committed and precedes the oldest xmin of any
 * snapshot (the horizon VACUUM uses): settled states no longer say which
 * transaction they came from, so every snapshot, present or future, must
 * see the transactions in them.  Until then readers check each pending delta
 * against their own snapshot.  A delta settled before a generation was
 * registered is covered by it: the batch's snapshot, taken later, sees its
 * transaction, and while that snapshot is held no younger xid can pass the
 * horizon.
 *
 * Dropping.  A generation is dropped when its batch aborted, or when a newer
 * published generation's B precedes the horizon, so that no snapshot can
 * resolve to the old one any more.
 *
 * Losing.  Nothing here may make a commit fail.  When a delta cannot be
 * stored (the memory budget, lambda.speed_memory, is spent), it is lost:
 * every generation is marked incomplete and the lost xid remembered.  The
 * loss happens before the transaction commits, so no reader that already
 * decided to use a generation can see that transaction.  A generation
 * registered by a batch whose snapshot sees every lost transaction is
 * complete again.  Readers use the fast path only through a complete
 * generation; otherwise the view answers through the exact slow path.
 * Incomplete generations are freed once the horizon passes the lost
 * transaction, so that the restoring batch finds memory.  Settling never
 * loses anything: a delta is merged into a generation all or nothing, and
 * stays pending (readers still see it) until it fits.
 *
 * Locking: each view's LWLock (in the registry, shmem.c) guards its
 * pending list and generations, every field of its slot after the lock,
 * and the DSA memory they point to.  Readers and hand-offs of other views
 * never contend.  Exclusively: hand-off (SpeedHandOff, SpeedLose, MarkLost),
 * a batch's or compaction's registration (SpeedRegisterBatch), settling
 * (SpeedSettle, SpeedDiscard), loading and forgetting (SpeedLoad,
 * SpeedDrop); shared: readers (SpeedUsable, SpeedRead, SpeedStatus,
 * SpeedSettleRounds) and SpeedNeedsBatch, SpeedNeedsCompaction, SpeedSave.
 * Every one takes it through SharedViewLock or
 * SharedViewLockIfStill, which check that the slot is still the view's
 * (shmem.c): a slot pointer found earlier may have been freed, or given to
 * another view, meanwhile.  A dsa_pointer read under the lock may be used
 * only until it is released.
 *
 * While the lock is held, only code that cannot wait for a lock, start a
 * subtransaction or run a query may run: the merges of LayoutMerge (the
 * type's + and btree comparison, an aggregate's combine, serialize and
 * deserialize functions, which aggregate.c takes only in C, and binary
 * receive and send, of no domain, composite or enum), key hashing and
 * equality and min/max comparison (viewdef.c takes only types whose
 * operator classes are C), and a reader's emit callback
 * (copying a row, merge.c; a tuplestore, serving.c).  Such code is not
 * interruptible while it runs; a large read holds the lock, shared, for as
 * long as it copies.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "grouptable.h"
#include "guc.h"
#include "layout.h"
#include "shmem.h"
#include "speed.h"

/*
 * A transaction's partial states for one view, waiting to be settled.  A
 * delta records the generations it was settled into, at most MAX_SETTLED.
 * Past that limit (more generations alive at once that do not cover it,
 * which takes batches published faster than old snapshots let their
 * generations go) it stays pending: readers still count it against their
 * snapshot wherever it is not settled, and once the generations it was
 * kept out of are dropped, it is freed.  Nothing is lost; reads only do
 * more work meanwhile (test/specs/settled_limit.spec builds that edge).
 */
#define MAX_SETTLED		8

typedef struct LambdaDelta
{
	dsa_pointer next;
	TransactionId xid;
	uint32		ntuples;
	Size		size;			/* bytes allocated, header included */
	int			nsettled;		/* generations it is settled into already */
	uint64		settled[MAX_SETTLED];	/* ... their ids */
	/* ntuples items follow, each a uint32 length and tuple bytes, aligned */
} LambdaDelta;

/* Settled partial states of the transactions one batch does not cover */
typedef struct LambdaGeneration
{
	dsa_pointer next;			/* older generation */
	uint64		id;				/* unique in its view */
	TransactionId batchXid;		/* B */
	bool		published;		/* B committed */
	bool		allVisible;		/* B precedes the horizon: every snapshot sees it */
	bool		complete;		/* no delta it needs was lost */
	TransactionId xmin;			/* S */
	TransactionId xmax;
	int			xcnt;
	dsa_pointer xip;
	GroupTable	groups;			/* the settled states, by group */
	int64		bytes;			/* this struct and xip; GenerationBytes adds
								 * the groups */
} LambdaGeneration;

#define GenerationBytes(gen)	((gen)->bytes + (gen)->groups.bytes)

#define DELTA_ITEMS(d)		((char *) (d) + MAXALIGN(sizeof(LambdaDelta)))
#define ITEM_DATA(item)		((char *) (item) + MAXALIGN(sizeof(uint32)))
#define ITEM_SIZE(len)		(MAXALIGN(sizeof(uint32)) + MAXALIGN(len))

#define INITIAL_BUCKETS		64

static void MarkLost(LambdaSharedView *view, TransactionId xid, const char *reason);
static bool Covered(dsa_area *dsa, LambdaGeneration *gen, TransactionId xid);
static bool XidVisible(TransactionId xid, Snapshot snapshot);
static LambdaGeneration *Resolve(dsa_area *dsa, LambdaSharedView *view,
								 Snapshot snapshot);
static bool SettledInto(LambdaDelta *delta, LambdaGeneration *gen);
static bool SettleInto(dsa_area *dsa, LambdaGeneration *gen, LambdaLayout *layout,
					   LambdaDelta *delta, MemoryContext tmp);
static void FreeGeneration(dsa_area *dsa, dsa_pointer dp);
static void FreeDelta(dsa_area *dsa, LambdaSharedView *view, dsa_pointer dp);
static void SpeedDrop(LambdaSharedView *view);


/*
 * Hand off a committing transaction's partial states for a view.  Called at
 * PRE_COMMIT or PRE_PREPARE; never raises an error for want of memory:
 * a delta that cannot be stored is lost, and the view degrades.
 */
void
SpeedHandOff(Oid viewid, TransactionId xid, List *tuples)
{
	dsa_area   *dsa = LambdaDsa();
	LambdaSharedView *view;
	Size		size = MAXALIGN(sizeof(LambdaDelta));
	dsa_pointer dp;
	LambdaDelta *delta;
	char	   *item;
	ListCell   *lc;

	foreach(lc, tuples)
		size += ITEM_SIZE(((HeapTuple) lfirst(lc))->t_len);

	view = SharedViewLock(MyDatabaseId, viewid, true, LW_EXCLUSIVE);
	if (view == NULL)
		return;					/* registry full: the view stays on the slow path */
	/* a delta over lambda.max_handoff (at most 1 GB) is lost, never an error */
	dp = size <= (Size) lambda_max_handoff * 1024 && AllocSizeIsValid(size) ?
		SharedAllocate(dsa, size, DSA_ALLOC_NO_OOM) : InvalidDsaPointer;
	if (!DsaPointerIsValid(dp))
	{
		view->overflowed = true;
		MarkLost(view, xid, size > (Size) lambda_max_handoff * 1024 ?
				 "a transaction's partial states exceeded lambda.max_handoff" :
				 "the speed layer ran out of memory (lambda.speed_memory)");
		LWLockRelease(&view->lock);
		return;
	}
	delta = dsa_get_address(dsa, dp);
	delta->xid = xid;
	delta->ntuples = list_length(tuples);
	delta->size = size;
	delta->nsettled = 0;
	item = DELTA_ITEMS(delta);
	foreach(lc, tuples)
	{
		HeapTuple	tuple = lfirst(lc);

		*(uint32 *) item = tuple->t_len;
		memcpy(ITEM_DATA(item), tuple->t_data, tuple->t_len);
		item += ITEM_SIZE(tuple->t_len);
	}
	delta->next = view->pending;
	view->pending = dp;
	view->pendingBytes += size;
	LWLockRelease(&view->lock);
}

/*
 * A committing transaction's rows for a view could not be captured: the
 * same as a delta that could not be stored.
 */
void
SpeedLose(Oid viewid, TransactionId xid, const char *why)
{
	/* allocated before the lock: nothing under it may fail */
	char	   *reason = psprintf("capture failed: %s", why);
	LambdaSharedView *view = SharedViewLock(MyDatabaseId, viewid, true, LW_EXCLUSIVE);

	if (view == NULL)
		return;
	MarkLost(view, xid, reason);
	LWLockRelease(&view->lock);
}

/*
 * A delta could not be stored: no generation is complete any more, and a
 * new one is complete only if its snapshot sees xid.  Caller holds the view
 * lock exclusively.
 */
static void
MarkLost(LambdaSharedView *view, TransactionId xid, const char *reason)
{
	dsa_area   *dsa = LambdaDsa();
	dsa_pointer dp;

	/* the first reason since the view was last whole is the one shown */
	if (view->slowReason[0] == '\0')
	{
		strlcpy(view->slowReason, reason, LAMBDA_REASON_LEN);
		view->slowSince = GetCurrentTimestamp();
	}
	view->lost = true;
	if (!TransactionIdIsValid(view->lossyMaxXid) ||
		TransactionIdFollows(xid, view->lossyMaxXid))
		view->lossyMaxXid = xid;
	for (dp = view->generations; DsaPointerIsValid(dp);)
	{
		LambdaGeneration *gen = dsa_get_address(dsa, dp);

		gen->complete = false;
		dp = gen->next;
	}
}

/*
 * Register the generation of a batch run with snapshot snap in transaction
 * batchXid.  The caller has recorded its own transaction as in progress in
 * snap's xip (xip/xcnt as given).
 */
void
SpeedRegisterBatch(Oid viewid, TransactionId xmin, TransactionId xmax,
				   TransactionId *xip, int xcnt, TransactionId batchXid,
				   bool fresh)
{
	dsa_area   *dsa = LambdaDsa();
	LambdaSharedView *view;
	TransactionId own = GetTopTransactionIdIfAny();
	int			i;
	dsa_pointer dp;
	dsa_pointer xipdp = InvalidDsaPointer;
	LambdaGeneration *gen;

	/*
	 * A new view whose OID a dropped view had: whatever a worker has not
	 * freed yet belongs to the old one.
	 */
	if (fresh)
		SpeedForget(MyDatabaseId, viewid, 0);
	for (;;)
	{
		view = SharedViewFindExtended(MyDatabaseId, viewid, true, fresh);
		if (view == NULL)
			return;
		if (SharedViewLockIfStill(view, viewid, LW_EXCLUSIVE))
			break;
	}
	dp = SharedAllocate(dsa, sizeof(LambdaGeneration), DSA_ALLOC_ZERO);
	if (DsaPointerIsValid(dp) &&
		!GroupTableInit(dsa, &((LambdaGeneration *) dsa_get_address(dsa, dp))->groups,
						INITIAL_BUCKETS))
	{
		SharedFree(dsa, dp);
		dp = InvalidDsaPointer;
	}
	if (xcnt > 0)
		xipdp = SharedAllocate(dsa, sizeof(TransactionId) * xcnt, 0);
	if (!DsaPointerIsValid(dp) || (xcnt > 0 && !DsaPointerIsValid(xipdp)))
	{
		if (DsaPointerIsValid(dp))
		{
			GroupTableFree(dsa, &((LambdaGeneration *) dsa_get_address(dsa, dp))->groups);
			SharedFree(dsa, dp);
		}
		if (DsaPointerIsValid(xipdp))
			SharedFree(dsa, xipdp);
		MarkLost(view, batchXid, "the speed layer ran out of memory (lambda.speed_memory)");
		LWLockRelease(&view->lock);
		return;
	}

	gen = dsa_get_address(dsa, dp);
	gen->id = ++view->nextGenerationId;
	gen->batchXid = batchXid;
	gen->xmin = xmin;
	gen->xmax = xmax;
	gen->xcnt = xcnt;
	gen->xip = xipdp;
	if (xcnt > 0)
		memcpy(dsa_get_address(dsa, xipdp), xip, sizeof(TransactionId) * xcnt);
	gen->bytes = sizeof(LambdaGeneration) + sizeof(TransactionId) * xcnt;

	/*
	 * Complete iff the snapshot sees every transaction whose delta may be
	 * lost: none of them may be in progress in it.  Our own transaction's
	 * rows are all either in this batch or captured since.
	 */
	gen->complete = true;
	if (TransactionIdIsValid(view->lossyMaxXid))
	{
		if (!TransactionIdPrecedes(view->lossyMaxXid, xmax))
			gen->complete = false;
		for (i = 0; i < xcnt && gen->complete; i++)
		{
			if (!TransactionIdEquals(xip[i], own) &&
				!TransactionIdFollows(xip[i], view->lossyMaxXid))
				gen->complete = false;
		}
	}
	if (gen->complete)
	{
		view->lost = false;
		view->overflowed = false;
		view->slowReason[0] = '\0';
		view->slowSince = 0;
	}

	gen->next = view->generations;
	view->generations = dp;
	LWLockRelease(&view->lock);
}

/*
 * Does the generation's batch cover committed transaction xid?
 */
static bool
Covered(dsa_area *dsa, LambdaGeneration *gen, TransactionId xid)
{
	TransactionId *xip;
	int			i;

	if (TransactionIdPrecedes(xid, gen->xmin))
		return true;
	if (!TransactionIdPrecedes(xid, gen->xmax))
		return false;
	xip = dsa_get_address(dsa, gen->xip);
	for (i = 0; i < gen->xcnt; i++)
	{
		if (TransactionIdEquals(xip[i], xid))
			return false;
	}
	return true;
}

/*
 * Does snapshot see transaction xid as committed?
 */
static bool
XidVisible(TransactionId xid, Snapshot snapshot)
{
	return !XidInMVCCSnapshot(xid, snapshot) && TransactionIdDidCommit(xid);
}

/*
 * The generation a reader with this snapshot resolves to: the one whose
 * batch table contents it reads.  Caller holds the view lock.
 */
static LambdaGeneration *
Resolve(dsa_area *dsa, LambdaSharedView *view, Snapshot snapshot)
{
	dsa_pointer dp;

	for (dp = view->generations; DsaPointerIsValid(dp);)
	{
		LambdaGeneration *gen = dsa_get_address(dsa, dp);

		if (gen->allVisible ||
			TransactionIdIsCurrentTransactionId(gen->batchXid) ||
			XidVisible(gen->batchXid, snapshot))
			return gen;
		dp = gen->next;
	}
	return NULL;
}

/*
 * Can a reader with this snapshot use the fast path?  True when it resolves
 * to a complete generation.
 */
bool
SpeedUsable(Oid viewid, Snapshot snapshot)
{
	dsa_area   *dsa = LambdaDsa();
	LambdaSharedView *view = SharedViewLock(MyDatabaseId, viewid, false, LW_SHARED);
	LambdaGeneration *gen;
	bool		usable;

	if (view == NULL)
		return false;
	gen = Resolve(dsa, view, snapshot);
	usable = gen != NULL && gen->complete;
	LWLockRelease(&view->lock);
	return usable;
}

/*
 * Put the speed part a reader with this snapshot sees into tupstore: the
 * settled states of its generation and the pending deltas its snapshot
 * sees that the generation does not cover.  Rows of one group may appear
 * more than once; the serving view merges them.
 *
 * Each row goes to emit.  With nprefix > 0, only the rows whose first
 * nprefix group keys are those of key (a partial state row's values, of
 * which only those keys are read); with every key given that is one probe
 * of the generation's hash table, and a look at each pending delta.
 */
void
SpeedRead(Oid viewid, Snapshot snapshot, LambdaLayout *layout, int nprefix,
		  Datum *key, bool *keynull, SpeedEmit emit, void *arg)
{
	dsa_area   *dsa = LambdaDsa();
	LambdaSharedView *view;
	LambdaGeneration *gen;
	HeapTupleData tuple;
	dsa_pointer dp;
	uint32		i;

	tuple.t_tableOid = InvalidOid;
	ItemPointerSetInvalid(&tuple.t_self);

	view = SharedViewLock(MyDatabaseId, viewid, false, LW_SHARED);
	if (view == NULL)
		return;
	gen = Resolve(dsa, view, snapshot);
	if (gen != NULL)
	{
		List	   *visible = NIL;
		ListCell   *lc;

		GroupTableRead(dsa, &gen->groups, layout, nprefix, key, keynull, emit, arg);

		/* Pending deltas oldest first (the list is newest first) */

		for (dp = view->pending; DsaPointerIsValid(dp);)
		{
			LambdaDelta *delta = dsa_get_address(dsa, dp);

			if (XidVisible(delta->xid, snapshot) && !Covered(dsa, gen, delta->xid) &&
				!SettledInto(delta, gen))
				visible = lcons(delta, visible);
			dp = delta->next;
		}
		foreach(lc, visible)
		{
			LambdaDelta *delta = lfirst(lc);

			{
				char	   *item = DELTA_ITEMS(delta);

				for (i = 0; i < delta->ntuples; i++)
				{
					tuple.t_len = *(uint32 *) item;
					tuple.t_data = (HeapTupleHeader) ITEM_DATA(item);
					if (nprefix == 0 ||
						LayoutTupleHasKey(layout, &tuple, nprefix, key, keynull))
						emit(&tuple, arg);
					item += ITEM_SIZE(tuple.t_len);
				}
			}
		}
		list_free(visible);
	}
	LWLockRelease(&view->lock);
}

/*
 * Settle what can be settled and drop what is no longer needed.  Run by a
 * worker, in a transaction, for each view of its database.  horizon is the
 * oldest xmin of any snapshot.
 */
void
SpeedSettle(LambdaSharedView *view, LambdaLayout *layout, TransactionId horizon)
{
	dsa_area   *dsa = LambdaDsa();
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "lambda settle",
											  ALLOCSET_DEFAULT_SIZES);
	dsa_pointer *link;
	dsa_pointer dp;
	LambdaGeneration *newestPublished = NULL;

	if (!SharedViewLockIfStill(view, layout->viewid, LW_EXCLUSIVE))
	{
		MemoryContextDelete(tmp);
		return;					/* forgotten meanwhile */
	}

	/* Generations: publish committed batches, drop aborted ones */
	for (link = &view->generations; DsaPointerIsValid(*link);)
	{
		LambdaGeneration *gen = dsa_get_address(dsa, *link);

		if (!gen->published && !TransactionIdIsInProgress(gen->batchXid))
		{
			if (TransactionIdDidCommit(gen->batchXid))
				gen->published = true;
			else
			{
				dp = *link;
				*link = gen->next;
				FreeGeneration(dsa, dp);
				continue;
			}
		}
		if (gen->published && !gen->allVisible &&
			TransactionIdPrecedes(gen->batchXid, horizon))
			gen->allVisible = true;
		link = &gen->next;
	}

	/* Older generations than an all-visible one are never resolved to */
	for (link = &view->generations; DsaPointerIsValid(*link);)
	{
		LambdaGeneration *gen = dsa_get_address(dsa, *link);

		if (newestPublished != NULL)
		{
			dp = *link;
			*link = gen->next;
			FreeGeneration(dsa, dp);
			continue;
		}
		if (gen->allVisible)
			newestPublished = gen;
		link = &gen->next;
	}

	/*
	 * Generations made incomplete by a loss are no use to readers who decide
	 * now, and those who decided before the loss held snapshots older than
	 * the lost transaction: once the horizon passes it, free them, so that
	 * the batch that restores the view finds memory.
	 */
	if (view->lost && TransactionIdPrecedes(view->lossyMaxXid, horizon))
	{
		for (link = &view->generations; DsaPointerIsValid(*link);)
		{
			LambdaGeneration *gen = dsa_get_address(dsa, *link);

			if (!gen->complete)
			{
				dp = *link;
				*link = gen->next;
				FreeGeneration(dsa, dp);
				continue;
			}
			link = &gen->next;
		}
	}

	/*
	 * Deltas: settle committed ones all snapshots see into each generation
	 * that does not cover them, drop aborted ones.  A delta stays pending
	 * until every such generation has it; readers skip it for those that do.
	 */
	for (link = &view->pending; DsaPointerIsValid(*link);)
	{
		LambdaDelta *delta = dsa_get_address(dsa, *link);
		bool		done = true;

		if (!TransactionIdPrecedes(delta->xid, horizon) ||
			TransactionIdIsInProgress(delta->xid))
		{
			link = &delta->next;
			continue;
		}
		if (TransactionIdDidCommit(delta->xid))
		{
			for (dp = view->generations; DsaPointerIsValid(dp);)
			{
				LambdaGeneration *gen = dsa_get_address(dsa, dp);

				if (!Covered(dsa, gen, delta->xid) && !SettledInto(delta, gen))
				{
					if (delta->nsettled < MAX_SETTLED &&
						SettleInto(dsa, gen, layout, delta, tmp))
						delta->settled[delta->nsettled++] = gen->id;
					else
						done = false;
				}
				dp = gen->next;
			}
		}
		if (!done)
		{
			link = &delta->next;
			continue;
		}
		dp = *link;
		*link = delta->next;
		FreeDelta(dsa, view, dp);
	}

	view->settleRounds++;
	LWLockRelease(&view->lock);
	MemoryContextDelete(tmp);
}

/*
 * Is the delta settled into the generation already?
 */
static bool
SettledInto(LambdaDelta *delta, LambdaGeneration *gen)
{
	int			i;

	for (i = 0; i < delta->nsettled; i++)
	{
		if (delta->settled[i] == gen->id)
			return true;
	}
	return false;
}

/*
 * Merge a delta's rows into a generation, all or nothing (grouptable.c):
 * false when memory ran out, the generation then unchanged.  Caller holds
 * the view lock exclusively.
 */
static bool
SettleInto(dsa_area *dsa, LambdaGeneration *gen, LambdaLayout *layout,
		   LambdaDelta *delta, MemoryContext tmp)
{
	HeapTupleData *rows = MemoryContextAlloc(tmp, sizeof(HeapTupleData) *
											 Max(delta->ntuples, 1));
	char	   *item = DELTA_ITEMS(delta);
	uint32		i;
	bool		ok;

	for (i = 0; i < delta->ntuples; i++)
	{
		rows[i].t_len = *(uint32 *) item;
		rows[i].t_data = (HeapTupleHeader) ITEM_DATA(item);
		rows[i].t_tableOid = InvalidOid;
		ItemPointerSetInvalid(&rows[i].t_self);
		item += ITEM_SIZE(rows[i].t_len);
	}
	ok = GroupTableMerge(dsa, &gen->groups, layout, rows, delta->ntuples, tmp);
	MemoryContextReset(tmp);
	return ok;
}

static void
FreeGeneration(dsa_area *dsa, dsa_pointer gdp)
{
	LambdaGeneration *gen = dsa_get_address(dsa, gdp);

	GroupTableFree(dsa, &gen->groups);
	if (DsaPointerIsValid(gen->xip))
		SharedFree(dsa, gen->xip);
	SharedFree(dsa, gdp);
}

static void
FreeDelta(dsa_area *dsa, LambdaSharedView *view, dsa_pointer dp)
{
	LambdaDelta *delta = dsa_get_address(dsa, dp);

	view->pendingBytes -= delta->size;
	SharedFree(dsa, dp);
}

/*
 * Does a view need a batch to get its fast path back?  When its newest
 * generation is missing or incomplete, no batch is running, and every
 * transaction whose delta may be lost has finished (a batch started earlier
 * would be incomplete again).
 */
bool
SpeedNeedsBatch(LambdaSharedView *view, Oid viewid)
{
	dsa_area   *dsa = LambdaDsa();
	LambdaGeneration *gen = NULL;
	TransactionId lossy;
	bool		needs = true;

	if (!SharedViewLockIfStill(view, viewid, LW_SHARED))
		return false;			/* forgotten meanwhile */
	if (DsaPointerIsValid(view->generations))
		gen = dsa_get_address(dsa, view->generations);
	if (gen != NULL && gen->complete)
		needs = false;
	else if (gen != NULL && !gen->published && TransactionIdIsInProgress(gen->batchXid))
		needs = false;
	lossy = view->lossyMaxXid;
	LWLockRelease(&view->lock);

	if (needs && TransactionIdIsValid(lossy) &&
		!TransactionIdPrecedes(lossy, GetOldestActiveTransactionId()))
		needs = false;
	return needs;
}

/*
 * Should a worker compact the view (compact.c)?  When its newest
 * generation, complete and published, holds more settled states than
 * lambda.compact_threshold of lambda.speed_memory.  Pending deltas do not
 * count: a compaction cannot fold those of transactions still in progress,
 * and would then run every round for nothing.
 */
bool
SpeedNeedsCompaction(LambdaSharedView *view, Oid viewid)
{
	dsa_area   *dsa = LambdaDsa();
	double		limit = lambda_compact_threshold * lambda_speed_memory * 1024.0;
	bool		needs = false;

	if (lambda_compact_threshold <= 0)
		return false;
	if (!SharedViewLockIfStill(view, viewid, LW_SHARED))
		return false;			/* forgotten meanwhile */
	if (DsaPointerIsValid(view->generations))
	{
		LambdaGeneration *gen = dsa_get_address(dsa, view->generations);

		needs = gen->complete && gen->published && gen->groups.nentries > 0 &&
			GenerationBytes(gen) > limit;
	}
	LWLockRelease(&view->lock);
	return needs;
}

/*
 * Free all state of a view that no longer exists, and its slot (only that
 * taking of the slot, unless taken is 0: SharedViewForget).
 */
void
SpeedForget(Oid dbid, Oid viewid, uint64 taken)
{
	SharedViewForget(dbid, viewid, taken, SpeedDrop);
}

/*
 * Free all generations and pending deltas of a view.  Caller holds the view
 * lock exclusively.
 */
static void
SpeedDrop(LambdaSharedView *view)
{
	dsa_area   *dsa = LambdaDsa();

	while (DsaPointerIsValid(view->generations))
	{
		LambdaGeneration *gen = dsa_get_address(dsa, view->generations);
		dsa_pointer dp = view->generations;

		view->generations = gen->next;
		FreeGeneration(dsa, dp);
	}
	while (DsaPointerIsValid(view->pending))
	{
		LambdaDelta *delta = dsa_get_address(dsa, view->pending);
		dsa_pointer dp = view->pending;

		view->pending = delta->next;
		FreeDelta(dsa, view, dp);
	}
}

/*
 * Saving and loading a view's state (persist.c), field by field: the file
 * holds values, never dsa_pointers, and the hash tables are rebuilt on load.
 */
#define WRITE(file, ptr, len)	(fwrite((ptr), (len), 1, (file)) == 1)
#define READ(file, ptr, len)	(fread((ptr), (len), 1, (file)) == 1)

/* One view's state as saved, ahead of its generations and deltas */
typedef struct SavedView
{
	TransactionId lossyMaxXid;
	bool		lost;
	bool		overflowed;
	uint64		nextGenerationId;
	char		slowReason[LAMBDA_REASON_LEN];
	TimestampTz slowSince;
	int32		ngenerations;
	int32		ndeltas;
} SavedView;

typedef struct SavedGeneration
{
	uint64		id;
	TransactionId batchXid;
	bool		published;
	bool		allVisible;
	bool		complete;
	TransactionId xmin;
	TransactionId xmax;
	int			xcnt;
	uint32		nbuckets;
	int64		nentries;
	int64		bytes;
} SavedGeneration;

/*
 * Write view's state to file.  Caller holds no view lock; this takes it
 * shared, so the state written is the one a reader would see.  False when
 * the file could not be written.
 */
bool
SpeedSave(LambdaSharedView *view, FILE *file)
{
	dsa_area   *dsa = LambdaDsa();
	SavedView	saved = {0};
	dsa_pointer dp;
	bool		ok = true;

	LWLockAcquire(&view->lock, LW_SHARED);
	saved.lossyMaxXid = view->lossyMaxXid;
	saved.lost = view->lost;
	saved.overflowed = view->overflowed;
	saved.nextGenerationId = view->nextGenerationId;
	memcpy(saved.slowReason, view->slowReason, LAMBDA_REASON_LEN);
	saved.slowSince = view->slowSince;
	for (dp = view->generations; DsaPointerIsValid(dp);
		 dp = ((LambdaGeneration *) dsa_get_address(dsa, dp))->next)
		saved.ngenerations++;
	for (dp = view->pending; DsaPointerIsValid(dp);
		 dp = ((LambdaDelta *) dsa_get_address(dsa, dp))->next)
		saved.ndeltas++;
	ok = WRITE(file, &saved, sizeof(saved));

	/* generations newest first, as listed */
	for (dp = view->generations; ok && DsaPointerIsValid(dp);)
	{
		LambdaGeneration *gen = dsa_get_address(dsa, dp);
		SavedGeneration sg = {0};

		sg.id = gen->id;
		sg.batchXid = gen->batchXid;
		sg.published = gen->published;
		sg.allVisible = gen->allVisible;
		sg.complete = gen->complete;
		sg.xmin = gen->xmin;
		sg.xmax = gen->xmax;
		sg.xcnt = gen->xcnt;
		sg.nbuckets = gen->groups.nbuckets;
		sg.bytes = GenerationBytes(gen);
		sg.nentries = GroupTableSaveCount(dsa, &gen->groups);
		ok = WRITE(file, &sg, sizeof(sg));
		if (ok && gen->xcnt > 0)
			ok = WRITE(file, dsa_get_address(dsa, gen->xip), sizeof(TransactionId) * gen->xcnt);
		if (ok)
			ok = GroupTableSave(dsa, &gen->groups, file);
		dp = gen->next;
	}

	/* pending deltas newest first, as listed */
	for (dp = view->pending; ok && DsaPointerIsValid(dp);)
	{
		LambdaDelta *delta = dsa_get_address(dsa, dp);

		ok = WRITE(file, &delta->size, sizeof(Size)) &&
			WRITE(file, (char *) delta + offsetof(LambdaDelta, xid),
				  delta->size - offsetof(LambdaDelta, xid));
		dp = delta->next;
	}
	LWLockRelease(&view->lock);
	return ok;
}

/*
 * Read into view, a slot just taken with no state, the state SpeedSave
 * wrote.  False when the file is short or the state does not fit in
 * lambda.speed_memory: then the view keeps no state, and counts as lost
 * until a batch, as after a crash.  Lists are rebuilt in their order.
 */
bool
SpeedLoad(LambdaSharedView *view, FILE *file)
{
	dsa_area   *dsa = LambdaDsa();
	SavedView	saved;
	dsa_pointer *genLink = &view->generations;
	dsa_pointer *deltaLink = &view->pending;
	bool		ok;
	int32		g;
	int32		d;

	LWLockAcquire(&view->lock, LW_EXCLUSIVE);
	ok = READ(file, &saved, sizeof(saved));
	if (ok)
	{
		view->lossyMaxXid = saved.lossyMaxXid;
		view->lost = saved.lost;
		view->overflowed = saved.overflowed;
		view->nextGenerationId = saved.nextGenerationId;
		memcpy(view->slowReason, saved.slowReason, LAMBDA_REASON_LEN);
		view->slowReason[LAMBDA_REASON_LEN - 1] = '\0';
		view->slowSince = saved.slowSince;
	}

	for (g = 0; ok && g < saved.ngenerations; g++)
	{
		SavedGeneration sg;
		dsa_pointer dp;
		LambdaGeneration *gen;

		ok = READ(file, &sg, sizeof(sg)) && sg.nbuckets > 0 && sg.xcnt >= 0 &&
			sg.nbuckets <= MaxAllocSize / sizeof(dsa_pointer);
		if (!ok)
			break;
		dp = SharedAllocate(dsa, sizeof(LambdaGeneration), DSA_ALLOC_ZERO);
		if (!DsaPointerIsValid(dp))
		{
			ok = false;
			break;
		}
		gen = dsa_get_address(dsa, dp);
		gen->next = InvalidDsaPointer;
		gen->xip = InvalidDsaPointer;
		if (!GroupTableInit(dsa, &gen->groups, sg.nbuckets))
		{
			SharedFree(dsa, dp);
			ok = false;
			break;
		}
		*genLink = dp;			/* linked at once: freed with the rest on failure */
		genLink = &gen->next;
		gen->id = sg.id;
		gen->batchXid = sg.batchXid;
		gen->published = sg.published;
		gen->allVisible = sg.allVisible;
		gen->complete = sg.complete;
		gen->xmin = sg.xmin;
		gen->xmax = sg.xmax;
		gen->bytes = sizeof(LambdaGeneration) + sizeof(TransactionId) * sg.xcnt;
		if (sg.xcnt > 0)
		{
			gen->xip = SharedAllocate(dsa, sizeof(TransactionId) * sg.xcnt, DSA_ALLOC_NO_OOM);
			ok = DsaPointerIsValid(gen->xip) &&
				READ(file, dsa_get_address(dsa, gen->xip), sizeof(TransactionId) * sg.xcnt);
			if (!ok)
				break;
			gen->xcnt = sg.xcnt;
		}
		if (ok)
			ok = GroupTableLoad(dsa, &gen->groups, file, sg.nentries);
	}

	for (d = 0; ok && d < saved.ndeltas; d++)
	{
		Size		size;
		dsa_pointer dp;
		LambdaDelta *delta;

		ok = READ(file, &size, sizeof(Size)) && size >= sizeof(LambdaDelta) &&
			AllocSizeIsValid(size);
		if (!ok)
			break;
		dp = SharedAllocate(dsa, size, DSA_ALLOC_NO_OOM);
		if (!DsaPointerIsValid(dp))
		{
			ok = false;
			break;
		}
		delta = dsa_get_address(dsa, dp);
		ok = READ(file, (char *) delta + offsetof(LambdaDelta, xid),
				  size - offsetof(LambdaDelta, xid));
		delta->size = size;
		delta->next = InvalidDsaPointer;
		*deltaLink = dp;
		deltaLink = &delta->next;
		view->pendingBytes += size;
	}
	LWLockRelease(&view->lock);

	if (!ok)
	{
		FullTransactionId next = ReadNextFullTransactionId();

		/* none of it: the view's state is rebuilt as after a crash */
		FullTransactionIdRetreat(&next);
		LWLockAcquire(&view->lock, LW_EXCLUSIVE);
		SpeedDrop(view);
		view->lossyMaxXid = InvalidTransactionId;
		view->slowReason[0] = '\0';
		MarkLost(view, XidFromFullTransactionId(next),
				 "its saved speed layer could not be loaded: a batch rebuilds it");
		LWLockRelease(&view->lock);
	}
	return ok;
}


/*
 * Settling the view failed (a merge function raised an error, say a float
 * sum that overflows where the query's running sum does not): give up its
 * speed state until a batch restores it.  Every pending delta is dropped as
 * lost, so the view answers through the exact slow path until a batch whose
 * snapshot sees them all publishes (the worker starts one once they have
 * all finished).  A generation the failed merge may have left half-merged
 * is taken out of use with the others.  Caller holds no view lock.
 */
void
SpeedDiscard(LambdaSharedView *view, Oid viewid, const char *why)
{
	dsa_area   *dsa = LambdaDsa();
	TransactionId lost = InvalidTransactionId;
	/* allocated before the lock: nothing under it may fail */
	char	   *reason = psprintf("settling failed: %s", why);

	if (!SharedViewLockIfStill(view, viewid, LW_EXCLUSIVE))
		return;					/* forgotten meanwhile */
	while (DsaPointerIsValid(view->pending))
	{
		LambdaDelta *delta = dsa_get_address(dsa, view->pending);
		dsa_pointer dp = view->pending;

		if (!TransactionIdIsValid(lost) || TransactionIdFollows(delta->xid, lost))
			lost = delta->xid;
		view->pending = delta->next;
		FreeDelta(dsa, view, dp);
	}
	if (!TransactionIdIsValid(lost))
	{
		FullTransactionId next = ReadNextFullTransactionId();

		FullTransactionIdRetreat(&next);
		lost = XidFromFullTransactionId(next);
	}
	MarkLost(view, lost, reason);
	LWLockRelease(&view->lock);
}

/*
 * How many times a worker has settled the view since its speed state was
 * made: tests wait for a round that began after they asked.
 */
int64
SpeedSettleRounds(Oid viewid)
{
	LambdaSharedView *view = SharedViewLock(MyDatabaseId, viewid, false, LW_SHARED);
	int64		rounds;

	if (view == NULL)
		return 0;
	rounds = (int64) view->settleRounds;
	LWLockRelease(&view->lock);
	return rounds;
}

/*
 * What lambda.views shows of a view's speed layer: the generation the
 * caller's snapshot resolves to, so that 'ready' means exactly that the
 * caller's queries take the fast path.
 */
void
SpeedStatus(Oid viewid, int64 *groups, int64 *bytes, int64 *pending,
			const char **state, char **reason, TimestampTz *since)
{
	dsa_area   *dsa;
	LambdaSharedView *view = SharedViewLock(MyDatabaseId, viewid, false, LW_SHARED);
	LambdaGeneration *gen;
	dsa_pointer dp;

	*groups = 0;
	*bytes = 0;
	*pending = 0;
	*reason = NULL;
	*since = 0;
	if (view == NULL)
	{
		*state = "rebuilding";
		*reason = pstrdup("no speed layer yet (a batch makes one), or lambda.max_views is reached");
		return;
	}
	dsa = LambdaDsa();
	gen = Resolve(dsa, view, GetActiveSnapshot());
	*bytes = view->pendingBytes;
	for (dp = view->pending; DsaPointerIsValid(dp);)
	{
		(*pending)++;
		dp = ((LambdaDelta *) dsa_get_address(dsa, dp))->next;
	}
	for (dp = view->generations; DsaPointerIsValid(dp);)
	{
		LambdaGeneration *g = dsa_get_address(dsa, dp);

		*bytes += GenerationBytes(g);
		dp = g->next;
	}
	if (gen != NULL)
		*groups = gen->groups.nentries;
	if (gen != NULL && gen->complete)
		*state = "ready";
	else if (view->overflowed)
		*state = "overflow";
	else
		*state = "rebuilding";
	if (!(gen != NULL && gen->complete))
	{
		*reason = pstrdup(view->slowReason[0] != '\0' ? view->slowReason :
						  gen == NULL ? "no batch registered yet" :
						  "a batch that covers every lost row is still to publish");
		*since = view->slowSince;
	}
	LWLockRelease(&view->lock);
}

/*
 * The speed layer's memory over all databases: the view slots in use, the
 * DSA chunks held, and the bytes every slot accounts for (its pending
 * deltas and generations, as lambda.views shows per view).  Each slot is
 * read under its lock, the registry's held meanwhile so that no slot
 * changes hands.
 */
void
SpeedMemoryUsed(int64 *views, int64 *chunks, int64 *bytes)
{
	dsa_area   *dsa = LambdaDsa();
	int			i;

	*views = 0;
	*bytes = 0;
	LWLockAcquire(lambda_shared->lock, LW_SHARED);
	for (i = 0; i < lambda_shared->nviews; i++)
	{
		LambdaSharedView *view = &lambda_shared->views[i];
		dsa_pointer dp;

		LWLockAcquire(&view->lock, LW_SHARED);
		if (view->state != LAMBDA_SLOT_FREE)
		{
			(*views)++;
			*bytes += view->pendingBytes;
			for (dp = view->generations; DsaPointerIsValid(dp);)
			{
				LambdaGeneration *gen = dsa_get_address(dsa, dp);

				*bytes += GenerationBytes(gen);
				dp = gen->next;
			}
		}
		LWLockRelease(&view->lock);
	}
	LWLockRelease(lambda_shared->lock);
	*chunks = (int64) pg_atomic_read_u64(&lambda_shared->speedChunks);
}
