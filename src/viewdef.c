/*-------------------------------------------------------------------------
 *
 * viewdef.c
 *	  Checking a view's one SQL definition and deriving the partial-state
 *	  query that both layers compute from it.
 *
 * A lambda view is defined once, as
 *
 *		SELECT <expressions over group keys and aggregates> FROM <master>
 *		[WHERE <filter>] [GROUP BY <group expressions>] [HAVING <condition>]
 *
 * Everything else is derived from that text, so the batch layer and the
 * speed layer cannot drift apart.  The definition is parsed and analyzed by
 * PostgreSQL itself; this file then refuses what cannot be split into
 * layers and merged back exactly:
 *
 *	- anything but one master table in FROM (joins, subqueries, functions);
 *	- DISTINCT, ORDER BY, LIMIT, window functions, set operations, WITH,
 *	  grouping sets, set-returning functions, locking clauses;
 *	- aggregates whose partial states do not merge (aggregate.c says which:
 *	  those without a combine function, DISTINCT and ORDER BY in a call);
 *	- columns of the master outside group keys and aggregate arguments;
 *	- functions that are not IMMUTABLE anywhere in the filter, the group
 *	  keys or the aggregates' arguments: the batch and the speed layer
 *	  evaluate them at different times and would disagree.
 *
 * From what remains it derives the partial-state query: per group, the
 * group keys and one mergeable state per distinct aggregate call of the
 * select list and HAVING (avg becomes a sum and a count; an aggregate with
 * no specialised code keeps its own partial state, aggregate.c).  The batch
 * table holds its result; merging states of the same group, then applying
 * the select list and HAVING to them (serving.c), gives back the view's own
 * answer, with the view's own result types.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"
#include "miscadmin.h"
#include "access/htup_details.h"
#include "utils/syscache.h"
#include "catalog/heap.h"
#include "mb/pg_wchar.h"

#include "catalog.h"
#include "identity.h"
#include "master.h"
#include "viewdef.h"

static void DefinitionErrorCallback(void *arg);
static void CheckQueryShape(Query *query);
static void AnalyzeAggregate(LambdaViewDef *def, Aggref *aggref, const char *name,
							 List *dpcontext);
static void CheckParameters(Aggref *aggref);
static bool CollectAggregates(Node *node, void *context);
static bool CheckOverKeys(Node *node, void *context);
static void CheckImmutable(Node *node, const char *where);
static bool ContainsMutable(Node *node, void *context);
static bool IsMutableFunction(Oid funcid, void *context);
static char *AggPartialSql(const char *func, LambdaAgg *agg, const char *arg);
static void CheckColumnNames(LambdaViewDef *def);
static bool CheckColumnRefs(Node *node, void *context);
static bool InputRunsUserCode(Oid type);
static bool IsUserCodeType(Oid type, char typtype);
static bool TypeIsSuperusers(Oid type);
static void CheckHashable(TargetEntry *tle);
static void CheckOrderable(Aggref *aggref);
static bool KeyFunctionsNotC(Oid type, char typtype);
static bool OrderFunctionNotC(Oid type, char typtype);
static bool RangeOrderNotC(Oid type, char typtype);
static char *StoredName(const char *name);

/*
 * Parse, analyze and check a view definition.  Errors describe what is not
 * supported; on success the result says how to compute partial states.
 */
LambdaViewDef *
ViewDefAnalyze(const char *queryString, bool restoring)
{
	List	   *raw;
	RawStmt    *rawstmt;
	Query	   *query;
	RangeTblEntry *rte;
	LambdaViewDef *def;
	List	   *dpcontext;
	ListCell   *lc;
	int			keyno;
	int			nestLevel;
	ErrorContextCallback errcallback;

	/* Point parse errors into the definition, not the calling statement */
	errcallback.callback = DefinitionErrorCallback;
	errcallback.arg = (void *) queryString;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	raw = raw_parser(queryString, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the definition of a lambda view must be a single SELECT statement")));
	rawstmt = linitial_node(RawStmt, raw);
	if (!IsA(rawstmt->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the definition of a lambda view must be a SELECT statement")));
	if (((SelectStmt *) rawstmt->stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT INTO is not supported in a lambda view")));

	query = parse_analyze_fixedparams(rawstmt, queryString, NULL, 0, NULL);
	error_context_stack = errcallback.previous;
	CheckQueryShape(query);
	(void) query_tree_walker(query, CheckColumnRefs, NULL, 0);

	rte = rt_fetch(1, query->rtable);
	MasterCheckUsable(rte->relid);
	/* a restore may load a view's catalog row before its master's */
	if (!restoring && !CatalogIsMaster(rte->relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not a master", get_rel_name(rte->relid)),
				 errhint("Make it one with lambda.create_master('%s').",
						 RelationDisplayName(rte->relid))));

	/*
	 * Names were resolved under the caller's search_path; deparse under
	 * pinned settings, which every object made from the text is created
	 * under (views.c), so that the text means exactly the same whatever the
	 * caller's search_path, extra_float_digits, DateStyle or IntervalStyle.
	 */
	nestLevel = ViewDefPinSettings();

	def = palloc0(sizeof(LambdaViewDef));
	def->master = rte->relid;
	def->query = query;
	def->querySql = pg_get_querydef(query, false);
	dpcontext = deparse_context_for(get_rel_name(rte->relid), rte->relid);

	if (query->jointree->quals != NULL)
	{
		CheckImmutable(query->jointree->quals, "filter");
		def->whereSql = deparse_expression(query->jointree->quals, dpcontext,
										   false, false);
	}

	/* Group keys, in GROUP BY order */
	keyno = 0;
	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);
		LambdaKey  *key = palloc0(sizeof(LambdaKey));

		keyno++;
		CheckImmutable((Node *) tle->expr, "group keys");
		key->expr = tle->expr;
		CheckHashable(tle);
		key->exprSql = deparse_expression((Node *) tle->expr, dpcontext,
										  false, false);
		key->name = tle->resjunk ? psprintf("group_%d", keyno) : pstrdup(tle->resname);
		def->keys = lappend(def->keys, key);
	}

	if (!query->hasAggs && query->groupClause == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a lambda view must aggregate"),
				 errhint("Add GROUP BY or an aggregate call such as count(*).")));

	/*
	 * Aggregate calls, each once, in the order the select list and HAVING
	 * make them; a call that is a whole output column is named after it.
	 * The view applies the select list and HAVING to the merged states
	 * (serving.c), so they may combine group keys and aggregates freely, but
	 * read no column of the master otherwise.
	 */
	def->plain = query->havingQual == NULL;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		ListCell   *klc;
		bool		isKey = false;

		if (tle->resjunk)
			continue;
		if (IsA(tle->expr, Aggref))
			AnalyzeAggregate(def, (Aggref *) tle->expr, tle->resname, dpcontext);
		else
		{
			(void) CollectAggregates((Node *) tle->expr, def);
			foreach(klc, def->keys)
				isKey |= equal(((LambdaKey *) lfirst(klc))->expr, tle->expr);
			def->plain &= isKey;
		}
		if (CheckOverKeys((Node *) tle->expr, def))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("output column \"%s\" of a lambda view reads a column outside its group keys and aggregates",
							tle->resname),
					 errdetail("The view computes its columns from merged partial states, which keep only the group keys and the aggregates."),
					 errhint("Add the column to GROUP BY.")));
	}
	if (query->havingQual != NULL)
	{
		(void) CollectAggregates(query->havingQual, def);
		if (CheckOverKeys(query->havingQual, def))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("HAVING of a lambda view reads a column outside its group keys and aggregates"),
					 errhint("Add the column to GROUP BY.")));
	}
	foreach(lc, def->aggs)
	{
		LambdaAgg  *agg = lfirst(lc);

		agg->name = agg->name ? agg->name :
			psprintf("lambda_agg_%d", foreach_current_index(lc) + 1);
		if (agg->kind == LAMBDA_AGG_GENERIC)
		{
			List	   *args = NIL;
			ListCell   *alc;

			/* passed to VARIADIC "any": the casts must be spelled out */
			foreach(alc, agg->aggref->args)
				args = lappend(args, lfirst_node(TargetEntry, alc)->expr);
			agg->argsSql = deparse_expression((Node *) args, dpcontext, false, true);
		}
	}


	CheckColumnNames(def);
	ViewDefUnpinSettings(nestLevel);
	return def;
}

/*
 * Error context callback for parsing a definition: an error position counts
 * from the start of the definition, so report it against the definition as
 * an internal query, the way SPI does for its statements.
 */
static void
DefinitionErrorCallback(void *arg)
{
	int			position = geterrposition();

	if (position > 0)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery((const char *) arg);
	}
}

/*
 * Refuse query shapes whose result cannot be split into batch and speed
 * parts and merged back.
 */
static void
CheckQueryShape(Query *query)
{
	RangeTblEntry *rte;
	Node	   *from;

#define REFUSE(cond, msg, hint) \
	do { \
		if (cond) \
			ereport(ERROR, \
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED), \
					 errmsg(msg), \
					 (hint) ? errhint(hint) : 0)); \
	} while (0)

	REFUSE(query->commandType != CMD_SELECT || query->utilityStmt != NULL,
		   "the definition of a lambda view must be a SELECT statement", NULL);
	REFUSE(query->cteList != NIL,
		   "WITH is not supported in a lambda view", NULL);
	REFUSE(query->setOperations != NULL,
		   "UNION, INTERSECT and EXCEPT are not supported in a lambda view",
		   "Define one lambda view per part.");
	REFUSE(query->hasSubLinks,
		   "subqueries are not supported in a lambda view", NULL);
	REFUSE(query->hasWindowFuncs,
		   "window functions are not supported in a lambda view",
		   "Apply window functions when you query the view.");
	REFUSE(query->hasTargetSRFs,
		   "set-returning functions are not supported in a lambda view", NULL);
	REFUSE(query->distinctClause != NIL,
		   "DISTINCT is not supported in a lambda view",
		   "Use GROUP BY instead.");
	REFUSE(query->sortClause != NIL,
		   "ORDER BY is not supported in a lambda view",
		   "Order the rows when you query the view.");
	REFUSE(query->limitCount != NULL || query->limitOffset != NULL,
		   "LIMIT and OFFSET are not supported in a lambda view",
		   "Limit the rows when you query the view.");
	REFUSE(query->groupingSets != NIL,
		   "GROUPING SETS, ROLLUP and CUBE are not supported in a lambda view", NULL);
	REFUSE(query->rowMarks != NIL,
		   "FOR UPDATE and FOR SHARE are not supported in a lambda view", NULL);

	/* Exactly one plain table in FROM */
	REFUSE(list_length(query->jointree->fromlist) != 1,
		   "a lambda view must read exactly one master table",
		   "Joins are not supported; join when you query the view.");
	from = linitial(query->jointree->fromlist);
	REFUSE(!IsA(from, RangeTblRef),
		   "joins are not supported in a lambda view",
		   "Join when you query the view.");
	rte = rt_fetch(((RangeTblRef *) from)->rtindex, query->rtable);
	REFUSE(rte->rtekind == RTE_SUBQUERY,
		   "subqueries are not supported in a lambda view", NULL);
	REFUSE(rte->rtekind != RTE_RELATION,
		   "a lambda view must read a master table", NULL);
	REFUSE(rte->tablesample != NULL,
		   "TABLESAMPLE is not supported in a lambda view", NULL);
	REFUSE(!rte->inh,
		   "ONLY is not supported in a lambda view",
		   "A view reads its whole master.");

#undef REFUSE
}

/*
 * Check one aggregate call and add it to the view's aggregates.  A call
 * that is a whole output column, named name, has a state of its own, as it
 * always had; one within an expression (name NULL) is named after its
 * place, unless an equal call is there already.
 */
static void
AnalyzeAggregate(LambdaViewDef *def, Aggref *aggref, const char *name,
				 List *dpcontext)
{
	LambdaAgg  *agg;
	ListCell   *lc;

	foreach(lc, def->aggs)
	{
		if (name == NULL && equal(((LambdaAgg *) lfirst(lc))->aggref, aggref))
			return;
	}

	agg = palloc0(sizeof(LambdaAgg));
	agg->aggref = aggref;
	agg->kind = AggregateKindOf(aggref);
	if (agg->kind == LAMBDA_AGG_MIN || agg->kind == LAMBDA_AGG_MAX)
		CheckOrderable(aggref);
	if (agg->kind == LAMBDA_AGG_GENERIC)
	{
		(void) AggregateStateType();	/* errors if the extension is older */
		CheckParameters(aggref);
	}
	agg->name = name ? pstrdup(name) : NULL;
	if (aggref->args != NIL)
	{
		TargetEntry *arg = linitial_node(TargetEntry, aggref->args);

		CheckImmutable((Node *) aggref->args, "aggregate arguments");
		agg->argType = exprType((Node *) arg->expr);
		agg->argSql = deparse_expression((Node *) arg->expr, dpcontext,
										 false, false);
	}
	if (aggref->aggfilter != NULL)
	{
		CheckImmutable((Node *) aggref->aggfilter, "aggregate filters");
		agg->filterSql = deparse_expression((Node *) aggref->aggfilter,
											dpcontext, false, false);
	}
	def->aggs = lappend(def->aggs, agg);
}

/*
 * An aggregate of an extension (or a role) takes the values it aggregates
 * first and its parameters after them: t-digest's compression, HyperLogLog's
 * log2m and register width.  Partial states made with different parameters
 * do not always merge (tdigest 1.4 crashes merging digests of different
 * compressions, in parallel query too); lambda merges states that different
 * writers and batches made, so it takes those arguments as constants only.
 * pg_catalog's aggregates of several arguments (corr, covar_*, regr_*)
 * aggregate every one.
 */
static void
CheckParameters(Aggref *aggref)
{
	ListCell   *lc;

	if (get_func_namespace(aggref->aggfnoid) == PG_CATALOG_NAMESPACE)
		return;
	for_each_from(lc, aggref->args, 1)
	{
		Node	   *arg = (Node *) lfirst_node(TargetEntry, lc)->expr;

		/* no folding: it would run functions, as whoever reads the text */
		if (!IsA(strip_implicit_coercions(arg), Const))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("argument %d of aggregate %s must be a constant in a lambda view",
							foreach_current_index(lc) + 1, format_procedure(aggref->aggfnoid)),
					 errdetail("An extension's aggregate takes its parameters after the value it aggregates, and lambda merges partial states made by different writers and batches: made with different parameters, they do not always merge."),
					 errhint("Pass a constant, as in tdigest_percentile(x, 100, 0.95).")));
	}
}

/*
 * Add the aggregate calls under node to the view's (context), unnamed.
 */
static bool
CollectAggregates(Node *node, void *context)
{
	LambdaViewDef *def = (LambdaViewDef *) context;

	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		AnalyzeAggregate(def, (Aggref *) node, NULL,
						 deparse_context_for(get_rel_name(def->master), def->master));
		return false;
	}
	return expression_tree_walker(node, CollectAggregates, context);
}

/*
 * Does node read a column of the master outside the view's group keys and
 * aggregate calls?  (GROUP BY a primary key lets a query read the table's
 * other columns, which the partial states do not keep.)
 */
static bool
CheckOverKeys(Node *node, void *context)
{
	LambdaViewDef *def = (LambdaViewDef *) context;
	ListCell   *lc;

	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
		return false;
	foreach(lc, def->keys)
	{
		if (equal(((LambdaKey *) lfirst(lc))->expr, node))
			return false;
	}
	if (IsA(node, Var))
		return true;
	return expression_tree_walker(node, CheckOverKeys, context);
}

static void
CheckImmutable(Node *node, const char *where)
{
	if (ContainsMutable(node, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("functions in the %s of a lambda view must be marked IMMUTABLE",
						where),
				 errdetail("The batch and the speed layer evaluate them at different times, so a result that can change would make them disagree."),
				 errhint("For times, name the time zone, as in date_trunc('day', ts, 'Europe/Berlin').")));
}

/*
 * contain_mutable_functions, but for date_trunc(unit, timestamptz, zone)
 * with a constant zone: what it returns depends on its arguments alone (it
 * does not read the TimeZone setting), and PostgreSQL 16 marks it
 * IMMUTABLE.  It buckets times by local calendar days, weeks, months and
 * years, which no IMMUTABLE function of PostgreSQL 15 does: AT TIME ZONE
 * gives a timestamp without time zone, and so folds two hours into one at
 * the autumn change of clocks.
 */
static bool
ContainsMutable(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr) &&
		((FuncExpr *) node)->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT &&
		IsA(lthird(((FuncExpr *) node)->args), Const) &&
		!castNode(Const, lthird(((FuncExpr *) node)->args))->constisnull)
		return expression_tree_walker(node, ContainsMutable, context);
	if (check_functions_in_node(node, IsMutableFunction, context))
		return true;
	if (IsA(node, SQLValueFunction) || IsA(node, NextValueExpr))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ContainsMutable, context, 0);
	return expression_tree_walker(node, ContainsMutable, context);
}

static bool
IsMutableFunction(Oid funcid, void *context)
{
	return func_volatile(funcid) != PROVOLATILE_IMMUTABLE;
}

/*
 * Settings that deparsing a definition depends on, pinned until
 * ViewDefUnpinSettings(the result): the definition's text and every object
 * created from it are made under them, so that both mean the same objects
 * and the same constants (extra_float_digits = 3 prints floats exactly).
 */
int
ViewDefPinSettings(void)
{
	int			nestLevel = NewGUCNestLevel();

	(void) set_config_option("search_path", LAMBDA_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("DateStyle", "ISO, YMD",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestLevel;
}

void
ViewDefUnpinSettings(int nestLevel)
{
	/* roll back whatever was set meanwhile, too */
	AtEOXact_GUC(false, nestLevel);
}

/*
 * Refuse system columns and whole-row references: captured rows come from
 * a statement's transition table, where they have no ctid, xmin or
 * tableoid of their own, so the layers would disagree.
 */
static bool
CheckColumnRefs(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varattno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("whole-row references are not supported in a lambda view"),
					 errhint("Name the columns the view uses.")));
		if (var->varattno < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("system column \"%s\" is not supported in a lambda view",
							NameStr(SystemAttributeDefinition(var->varattno)->attname)),
					 errdetail("The speed layer folds inserted rows before they have a place, a table or a transaction of their own to read.")));
	}
	if (IsA(node, Const) && InputRunsUserCode(((Const *) node)->consttype))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("constants of type %s are not supported in a lambda view",
						format_type_be(((Const *) node)->consttype)),
				 errdetail("Reading such a constant runs the CHECK constraints of the domains or the input of the columns it is made of, and lambda reads the definition again as the extension's owner (to make the view's internal relations, and in a restore)."),
				 errhint("Compare with a value of the base type, or cast a constant of the base type to the domain.")));
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CheckColumnRefs, context, 0);
	return expression_tree_walker(node, CheckColumnRefs, context);
}

/*
 * Could reading a constant of this type from text run code a role other
 * than a superuser wrote, in a later parse of the definition by name, as
 * the extension's owner?  Parsing a literal runs its type's input
 * function.  Those of base types are C, which only superusers create; but
 * a domain's input runs its CHECK constraints, and an array, range or
 * multirange of a domain, or a composite type (whose columns may change
 * type later), reads through those.  And between two parses a name can be
 * made to mean another type: by the type's owner, or by the owner of its
 * schema, who may drop what is in it.  So a constant's type, and what it
 * is made of, must be no domain and no composite, and belong, with its
 * schema, to a superuser.  (A domain's own literal is left by PostgreSQL
 * to a CoerceToDomain node over a constant of the base type, checked when
 * the view runs, as whoever runs it.)
 */
static bool
InputRunsUserCode(Oid type)
{
	return CatalogTypeOrPartIs(type, IsUserCodeType);
}

static bool
IsUserCodeType(Oid type, char typtype)
{
	return typtype == TYPTYPE_DOMAIN || typtype == TYPTYPE_COMPOSITE ||
		!TypeIsSuperusers(type);
}

/*
 * Refuse a group key whose type has no hash function: the speed layer and
 * the merge group rows by hashing their keys.
 */
static void
CheckHashable(TargetEntry *tle)
{
	Oid			type = exprType((Node *) tle->expr);
	TypeCacheEntry *tce = lookup_type_cache(type, TYPECACHE_HASH_PROC);

	if (!OidIsValid(tce->hash_proc))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("group key \"%s\" of type %s cannot be hashed",
						tle->resname ? tle->resname : "?column?", format_type_be(type)),
				 errdetail("Lambda views group rows by hashing their keys; type %s has no hash operator class.",
						   format_type_be(type)),
				 errhint("Group by an expression of a type that has one.")));
	if (CatalogTypeOrPartIs(type, KeyFunctionsNotC))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("group key \"%s\" of type %s is not supported in a lambda view",
						tle->resname ? tle->resname : "?column?", format_type_be(type)),
				 errdetail("The speed layer hashes and compares keys while it holds a lock, where only functions written in C may run; the hash or equality function of type %s, or of a type it is made of, is not, or it is a composite type or a record, whose columns' functions cannot be known in advance.",
						   format_type_be(type)),
				 errhint("Group by an expression of a built-in type.")));
}

/*
 * A min or max state merges by its type's btree comparison while the speed
 * layer's lock is held (speed.c): that comparison, and those of what the
 * type is made of (an array's elements, a range's subtype), must be written
 * in C.
 */
static void
CheckOrderable(Aggref *aggref)
{
	/* min and max keep a value of their argument's type */
	Oid			type = exprType((Node *) linitial_node(TargetEntry, aggref->args)->expr);

	if (CatalogTypeOrPartIs(type, OrderFunctionNotC))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate function %s is not supported in a lambda view",
						format_procedure(aggref->aggfnoid)),
				 errdetail("The speed layer compares its states while it holds a lock, where only functions written in C may run; the comparison of type %s, or of a type it is made of, is not, or it is a composite type or a record, whose columns' functions cannot be known in advance.",
						   format_type_be(type)),
				 errhint("Aggregate an expression of a built-in type.")));
}

/*
 * A range compares its bounds with the comparison of its own subtype
 * operator class (CREATE TYPE ... AS RANGE (subtype_opclass = ...)), not
 * necessarily the subtype's default: its equality, hash and order all run
 * it, and so do its multirange's.
 */
static bool
RangeOrderNotC(Oid type, char typtype)
{
	TypeCacheEntry *tce;

	if (typtype == TYPTYPE_MULTIRANGE)
		type = get_multirange_range(type);
	else if (typtype != TYPTYPE_RANGE)
		return false;
	tce = lookup_type_cache(type, TYPECACHE_RANGE_INFO);
	return !CatalogFunctionIsC(tce->rng_cmp_proc_finfo.fn_oid);
}

/*
 * Tests for CatalogTypeOrPartIs: does hashing or comparing a value of this
 * part of a type run a function not written in C?  A domain is its base
 * type's; a range's also its subtype operator class's comparison.  A composite type or a record is refused: their columns'
 * functions run too, and ALTER TYPE can change them (a record's, each
 * value its own).
 */
static bool
KeyFunctionsNotC(Oid type, char typtype)
{
	TypeCacheEntry *tce;

	if (typtype == TYPTYPE_DOMAIN)
		return CatalogTypeOrPartIs(getBaseType(type), KeyFunctionsNotC);
	if (typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_PSEUDO || RangeOrderNotC(type, typtype))
		return true;
	tce = lookup_type_cache(type, TYPECACHE_HASH_PROC | TYPECACHE_EQ_OPR);
	return (OidIsValid(tce->hash_proc) && !CatalogFunctionIsC(tce->hash_proc)) ||
		(OidIsValid(tce->eq_opr) && !CatalogFunctionIsC(get_opcode(tce->eq_opr)));
}

static bool
OrderFunctionNotC(Oid type, char typtype)
{
	TypeCacheEntry *tce;

	if (typtype == TYPTYPE_DOMAIN)
		return CatalogTypeOrPartIs(getBaseType(type), OrderFunctionNotC);
	if (typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_PSEUDO || RangeOrderNotC(type, typtype))
		return true;
	tce = lookup_type_cache(type, TYPECACHE_CMP_PROC);
	return OidIsValid(tce->cmp_proc) && !CatalogFunctionIsC(tce->cmp_proc);
}

/*
 * A column name as the batch table stores it: truncated to NAMEDATALEN - 1
 * bytes, as PostgreSQL truncates identifiers.
 */
static char *
StoredName(const char *name)
{
	int			len = strlen(name);

	if (len < NAMEDATALEN)
		return pstrdup(name);
	return pnstrdup(name, pg_mbcliplen(name, len, NAMEDATALEN - 1));
}

/*
 * The batch table's column names must be distinct; avg's two states, hidden
 * group keys and aggregates within expressions get derived names that
 * could collide with an output name.  Sets each aggregate's column.
 */
static void
CheckColumnNames(LambdaViewDef *def)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, def->keys)
		names = lappend(names, StoredName(((LambdaKey *) lfirst(lc))->name));
	foreach(lc, def->aggs)
	{
		LambdaAgg  *agg = lfirst(lc);

		agg->column = list_length(names);
		if (agg->kind == LAMBDA_AGG_AVG)
		{
			names = lappend(names, StoredName(psprintf("%s_sum", agg->name)));
			names = lappend(names, StoredName(psprintf("%s_count", agg->name)));
		}
		else
			names = lappend(names, StoredName(agg->name));
	}

	foreach(lc, names)
	{
		ListCell   *lc2;

		for_each_cell(lc2, names, lnext(names, lc))
		{
			if (strcmp(lfirst(lc), lfirst(lc2)) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" specified more than once in the batch table of a lambda view",
								(char *) lfirst(lc)),
						 errdetail("An avg column \"x\" is kept as \"x_sum\" and \"x_count\"; GROUP BY expressions not in the select list are kept as \"group_N\", aggregate calls not a column of their own as \"lambda_agg_N\"."),
						 errhint("Rename the output column.")));
		}
	}
}

/*
 * The view's definition as PostgreSQL normalizes it: what the exact slow
 * path runs.
 */
char *
ViewDefQuerySql(LambdaViewDef *def)
{
	return def->querySql;
}

/*
 * The analyzed definition, as text (nodeToString): what the catalog keeps
 * beside the deparsed query, so that the query can be deparsed again after
 * a rename (ddl.c).  It names objects by OID: a dump keeps only the query,
 * and a restore analyzes that again.
 */
char *
ViewDefQueryTree(LambdaViewDef *def)
{
	return nodeToString(def->query);
}

/*
 * The query of a kept analyzed definition, deparsed under the pinned
 * settings (which the caller sets): the objects it reads under their
 * names now.
 */
char *
ViewDefDeparseTree(const char *tree)
{
	Query	   *query = castNode(Query, stringToNode(tree));

	return pg_get_querydef(query, false);
}

/*
 * One aggregate call of the partial-state query.
 */
static char *
AggPartialSql(const char *func, LambdaAgg *agg, const char *arg)
{
	if (agg->filterSql)
		return psprintf("%s(%s) FILTER (WHERE %s)", func, arg, agg->filterSql);
	return psprintf("%s(%s)", func, arg);
}

/*
 * The partial-state query: per group, the group keys and each aggregate's
 * mergeable state.  Its columns, in order, are the batch table's.
 */
char *
ViewDefPartialSql(LambdaViewDef *def)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");

	foreach(lc, def->keys)
	{
		LambdaKey  *key = lfirst(lc);

		appendStringInfo(&buf, "%s%s AS %s", first ? "" : ", ",
						 key->exprSql, quote_identifier(key->name));
		first = false;
	}

	foreach(lc, def->aggs)
	{
		LambdaAgg  *agg = lfirst(lc);
		const char *name = quote_identifier(agg->name);

		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;

		switch (agg->kind)
		{
			case LAMBDA_AGG_COUNT_STAR:
				appendStringInfo(&buf, "%s AS %s",
								 AggPartialSql("count", agg, "*"), name);
				break;
			case LAMBDA_AGG_COUNT:
				appendStringInfo(&buf, "%s AS %s",
								 AggPartialSql("count", agg, agg->argSql), name);
				break;
			case LAMBDA_AGG_SUM:
				appendStringInfo(&buf, "%s AS %s",
								 AggPartialSql("sum", agg, agg->argSql), name);
				break;
			case LAMBDA_AGG_MIN:
				appendStringInfo(&buf, "%s AS %s",
								 AggPartialSql("min", agg, agg->argSql), name);
				break;
			case LAMBDA_AGG_MAX:
				appendStringInfo(&buf, "%s AS %s",
								 AggPartialSql("max", agg, agg->argSql), name);
				break;
			case LAMBDA_AGG_GENERIC:
				{
					/* the aggregate's own partial state (partial.c) */
					Oid			aggfnoid = agg->aggref->aggfnoid;

					appendStringInfo(&buf, "%s AS %s",
									 AggPartialSql(AggregateIsParallelSafe(aggfnoid) ?
												   "lambda.partial_agg" :
												   "lambda.partial_agg_restricted",
												   agg,
												   psprintf("%s::pg_catalog.regprocedure, %s",
															quote_literal_cstr(format_procedure_qualified(aggfnoid)),
															agg->argsSql)),
									 name);
					break;
				}
			case LAMBDA_AGG_AVG:
				{
					/*
					 * avg(float4) accumulates in float8, sum(float4) in
					 * float4: sum the float8 value to keep avg's precision.
					 * Every other avg sums in the type its sum() has.
					 */
					const char *arg = agg->argType == FLOAT4OID ?
						psprintf("(%s)::double precision", agg->argSql) :
						agg->argSql;

					appendStringInfo(&buf, "%s AS %s, %s AS %s",
									 AggPartialSql("sum", agg, arg),
									 quote_identifier(psprintf("%s_sum", agg->name)),
									 AggPartialSql("count", agg, agg->argSql),
									 quote_identifier(psprintf("%s_count", agg->name)));
					break;
				}
		}
	}

	appendStringInfo(&buf, " FROM %s", QualifiedRelationName(def->master));
	if (def->whereSql)
		appendStringInfo(&buf, " WHERE %s", def->whereSql);
	if (def->keys != NIL)
	{
		appendStringInfoString(&buf, " GROUP BY ");
		for (i = 1; i <= list_length(def->keys); i++)
			appendStringInfo(&buf, "%s%d", i > 1 ? ", " : "", i);
	}
	return buf.data;
}

/*
 * Comma-separated quoted names of the group key columns, for the batch
 * table's index; NULL when the view has a single global group, or a key
 * whose type has no btree order (look-ups then read the whole batch table).
 */
char *
ViewDefKeyList(LambdaViewDef *def)
{
	StringInfoData buf;
	ListCell   *lc;

	if (def->keys == NIL)
		return NULL;

	/* Keys of a type without a btree order (xid, say) get no index */
	foreach(lc, def->keys)
	{
		Oid			type = exprType((Node *) ((LambdaKey *) lfirst(lc))->expr);

		if (!OidIsValid(lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY)->btree_opf))
			return NULL;
	}

	initStringInfo(&buf);
	foreach(lc, def->keys)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(((LambdaKey *) lfirst(lc))->name));
	return buf.data;
}

/*
 * Do a type and its schema belong to superusers?
 */
static bool
TypeIsSuperusers(Oid type)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	Oid			owner;
	Oid			nsp;
	bool		result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", type);
	owner = ((Form_pg_type) GETSTRUCT(tuple))->typowner;
	nsp = ((Form_pg_type) GETSTRUCT(tuple))->typnamespace;
	ReleaseSysCache(tuple);
	result = superuser_arg(owner);
	if (result)
	{
		tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for schema %u", nsp);
		result = superuser_arg(((Form_pg_namespace) GETSTRUCT(tuple))->nspowner);
		ReleaseSysCache(tuple);
	}
	return result;
}
