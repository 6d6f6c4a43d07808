/*-------------------------------------------------------------------------
 *
 * fold.c
 *	  Folding the rows a statement inserted into partial states, in the
 *	  writing transaction, without running a query.
 *
 * The capture triggers (capture.c) hand the rows a statement inserted to
 * FoldRows, which, for each view of the master, evaluates the view's
 * filter, group keys, aggregate arguments and FILTER conditions over each
 * row, groups the rows in a hash table and returns one partial state row
 * per group: a row of the batch table's type, as the partial-state query
 * would return it.  One pass over the rows serves every view.
 *
 * The expressions are those of the partial-state view, the one definition
 * the batch runs.  PostgreSQL plans them (constant folding, function
 * look-up, inlining) and its expression interpreter evaluates them, so a
 * row lands in the same group, with the same arguments, in both layers.
 * Advancing a state does what the aggregate's own transition does:
 *
 *	- count(*) adds one, count(x) adds one when x is not NULL;
 *	- sum(x) adds x, converted to sum's result type, with that type's +
 *	  operator: sum(int4) accumulates in bigint and sum(int8) in numeric,
 *	  as PostgreSQL's own do;
 *	- min(x) and max(x) keep the smaller or larger by the type's btree
 *	  order and the column's collation;
 *
 * and skips NULL arguments, as these strict aggregates do.  Any other
 * aggregate advances by its own transition function, and its state is
 * serialized into the partial state row (partial.c).  Groups are kept
 * in PostgreSQL's tuple hash table, the one hashed aggregation uses: keys
 * compare with the type's equality, NULL keys are equal, as in GROUP BY.
 *
 * Running the partial-state query through SPI over the transition table
 * did the same work, but paid executor start-up on every statement; that
 * was most of the cost of a single-row INSERT.  The expressions here are
 * prepared once per process and view, and kept with the view's layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tupconvert.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "fold.h"

/* How one state column advances */
typedef struct FoldState
{
	int			column;			/* in the partial state row */
	LambdaStateKind kind;
	ExprState  *arg;			/* NULL for count(*) and generic states */
	LambdaAggregate *agg;		/* generic: the aggregate ... */
	int			nargs;
	ExprState **args;			/* ... and its arguments */
	ExprState  *filter;			/* the aggregate's FILTER, or NULL */
	int16		typlen;
	bool		typbyval;
} FoldState;

/*
 * A group's states, in the order of fold->states; a generic state's value
 * points to its LambdaAggValue.
 */
typedef struct FoldGroup
{
	Datum	   *values;
	bool	   *isnull;
} FoldGroup;

struct LambdaFold
{
	MemoryContext context;		/* everything below */
	MemoryContext groupcxt;		/* the groups of the statement being folded */
	ExprContext *econtext;		/* per-row memory */
	TupleDesc	masterDesc;		/* what the expressions read */
	TupleTableSlot *masterSlot; /* rows inserted into the master itself */
	ExprState  *qual;			/* the view's WHERE, or NULL */
	int			nkeys;
	ExprState **keys;
	int		   *keyColumns;		/* in the partial state row */
	int			nstates;
	FoldState  *states;
	TupleTableSlot *keySlot;	/* a row's group keys */
	TupleHashTable groups;		/* keys -> FoldGroup; NULL without keys */
	FoldGroup  *onlyGroup;		/* without keys, the one group, if any row */
	bool		dirty;			/* groups may hold something */
};

static LambdaFold *FoldBuild(LambdaLayout *layout);
static void FoldPrepareAll(LambdaLayout *layout, LambdaFold *fold);
static ExprState *Prepare(Expr *expr);
static ExprState *PrepareQual(Expr *expr);
static void ResetGroups(LambdaFold *fold);
static void EvalKeys(LambdaFold *fold);
static FoldGroup *GroupOf(LambdaFold *fold, bool *isnew);
static FoldGroup *NewGroup(LambdaFold *fold, MemoryContext cxt);
static void Advance(LambdaLayout *layout, LambdaFold *fold, FoldGroup *group,
					MemoryContext cxt);
static void FoldRow(LambdaLayout *layout, LambdaFold *fold, TupleTableSlot *slot,
					bool only, MemoryContext into, List **result);
static FoldGroup *FoldOneRow(LambdaLayout *layout, LambdaFold *fold);
static List *GroupRows(LambdaLayout *layout, LambdaFold *fold, MemoryContext into);
static void Keep(FoldGroup *group, int i, Datum value, FoldState *state,
				 MemoryContext cxt);
static HeapTuple FormPartialRow(LambdaLayout *layout, LambdaFold *fold,
								TupleTableSlot *keys, FoldGroup *group,
								MemoryContext aggcxt);
static Datum NoHash(PG_FUNCTION_ARGS);

/*
 * Fold the rows in the tuplestore, inserted into rel (the master or one of
 * its partitions), into the partial state rows of each of nviews views of
 * that master, in one pass over the rows: results[i] is the list of heap
 * tuples of layouts[i], allocated in into.
 */
void
FoldRows(int nviews, LambdaLayout **layouts, Relation rel, Tuplestorestate *rows,
		 MemoryContext into, List **results)
{
	LambdaFold **folds = palloc(sizeof(LambdaFold *) * nviews);
	int64		nrows = tuplestore_tuple_count(rows);
	TupleTableSlot *inslot;
	TupleTableSlot *slot;
	TupleConversionMap *map;
	int			i;

	for (i = 0; i < nviews; i++)
	{
		LambdaFold *fold;

		/* the expressions may read the view, and rebuild its layout */
		LayoutPin(layouts[i]);
		fold = layouts[i]->fold;

		if (fold == NULL)
			fold = layouts[i]->fold = FoldBuild(layouts[i]);

		/* An earlier statement may have failed half way */
		if (fold->dirty)
			ResetGroups(fold);
		fold->dirty = true;
		folds[i] = fold;
		results[i] = NIL;
	}

	/* Rows of a partition are read as rows of the master */
	if (RelationGetRelid(rel) == layouts[0]->master)
	{
		inslot = folds[0]->masterSlot;
		map = NULL;
	}
	else
	{
		inslot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
		map = convert_tuples_by_name(RelationGetDescr(rel), folds[0]->masterDesc);
	}
	slot = map == NULL ? inslot :
		MakeSingleTupleTableSlot(folds[0]->masterDesc, &TTSOpsVirtual);

	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, inslot))
	{
		if (map != NULL)
			execute_attr_map_slot(map->attrMap, inslot, slot);
		for (i = 0; i < nviews; i++)
			FoldRow(layouts[i], folds[i], slot, nrows == 1, into, &results[i]);
	}

	for (i = 0; i < nviews; i++)
	{
		ResetExprContext(folds[i]->econtext);
		if (nrows > 1)
			results[i] = GroupRows(layouts[i], folds[i], into);
		folds[i]->dirty = false;
		LayoutUnpin(layouts[i]);
	}

	if (slot != inslot)
		ExecDropSingleTupleTableSlot(slot);
	if (inslot != folds[0]->masterSlot)
		ExecDropSingleTupleTableSlot(inslot);
	else
		ExecClearTuple(inslot);
	pfree(folds);
}

/*
 * Fold one row, in slot, for one view.  The statement's only row (a
 * single-row INSERT) is one group: it needs no grouping, and its partial
 * state row goes straight to result.
 */
static void
FoldRow(LambdaLayout *layout, LambdaFold *fold, TupleTableSlot *slot, bool only,
		MemoryContext into, List **result)
{
	ExprContext *econtext = fold->econtext;
	FoldGroup  *group;
	MemoryContext old;
	bool		isnew;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	if (fold->qual != NULL && !ExecQual(fold->qual, econtext))
		return;

	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	if (only)
	{
		group = FoldOneRow(layout, fold);
		MemoryContextSwitchTo(into);
		*result = list_make1(FormPartialRow(layout, fold, fold->keySlot, group,
											econtext->ecxt_per_tuple_memory));
	}
	else
	{
		group = GroupOf(fold, &isnew);
		Advance(layout, fold, group, fold->groupcxt);
	}
	MemoryContextSwitchTo(old);
}

/*
 * The partial state rows of the groups, allocated in into; empties the
 * groups.
 */
static List *
GroupRows(LambdaLayout *layout, LambdaFold *fold, MemoryContext into)
{
	MemoryContext old = MemoryContextSwitchTo(into);
	List	   *result = NIL;

	if (fold->groups != NULL)
	{
		TupleHashIterator iter;
		TupleHashEntry entry;
		TupleTableSlot *keys = MakeSingleTupleTableSlot(fold->keySlot->tts_tupleDescriptor,
														&TTSOpsMinimalTuple);

		InitTupleHashIterator(fold->groups, &iter);
		while ((entry = ScanTupleHashTable(fold->groups, &iter)) != NULL)
		{
			ExecStoreMinimalTuple(entry->firstTuple, keys, false);
			result = lappend(result, FormPartialRow(layout, fold, keys, entry->additional,
													fold->groupcxt));
			ResetExprContext(fold->econtext);
		}
		TermTupleHashIterator(&iter);
		ExecDropSingleTupleTableSlot(keys);
	}
	else if (fold->onlyGroup != NULL)
		result = lappend(result, FormPartialRow(layout, fold, NULL, fold->onlyGroup,
												fold->groupcxt));
	MemoryContextSwitchTo(old);

	ResetGroups(fold);
	return result;
}

/*
 * Forget the groups of the statement folded last.
 */
static void
ResetGroups(LambdaFold *fold)
{
	MemoryContextReset(fold->groupcxt);
	if (fold->groups != NULL)
		ResetTupleHashTable(fold->groups);
	fold->onlyGroup = NULL;
}

/*
 * Evaluate the group keys of the row in the expression context's scan slot
 * into fold->keySlot.
 */
static void
EvalKeys(LambdaFold *fold)
{
	TupleTableSlot *keySlot = fold->keySlot;
	int			i;

	ExecClearTuple(keySlot);
	for (i = 0; i < fold->nkeys; i++)
		keySlot->tts_values[i] = ExecEvalExpr(fold->keys[i], fold->econtext,
											  &keySlot->tts_isnull[i]);
	ExecStoreVirtualTuple(keySlot);
}

/*
 * The group of the row in the expression context's scan slot; isnew if it
 * was not there yet.  Runs in per-row memory.
 */
static FoldGroup *
GroupOf(LambdaFold *fold, bool *isnew)
{
	TupleHashEntry entry = NULL;
	FoldGroup  *group;

	if (fold->groups == NULL)
	{
		*isnew = fold->onlyGroup == NULL;
		group = fold->onlyGroup;
	}
	else
	{
		EvalKeys(fold);
		entry = LookupTupleHashEntry(fold->groups, fold->keySlot, isnew, NULL);
		group = entry->additional;
	}

	if (*isnew)
	{
		group = NewGroup(fold, fold->groupcxt);
		if (fold->groups == NULL)
			fold->onlyGroup = group;
		else
			entry->additional = group;
	}
	return group;
}

/*
 * A group of no rows yet, in cxt.
 */
static FoldGroup *
NewGroup(LambdaFold *fold, MemoryContext cxt)
{
	FoldGroup  *group = MemoryContextAlloc(cxt, sizeof(FoldGroup));
	int			i;

	group->values = MemoryContextAlloc(cxt, sizeof(Datum) * Max(fold->nstates, 1));
	group->isnull = MemoryContextAlloc(cxt, sizeof(bool) * Max(fold->nstates, 1));
	for (i = 0; i < fold->nstates; i++)
	{
		FoldState  *state = &fold->states[i];

		/* count of nothing is 0; sum, min and max of nothing are NULL */
		group->values[i] = Int64GetDatum(0);
		group->isnull[i] = state->kind != LAMBDA_STATE_COUNT;
		if (state->kind == LAMBDA_STATE_GENERIC)
		{
			LambdaAggValue *v = MemoryContextAlloc(cxt, sizeof(LambdaAggValue));

			PartialInit(state->agg, v, cxt);
			group->values[i] = PointerGetDatum(v);
			group->isnull[i] = false;
		}
	}
	return group;
}

/*
 * The group of the one row in the expression context's scan slot: its keys
 * in fold->keySlot, its states returned.  Runs, and allocates, in per-row
 * memory.
 */
static FoldGroup *
FoldOneRow(LambdaLayout *layout, LambdaFold *fold)
{
	FoldGroup  *group = NewGroup(fold, CurrentMemoryContext);

	if (fold->keySlot != NULL)
		EvalKeys(fold);
	Advance(layout, fold, group, CurrentMemoryContext);
	return group;
}

/*
 * Advance a group's states by the row in the expression context's scan
 * slot.  Runs in per-row memory; what a group keeps is copied to cxt.
 */
static void
Advance(LambdaLayout *layout, LambdaFold *fold, FoldGroup *group, MemoryContext cxt)
{
	ExprContext *econtext = fold->econtext;
	int			i;

	for (i = 0; i < fold->nstates; i++)
	{
		FoldState  *state = &fold->states[i];
		Oid			collation = TupleDescAttr(layout->desc, state->column)->attcollation;
		FmgrInfo   *merge = &layout->mergeFn[state->column];
		Datum		value = (Datum) 0;
		bool		isnull = false;
		int			cmp;

		if (state->filter != NULL && !ExecQual(state->filter, econtext))
			continue;
		if (state->kind == LAMBDA_STATE_GENERIC)
		{
			Datum		args[FUNC_MAX_ARGS];
			bool		argnull[FUNC_MAX_ARGS];
			int			a;

			for (a = 0; a < state->nargs; a++)
				args[a] = ExecEvalExpr(state->args[a], econtext, &argnull[a]);
			PartialAdvance(state->agg, (LambdaAggValue *) DatumGetPointer(group->values[i]),
							 args, argnull, cxt);
			continue;
		}
		if (state->arg != NULL)
		{
			value = ExecEvalExpr(state->arg, econtext, &isnull);
			if (isnull)
				continue;		/* strict aggregates skip NULLs */
		}

		switch (state->kind)
		{
			case LAMBDA_STATE_COUNT:
				group->values[i] = Int64GetDatum(DatumGetInt64(group->values[i]) + 1);
				break;
			case LAMBDA_STATE_SUM:
				if (!group->isnull[i])
					value = FunctionCall2Coll(merge, collation, group->values[i], value);
				Keep(group, i, value, state, cxt);
				break;
			case LAMBDA_STATE_MIN:
			case LAMBDA_STATE_MAX:
				if (!group->isnull[i])
				{
					cmp = DatumGetInt32(FunctionCall2Coll(merge, collation,
														  value, group->values[i]));
					/* a tie takes the newer value, as min() and max() do */
					if (state->kind == LAMBDA_STATE_MIN ? cmp > 0 : cmp < 0)
						break;
				}
				Keep(group, i, value, state, cxt);
				break;
			case LAMBDA_STATE_GENERIC:
				break;			/* advanced above */
		}
	}
}

/*
 * Make value the group's i-th state, copied to cxt, freeing the old one.
 */
static void
Keep(FoldGroup *group, int i, Datum value, FoldState *state, MemoryContext cxt)
{
	Datum		old = group->values[i];
	bool		hadValue = !group->isnull[i];

	if (!state->typbyval)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

		value = datumCopy(value, false, state->typlen);
		MemoryContextSwitchTo(oldcxt);
		if (hadValue)
			pfree(DatumGetPointer(old));
	}
	group->values[i] = value;
	group->isnull[i] = false;
}

/*
 * A partial state row, in the current memory context: the group keys, then
 * the states.  Values read from another table may be TOAST pointers into
 * it; the row goes to shared memory, so it is flattened.  Generic states
 * are serialized in per-row memory, where their group's states live in
 * aggcxt.
 */
static HeapTuple
FormPartialRow(LambdaLayout *layout, LambdaFold *fold, TupleTableSlot *keys,
			   FoldGroup *group, MemoryContext aggcxt)
{
	int			natts = layout->desc->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *isnull = palloc(sizeof(bool) * natts);
	HeapTuple	tuple;
	int			i;

	if (keys != NULL)
	{
		slot_getallattrs(keys);
		for (i = 0; i < fold->nkeys; i++)
		{
			values[fold->keyColumns[i]] = keys->tts_values[i];
			isnull[fold->keyColumns[i]] = keys->tts_isnull[i];
		}
	}
	for (i = 0; i < fold->nstates; i++)
	{
		FoldState  *state = &fold->states[i];

		values[state->column] = group->values[i];
		isnull[state->column] = group->isnull[i];
		if (state->kind == LAMBDA_STATE_GENERIC)
		{
			MemoryContext old = MemoryContextSwitchTo(fold->econtext->ecxt_per_tuple_memory);

			values[state->column] =
				PartialSerialize(state->agg,
								   (LambdaAggValue *) DatumGetPointer(group->values[i]),
								   &isnull[state->column], aggcxt);
			MemoryContextSwitchTo(old);
		}
	}
	tuple = heap_form_tuple(layout->desc, values, isnull);
	if (HeapTupleHasExternal(tuple))
		tuple = toast_flatten_tuple(tuple, layout->desc);
	pfree(values);
	pfree(isnull);
	return tuple;
}

/*
 * Prepare the expressions of the view's partial-state query for this
 * process.  Everything is allocated in a context of its own, under the
 * layout's, so it goes when the layout is built again.
 */
static LambdaFold *
FoldBuild(LambdaLayout *layout)
{
	MemoryContext context = AllocSetContextCreate(layout->context,
												  "lambda fold",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old = CurrentMemoryContext;
	LambdaFold *fold;

	PG_TRY();
	{
		MemoryContextSwitchTo(context);
		fold = palloc0(sizeof(LambdaFold));
		fold->context = context;
		FoldPrepareAll(layout, fold);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return fold;
}

/*
 * FoldBuild's work, in the fold's context.
 */
static void
FoldPrepareAll(LambdaLayout *layout, LambdaFold *fold)
{
	MemoryContext context = fold->context;
	Relation	partial;
	Relation	master;
	Query	   *query;
	TupleDesc	keyDesc;
	AttrNumber *keyIdx;
	Oid		   *eqFuncs;
	FmgrInfo   *hashFns;
	Oid		   *collations;
	ListCell   *lc;
	int			column;
	int			k;
	int			s;

	fold->groupcxt = AllocSetContextCreate(context, "lambda fold groups",
										   ALLOCSET_DEFAULT_SIZES);
	fold->econtext = CreateStandaloneExprContext();

	master = table_open(layout->master, AccessShareLock);
	fold->masterDesc = CreateTupleDescCopy(RelationGetDescr(master));
	fold->masterSlot = MakeSingleTupleTableSlot(fold->masterDesc, &TTSOpsMinimalTuple);
	table_close(master, AccessShareLock);

	partial = relation_open(layout->partialView, AccessShareLock);
	query = copyObject(get_view_query(partial));
	relation_close(partial, AccessShareLock);

	if (query->jointree->quals != NULL)
		fold->qual = PrepareQual((Expr *) query->jointree->quals);

	fold->nkeys = layout->nkeys;
	fold->nstates = layout->desc->natts - layout->nkeys;
	fold->keys = palloc0(sizeof(ExprState *) * Max(fold->nkeys, 1));
	fold->keyColumns = palloc0(sizeof(int) * Max(fold->nkeys, 1));
	fold->states = palloc0(sizeof(FoldState) * Max(fold->nstates, 1));
	keyDesc = CreateTemplateTupleDesc(fold->nkeys);
	keyIdx = palloc(sizeof(AttrNumber) * Max(fold->nkeys, 1));
	eqFuncs = palloc(sizeof(Oid) * Max(fold->nkeys, 1));
	hashFns = palloc0(sizeof(FmgrInfo) * Max(fold->nkeys, 1));
	collations = palloc(sizeof(Oid) * Max(fold->nkeys, 1));

	column = k = s = 0;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att;

		if (tle->resjunk)
			continue;
		att = TupleDescAttr(layout->desc, column);

		if (layout->isState[column])
		{
			Aggref	   *aggref = castNode(Aggref, tle->expr);
			FoldState  *state = &fold->states[s++];

			state->column = column;
			state->kind = layout->kinds[column];
			state->typlen = att->attlen;
			state->typbyval = att->attbyval;
			if (aggref->aggfilter != NULL)
				state->filter = PrepareQual(aggref->aggfilter);
			if (state->kind == LAMBDA_STATE_GENERIC)
			{
				/* lambda.partial_agg(aggregate, arguments...) */
				ListCell   *alc;

				state->agg = layout->aggs[column];
				state->nargs = list_length(aggref->args) - 1;
				if (state->nargs != PartialNumArgs(state->agg))
					elog(ERROR, "partial view of lambda view %u passes %d arguments to an aggregate of %d",
						 layout->viewid, state->nargs, PartialNumArgs(state->agg));
				state->args = palloc(sizeof(ExprState *) * Max(state->nargs, 1));
				for_each_from(alc, aggref->args, 1)
					state->args[foreach_current_index(alc) - 1] =
						Prepare(lfirst_node(TargetEntry, alc)->expr);
			}
			else if (aggref->args != NIL)
			{
				Expr	   *arg = linitial_node(TargetEntry, aggref->args)->expr;

				/* sum adds in its result type, as its transition does */
				if (state->kind == LAMBDA_STATE_SUM)
				{
					Oid			argType = exprType((Node *) arg);

					arg = (Expr *) coerce_to_target_type(NULL, (Node *) arg, argType,
														 aggref->aggtype, -1,
														 COERCION_IMPLICIT,
														 COERCE_IMPLICIT_CAST, -1);
					if (arg == NULL)
						elog(ERROR, "cannot sum type %s in type %s",
							 format_type_be(argType), format_type_be(aggref->aggtype));
				}
				state->arg = Prepare(arg);
			}
		}
		else
		{
			fold->keys[k] = Prepare(tle->expr);
			fold->keyColumns[k] = column;
			TupleDescInitEntry(keyDesc, k + 1, NameStr(att->attname),
							   att->atttypid, att->atttypmod, 0);
			TupleDescInitEntryCollation(keyDesc, k + 1, att->attcollation);
			keyIdx[k] = k + 1;
			eqFuncs[k] = layout->eqFn[column].fn_oid;
			collations[k] = att->attcollation;
			if (layout->hasHash[column])
				fmgr_info_copy(&hashFns[k], &layout->hashFn[column], context);
			else
			{
				/* no hash function: every value hashes alike, equality decides */
				hashFns[k].fn_addr = NoHash;
				hashFns[k].fn_nargs = 1;
				hashFns[k].fn_strict = true;
				hashFns[k].fn_mcxt = context;
			}
			k++;
		}
		column++;
	}

	if (fold->nkeys > 0)
	{
		fold->keySlot = MakeSingleTupleTableSlot(keyDesc, &TTSOpsMinimalTuple);
		fold->groups = BuildTupleHashTableExt(NULL, keyDesc, fold->nkeys, keyIdx,
											  eqFuncs, hashFns, collations,
											  64, 0, context, fold->groupcxt,
											  fold->econtext->ecxt_per_tuple_memory,
											  false);
	}
}

static Datum
NoHash(PG_FUNCTION_ARGS)
{
	PG_RETURN_UINT32(0);
}

/* An expression of the partial-state query, planned and ready to run */
static ExprState *
Prepare(Expr *expr)
{
	return ExecInitExpr(expression_planner(expr), NULL);
}

/* The same for a condition: NULL counts as false, as in WHERE */
static ExprState *
PrepareQual(Expr *expr)
{
	return ExecInitQual(make_ands_implicit(expression_planner(expr)), NULL);
}
