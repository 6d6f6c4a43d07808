/*-------------------------------------------------------------------------
 *
 * compact.c
 *	  Compaction: publish a view's batch table merged with its speed layer
 *	  as a new batch, without reading the master.
 *
 * A batch run (batch.c) computes the view's partial states from the whole
 * master: its cost grows with the master.  Between two batches the speed
 * layer grows with every group that fresh rows touch, and every read
 * merges all of it.  A compaction publishes, under a snapshot S of its
 * own, what a reader with S reads on the fast path: the batch table's rows
 * merged with the speed layer's.  By the correctness contract that is what
 * the view's query returns under S, so a compaction is a batch with cut S,
 * and the cut rules are run_batch's, unchanged: the generation it registers
 * covers exactly the transactions S sees (speed.c).  Only the groups the
 * speed layer holds are written, each found in the batch table through its
 * index on the group keys: the cost grows with the groups touched since the
 * last batch, not with the master, nor with the batch table.
 *
 * In the caller's transaction, a compaction:
 *
 *	1. takes the view's catalog row lock (BatchBegin): compactions and
 *	   batch runs of a view take turns.  A worker does not wait for it: a
 *	   run in progress makes it try again next round.
 *	2. takes and holds a snapshot S.  While S is held no transaction that S
 *	   does not see can be settled (speed.c), so the speed layer's settled
 *	   states are all seen by S.  Only if the speed layer is whole for S
 *	   (the fast path's condition) may it go on; otherwise only a batch from
 *	   the master is exact, and it fails (55000).  It reads the speed
 *	   layer's groups as a reader with S does, this transaction's own
 *	   captured rows included.  With none, it stops there: the batch
 *	   stays, and no new cut is published.
 *	3. registers the generation of S, after the read: a reader resolves to
 *	   the generation its own transaction registered.  Deltas settled
 *	   between the read and the registration are of transactions S sees
 *	   (step 2), which the read counted and the new generation covers.  It
 *	   covers this transaction's captured rows, which are now in the batch,
 *	   as run_batch does.
 *	4. merges each group into its batch table row, or adds a row, and
 *	   updates the catalog row in the same transaction.
 *
 * Readers see the old batch and its generation until this transaction
 * commits, then the new ones together; an error or a cancel anywhere
 * leaves both as they were.  Steps 2 to 4 run as the view's owner,
 * restricted, as a batch does: merging runs the functions of the view's
 * types and aggregates.  A merge that fails (a float sum that overflows
 * when added up in another order) fails the compaction; a batch from the
 * master is then the way to a new batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "capture.h"
#include "catalog.h"
#include "compact.h"
#include "identity.h"
#include "lambda.h"
#include "layout.h"
#include "merge.h"
#include "shmem.h"
#include "speed.h"

LAMBDA_FUNCTION(lambda_compact);

static int64 MergeIntoBatch(LambdaViewEntry *entry, LambdaLayout *layout,
							LayoutGroups *speed, int64 *added);

/*
 * compact(view regclass) returns bigint
 *
 * Compact a view; return the number of groups it wrote.
 */
Datum
lambda_compact(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);
	LambdaViewEntry entry;
	int64		written;

	LambdaCheckPreloaded();
	SPI_connect();
	CatalogGetViewOrError(viewid, &entry);
	CheckViewOwner(viewid);
	written = Compact(&entry, true);
	SPI_finish();
	PG_RETURN_INT64(written);
}

/*
 * Compact a view; return the number of groups written (0, and nothing
 * published, when the speed layer has nothing for it), or -1 when wait is
 * false and a batch run or compaction of the view is in progress.  The
 * caller is connected to SPI and has checked the caller's right to run it.
 */
int64
Compact(LambdaViewEntry *entry, bool wait)
{
	TimestampTz started = GetCurrentTimestamp();
	Oid			argtypes[4] = {OIDOID, TIMESTAMPTZOID, INT8OID, TEXTOID};
	Datum		values[4];
	LambdaLayout *layout;
	Snapshot	snap;
	LayoutGroups *speed;
	LambdaIdentity save;
	int64		written;
	int64		added;

	/* 1 */
	if (!BatchBegin(entry, true, wait))
		return -1;
	if (entry->batchVersion == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot compact lambda view \"%s\" before its first batch",
						get_rel_name(entry->view)),
				 errhint("Run lambda.run_batch() first.")));

	/* 2 */
	layout = LayoutGet(entry->view);
	LayoutPin(layout);
	snap = RegisterSnapshot(GetTransactionSnapshot());
	if (!SpeedUsable(entry->view, snap) || !CaptureExact(layout, snap))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot compact lambda view \"%s\": its speed layer is not complete",
						get_rel_name(entry->view)),
				 errdetail("The view answers through the exact slow path (see lambda.views), and only a batch from the master restores its fast path."),
				 errhint("Run lambda.run_batch() instead.")));
	IdentityBecomeViewOwner(entry->view, &save);
	speed = MergeSpeedGroups(layout, snap, 0, NULL, NULL, sizeof(LayoutGroup));
	if (speed->groups == NIL)
	{
		/* nothing to fold in: the batch stays as it is, no new cut */
		IdentityRestore(&save);
		LayoutUnpin(layout);
		UnregisterSnapshot(snap);
		return 0;
	}

	/* 3 */
	CaptureCover(entry->view);
	BatchRegisterCut(entry->view, snap, false);
	SharedWantDatabase(MyDatabaseId);

	/* 4 */
	written = MergeIntoBatch(entry, layout, speed, &added);
	IdentityRestore(&save);
	LayoutUnpin(layout);

	/* snapshots older than the catalog row's update read the old batch */
	CaptureBatchPublished(entry->view, GetCurrentCommandId(false));

	values[0] = ObjectIdGetDatum(entry->view);
	values[1] = TimestampTzGetDatum(started);
	values[2] = Int64GetDatum(added);
	values[3] = CStringGetTextDatum(BatchSnapshotText(snap));
	CatalogExec("UPDATE lambda.view "
				"SET batch_version = batch_version OPERATOR(pg_catalog.+) 1, "
				"batch_groups = COALESCE(batch_groups, 0) OPERATOR(pg_catalog.+) $3, "
				"batch_snapshot = $4::pg_catalog.pg_snapshot, "
				"compactions = compactions OPERATOR(pg_catalog.+) 1, "
				"compaction_finished = pg_catalog.clock_timestamp(), "
				"compaction_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $2 "
				"WHERE view OPERATOR(pg_catalog.=) $1",
				4, argtypes, values, NULL);

	UnregisterSnapshot(snap);
	return written;
}

/*
 * Merge each of the speed layer's groups into its row of the batch table,
 * or add it as a row; return the number of groups written, and in *added
 * how many were new.  The catalog row lock (step 1) keeps every other
 * writer of the batch table out, so the latest snapshot sees exactly the
 * rows of the batch being compacted.
 */
static int64
MergeIntoBatch(LambdaViewEntry *entry, LambdaLayout *layout, LayoutGroups *speed,
			   int64 *added)
{
	Relation	rel = table_open(entry->batchTable, RowExclusiveLock);
	int			nkeys = layout->nkeys;
	int			natts = layout->desc->natts;
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *resultRelInfo = makeNode(ResultRelInfo);
	TupleTableSlot *found = table_slot_create(rel, NULL);
	TupleTableSlot *row = table_slot_create(rel, NULL);
	MemoryContext groupcxt = AllocSetContextCreate(CurrentMemoryContext,
												   "lambda compaction group",
												   ALLOCSET_DEFAULT_SIZES);
	Relation	index = NULL;
	ScanKey		scankeys = NULL;
	IndexScanDesc iscan = NULL;
	Snapshot	snap;
	CommandId	cid;
	ListCell   *lc;
	int64		written = 0;

	*added = 0;
	LayoutCheckBatchTable(layout, rel);
	InitResultRelInfo(resultRelInfo, rel, 1, NULL, 0);
	ExecOpenIndices(resultRelInfo, false);

	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	cid = GetCurrentCommandId(true);

	/*
	 * One probe of the key index per group.  A view without group keys has
	 * at most one row and no index: a scan finds it.
	 */
	if (nkeys > 0)
	{
		index = MergeKeyIndex(rel, nkeys);
		if (index == NULL)
			elog(ERROR, "batch table of lambda view \"%s\" has no index on its group keys",
				 get_rel_name(entry->view));
		scankeys = palloc(sizeof(ScanKeyData) * nkeys);
		iscan = index_beginscan(rel, index, snap, nkeys, 0);
	}

	/*
	 * The scans allocate what they keep as they go (btree's list of dead
	 * items, say): they run in this function's context, and only the
	 * merges in the group's, which is reset after each.
	 */
	foreach(lc, speed->groups)
	{
		LayoutGroup *g = lfirst(lc);
		MemoryContext old;
		bool		have;

		CHECK_FOR_INTERRUPTS();
		if (index != NULL)
		{
			MergeKeyScanKeys(index, nkeys, g->values, g->isnull, scankeys);
			index_rescan(iscan, scankeys, nkeys, NULL, 0);
			have = index_getnext_slot(iscan, ForwardScanDirection, found);
		}
		else
		{
			TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);

			have = table_scan_getnextslot(scan, ForwardScanDirection, found);
			if (have)
				ExecMaterializeSlot(found);
			table_endscan(scan);
		}

		ExecClearTuple(row);
		if (have)
		{
			bool		update_indexes;

			slot_getallattrs(found);
			memcpy(row->tts_values, found->tts_values, sizeof(Datum) * natts);
			memcpy(row->tts_isnull, found->tts_isnull, sizeof(bool) * natts);
			old = MemoryContextSwitchTo(groupcxt);
			LayoutMerge(layout, row->tts_values, row->tts_isnull, g->values, g->isnull);
			MemoryContextSwitchTo(old);
			ExecStoreVirtualTuple(row);
			simple_table_tuple_update(rel, &found->tts_tid, row, snap, &update_indexes);
			/* not a HOT update: the new version needs its index entries */
			if (update_indexes && resultRelInfo->ri_NumIndices > 0)
				(void) ExecInsertIndexTuples(resultRelInfo, row, estate,
											 false, false, NULL, NIL);
		}
		else
		{
			memcpy(row->tts_values, g->values, sizeof(Datum) * natts);
			memcpy(row->tts_isnull, g->isnull, sizeof(bool) * natts);
			ExecStoreVirtualTuple(row);
			table_tuple_insert(rel, row, cid, 0, NULL);
			if (resultRelInfo->ri_NumIndices > 0)
				(void) ExecInsertIndexTuples(resultRelInfo, row, estate,
											 false, false, NULL, NIL);
			(*added)++;
		}
		written++;
		ExecClearTuple(row);
		ExecClearTuple(found);
		ResetPerTupleExprContext(estate);
		MemoryContextReset(groupcxt);
	}
	CommandCounterIncrement();

	if (iscan != NULL)
	{
		index_endscan(iscan);
		index_close(index, AccessShareLock);
	}
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(row);
	ExecDropSingleTupleTableSlot(found);
	ExecCloseIndices(resultRelInfo);
	FreeExecutorState(estate);
	MemoryContextDelete(groupcxt);
	table_close(rel, NoLock);
	return written;
}
