/*-------------------------------------------------------------------------
 *
 * serving.c
 *	  The serving layer: the user-facing view that merges the batch table
 *	  with the speed layer, the set-returning function that reads the speed
 *	  layer, and the status lambda.views shows.
 *
 * The user-facing view is an ordinary SQL view:
 *
 *	SELECT <outputs from the states> FROM lambda.serve(<id>) AS m(<partial state columns>)
 *
 * lambda.serve is lambda.merged of the view with that id: the view's
 * definition names itself by its id, which a dump and restore keeps, where
 * its OID would change (and a regclass constant naming the view itself
 * could not be restored: the view does not exist yet while its own
 * definition is read).
 *
 * lambda.merged (merge.c) decides, once per read, under the reader's
 * snapshot, whether the speed layer is whole for it.  If it is (the fast
 * path), it returns the batch table's groups merged with the speed
 * layer's; a filter on the first group keys reaches the batch table's index
 * (lookup.c).  If not, it returns the exact slow path's: the partial-state
 * query, the batch's, over the master.  One decision for the whole read:
 * the two paths can never both answer, nor neither.
 *
 * The slow path sits behind the function, not in the view's SQL, so that
 * the planner does not cost every query of the view as a scan of the whole
 * master: past jit_above_cost that cost made PostgreSQL compile each query,
 * fast path included, with JIT, for many times what running it takes.
 *
 * The states give back PostgreSQL's own results: counts, sums, min and max
 * are their merged states, in the types the view's own aggregates have;
 * avg divides the merged sum by the merged count as avg() does
 * internally; any other aggregate's merged state goes through its final
 * function (lambda.finalize, partial.c).  Expressions over them and
 * HAVING are the definition's own, applied to the merged row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/regproc.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"

#include "capture.h"
#include "catalog.h"
#include "identity.h"
#include "lambda.h"
#include "layout.h"
#include "serving.h"
#include "speed.h"

LAMBDA_FUNCTION(lambda_speed);
LAMBDA_FUNCTION(lambda_fast_path);
LAMBDA_FUNCTION(lambda_speed_status);
LAMBDA_FUNCTION(lambda_settle_rounds);
LAMBDA_FUNCTION(lambda_speed_memory_used);

static char *AggregateValue(LambdaAgg *agg, TupleDesc desc);
static LambdaAgg *FindAggregate(LambdaViewDef *def, Aggref *aggref);
static Node *OverMergedStates(Node *node, void *context);

/*
 * SQL of the user-facing view of a lambda view.
 *
 * A view whose outputs are group keys and aggregate calls reads each from
 * the merged states directly.  Any other (expressions over them, HAVING)
 * computes the keys and aggregates first, in a subquery that PostgreSQL
 * pulls up, then the select list and HAVING over them: the definition's
 * own expressions, each aggregate call and group key replaced by its column
 * (OverMergedStates), deparsed.  Either way the columns keep the query's
 * names and types; CREATE OR REPLACE VIEW checks it.
 */
char *
ServingViewSql(LambdaViewDef *def, int64 id, Oid batchTable)
{
	Relation	batch = relation_open(batchTable, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(batch);
	StringInfoData buf;
	StringInfoData cols;
	char	   *from;
	ListCell   *lc;
	int			attno;
	bool		first;

	/* The partial state columns, as the merge function's column list */
	initStringInfo(&cols);
	for (attno = 0; attno < desc->natts; attno++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attno);

		appendStringInfo(&cols, "%s%s %s", attno > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)),
						 format_type_with_typemod(att->atttypid, att->atttypmod));
		if (OidIsValid(att->attcollation) &&
			att->attcollation != get_typcollation(att->atttypid))
			appendStringInfo(&cols, " COLLATE %s",
							 generate_collation_name(att->attcollation));
	}

	/* Still at 0.1 (catalog.c), the view reads itself by OID, as 0.1 did */
	if (CatalogHasIds())
		from = psprintf("lambda.serve('" INT64_FORMAT "'::bigint) AS m(%s)", id, cols.data);
	else
		from = psprintf("lambda.merged(" INT64_FORMAT ") AS m(%s)", id, cols.data);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	first = true;
	if (def->plain)
	{
		int			aggno = 0;

		/* Outputs in the query's order: group keys as they are, merged states */
		foreach(lc, def->query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			ListCell   *klc;

			if (tle->resjunk)
				continue;
			if (!first)
				appendStringInfoString(&buf, ", ");
			first = false;

			if (IsA(tle->expr, Aggref))
			{
				appendStringInfo(&buf, "%s AS %s",
								 AggregateValue(list_nth(def->aggs, aggno++), desc),
								 quote_identifier(tle->resname));
				continue;
			}
			foreach(klc, def->keys)
			{
				LambdaKey  *key = lfirst(klc);

				if (equal(key->expr, tle->expr))
				{
					appendStringInfo(&buf, "m.%s AS %s", quote_identifier(key->name),
									 quote_identifier(tle->resname));
					break;
				}
			}
		}
		appendStringInfo(&buf, " FROM %s", from);
	}
	else
	{
		List	   *dpcontext = deparse_context_for("v", batchTable);
		StringInfoData inner;

		/* Keys and aggregates, named as their (first) batch columns */
		initStringInfo(&inner);
		foreach(lc, def->keys)
			appendStringInfo(&inner, "%sm.%s", inner.len > 0 ? ", " : "",
							 quote_identifier(((LambdaKey *) lfirst(lc))->name));
		foreach(lc, def->aggs)
		{
			LambdaAgg  *agg = lfirst(lc);

			appendStringInfo(&inner, "%s%s AS %s", inner.len > 0 ? ", " : "",
							 AggregateValue(agg, desc),
							 quote_identifier(NameStr(TupleDescAttr(desc, agg->column)->attname)));
		}

		foreach(lc, def->query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (tle->resjunk)
				continue;
			appendStringInfo(&buf, "%s%s AS %s", first ? "" : ", ",
							 deparse_expression(OverMergedStates((Node *) tle->expr, def),
												dpcontext, true, false),
							 quote_identifier(tle->resname));
			first = false;
		}
		appendStringInfo(&buf, " FROM (SELECT %s FROM %s) AS v", inner.data, from);
		if (def->query->havingQual != NULL)
			appendStringInfo(&buf, " WHERE %s",
							 deparse_expression(OverMergedStates(def->query->havingQual, def),
												dpcontext, true, false));
	}

	relation_close(batch, AccessShareLock);
	return buf.data;
}

/* The view's aggregate equal to aggref */
static LambdaAgg *
FindAggregate(LambdaViewDef *def, Aggref *aggref)
{
	ListCell   *lc;

	foreach(lc, def->aggs)
	{
		if (equal(((LambdaAgg *) lfirst(lc))->aggref, aggref))
			return lfirst(lc);
	}
	elog(ERROR, "aggregate call missing from the lambda view's definition");
	return NULL;				/* keep compiler quiet */
}

/*
 * node with each aggregate call and group key replaced by a column of the
 * batch table's row type: the aggregate's first state column (typed as the
 * aggregate's result) and the key's column, which the subquery of
 * ServingViewSql names alike.
 */
static Node *
OverMergedStates(Node *node, void *context)
{
	LambdaViewDef *def = (LambdaViewDef *) context;
	ListCell   *lc;

	if (node == NULL)
		return NULL;
	if (IsA(node, Aggref))
	{
		Aggref	   *aggref = (Aggref *) node;

		return (Node *) makeVar(1, FindAggregate(def, aggref)->column + 1,
								aggref->aggtype, -1, aggref->aggcollid, 0);
	}
	foreach(lc, def->keys)
	{
		LambdaKey  *key = lfirst(lc);

		if (equal(key->expr, node))
			return (Node *) makeVar(1, foreach_current_index(lc) + 1,
									exprType(node), exprTypmod(node),
									exprCollation(node), 0);
	}
	return expression_tree_mutator(node, OverMergedStates, context);
}

/*
 * The value of one aggregate, from its merged state column(s) (avg: the
 * sum, then the count).  A specialised state has the type of the view's
 * own aggregate; a generic one is finished by the aggregate's final
 * function.
 */
static char *
AggregateValue(LambdaAgg *agg, TupleDesc desc)
{
	const char *col = quote_identifier(NameStr(TupleDescAttr(desc, agg->column)->attname));
	Oid			stateType = TupleDescAttr(desc, agg->column)->atttypid;

	switch (agg->kind)
	{
		case LAMBDA_AGG_COUNT_STAR:
		case LAMBDA_AGG_COUNT:
		case LAMBDA_AGG_SUM:
		case LAMBDA_AGG_MIN:
		case LAMBDA_AGG_MAX:
			return psprintf("m.%s", col);
		case LAMBDA_AGG_AVG:
			{
				const char *count = quote_identifier(NameStr(TupleDescAttr(desc, agg->column + 1)->attname));
				const char *sum = stateType == INT8OID ?
				psprintf("m.%s::numeric", col) : psprintf("m.%s", col);
				const char *divisor;

				switch (agg->argType)
				{
					case FLOAT4OID:
					case FLOAT8OID:
					case INTERVALOID:
						divisor = "double precision";
						break;
					default:
						divisor = "numeric";
						break;
				}
				return psprintf("(%s / nullif(m.%s, 0)::%s)", sum, count, divisor);
			}
		case LAMBDA_AGG_GENERIC:
			return psprintf("lambda.finalize(m.%s, %s::pg_catalog.regprocedure, NULL::%s)",
							col,
							quote_literal_cstr(format_procedure_qualified(agg->aggref->aggfnoid)),
							format_type_be(agg->aggref->aggtype));
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * speed(view regclass) returns setof record
 *
 * The speed layer's partial state rows that the caller's snapshot sees on
 * top of the batch it sees, including its own transaction's rows.
 */
Datum
lambda_speed(PG_FUNCTION_ARGS)
{
	LambdaLayout *layout = BeginStatesFunction(fcinfo, PG_GETARG_OID(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			viewid = layout->viewid;

	SpeedRead(viewid, GetActiveSnapshot(), layout, 0, NULL, NULL,
			  EmitToTuplestore, rsinfo->setResult);
	CaptureRead(viewid, GetActiveSnapshot(), layout, 0, NULL, NULL,
				EmitToTuplestore, rsinfo->setResult);
	return (Datum) 0;
}

/*
 * What the functions returning a view's partial states (speed, merged,
 * serve, exact: SETOF record with the partial state columns as column list) do
 * first: check the caller may read the view, and set up the tuplestore the
 * rows go to.  Returns the view's layout.
 */
LambdaLayout *
BeginStatesFunction(FunctionCallInfo fcinfo, Oid viewid)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LambdaLayout *layout;

	LambdaCheckPreloaded();
	SpeedCheckReadable(viewid);
	layout = LayoutGet(viewid);
	ServingCheckOwnerReads(layout);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SpeedCheckColumns(rsinfo->setDesc, layout->desc, viewid);
	return layout;
}

/*
 * A SpeedEmit that puts the rows into the tuplestore arg.
 */
void
EmitToTuplestore(HeapTuple tuple, void *arg)
{
	tuplestore_puttuple((Tuplestorestate *) arg, tuple);
}

/*
 * Reading a view's speed layer takes the right to read the view.
 */
void
SpeedCheckReadable(Oid viewid)
{
	AclResult	aclresult = pg_class_aclcheck(viewid, GetUserId(), ACL_SELECT);

	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_VIEW, get_rel_name(viewid));
}

/*
 * The view's owner must still read what the view reads, as for an ordinary
 * view over the master: its SELECT on the master's columns is checked at
 * every read, not once at create_view.
 */
void
ServingCheckOwnerReads(LambdaLayout *layout)
{
	RangeTblEntry *rte = layout->masterRte;

	rte->checkAsUser = IdentityRelationOwner(layout->viewid);
	if (!ExecCheckRTPerms(list_make1(rte), false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table \"%s\"",
						get_rel_name(layout->master)),
				 errdetail("The owner of lambda view \"%s\" may no longer read the columns it uses.",
						   get_rel_name(layout->viewid))));
}

/*
 * The caller's column definition list must be the view's partial state row
 * type: the rows are put out as they are.
 */
void
SpeedCheckColumns(TupleDesc expected, TupleDesc actual, Oid viewid)
{
	int			i;
	bool		ok = expected->natts == actual->natts;

	for (i = 0; ok && i < expected->natts; i++)
		ok = TupleDescAttr(expected, i)->atttypid == TupleDescAttr(actual, i)->atttypid;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list of lambda.speed() does not match the partial states of view \"%s\"",
						get_rel_name(viewid)),
				 errhint("Read lambda views through the view itself.")));
}

/*
 * fast_path(view regclass) returns boolean
 *
 * Can the caller's snapshot be served by batch table and speed layer?
 */
Datum
lambda_fast_path(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);

	LambdaCheckPreloaded();
	PG_RETURN_BOOL(SpeedUsable(viewid, GetActiveSnapshot()) &&
				   CaptureExact(LayoutGet(viewid), GetActiveSnapshot()));
}

/*
 * speed_status(view regclass, OUT groups, OUT bytes, OUT state, OUT pending,
 *				OUT reason, OUT since)
 */
Datum
lambda_speed_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	int64		groups;
	int64		bytes;
	int64		pending;
	const char *state;
	char	   *reason = NULL;
	TimestampTz since = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	if (!lambda_preloaded)
	{
		groups = 0;
		bytes = 0;
		pending = 0;
		state = "unavailable";
	}
	else
		SpeedStatus(PG_GETARG_OID(0), &groups, &bytes, &pending, &state, &reason, &since);

	values[0] = Int64GetDatum(groups);
	values[1] = Int64GetDatum(bytes);
	values[2] = CStringGetTextDatum(state);
	values[3] = Int64GetDatum(pending);
	if (!lambda_preloaded)
		reason = "lambda is not in shared_preload_libraries";
	if (reason != NULL)
		values[4] = CStringGetTextDatum(reason);
	else
		nulls[4] = true;
	if (since != 0)
		values[5] = TimestampTzGetDatum(since);
	else
		nulls[5] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * speed_memory_used(OUT views bigint, OUT chunks bigint, OUT bytes bigint)
 *
 * The speed layer's shared memory over all databases (SpeedMemoryUsed):
 * view slots in use, DSA chunks held, bytes the slots account for.
 */
Datum
lambda_speed_memory_used(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		views;
	int64		chunks;
	int64		bytes;

	LambdaCheckPreloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	SpeedMemoryUsed(&views, &chunks, &bytes);
	values[0] = Int64GetDatum(views);
	values[1] = Int64GetDatum(chunks);
	values[2] = Int64GetDatum(bytes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * settle_rounds(view regclass) returns bigint
 *
 * How many times a worker has settled the view's speed layer since it was
 * set up: waiting for it to grow by two waits for a whole round that began
 * after the wait did.
 */
Datum
lambda_settle_rounds(PG_FUNCTION_ARGS)
{
	LambdaCheckPreloaded();
	PG_RETURN_INT64(SpeedSettleRounds(PG_GETARG_OID(0)));
}
