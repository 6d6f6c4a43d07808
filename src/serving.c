/*-------------------------------------------------------------------------
 *
 * serving.c
 *	  The serving layer: the user-facing view that merges the batch table
 *	  with the speed layer, the set-returning function that reads the speed
 *	  layer, and the status lambda.views shows.
 *
 * The user-facing view is an ordinary SQL view:
 *
 *	WITH lambda_path AS MATERIALIZED (SELECT lambda.fast_path(V) AS fast)
 *	SELECT <outputs> FROM (
 *		SELECT <merged states> FROM (
 *			SELECT * FROM lambda.batch_V
 *			UNION ALL
 *			SELECT * FROM lambda.speed(V) AS s(<partial state columns>)
 *		) u GROUP BY <keys>
 *	) m WHERE (SELECT fast FROM lambda_path)
 *	UNION ALL
 *	SELECT * FROM (<the view's query>) q WHERE NOT (SELECT fast FROM lambda_path)
 *
 * The fast branch merges the batch table's groups with the speed layer's;
 * a filter on group keys goes down to the batch table's index.  The slow
 * branch is the exact slow path: the view's own query on the master under
 * the reader's snapshot.  Which branch runs is decided once per query, by
 * one evaluation of the materialized CTE, so the two can never both run or
 * both be skipped; the branch not taken is cut off by a one-time filter and
 * costs nothing.
 *
 * The merge gives back PostgreSQL's own results: counts and sums of
 * integers are added as bigint (lambda.int8_sum), numeric sums with a
 * light-weight sum (lambda.numeric_sum), other sums with their own sum(), avg divides the merged sum by the merged count as avg() does
 * internally, min and max take the min and max.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"

#include "capture.h"
#include "catalog.h"
#include "lambda.h"
#include "layout.h"
#include "serving.h"
#include "speed.h"

PG_FUNCTION_INFO_V1(speed);
PG_FUNCTION_INFO_V1(fast_path);
PG_FUNCTION_INFO_V1(speed_status);

static char *MergedState(LambdaAgg *agg, const char *name, Oid stateType);

/*
 * SQL of the user-facing view of a lambda view.
 */
char *
ServingViewSql(LambdaViewDef *def, Oid viewid, Oid batchTable)
{
	Relation	batch = relation_open(batchTable, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(batch);
	StringInfoData buf;
	StringInfoData cols;
	StringInfoData keys;
	ListCell   *lc;
	int			attno;
	int			aggno;
	bool		first;

	/* The partial state columns, as the speed function's column list */
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

	initStringInfo(&keys);
	foreach(lc, def->keys)
		appendStringInfo(&keys, "%s%s", keys.len > 0 ? ", " : "",
						 quote_identifier(((LambdaKey *) lfirst(lc))->name));

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "WITH lambda_path AS MATERIALIZED (SELECT lambda.fast_path(%u) AS fast) "
					 "SELECT * FROM (SELECT ", viewid);

	/* Outputs in the query's order: group keys as they are, merged states */
	first = true;
	aggno = 0;
	attno = list_length(def->keys);
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
			LambdaAgg  *agg = list_nth(def->aggs, aggno++);

			appendStringInfo(&buf, "%s AS %s",
							 MergedState(agg, NameStr(TupleDescAttr(desc, attno)->attname),
										 TupleDescAttr(desc, attno)->atttypid),
							 quote_identifier(tle->resname));
			attno += agg->kind == LAMBDA_AGG_AVG ? 2 : 1;
			continue;
		}
		foreach(klc, def->keys)
		{
			LambdaKey  *key = lfirst(klc);

			if (equal(key->expr, tle->expr))
			{
				appendStringInfo(&buf, "u.%s AS %s", quote_identifier(key->name),
								 quote_identifier(tle->resname));
				break;
			}
		}
	}

	appendStringInfo(&buf,
					 " FROM (SELECT * FROM %s UNION ALL SELECT * FROM lambda.speed(%u) AS s(%s)) u",
					 QualifiedRelationName(batchTable), viewid, cols.data);
	if (keys.len > 0)
		appendStringInfo(&buf, " GROUP BY %s", keys.data);
	appendStringInfo(&buf,
					 ") m WHERE (SELECT fast FROM lambda_path) "
					 "UNION ALL SELECT * FROM (%s) q WHERE NOT (SELECT fast FROM lambda_path)",
					 ViewDefQuerySql(def));

	relation_close(batch, AccessShareLock);
	return buf.data;
}

/*
 * The merged value of one aggregate, from its state column(s) starting at
 * name (avg: name is the sum, the next column the count).
 */
static char *
MergedState(LambdaAgg *agg, const char *name, Oid stateType)
{
	const char *col = quote_identifier(name);

	switch (agg->kind)
	{
		case LAMBDA_AGG_COUNT_STAR:
		case LAMBDA_AGG_COUNT:
			return psprintf("lambda.int8_sum(u.%s)", col);
		case LAMBDA_AGG_SUM:
			if (stateType == INT8OID)
				return psprintf("lambda.int8_sum(u.%s)", col);
			if (stateType == NUMERICOID)
				return psprintf("lambda.numeric_sum(u.%s)", col);
			return psprintf("sum(u.%s)", col);
		case LAMBDA_AGG_MIN:
			return psprintf("min(u.%s)", col);
		case LAMBDA_AGG_MAX:
			return psprintf("max(u.%s)", col);
		case LAMBDA_AGG_AVG:
			{
				const char *count = quote_identifier(psprintf("%s_count", agg->name));
				const char *sum = stateType == INT8OID ?
				psprintf("lambda.int8_sum(u.%s)::numeric", col) :
				stateType == NUMERICOID ?
				psprintf("lambda.numeric_sum(u.%s)", col) :
				psprintf("sum(u.%s)", col);
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
				return psprintf("(%s / nullif(lambda.int8_sum(u.%s), 0)::%s)",
								sum, count, divisor);
			}
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
speed(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LambdaLayout *layout;

	LambdaCheckPreloaded();
	SpeedCheckReadable(viewid);
	layout = LayoutGet(viewid);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SpeedCheckColumns(rsinfo->setDesc, layout->desc, viewid);

	SpeedRead(viewid, GetActiveSnapshot(), layout, NULL, NULL, rsinfo->setResult);
	CaptureRead(viewid, layout, NULL, NULL, rsinfo->setResult);
	return (Datum) 0;
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
fast_path(PG_FUNCTION_ARGS)
{
	LambdaCheckPreloaded();
	PG_RETURN_BOOL(SpeedUsable(PG_GETARG_OID(0), GetActiveSnapshot()));
}

/*
 * speed_status(view regclass, OUT groups, OUT bytes, OUT state, OUT pending)
 */
Datum
speed_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int64		groups;
	int64		bytes;
	int64		pending;
	const char *state;

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
		SpeedStatus(PG_GETARG_OID(0), &groups, &bytes, &pending, &state);

	values[0] = Int64GetDatum(groups);
	values[1] = Int64GetDatum(bytes);
	values[2] = CStringGetTextDatum(state);
	values[3] = Int64GetDatum(pending);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
