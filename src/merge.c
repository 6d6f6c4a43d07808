/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  The fast path's merge of the batch table with the speed layer: one
 *	  pass over the batch table, one probe per row into a local table of
 *	  the speed layer's groups.
 *
 * The user-facing view reads lambda.merged(V): one partial state row per
 * group, the batch table's row merged with the speed layer's rows of the
 * same group, then the speed layer's groups the batch table lacks.  The
 * view computes its outputs from the merged states (serving.c).
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
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "capture.h"
#include "lambda.h"
#include "merge.h"
#include "serving.h"
#include "speed.h"

PG_FUNCTION_INFO_V1(merged);

/* A speed layer group, and whether a batch row took it */
typedef struct MergeGroup
{
	LayoutGroup group;
	bool		matched;
} MergeGroup;

static void AddToGroups(HeapTuple tuple, void *arg);
static Relation KeyIndex(Relation batch, int nprefix);

/*
 * merged(view regclass) returns setof record
 *
 * The partial state rows of every group of the view, batch table and speed
 * layer merged, as the caller's snapshot sees them.
 */
Datum
merged(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LambdaLayout *layout;

	LambdaCheckPreloaded();
	SpeedCheckReadable(viewid);
	layout = LayoutGet(viewid);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SpeedCheckColumns(rsinfo->setDesc, layout->desc, viewid);
	MergedRead(layout, GetActiveSnapshot(), 0, NULL, NULL, rsinfo->setResult);
	return (Datum) 0;
}

/*
 * Put the merged partial state rows that a reader with this snapshot sees
 * into out.  With nprefix > 0, only the groups whose first nprefix group
 * keys are those of key (a partial state row's values, of which only
 * those keys are read).
 */
void
MergedRead(LambdaLayout *layout, Snapshot snapshot, int nprefix, Datum *key,
		   bool *keynull, Tuplestorestate *out)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "lambda merge",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext rowcxt = AllocSetContextCreate(tmp, "lambda merge row",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	int			natts = layout->desc->natts;
	LayoutGroups *speed = LayoutGroupsCreate(layout, 1024, sizeof(MergeGroup));
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *isnull = palloc(sizeof(bool) * natts);
	Relation	batch;
	Relation	index = NULL;
	TableScanDesc scan = NULL;
	IndexScanDesc iscan = NULL;
	TupleTableSlot *slot;
	ListCell   *lc;

	/* The speed layer's groups: settled, pending and our own rows */
	SpeedRead(layout->viewid, snapshot, layout, nprefix, key, keynull,
			  AddToGroups, speed);
	CaptureRead(layout->viewid, layout, nprefix, key, keynull, AddToGroups, speed);

	batch = table_open(layout->batchTable, AccessShareLock);
	slot = table_slot_create(batch, NULL);
	if (nprefix > 0)
		index = KeyIndex(batch, nprefix);
	if (index != NULL)
	{
		ScanKey		scankeys = palloc(sizeof(ScanKeyData) * nprefix);
		int			i;

		for (i = 0; i < nprefix; i++)
		{
			Oid			opfamily = index->rd_opfamily[i];
			Oid			opcintype = index->rd_opcintype[i];
			Oid			eq = get_opfamily_member(opfamily, opcintype, opcintype,
												 BTEqualStrategyNumber);

			if (!OidIsValid(eq))
				elog(ERROR, "no equality in operator family %u", opfamily);
			ScanKeyEntryInitialize(&scankeys[i], 0, i + 1, BTEqualStrategyNumber,
								   opcintype, index->rd_indcollation[i],
								   get_opcode(eq), key[i]);
		}
		iscan = index_beginscan(batch, index, snapshot, nprefix, 0);
		index_rescan(iscan, scankeys, nprefix, NULL, 0);
	}
	else
		scan = table_beginscan(batch, snapshot, 0, NULL);

	for (;;)
	{
		LayoutGroup *g;

		if (iscan != NULL ? !index_getnext_slot(iscan, ForwardScanDirection, slot) :
			!table_scan_getnextslot(scan, ForwardScanDirection, slot))
			break;

		MemoryContextReset(rowcxt);
		MemoryContextSwitchTo(rowcxt);
		slot_getallattrs(slot);
		memcpy(values, slot->tts_values, sizeof(Datum) * natts);
		memcpy(isnull, slot->tts_isnull, sizeof(bool) * natts);

		/* Without the index the filter is applied here */
		if (nprefix > 0 && index == NULL &&
			!LayoutPrefixEqual(layout, nprefix, values, isnull, key, keynull))
			continue;

		g = LayoutGroupsFind(speed, LayoutHashKeys(layout, values, isnull),
							 values, isnull);
		if (g != NULL)
		{
			LayoutMerge(layout, values, isnull, g->values, g->isnull);
			((MergeGroup *) g)->matched = true;
		}
		tuplestore_putvalues(out, layout->desc, values, isnull);
	}
	MemoryContextSwitchTo(tmp);

	if (iscan != NULL)
	{
		index_endscan(iscan);
		index_close(index, AccessShareLock);
	}
	else
		table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(batch, AccessShareLock);

	/* The speed layer's groups that the batch table does not have */
	foreach(lc, speed->groups)
	{
		MergeGroup *g = lfirst(lc);

		if (!g->matched)
			tuplestore_putvalues(out, layout->desc, g->group.values, g->group.isnull);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

/*
 * SpeedRead and CaptureRead put their rows here.
 */
static void
AddToGroups(HeapTuple tuple, void *arg)
{
	LayoutGroupsAdd((LayoutGroups *) arg, tuple);
}

/*
 * The batch table's btree index whose first nprefix columns are the first
 * nprefix group keys, opened; or NULL.  create_view makes one on all the
 * keys.
 */
static Relation
KeyIndex(Relation batch, int nprefix)
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
