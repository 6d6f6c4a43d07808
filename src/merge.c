/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  The fast path's merge of the batch table with the speed layer: one
 *	  pass over the batch table, one probe per row into a local table of
 *	  the speed layer's groups.
 *
 * The user-facing view reads lambda.merged(V): one partial state row per
 * group, the batch table's row merged with the speed layer's rows of the
 * same group, then the speed layer's groups the batch table lacks.  When
 * the speed layer is not whole for the reader's snapshot, it reads the
 * exact slow path instead (lambda.exact).  The view computes its outputs
 * from the states (serving.c).
 *
 * A first serving view left the merge to PostgreSQL: the batch table and
 * lambda.speed() under UNION ALL, then GROUP BY the keys.  That hashed and
 * aggregated every row of the batch table, although the speed layer
 * touches few of its groups, and reading the view cost three to four times
 * reading the batch table (bench/).  Here a batch row that the speed layer
 * does not touch costs one hash probe.
 *
 * Both parts are read under the reader's snapshot: the batch table it sees
 * and the speed layer generation of that batch (speed.c).  A filter that
 * fixes the first group keys reaches the batch table's index on them: the
 * look-up (lookup.c) passes the keys here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/resowner.h"
#include "executor/tstoreReceiver.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "capture.h"
#include "catalog.h"
#include "identity.h"
#include "lambda.h"
#include "merge.h"
#include "serving.h"
#include "speed.h"

LAMBDA_FUNCTION(lambda_merged);
LAMBDA_FUNCTION(lambda_serve);
LAMBDA_FUNCTION(lambda_exact);

/* A speed layer group, and whether a batch row took it */
typedef struct MergeGroup
{
	LayoutGroup group;
	bool		matched;
} MergeGroup;

static Datum MergedOf(FunctionCallInfo fcinfo, Oid viewid);
static void AddToGroups(HeapTuple tuple, void *arg);
static void BeginFast(MergeScan *scan, Snapshot snapshot);
static bool FastAtOnce(MergeScan *scan, Snapshot snapshot);
static bool FastNext(MergeScan *scan, Datum **values, bool **isnull);
static void EndFast(MergeScan *scan);

/* A read of the merged groups, one row at a time */
struct MergeScan
{
	LambdaLayout *layout;
	MemoryContext context;		/* everything below */
	MemoryContext rowcxt;		/* the row just returned */
	int			nprefix;
	Datum	   *key;
	bool	   *keynull;
	LayoutGroups *speed;		/* the speed layer's groups */
	ListCell   *unmatched;		/* once the batch table is read, in speed */
	bool		batchDone;
	Relation	batch;
	Relation	index;			/* or NULL */
	TableScanDesc scan;			/* or an index scan */
	IndexScanDesc iscan;
	TupleTableSlot *slot;
	Datum	   *values;			/* the batch row just returned, merged */
	bool	   *isnull;
	Tuplestorestate *exact;		/* on the slow path, its rows; else NULL */
	TupleTableSlot *exactSlot;
};

/*
 * merged(view regclass) returns setof record
 *
 * The partial state rows of every group of the view, batch table and speed
 * layer merged, as the caller's snapshot sees them.
 */
Datum
lambda_merged(PG_FUNCTION_ARGS)
{
	return MergedOf(fcinfo, PG_GETARG_OID(0));
}

/*
 * serve(view_id bigint) returns setof record
 *
 * merged() of the view with this id: what a view's definition reads.
 */
Datum
lambda_serve(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			viewid = CatalogViewById(id);

	if (!OidIsValid(viewid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lambda view with id " INT64_FORMAT " does not exist", id),
				 errhint("The view lambda.views lists the lambda views and their ids.")));
	return MergedOf(fcinfo, viewid);
}

static Datum
MergedOf(FunctionCallInfo fcinfo, Oid viewid)
{
	LambdaLayout *layout = BeginStatesFunction(fcinfo, viewid);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MergeScan  *scan;
	Datum	   *values;
	bool	   *isnull;

	scan = MergeBegin(layout, GetActiveSnapshot(), 0, NULL, NULL);
	while (MergeNext(scan, &values, &isnull))
		tuplestore_putvalues(rsinfo->setResult, layout->desc, values, isnull);
	MergeEnd(scan);
	return (Datum) 0;
}

/*
 * exact(view regclass) returns setof record
 *
 * The exact slow path: the partial states of every group of the view,
 * computed from the master, as the caller's snapshot sees it.
 */
Datum
lambda_exact(PG_FUNCTION_ARGS)
{
	LambdaLayout *layout = BeginStatesFunction(fcinfo, PG_GETARG_OID(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	ExactRead(layout, GetActiveSnapshot(), rsinfo->setResult,
			  rsinfo->econtext->ecxt_per_query_memory);
	return (Datum) 0;
}

/*
 * Put the partial states of every group, computed from the master by the
 * partial-state query (the batch's) under snapshot, into out (allocated in
 * outcxt).  The query runs as the view's owner, restricted (identity.c),
 * with the owner's rights on the master, as the view's own query would.
 */
void
ExactRead(LambdaLayout *layout, Snapshot snapshot, Tuplestorestate *out,
		  MemoryContext outcxt)
{
	SPIExecuteOptions options = {0};
	DestReceiver *dest = CreateDestReceiver(DestTuplestore);
	LambdaIdentity save;
	int			ret;

	SetTuplestoreDestReceiverParams(dest, out, outcxt, false, NULL, NULL);

	/* Read-only: the query runs under the active snapshot, unchanged */
	options.read_only = true;
	options.dest = dest;
	SPI_connect();
	PushActiveSnapshot(snapshot);
	IdentityBecomeViewOwner(layout->viewid, &save);
	ret = SPI_execute_extended(psprintf("SELECT * FROM %s",
										QualifiedRelationName(layout->partialView)),
							   &options);
	IdentityRestore(&save);
	PopActiveSnapshot();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_extended failed: %s", SPI_result_code_string(ret));
	SPI_finish();
	dest->rDestroy(dest);
}

/*
 * Set up the fast path: the speed layer's groups in a local table, the
 * batch table's scan, through the key index when a prefix is given.
 */
static void
BeginFast(MergeScan *scan, Snapshot snapshot)
{
	LambdaLayout *layout = scan->layout;
	int			nprefix = scan->nprefix;
	Datum	   *key = scan->key;
	bool	   *keynull = scan->keynull;
	MemoryContext old = MemoryContextSwitchTo(scan->context);

	scan->speed = MergeSpeedGroups(layout, snapshot, nprefix, key, keynull,
								   sizeof(MergeGroup));

	scan->batch = table_open(layout->batchTable, AccessShareLock);
	LayoutCheckBatchTable(layout, scan->batch);
	scan->slot = table_slot_create(scan->batch, NULL);
	if (nprefix > 0)
		scan->index = MergeKeyIndex(scan->batch, nprefix);
	if (scan->index != NULL)
	{
		ScanKey		scankeys = palloc(sizeof(ScanKeyData) * nprefix);

		MergeKeyScanKeys(scan->index, nprefix, key, keynull, scankeys);
		scan->iscan = index_beginscan(scan->batch, scan->index, snapshot, nprefix, 0);
		index_rescan(scan->iscan, scankeys, nprefix, NULL, 0);
	}
	else
		scan->scan = table_beginscan(scan->batch, snapshot, 0, NULL);

	MemoryContextSwitchTo(old);
}

/*
 * The fast path read at once, in a subtransaction, into the slow path's
 * tuplestore: for views whose merge can fail where the query does not (a
 * float, money or interval sum that overflows when partial sums add up in
 * another order).  False, with nothing read, when a merge raised a data
 * exception; any other error is raised.
 */
static bool
FastAtOnce(MergeScan *scan, Snapshot snapshot)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	scan->exact = tuplestore_begin_heap(false, false, work_mem);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		Datum	   *values;
		bool	   *isnull;

		BeginFast(scan, snapshot);
		while (FastNext(scan, &values, &isnull))
			tuplestore_putvalues(scan->exact, scan->layout->desc, values, isnull);
		EndFast(scan);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(edata);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	scan->slot = NULL;
	scan->batch = NULL;
	scan->index = NULL;
	scan->iscan = NULL;
	scan->scan = NULL;
	scan->exactSlot = MakeSingleTupleTableSlot(scan->layout->desc, &TTSOpsMinimalTuple);
	return ok;
}

/*
 * Start reading the partial state rows of every group that a reader with
 * this snapshot sees: on the fast path, the batch table's merged with the
 * speed layer's; when the speed layer is not whole for this snapshot, the
 * exact slow path's.  With nprefix > 0, only the groups whose first nprefix
 * group keys are those of key (a partial state row's values, of which only
 * those keys are read; the caller keeps them until MergeEnd).
 *
 * Which path is decided here, once for the read.  On the fast path the
 * speed layer's groups are read at once, into a local table, and the batch
 * table is scanned as rows are asked for.
 */
MergeScan *
MergeBegin(LambdaLayout *layout, Snapshot snapshot, int nprefix, Datum *key,
		   bool *keynull)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "lambda merge",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(context);
	MergeScan  *scan = palloc0(sizeof(MergeScan));

	scan->layout = layout;
	LayoutPin(layout);			/* until MergeEnd: the outer query runs between rows */
	scan->context = context;
	scan->rowcxt = AllocSetContextCreate(context, "lambda merge row",
										 ALLOCSET_DEFAULT_SIZES);
	scan->nprefix = nprefix;
	scan->key = key;
	scan->keynull = keynull;
	scan->values = palloc(sizeof(Datum) * layout->desc->natts);
	scan->isnull = palloc(sizeof(bool) * layout->desc->natts);

	if (!SpeedUsable(layout->viewid, snapshot) || !CaptureExact(layout, snapshot))
	{
		scan->exact = tuplestore_begin_heap(false, false, work_mem);
		ExactRead(layout, snapshot, scan->exact, context);
		scan->exactSlot = MakeSingleTupleTableSlot(layout->desc, &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(old);
		return scan;
	}

	/*
	 * A merge that can fail where the query does not is tried in a
	 * subtransaction, falling back to the slow path.  The leader of a
	 * parallel query may start none: there a failed merge fails the read
	 * (an error, never a wrong answer).
	 */
	if (!layout->fallible || IsInParallelMode())
		BeginFast(scan, snapshot);
	else if (!FastAtOnce(scan, snapshot))
	{
		/* a merge failed where the query may not: answer as the query does */
		tuplestore_clear(scan->exact);
		ExactRead(layout, snapshot, scan->exact, context);
	}
	MemoryContextSwitchTo(old);
	return scan;
}

/*
 * The next merged row: false when there are no more.  The values stay
 * valid until the next call.
 */
bool
MergeNext(MergeScan *scan, Datum **values, bool **isnull)
{
	LambdaLayout *layout = scan->layout;

	MemoryContextReset(scan->rowcxt);

	/* The slow path's rows (with the prefix: those of the keys) */
	while (scan->exact != NULL)
	{
		TupleTableSlot *slot = scan->exactSlot;

		if (!tuplestore_gettupleslot(scan->exact, true, false, slot))
			return false;
		slot_getallattrs(slot);
		if (scan->nprefix > 0 &&
			!LayoutPrefixEqual(layout, scan->nprefix, slot->tts_values,
							   slot->tts_isnull, scan->key, scan->keynull))
			continue;
		*values = slot->tts_values;
		*isnull = slot->tts_isnull;
		return true;
	}
	return FastNext(scan, values, isnull);
}

/*
 * The next row of the fast path.
 */
static bool
FastNext(MergeScan *scan, Datum **values, bool **isnull)
{
	LambdaLayout *layout = scan->layout;
	int			natts = layout->desc->natts;
	MemoryContext old;

	MemoryContextReset(scan->rowcxt);

	/*
	 * Batch rows, each merged with its group in the speed layer, if any.
	 * The scans allocate what they keep as they go (btree's list of dead
	 * items, say): they run in the read's context, the merge in the row's.
	 */
	old = MemoryContextSwitchTo(scan->context);
	while (!scan->batchDone)
	{
		TupleTableSlot *slot = scan->slot;
		LayoutGroup *g;

		if (scan->iscan != NULL ?
			!index_getnext_slot(scan->iscan, ForwardScanDirection, slot) :
			!table_scan_getnextslot(scan->scan, ForwardScanDirection, slot))
		{
			scan->batchDone = true;
			scan->unmatched = list_head(scan->speed->groups);
			break;
		}
		slot_getallattrs(slot);

		/* Without the index the filter is applied here */
		if (scan->nprefix > 0 && scan->index == NULL &&
			!LayoutPrefixEqual(layout, scan->nprefix, slot->tts_values,
							   slot->tts_isnull, scan->key, scan->keynull))
			continue;

		MemoryContextSwitchTo(scan->rowcxt);
		*values = scan->values;
		*isnull = scan->isnull;
		memcpy(*values, slot->tts_values, sizeof(Datum) * natts);
		memcpy(*isnull, slot->tts_isnull, sizeof(bool) * natts);
		g = scan->speed->groups == NIL ? NULL :
			LayoutGroupsFind(scan->speed, LayoutHashKeys(layout, *values, *isnull),
							 *values, *isnull);
		if (g != NULL)
		{
			LayoutMerge(layout, *values, *isnull, g->values, g->isnull);
			((MergeGroup *) g)->matched = true;
		}
		MemoryContextSwitchTo(old);
		return true;
	}
	MemoryContextSwitchTo(old);

	/* Then the speed layer's groups that the batch table does not have */
	while (scan->unmatched != NULL)
	{
		MergeGroup *g = lfirst(scan->unmatched);

		scan->unmatched = lnext(scan->speed->groups, scan->unmatched);
		if (!g->matched)
		{
			*values = g->group.values;
			*isnull = g->group.isnull;
			return true;
		}
	}
	return false;
}

/*
 * Finish a read, releasing what it holds.
 */
void
MergeEnd(MergeScan *scan)
{
	if (scan->exact != NULL)
	{
		tuplestore_end(scan->exact);
		ExecDropSingleTupleTableSlot(scan->exactSlot);
	}
	else
		EndFast(scan);
	LayoutUnpin(scan->layout);
	MemoryContextDelete(scan->context);
}

/*
 * Close the fast path's scans.
 */
static void
EndFast(MergeScan *scan)
{
	if (scan->iscan != NULL)
	{
		index_endscan(scan->iscan);
		index_close(scan->index, AccessShareLock);
	}
	else
		table_endscan(scan->scan);
	ExecDropSingleTupleTableSlot(scan->slot);
	table_close(scan->batch, AccessShareLock);
}

/*
 * The speed layer's groups that a reader with snapshot sees, merged per
 * group, in a local table whose groups are groupSize bytes (see
 * LayoutGroupsCreate): settled, pending and this transaction's own rows;
 * with nprefix > 0, only those whose first nprefix keys are key's.  Reads
 * and compactions (compact.c) start from it.
 */
LayoutGroups *
MergeSpeedGroups(LambdaLayout *layout, Snapshot snapshot, int nprefix, Datum *key,
				 bool *keynull, Size groupSize)
{
	LayoutGroups *groups = LayoutGroupsCreate(layout, nprefix == layout->nkeys ? 16 : 1024,
											  groupSize);

	SpeedRead(layout->viewid, snapshot, layout, nprefix, key, keynull,
			  AddToGroups, groups);
	CaptureRead(layout->viewid, snapshot, layout, nprefix, key, keynull,
				AddToGroups, groups);
	return groups;
}

/*
 * SpeedRead and CaptureRead put their rows here.  A row of the speed layer
 * lies in shared memory that a worker may free once SpeedRead lets go of
 * the view's lock: the group keeps a copy.
 */
static void
AddToGroups(HeapTuple tuple, void *arg)
{
	LayoutGroupsAdd((LayoutGroups *) arg, heap_copytuple(tuple));
}

/*
 * The batch table's btree index whose first nprefix columns are the first
 * nprefix group keys, opened; or NULL.  create_view makes one on all the
 * keys.  Compaction finds its rows through it too (compact.c).
 */
Relation
MergeKeyIndex(Relation batch, int nprefix)
{
	List	   *indexes = RelationGetIndexList(batch);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;
		bool		usable = index->rd_rel->relam == BTREE_AM_OID &&
			form->indisvalid && form->indnkeyatts >= nprefix &&
			RelationGetIndexExpressions(index) == NIL &&
			RelationGetIndexPredicate(index) == NIL;
		int			i;

		for (i = 0; usable && i < nprefix; i++)
			usable = form->indkey.values[i] == i + 1;
		if (usable)
		{
			list_free(indexes);
			return index;
		}
		index_close(index, AccessShareLock);
	}
	list_free(indexes);
	return NULL;
}

/*
 * Scan keys that find, through index (MergeKeyIndex), the rows whose first
 * nkeys group keys equal key's by the key type's btree equality; a NULL
 * key finds NULL, as GROUP BY groups NULLs together.
 */
void
MergeKeyScanKeys(Relation index, int nkeys, Datum *key, bool *keynull, ScanKey scankeys)
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		Oid			opfamily = index->rd_opfamily[i];
		Oid			opcintype = index->rd_opcintype[i];
		Oid			eq;

		if (keynull[i])
		{
			ScanKeyEntryInitialize(&scankeys[i], SK_ISNULL | SK_SEARCHNULL, i + 1,
								   InvalidStrategy, InvalidOid, InvalidOid,
								   InvalidOid, (Datum) 0);
			continue;
		}
		eq = get_opfamily_member(opfamily, opcintype, opcintype, BTEqualStrategyNumber);
		if (!OidIsValid(eq))
			elog(ERROR, "no equality in operator family %u", opfamily);
		ScanKeyEntryInitialize(&scankeys[i], 0, i + 1, BTEqualStrategyNumber,
							   opcintype, index->rd_indcollation[i],
							   get_opcode(eq), key[i]);
	}
}
