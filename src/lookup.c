/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  Look-ups by group key: a custom scan that stands in for
 *	  lambda.merged() (or lambda.serve(), the same by view id) or
 *	  lambda.speed() when a query fixes the first group keys, and for every
 *	  read of lambda.merged().
 *
 * Both are set-returning functions: they hand over every group, and a
 * filter on the group keys is applied afterwards.  A point query on the
 * view ("WHERE country = 'DE'") would then read the whole batch table and
 * speed layer for one group.  The planner pushes such a filter down
 * through the serving view to the function scan; there this hook offers,
 * next to the function scan, a custom scan that reads only the groups with
 * those keys: through the batch table's index on the group keys (merge.c),
 * one probe of the speed layer's hash table when every key is fixed (or a
 * pass over it that compares keys), and a look at the pending deltas and
 * the transaction's own rows (speed.c, capture.c).
 *
 * The custom scan is taken when the first group keys are each compared
 * with a pseudo-constant (a constant or a parameter) by the key type's own
 * equality (or an integer compared with a narrower one), under a collation
 * that agrees with the key's: then "equal to the key" means the same for
 * the look-up as for the filter, and for the index.  Every pushed-down
 * filter is still checked on the rows it returns.  It checks what the
 * function checks, the right to execute it and to read the view, and
 * returns the same rows.
 *
 * A read of lambda.merged() with no key fixed takes the custom scan too:
 * it hands the merged rows up as they are made, where a function scan
 * would first store them all in a tuplestore.  Both read under the
 * query's snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "capture.h"
#include "catalog.h"
#include "lambda.h"
#include "layout.h"
#include "lookup.h"
#include "merge.h"
#include "serving.h"
#include "speed.h"

/* Executor state of a look-up */
typedef struct LookupState
{
	CustomScanState css;
	Oid			viewid;
	Oid			funcid;			/* the function, for its EXECUTE right */
	bool		merged;			/* lambda.merged, not lambda.speed */
	LambdaLayout *layout;
	List	   *keyExprs;		/* ExprState per group key */
	MemoryContext keycxt;		/* the key values */
	Datum	   *key;			/* a partial state row, keys filled in */
	bool	   *keynull;
	bool		started;		/* keys evaluated, read begun */
	bool		empty;			/* a key is NULL: = finds nothing */
	MergeScan  *merge;			/* lambda.merged: the read, streamed */
	Tuplestorestate *rows;		/* lambda.speed: the rows read */
	TupleTableSlot *readSlot;	/* reads rows */
} LookupState;

static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static void LookupPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						   RangeTblEntry *rte);
static Expr *KeyValue(RestrictInfo *rinfo, Index rti, AttrNumber attno,
					  Form_pg_attribute att);
static Plan *PlanLookup(PlannerInfo *root, RelOptInfo *rel,
						struct CustomPath *best_path, List *tlist,
						List *clauses, List *custom_plans);
static Node *CreateLookupState(CustomScan *cscan);
static void BeginLookup(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecLookup(CustomScanState *node);
static TupleTableSlot *LookupNext(ScanState *node);
static bool LookupRecheck(ScanState *node, TupleTableSlot *slot);
static void ExplainLookup(CustomScanState *node, List *ancestors, ExplainState *es);
static void EndLookup(CustomScanState *node);
static void RescanLookup(CustomScanState *node);
static void LookupReset(LookupState *state);

static const CustomPathMethods LookupPathMethods = {
	.CustomName = "LambdaLookup",
	.PlanCustomPath = PlanLookup,
};

static const CustomScanMethods LookupScanMethods = {
	.CustomName = "LambdaLookup",
	.CreateCustomScanState = CreateLookupState,
};

static const CustomExecMethods LookupExecMethods = {
	.CustomName = "LambdaLookup",
	.BeginCustomScan = BeginLookup,
	.ExecCustomScan = ExecLookup,
	.EndCustomScan = EndLookup,
	.ReScanCustomScan = RescanLookup,
	.ExplainCustomScan = ExplainLookup,
};

void
LookupInit(void)
{
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = LookupPathlist;
	RegisterCustomScanMethods(&LookupScanMethods);
}

/*
 * set_rel_pathlist_hook: offer a look-up for a scan of lambda.merged(V) or
 * lambda.speed(V) whose filters fix the first group keys of V.
 */
static void
LookupPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *func;
	Const	   *arg;
	Oid			argtypes[1] = {REGCLASSOID};
	Oid			idtypes[1] = {INT8OID};
	Oid			viewid;
	bool		merged;
	LambdaLayout *layout;
	List	   *keyValues = NIL;
	CustomPath *path;
	Bitmapset  *attrs = NULL;
	ListCell   *lc;
	int			i;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);

	if (!lambda_preloaded || rte->rtekind != RTE_FUNCTION || rte->funcordinality ||
		list_length(rte->functions) != 1)
		return;
	rtfunc = linitial_node(RangeTblFunction, rte->functions);
	if (!IsA(rtfunc->funcexpr, FuncExpr))
		return;
	func = (FuncExpr *) rtfunc->funcexpr;
	if (func->funcresulttype != RECORDOID || list_length(func->args) != 1 ||
		!IsA(linitial(func->args), Const))
		return;
	arg = linitial_node(Const, func->args);
	if (arg->constisnull)
		return;
	if (arg->consttype == REGCLASSOID &&
		func->funcid == LookupFuncName(list_make2(makeString("lambda"),
												  makeString("merged")),
									   1, argtypes, true))
		merged = true;
	else if (arg->consttype == REGCLASSOID &&
			 func->funcid == LookupFuncName(list_make2(makeString("lambda"),
													   makeString("speed")),
											1, argtypes, true))
		merged = false;
	else if (arg->consttype == INT8OID &&
			 func->funcid == LookupFuncName(list_make2(makeString("lambda"),
													   makeString("serve")),
											1, idtypes, true))
		merged = true;
	else
		return;

	viewid = arg->consttype == INT8OID ?
		CatalogViewById(DatumGetInt64(arg->constvalue)) : DatumGetObjectId(arg->constvalue);
	if (!OidIsValid(viewid))
		return;
	layout = LayoutFind(viewid);
	if (layout == NULL || layout->nkeys == 0 ||
		list_length(rtfunc->funccoltypes) != layout->desc->natts)
		return;

	/* A whole-row reference (t::text) wants the function scan's own row */
	pull_varattnos((Node *) rel->reltarget->exprs, rti, &attrs);
	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, rti, &attrs);
	if (bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, attrs))
		return;

	/* The group keys are the first columns: which lead have an equality? */
	for (i = 0; i < layout->nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(layout->desc, i);
		Expr	   *value = NULL;
		ListCell   *lc;

		if (layout->isState[i] || list_nth_oid(rtfunc->funccoltypes, i) != att->atttypid)
			break;
		foreach(lc, rel->baserestrictinfo)
		{
			value = KeyValue(lfirst_node(RestrictInfo, lc), rti, i + 1, att);
			if (value != NULL)
				break;
		}
		if (value == NULL)
			break;
		keyValues = lappend(keyValues, value);
	}
	/* The merge streams even without keys, where the function materializes */
	if (keyValues == NIL && !merged)
		return;

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	/* with every key fixed, one group at most; else what the filters leave */
	path->path.rows = list_length(keyValues) == layout->nkeys ?
		Min(rel->rows, 1) : rel->rows;

	/*
	 * An index scan and a hash probe for what the function would read in
	 * full, or the same read streamed instead of stored: cheaper than the
	 * function scan, whatever the statistics say.
	 */
	path->path.startup_cost = 0;
	path->path.total_cost = cpu_tuple_cost + cpu_operator_cost * layout->nkeys;
	path->path.pathkeys = NIL;
	path->flags = 0;
	path->custom_paths = NIL;
	path->custom_private = list_make2(list_make3_oid(layout->viewid, func->funcid,
													 merged ? 1 : 0),
									  keyValues);
	path->methods = &LookupPathMethods;
	add_path(rel, &path->path);
}

/*
 * If the clause compares key column attno of rel rti (of type att) with a
 * pseudo-constant, by an equality that means the key's, the pseudo-constant
 * as a value of the key's type; else NULL.
 */
static Expr *
KeyValue(RestrictInfo *rinfo, Index rti, AttrNumber attno, Form_pg_attribute att)
{
	OpExpr	   *op;
	Node	   *var;
	Node	   *value;
	Oid			valueType;
	Oid			keyEq;

	if (!IsA(rinfo->clause, OpExpr))
		return NULL;
	op = (OpExpr *) rinfo->clause;
	if (list_length(op->args) != 2)
		return NULL;

	var = linitial(op->args);
	value = lsecond(op->args);
	if (IsA(value, Var) || IsA(value, RelabelType))
	{
		var = lsecond(op->args);
		value = linitial(op->args);
	}
	/* a binary-compatible relabelling, as for varchar = text, changes nothing */
	if (IsA(var, RelabelType))
		var = (Node *) ((RelabelType *) var)->arg;
	if (!IsA(var, Var) || ((Var *) var)->varno != rti ||
		((Var *) var)->varattno != attno || ((Var *) var)->varlevelsup != 0)
		return NULL;
	if (contain_var_clause(value) || contain_volatile_functions(value))
		return NULL;

	/* the equality of the key's type, under a collation that means the same */
	if (OidIsValid(att->attcollation) && op->inputcollid != att->attcollation &&
		!(get_collation_isdeterministic(op->inputcollid) &&
		  get_collation_isdeterministic(att->attcollation)))
		return NULL;
	keyEq = lookup_type_cache(att->atttypid, TYPECACHE_EQ_OPR)->eq_opr;
	valueType = exprType(value);
	if (op->opno == keyEq && (valueType == att->atttypid ||
							  IsBinaryCoercible(valueType, att->atttypid)))
		return (Expr *) value;

	/*
	 * An integer key compared with a narrower integer: the value converts
	 * exactly.  (A wider one might not fit, and the conversion would fail
	 * where the filter is merely false.)
	 */
	if ((att->atttypid == INT8OID && (valueType == INT4OID || valueType == INT2OID)) ||
		(att->atttypid == INT4OID && valueType == INT2OID))
	{
		if (op->opno != get_opfamily_member(INTEGER_BTREE_FAM_OID, att->atttypid,
											valueType, BTEqualStrategyNumber) &&
			op->opno != get_opfamily_member(INTEGER_BTREE_FAM_OID, valueType,
											att->atttypid, BTEqualStrategyNumber))
			return NULL;
		return (Expr *) coerce_to_target_type(NULL, value, valueType, att->atttypid, -1,
											  COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
	}
	return NULL;
}

/*
 * The plan: a scan of no relation (the function is not called) whose scan
 * tuple is the function's row, with the key values as custom_exprs.
 */
static Plan *
PlanLookup(PlannerInfo *root, RelOptInfo *rel, struct CustomPath *best_path,
		   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	RangeTblFunction *rtfunc = linitial_node(RangeTblFunction, rte->functions);
	List	   *scanTlist = NIL;
	ListCell   *type;
	ListCell   *typmod;
	ListCell   *collation;
	AttrNumber	attno = 1;

	forthree(type, rtfunc->funccoltypes, typmod, rtfunc->funccoltypmods,
			 collation, rtfunc->funccolcollations)
	{
		Var		   *var = makeVar(rel->relid, attno, lfirst_oid(type),
								  lfirst_int(typmod), lfirst_oid(collation), 0);

		scanTlist = lappend(scanTlist, makeTargetEntry((Expr *) var, attno, NULL, false));
		attno++;
	}

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = extract_actual_clauses(clauses, false);
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = scanTlist;
	cscan->custom_exprs = lsecond(best_path->custom_private);
	cscan->custom_private = linitial(best_path->custom_private);
	cscan->methods = &LookupScanMethods;
	return &cscan->scan.plan;
}

static Node *
CreateLookupState(CustomScan *cscan)
{
	LookupState *state = palloc0(sizeof(LookupState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &LookupExecMethods;
	state->viewid = linitial_oid(cscan->custom_private);
	state->funcid = lsecond_oid(cscan->custom_private);
	state->merged = lthird_oid(cscan->custom_private) != 0;
	return (Node *) state;
}

static void
BeginLookup(CustomScanState *node, EState *estate, int eflags)
{
	LookupState *state = (LookupState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	TupleDesc	desc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	AclResult	aclresult;

	state->keyExprs = ExecInitExprList(cscan->custom_exprs, &node->ss.ps);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/* What calling the function would check */
	LambdaCheckPreloaded();
	aclresult = pg_proc_aclcheck(state->funcid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(state->funcid));
	SpeedCheckReadable(state->viewid);
	state->layout = LayoutGet(state->viewid);
	LayoutPin(state->layout);	/* until EndLookup */
	ServingCheckOwnerReads(state->layout);
	SpeedCheckColumns(desc, state->layout->desc, state->viewid);

	state->keycxt = AllocSetContextCreate(CurrentMemoryContext, "lambda look-up keys",
										  ALLOCSET_SMALL_SIZES);
	state->key = palloc0(sizeof(Datum) * desc->natts);
	state->keynull = palloc0(sizeof(bool) * desc->natts);
	state->readSlot = ExecAllocTableSlot(&estate->es_tupleTable, desc,
										 &TTSOpsMinimalTuple);
}

static TupleTableSlot *
ExecLookup(CustomScanState *node)
{
	return ExecScan(&node->ss, LookupNext, LookupRecheck);
}

/*
 * The next row; the first call evaluates the keys and begins the read.
 */
static TupleTableSlot *
LookupNext(ScanState *node)
{
	LookupState *state = (LookupState *) node;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Snapshot	snapshot = node->ps.state->es_snapshot;
	int			nkeys = list_length(state->keyExprs);
	Datum	   *values;
	bool	   *isnull;

	if (!state->started)
	{
		ExprContext *econtext = node->ps.ps_ExprContext;
		MemoryContext old;
		ListCell   *lc;
		int			i = 0;

		/* The reads keep the keys: copy them out of per-row memory */
		MemoryContextReset(state->keycxt);
		foreach(lc, state->keyExprs)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			Datum		value = ExecEvalExprSwitchContext(lfirst(lc), econtext,
														  &state->keynull[i]);

			old = MemoryContextSwitchTo(state->keycxt);
			state->key[i] = state->keynull[i] ? (Datum) 0 :
				datumCopy(value, att->attbyval, att->attlen);
			MemoryContextSwitchTo(old);
			state->empty |= state->keynull[i];	/* = NULL is never true */
			i++;
		}
		ResetExprContext(econtext);
		state->started = true;

		if (!state->empty && state->merged)
			state->merge = MergeBegin(state->layout, snapshot, nkeys,
									  state->key, state->keynull);
		else if (!state->empty)
		{
			state->rows = tuplestore_begin_heap(false, false, work_mem);
			SpeedRead(state->viewid, snapshot, state->layout, nkeys,
					  state->key, state->keynull, EmitToTuplestore, state->rows);
			CaptureRead(state->viewid, snapshot, state->layout, nkeys, state->key,
						state->keynull, EmitToTuplestore, state->rows);
		}
	}

	ExecClearTuple(slot);
	if (state->merge != NULL)
	{
		if (!MergeNext(state->merge, &values, &isnull))
			return slot;
		memcpy(slot->tts_values, values, sizeof(Datum) * desc->natts);
		memcpy(slot->tts_isnull, isnull, sizeof(bool) * desc->natts);
		return ExecStoreVirtualTuple(slot);
	}
	if (state->rows == NULL ||
		!tuplestore_gettupleslot(state->rows, true, false, state->readSlot))
		return slot;
	return ExecCopySlot(slot, state->readSlot);
}

/*
 * Forget the read: the next row begins it again.
 */
static void
LookupReset(LookupState *state)
{
	if (state->merge != NULL)
		MergeEnd(state->merge);
	state->merge = NULL;
	if (state->rows != NULL)
		tuplestore_end(state->rows);
	state->rows = NULL;
	state->started = false;
	state->empty = false;
}

static bool
LookupRecheck(ScanState *node, TupleTableSlot *slot)
{
	return true;
}

/*
 * EXPLAIN shows what is read and how many keys are fixed.
 */
static void
ExplainLookup(CustomScanState *node, List *ancestors, ExplainState *es)
{
	LookupState *state = (LookupState *) node;

	ExplainPropertyText("Reads", state->merged ? "lambda.merged" : "lambda.speed", es);
	ExplainPropertyInteger("Group Keys Fixed", NULL, list_length(state->keyExprs), es);
}

static void
RescanLookup(CustomScanState *node)
{
	LookupReset((LookupState *) node);
	ExecScanReScan(&node->ss);
}

static void
EndLookup(CustomScanState *node)
{
	LookupState *state = (LookupState *) node;

	LookupReset(state);
	if (state->layout != NULL)
		LayoutUnpin(state->layout);
}
