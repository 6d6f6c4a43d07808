/*-------------------------------------------------------------------------
 *
 * capture.c
 *	  Capturing inserted rows in the writing transaction, and handing them
 *	  to the speed layer just before it commits.
 *
 * Each lambda view has an AFTER INSERT trigger on its master, created with
 * the view and dropped with it:
 *
 *	- a statement-level trigger with a transition table, which fires for
 *	  INSERT (single-row, multi-row, INSERT ... SELECT) and COPY, also on a
 *	  partitioned master, and folds the rows the statement inserted into
 *	  partial states with the expressions of the view's partial-state query,
 *	  the one the batch runs (fold.c);
 *	- a row-level trigger for the logical replication apply worker, which
 *	  fires row triggers only.  It is enabled for session_replication_role
 *	  = replica, the apply worker's, so ordinary inserts do not even queue
 *	  an event for it.
 *
 * The resulting partial state rows are kept in the transaction's memory,
 * tagged with the subtransaction nesting level that captured them: a
 * subtransaction that rolls back drops its rows, one that commits passes
 * them to its parent.  When the transaction itself runs a batch of the view
 * (run_batch, or create_view's first batch), the rows it captured so far
 * are in that batch: they are marked covered at that level, and unmarked if
 * the subtransaction that ran the batch rolls back.
 *
 * At XACT_EVENT_PRE_COMMIT and XACT_EVENT_PRE_PREPARE the uncovered rows go
 * to the speed layer, tagged with the top-level xid (SpeedHandOff).  That
 * never fails for want of memory; nothing is ever raised from the COMMIT
 * event itself.  Readers add the current transaction's own rows
 * (CaptureRead), as an ordinary view would show them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "replication/worker_internal.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "capture.h"
#include "catalog.h"
#include "fold.h"
#include "lambda.h"
#include "layout.h"
#include "shmem.h"
#include "speed.h"

LAMBDA_FUNCTION(lambda_capture);
LAMBDA_FUNCTION(lambda_capture_row);

/*
 * One partial state row captured in this transaction: the merge of the
 * rows of one group that the statements minCid .. maxCid inserted at one
 * subtransaction level.
 */
typedef struct CapturedRow
{
	HeapTuple	tuple;
	int			level;			/* subtransaction nesting level that made it */
	int			coveredAt;		/* level of a batch of ours that covers it, or 0 */
	CommandId	minCid;			/* first and last statement merged into it */
	CommandId	maxCid;
} CapturedRow;

/* A row of CapturedView.merging */
typedef struct MergingRow
{
	LayoutGroup group;			/* its values, deformed from row->tuple */
	CapturedRow *row;
} MergingRow;

/*
 * What a statement's capture does to a view's rows, decided in the
 * capture's subtransaction, done once it succeeded: add a row for a new
 * group, or replace a row of the same group and level with the merge.
 */
typedef struct PlannedRow
{
	HeapTuple	tuple;			/* the row to keep */
	HeapTuple	folded;			/* the statement's own row, merged into it */
	MergingRow *into;			/* the row it replaces, or NULL */
} PlannedRow;

/* The rows captured for one view */
typedef struct CapturedView
{
	Oid			viewid;
	List	   *rows;			/* CapturedRow */
	int			failedAt;		/* level at which a capture failed, or 0 */
	char	   *failMessage;	/* ... and why, in CaptureContext */
	int			topLevel;		/* no row's level or coveredAt, nor failedAt,
								 * is above it */
	LayoutGroups *merging;		/* MergingRow: the uncovered rows at
								 * mergeLevel, by group; or NULL */
	MemoryContext mergingContext;	/* merging's, under CaptureContext */
	int			mergeLevel;
	CommandId	batchCid;		/* last command of a batch this transaction
								 * published, or InvalidCommandId */
} CapturedView;

/*
 * A statement's capture triggers after the first: the first folded the
 * statement's rows for their views too, in the same pass; they only take
 * their view off the list.
 */
typedef struct FoldedStatement
{
	Tuplestorestate *rows;		/* the statement's transition table */
	int			level;			/* the subtransaction nesting level */
	List	   *views;			/* whose triggers have yet to fire */
} FoldedStatement;

/* An INSERT running into relations with capture triggers (relids) */
typedef struct RunningInsert
{
	void	   *query;			/* its QueryDesc, or a COPY's statement */
	int			level;			/* subtransaction nesting level it runs at */
	CommandId	cid;			/* the command id of its rows */
	List	   *relids;
} RunningInsert;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static List *running = NIL;		/* RunningInsert, innermost first, in
								 * TopMemoryContext */

static MemoryContext CaptureContext = NULL;
static List *captured = NIL;	/* CapturedView, in CaptureContext */
static List *folded = NIL;		/* FoldedStatement, in CaptureContext */

static void CaptureRun(List *views, Relation rel, Tuplestorestate *rows);
static bool CaptureViews(List *views, Relation rel, Tuplestorestate *rows,
						 bool degrade);
static List *FiringCaptures(Relation rel, Oid funcid);
static bool FoldedAhead(Tuplestorestate *rows, Oid viewid);
static bool CapturesFor(LambdaLayout *layout, Relation rel);
static CapturedView *FindView(Oid viewid, bool create);
static void CaptureExecutorStart(QueryDesc *queryDesc, int eflags);
static void CaptureExecutorEnd(QueryDesc *queryDesc);
static void *PushRunning(void *key, CommandId cid, List *relids);
static void DropRunning(void *key, int level);
static bool HasCaptureTrigger(Relation rel);
static CommandId RunningCid(Oid relid);
static List *PlanRows(CapturedView *cv, LambdaLayout *layout, List *tuples, int level,
					  MemoryContext tmp);
static void KeepRows(CapturedView *cv, LambdaLayout *layout, List *plan, int level,
					 CommandId cid);
static void ForgetMerging(CapturedView *cv);
static void CaptureXactCallback(XactEvent event, void *arg);
static void CaptureSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);
static void HandOff(void);

void
CaptureInit(void)
{
	RegisterXactCallback(CaptureXactCallback, NULL);
	RegisterSubXactCallback(CaptureSubXactCallback, NULL);
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = CaptureExecutorStart;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = CaptureExecutorEnd;
}

/*
 * The executor hooks keep the list of INSERT statements running in this
 * backend into a relation with capture triggers (a master or a partition).
 * While one runs, its rows are in the table for any snapshot of a later
 * command (a BEFORE trigger's, a function's in its target list) but not
 * captured yet: reads of its views take the exact slow path (CaptureExact).
 * The innermost one's command id is the one its capture gives its rows.
 */
static void
CaptureExecutorStart(QueryDesc *queryDesc, int eflags)
{
	EState	   *estate;
	List	   *relids = NIL;
	ListCell   *lc;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (!lambda_preloaded || (eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
		(queryDesc->operation != CMD_INSERT && queryDesc->operation != CMD_MERGE &&
		 !queryDesc->plannedstmt->hasModifyingCTE))
		return;
	estate = queryDesc->estate;
	foreach(lc, estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = lfirst(lc);

		if (HasCaptureTrigger(rri->ri_RelationDesc))
			relids = lappend_oid(relids, RelationGetRelid(rri->ri_RelationDesc));
	}
	if (relids != NIL)
		(void) PushRunning(queryDesc, estate->es_output_cid, relids);
}

static void
CaptureExecutorEnd(QueryDesc *queryDesc)
{
	DropRunning(queryDesc, 0);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * A COPY FROM into relation rv starts (the ProcessUtility hook, guard.c): it
 * runs like an INSERT for CaptureExact, with the command id it will give its
 * rows.  Returns what CaptureCopyEnd takes, or NULL when rv has no capture
 * trigger.
 */
void *
CaptureCopyBegin(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, RowExclusiveLock, true);
	Relation	rel;
	bool		captured;

	if (!lambda_preloaded || !OidIsValid(relid))
		return NULL;
	rel = relation_open(relid, NoLock);
	captured = HasCaptureTrigger(rel);
	relation_close(rel, NoLock);
	if (!captured)
		return NULL;

	/* a key of its own: a COPY may recurse through its triggers */
	return PushRunning(NULL, GetCurrentCommandId(false), list_make1_oid(relid));
}

void
CaptureCopyEnd(void *key)
{
	DropRunning(key, 0);
}

/*
 * Note a statement inserting into relids, with the command id of its rows,
 * as running; key identifies it to DropRunning (NULL: the entry itself).
 * Returns the key.
 */
static void *
PushRunning(void *key, CommandId cid, List *relids)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	RunningInsert *ri = palloc(sizeof(RunningInsert));

	ri->query = key != NULL ? key : ri;
	ri->level = GetCurrentTransactionNestLevel();
	ri->cid = cid;
	ri->relids = list_copy(relids);
	running = lcons(ri, running);
	MemoryContextSwitchTo(old);
	return ri->query;
}

/*
 * Drop the running statement key, or (key NULL) those of aborted
 * (sub)transactions at level and above, which never reach their end.
 */
static void
DropRunning(void *key, int level)
{
	ListCell   *lc;

	foreach(lc, running)
	{
		RunningInsert *ri = lfirst(lc);

		if (key != NULL ? ri->query == key : ri->level >= level)
		{
			running = foreach_delete_current(running, lc);
			list_free(ri->relids);
			pfree(ri);
		}
	}
}

/*
 * The command id of the rows a capture on relid folds: that of the
 * innermost running statement inserting into relid (a trigger of one
 * statement may run another, into another master); the current one if none
 * runs (a logical replication apply worker's insert, say).
 */
static CommandId
RunningCid(Oid relid)
{
	ListCell   *lc;

	foreach(lc, running)
	{
		RunningInsert *ri = lfirst(lc);

		if (list_member_oid(ri->relids, relid))
			return ri->cid;
	}
	return GetCurrentCommandId(false);
}

/*
 * Is a statement inserting into the view's master (or a partition) running
 * in this backend?  A batch of the view must not run then: the rows it has
 * inserted so far would be in the batch and, captured at its end, in the
 * speed layer too.
 */
bool
CaptureInsertRunning(LambdaLayout *layout)
{
	ListCell   *lc;
	ListCell   *rlc;

	foreach(lc, layout->rels)
	{
		foreach(rlc, running)
		{
			if (list_member_oid(((RunningInsert *) lfirst(rlc))->relids, lfirst_oid(lc)))
				return true;
		}
	}
	return false;
}

/*
 * Does rel have a capture trigger of lambda's?
 *
 * rel->trigdesc is the relcache's: a catalog look-up may take in an
 * invalidation of rel (an ANALYZE of it, say) and free it.  So the
 * candidates' functions are noted first, and looked up after.
 */
static bool
HasCaptureTrigger(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	Oid		   *funcs;
	int			nfuncs = 0;
	Oid			schema;
	int			i;

	if (trigdesc == NULL || !trigdesc->trig_insert_after_statement)
		return false;
	funcs = palloc(sizeof(Oid) * trigdesc->numtriggers);
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (TRIGGER_FOR_INSERT(trigger->tgtype) && TRIGGER_FOR_AFTER(trigger->tgtype) &&
			!TRIGGER_FOR_ROW(trigger->tgtype) && trigger->tgnewtable != NULL)
			funcs[nfuncs++] = trigger->tgfoid;
	}
	schema = get_namespace_oid(LAMBDA_SCHEMA_NAME, true);
	for (i = 0; i < nfuncs; i++)
	{
		if (get_func_namespace(funcs[i]) == schema)
			return true;
	}
	return false;
}

/*
 * The id of the view a capture trigger is for: its only argument (catalog.c).
 */
static int64
TriggerViewId(Trigger *trigger)
{
	if (trigger->tgnargs != 1)
		elog(ERROR, "lambda capture trigger must have one argument");
	return DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(trigger->tgargs[0])));
}

/*
 * The view a capture trigger is for.  InvalidOid when no view has it.
 */
static Oid
TriggerView(Trigger *trigger)
{
	return CatalogViewById(TriggerViewId(trigger));
}

/*
 * capture() returns trigger: AFTER INSERT FOR EACH STATEMENT, with the
 * inserted rows as transition table.
 */
Datum
lambda_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			viewid;
	List	   *views;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		trigdata->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lambda.capture() must be fired AFTER INSERT FOR EACH STATEMENT with a transition table")));

	/* Without the preload there is no speed layer, and no view uses it */
	if (!lambda_preloaded)
		return PointerGetDatum(NULL);

	/*
	 * The first capture trigger of a statement folds its rows for every view
	 * whose capture trigger fires: one subtransaction and one pass over the
	 * rows, where one per view cost a single-row INSERT as much again.
	 */
	viewid = TriggerView(trigdata->tg_trigger);
	if (!OidIsValid(viewid))
		return PointerGetDatum(NULL);	/* its view was not restored */
	if (FoldedAhead(trigdata->tg_newtable, viewid))
		return PointerGetDatum(NULL);
	views = FiringCaptures(trigdata->tg_relation, fcinfo->flinfo->fn_oid);
	if (!list_member_oid(views, viewid))
		views = lcons_oid(viewid, views);
	CaptureRun(views, trigdata->tg_relation, trigdata->tg_newtable);

	if (list_length(views) > 1)
	{
		MemoryContext old = MemoryContextSwitchTo(CaptureContext);
		FoldedStatement *fs = palloc(sizeof(FoldedStatement));

		fs->rows = trigdata->tg_newtable;
		fs->level = GetCurrentTransactionNestLevel();
		fs->views = list_delete_oid(list_copy(views), viewid);
		folded = lappend(folded, fs);
		MemoryContextSwitchTo(old);
	}
	return PointerGetDatum(NULL);
}

/*
 * The views whose capture statement triggers on rel fire now, as trigger.c
 * decides it: by the trigger's enabled state and the session's replication
 * role (ours have no WHEN condition).
 */
static List *
FiringCaptures(Relation rel, Oid funcid)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	bool		replica = SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA;
	List	   *views = NIL;
	int64	   *ids;
	int			nids = 0;
	int			i;

	if (trigdesc == NULL)
		return NIL;

	/*
	 * The views' ids first, and their look-ups after: rel->trigdesc is the
	 * relcache's, which a look-up may free (HasCaptureTrigger)
	 */
	ids = palloc(sizeof(int64) * trigdesc->numtriggers);
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (trigger->tgfoid != funcid || !TRIGGER_FOR_INSERT(trigger->tgtype) ||
			TRIGGER_FOR_ROW(trigger->tgtype) || !TRIGGER_FOR_AFTER(trigger->tgtype) ||
			trigger->tgqual != NULL || trigger->tgnewtable == NULL)
			continue;
		if (trigger->tgenabled == TRIGGER_DISABLED ||
			trigger->tgenabled == (replica ? TRIGGER_FIRES_ON_ORIGIN : TRIGGER_FIRES_ON_REPLICA))
			continue;
		ids[nids++] = TriggerViewId(trigger);
	}
	for (i = 0; i < nids; i++)
		views = list_append_unique_oid(views, CatalogViewById(ids[i]));
	pfree(ids);
	/* a trigger whose view a restore could not make captures for nobody */
	return list_delete_oid(views, InvalidOid);
}

/*
 * Did an earlier capture trigger of this statement fold its rows for
 * viewid?  Then this trigger has nothing left to do.
 */
static bool
FoldedAhead(Tuplestorestate *rows, Oid viewid)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	foreach(lc, folded)
	{
		FoldedStatement *fs = lfirst(lc);

		if (fs->rows != rows || fs->level != level)
			continue;
		if (!list_member_oid(fs->views, viewid))
		{
			/* not this statement's: a table of an ended one, reused */
			folded = foreach_delete_current(folded, lc);
			continue;
		}
		fs->views = list_delete_oid(fs->views, viewid);
		if (fs->views == NIL)
			folded = foreach_delete_current(folded, lc);
		return true;
	}
	return false;
}

/*
 * capture_row() returns trigger: AFTER INSERT FOR EACH ROW, for the logical
 * replication apply worker, which fires no statement triggers.  Elsewhere
 * the statement trigger captures the row, so this does nothing.
 */
Datum
lambda_capture_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Tuplestorestate *rows;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lambda.capture_row() must be fired AFTER INSERT FOR EACH ROW")));

	if (!lambda_preloaded || !IsLogicalWorker() || am_tablesync_worker())
		return PointerGetDatum(NULL);

	if (!OidIsValid(TriggerView(trigdata->tg_trigger)))
		return PointerGetDatum(NULL);	/* its view was not restored */
	rows = tuplestore_begin_heap(false, false, work_mem);
	tuplestore_puttuple(rows, trigdata->tg_trigtuple);
	CaptureRun(list_make1_oid(TriggerView(trigdata->tg_trigger)), trigdata->tg_relation,
			   rows);
	tuplestore_end(rows);
	return PointerGetDatum(NULL);
}

/*
 * Fold rows inserted into rel (the master or one of its partitions) into
 * the partial states of views (all of rel's master) and keep them.  An
 * error here must not make the insert fail: the capture runs in a
 * subtransaction.  When it fails for several views, each is captured again
 * on its own, so that only a view whose capture fails loses this
 * transaction's rows (it answers through the slow path until a batch
 * covers them).
 */
static void
CaptureRun(List *views, Relation rel, Tuplestorestate *rows)
{
	ListCell   *lc;

	if (list_length(views) > 1 && CaptureViews(views, rel, rows, false))
		return;
	foreach(lc, views)
		CaptureViews(list_make1_oid(lfirst_oid(lc)), rel, rows, true);
}

/*
 * CaptureRun's work, in one subtransaction.  False if it failed; then, with
 * degrade, the views lose this transaction's rows, with a warning.
 */
static bool
CaptureViews(List *views, Relation rel, Tuplestorestate *rows, bool degrade)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			level = GetCurrentTransactionNestLevel();
	int			nviews = list_length(views);
	List	  **results = palloc0(sizeof(List *) * nviews);
	List	  **plans = palloc0(sizeof(List *) * nviews);
	LambdaLayout **layouts = palloc0(sizeof(LambdaLayout *) * nviews);
	CommandId	cid = RunningCid(RelationGetRelid(rel));
	volatile bool ok = true;
	volatile Oid forged = InvalidOid;
	ListCell   *lc;
	int			i;

	/* Made before the subtransaction: a failed capture is remembered there */
	foreach(lc, views)
		(void) FindView(lfirst_oid(lc), true);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		MemoryContext tmp;

		foreach(lc, views)
		{
			LambdaLayout *layout = LayoutGet(lfirst_oid(lc));

			layouts[foreach_current_index(lc)] = layout;
			if (!CapturesFor(layout, rel))
				forged = layout->viewid;
		}
		if (!OidIsValid(forged))
			FoldRows(nviews, layouts, rel, rows, CaptureContext, results);

		/* Merge with the rows earlier statements captured at this level */
		tmp = AllocSetContextCreate(oldcontext, "lambda capture merge",
									ALLOCSET_DEFAULT_SIZES);
		for (i = 0; i < nviews && !OidIsValid(forged); i++)
			plans[i] = PlanRows(FindView(list_nth_oid(views, i), false), layouts[i],
								results[i], level, tmp);
		MemoryContextDelete(tmp);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;

		/* A cancel or shutdown is not the capture's to swallow */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);

		ok = false;
		if (degrade)
		{
			foreach(lc, views)
			{
				Oid			viewid = lfirst_oid(lc);
				CapturedView *cv = FindView(viewid, false);

				cv->failedAt = cv->failedAt == 0 ? level : Min(cv->failedAt, level);
				cv->topLevel = Max(cv->topLevel, level);
				if (cv->failMessage == NULL)
					cv->failMessage = MemoryContextStrdup(CaptureContext,
														  edata->message ? edata->message : "?");
				ereport(WARNING,
						(errmsg("could not capture inserted rows for lambda view \"%s\": %s",
								get_rel_name(viewid), edata->message),
						 errdetail("The insert succeeded; the view answers through the exact slow path until a batch covers these rows.")));
			}
		}
	}
	PG_END_TRY();

	if (OidIsValid(forged))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("table \"%s\" is not the master of lambda view \"%s\"",
						RelationGetRelationName(rel), get_rel_name(forged)),
				 errdetail("Only the capture triggers lambda creates may feed a view's speed layer.")));

	if (ok)
	{
		for (i = 0; i < nviews; i++)
			KeepRows(FindView(list_nth_oid(views, i), false), layouts[i], plans[i],
					 level, cid);
	}
	pfree(results);
	pfree(plans);
	pfree(layouts);
	return ok;
}

/*
 * Is rel the view's master or one of its partitions, where its capture
 * triggers fire?  Anything else would let whoever could attach the trigger
 * feed rows into someone else's view.
 */
static bool
CapturesFor(LambdaLayout *layout, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);

	if (relid == layout->master)
		return true;
	return rel->rd_rel->relispartition &&
		list_member_oid(get_partition_ancestors(relid), layout->master);
}

/*
 * Plan how a statement's partial state rows for a view join those captured
 * before: a row whose group has a row at this level (uncovered, of an
 * earlier statement) is merged with it, in tmp, into a new row in
 * CaptureContext; nothing the view has is changed yet, so that a failure
 * here (a merge that overflows) leaves it as it was.  Called in the
 * capture's subtransaction.
 */
static List *
PlanRows(CapturedView *cv, LambdaLayout *layout, List *tuples, int level,
		 MemoryContext tmp)
{
	int			natts = layout->desc->natts;
	bool		merging = cv->merging != NULL && cv->mergeLevel == level;
	List	   *plan = NIL;
	ListCell   *lc;

	foreach(lc, tuples)
	{
		PlannedRow *planned = palloc0(sizeof(PlannedRow));
		HeapTuple	tuple = lfirst(lc);

		planned->tuple = tuple;
		if (merging)
		{
			MemoryContext old = MemoryContextSwitchTo(tmp);
			Datum	   *values = palloc(sizeof(Datum) * natts);
			bool	   *isnull = palloc(sizeof(bool) * natts);
			MergingRow *into;

			heap_deform_tuple(tuple, layout->desc, values, isnull);
			into = (MergingRow *) LayoutGroupsFind(cv->merging,
												   LayoutHashKeys(layout, values, isnull),
												   values, isnull);
			if (into != NULL)
			{
				Datum	   *merged = palloc(sizeof(Datum) * natts);
				bool	   *mergednull = palloc(sizeof(bool) * natts);

				memcpy(merged, into->group.values, sizeof(Datum) * natts);
				memcpy(mergednull, into->group.isnull, sizeof(bool) * natts);
				LayoutMerge(layout, merged, mergednull, values, isnull);
				MemoryContextSwitchTo(CaptureContext);
				planned->tuple = heap_form_tuple(layout->desc, merged, mergednull);
				planned->folded = tuple;
				planned->into = into;
			}
			MemoryContextSwitchTo(old);
		}
		plan = lappend(plan, planned);
	}
	return plan;
}

/*
 * Carry out a plan of PlanRows, once the capture succeeded.
 */
static void
KeepRows(CapturedView *cv, LambdaLayout *layout, List *plan, int level, CommandId cid)
{
	MemoryContext old = MemoryContextSwitchTo(CaptureContext);
	ListCell   *lc;

	if (cv->merging == NULL || cv->mergeLevel != level)
	{
		ForgetMerging(cv);
		cv->mergingContext = AllocSetContextCreate(CaptureContext, "lambda capture groups",
												   ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(cv->mergingContext);
		cv->merging = LayoutGroupsCreate(layout, 16, sizeof(MergingRow));
		cv->mergeLevel = level;
	}

	foreach(lc, plan)
	{
		PlannedRow *planned = lfirst(lc);

		if (planned->into != NULL)
		{
			CapturedRow *row = planned->into->row;

			heap_freetuple(row->tuple);
			heap_freetuple(planned->folded);
			row->tuple = planned->tuple;
			row->maxCid = cid;
			heap_deform_tuple(row->tuple, layout->desc,
							  planned->into->group.values, planned->into->group.isnull);
		}
		else
		{
			CapturedRow *row;
			MergingRow *m;

			MemoryContextSwitchTo(CaptureContext);
			row = palloc(sizeof(CapturedRow));
			row->tuple = planned->tuple;
			row->level = level;
			row->coveredAt = 0;
			row->minCid = cid;
			row->maxCid = cid;
			cv->rows = lappend(cv->rows, row);

			MemoryContextSwitchTo(cv->mergingContext);
			m = (MergingRow *) LayoutGroupsAdd(cv->merging, row->tuple);
			m->row = row;
		}
	}
	cv->topLevel = Max(cv->topLevel, level);
	MemoryContextSwitchTo(old);
}

/*
 * The rows of the merging table changed level or were covered: merge
 * nothing more into them.
 */
static void
ForgetMerging(CapturedView *cv)
{
	if (cv->mergingContext != NULL)
		MemoryContextDelete(cv->mergingContext);
	cv->mergingContext = NULL;
	cv->merging = NULL;
	cv->mergeLevel = 0;
}

static CapturedView *
FindView(Oid viewid, bool create)
{
	ListCell   *lc;
	CapturedView *cv;
	MemoryContext old;

	foreach(lc, captured)
	{
		cv = lfirst(lc);
		if (cv->viewid == viewid)
			return cv;
	}
	if (!create)
		return NULL;

	if (CaptureContext == NULL)
		CaptureContext = AllocSetContextCreate(TopTransactionContext,
											   "lambda capture",
											   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(CaptureContext);
	cv = palloc0(sizeof(CapturedView));
	cv->viewid = viewid;
	cv->batchCid = InvalidCommandId;
	captured = lappend(captured, cv);
	MemoryContextSwitchTo(old);
	return cv;
}

/*
 * This transaction runs a batch of viewid: what it captured so far is in
 * that batch.
 */
void
CaptureCover(Oid viewid)
{
	CapturedView *cv = FindView(viewid, false);
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	if (cv == NULL)
		return;
	foreach(lc, cv->rows)
	{
		CapturedRow *row = lfirst(lc);

		if (row->coveredAt == 0)
			row->coveredAt = level;
	}
	cv->topLevel = Max(cv->topLevel, level);
	ForgetMerging(cv);
}

/*
 * This transaction publishes a batch of viewid with command cid: snapshots
 * taken before it read the old batch table, but would resolve to the new
 * generation (the speed layer's state on top of the new batch), and this
 * transaction's rows are covered by it: they take the exact slow path.
 */
void
CaptureBatchPublished(Oid viewid, CommandId cid)
{
	FindView(viewid, true)->batchCid = cid;
}

/*
 * Emit this transaction's own uncommitted, uncovered rows for viewid that
 * snapshot sees (those of statements before its command id); with nprefix
 * > 0, only those with the keys (see SpeedRead).  The caller checked with
 * CaptureExact that the snapshot sees each row whole or not at all.
 */
void
CaptureRead(Oid viewid, Snapshot snapshot, LambdaLayout *layout, int nprefix,
			Datum *key, bool *keynull, void (*emit) (HeapTuple tuple, void *arg),
			void *arg)
{
	CapturedView *cv = FindView(viewid, false);
	ListCell   *lc;

	if (cv == NULL)
		return;
	foreach(lc, cv->rows)
	{
		CapturedRow *row = lfirst(lc);

		if (row->coveredAt == 0 && row->maxCid < snapshot->curcid &&
			(nprefix == 0 || LayoutTupleHasKey(layout, row->tuple, nprefix, key, keynull)))
			emit(row->tuple, arg);
	}
}

/*
 * Can this transaction's own rows for the view be read exactly under
 * snapshot?  Not when the snapshot sees part of a captured row (a cursor
 * declared, or a trigger fired, between two statements merged into it), nor
 * while a capture of the master (or of one of rels, its partitions) is still
 * to fire: a read from an AFTER trigger that fires before lambda's sees
 * rows no capture has folded yet.  Then the view answers through the exact
 * slow path, which reads the master under the snapshot.
 */
bool
CaptureExact(LambdaLayout *layout, Snapshot snapshot)
{
	CapturedView *cv = FindView(layout->viewid, false);
	ListCell   *lc;

	if (CaptureInsertRunning(layout))
		return false;
	foreach(lc, layout->rels)
	{
		if (AfterTriggerPendingOnRel(lfirst_oid(lc)))
			return false;
	}
	if (cv == NULL)
		return true;
	if (cv->batchCid != InvalidCommandId && snapshot->curcid <= cv->batchCid)
		return false;
	foreach(lc, cv->rows)
	{
		CapturedRow *row = lfirst(lc);

		if (row->coveredAt == 0 && row->minCid < snapshot->curcid &&
			row->maxCid >= snapshot->curcid)
			return false;
	}
	return true;
}

/*
 * Hand off every view's uncovered rows, tagged with our xid.
 */
static void
HandOff(void)
{
	TransactionId xid = GetTopTransactionIdIfAny();
	ListCell   *lc;

	if (!TransactionIdIsValid(xid))
		return;					/* nothing was inserted */

	foreach(lc, captured)
	{
		CapturedView *cv = lfirst(lc);
		List	   *tuples = NIL;
		ListCell   *rlc;

		foreach(rlc, cv->rows)
		{
			CapturedRow *row = lfirst(rlc);

			if (row->coveredAt == 0)
				tuples = lappend(tuples, row->tuple);
		}
		if (cv->failedAt != 0)
			SpeedLose(cv->viewid, xid, cv->failMessage ? cv->failMessage : "?");
		else if (tuples != NIL)
			SpeedHandOff(cv->viewid, xid, tuples);
		list_free(tuples);
	}
}

static void
CaptureXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (captured != NIL)
			{
				HandOff();
				SharedWantDatabase(MyDatabaseId);
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			DropRunning(NULL, 0);
			/* CaptureContext goes with TopTransactionContext */
			captured = NIL;
			folded = NIL;
			CaptureContext = NULL;
			break;
		default:
			break;
	}
}

static void
CaptureSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	/* A statement that failed in the subtransaction fires no more triggers */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		DropRunning(NULL, level);
		foreach(lc, folded)
		{
			if (((FoldedStatement *) lfirst(lc))->level >= level)
				folded = foreach_delete_current(folded, lc);
		}
	}

	if (captured == NIL ||
		(event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;

	foreach(lc, captured)
	{
		CapturedView *cv = lfirst(lc);
		ListCell   *rlc;

		/*
		 * Nothing of this view's is at this level: the common case of the
		 * subtransaction each capture runs in, which must not walk every row
		 * captured before (that made a loop of single-row inserts quadratic).
		 */
		if (cv->topLevel < level)
			continue;
		cv->topLevel = level - 1;
		ForgetMerging(cv);

		foreach(rlc, cv->rows)
		{
			CapturedRow *row = lfirst(rlc);

			if (event == SUBXACT_EVENT_COMMIT_SUB)
			{
				if (row->level >= level)
					row->level = level - 1;
				if (row->coveredAt >= level)
					row->coveredAt = level - 1;
			}
			else if (event == SUBXACT_EVENT_ABORT_SUB)
			{
				if (row->level >= level)
					cv->rows = foreach_delete_current(cv->rows, rlc);
				else if (row->coveredAt >= level)
					row->coveredAt = 0;
			}
		}

		/* A failed capture matters only if its rows survive */
		if (event == SUBXACT_EVENT_COMMIT_SUB && cv->failedAt >= level)
			cv->failedAt = level - 1;
		else if (event == SUBXACT_EVENT_ABORT_SUB && cv->failedAt >= level)
		{
			cv->failedAt = 0;
			cv->failMessage = NULL;
		}
	}
}
