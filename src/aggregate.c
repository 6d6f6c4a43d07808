/*-------------------------------------------------------------------------
 *
 * aggregate.c
 *	  What lambda knows of an aggregate, in one place: which it keeps with
 *	  specialised states, which by PostgreSQL's partial aggregation protocol
 *	  (partial.c), and which it refuses, and why.
 *
 * Any aggregate PostgreSQL itself can split across parallel workers can be
 * a lambda aggregate: one with a combine function, and serialize and
 * deserialize functions when its state is "internal".  The table below says
 * what a view keeps for each aggregate call; nothing else in lambda looks
 * at an aggregate's name.  count, sum, avg, min and max keep their
 * specialised states (a bigint, the sum's own type, the min's own type),
 * which fold and merge without a function call per row; every other
 * mergeable aggregate is "generic", kept as a lambda.state (partial.c).
 *
 * What is refused is refused with a hint that names the mergeable
 * alternative, never approximated: DISTINCT (hll), ordered-set aggregates
 * (t-digest), aggregates without a combine function.  And what lambda could
 * not run safely: merges run while the speed layer's lock is held (speed.c
 * settles under it, readers merge what they read under it), so a combine,
 * serialize or deserialize function must be C (no locks, subtransactions,
 * waits or queries there; every built-in one, and hll's and tdigest's,
 * are), and a state type must be read back without running a domain's
 * CHECK.  Transition and final functions run outside any lock and may be
 * in any language.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "aggregate.h"
#include "catalog.h"
#include "lambda.h"

/* The specialised aggregates of pg_catalog, and what a view keeps of each */
typedef struct SpecialisedAggregate
{
	const char *name;
	LambdaAggKind kind;			/* kind, with an argument */
	LambdaStateKind state;		/* kind of its (first) state column */
} SpecialisedAggregate;

static const SpecialisedAggregate specialised[] = {
	/* count(*) is LAMBDA_AGG_COUNT_STAR; avg keeps a sum and a count */
	{"count", LAMBDA_AGG_COUNT, LAMBDA_STATE_COUNT},
	{"sum", LAMBDA_AGG_SUM, LAMBDA_STATE_SUM},
	{"avg", LAMBDA_AGG_AVG, LAMBDA_STATE_SUM},
	{"min", LAMBDA_AGG_MIN, LAMBDA_STATE_MIN},
	{"max", LAMBDA_AGG_MAX, LAMBDA_STATE_MAX},
};

/* The wrapper aggregates whose calls compute a generic partial state */
#define PARTIAL_AGG			"partial_agg"
#define PARTIAL_AGG_RESTRICTED	"partial_agg_restricted"

static const char *Refusal(Oid aggfnoid, const char **detail, const char **hint);
static bool ReceiveIsUnsafe(Oid type);
static bool IsUnsafeToReceive(Oid type, char typtype);
static bool IsWrapper(Oid funcid);

/*
 * What a view keeps for an aggregate call of its definition.  Errors, with
 * a hint that names the mergeable alternative, for calls whose partial
 * states cannot be merged: lambda never approximates.
 */
LambdaAggKind
AggregateKindOf(Aggref *aggref)
{
	const char *detail = NULL;
	const char *hint = NULL;
	const char *why;
	char	   *fname = get_func_name(aggref->aggfnoid);
	int			i;

	if (aggref->aggdistinct != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("DISTINCT aggregates are not supported in a lambda view"),
				 errdetail("Distinct counts cannot be merged from the partial counts of two layers."),
				 strcmp(fname, "count") == 0 ?
				 errhint("Count unique values with a HyperLogLog, whose partial states merge: hll_cardinality(hll_add_agg(hll_hash_any(x))) of the hll extension.") :
				 errhint("Keep the distinct values as a group key, and aggregate when you query the view.")));
	if (aggref->aggkind != AGGKIND_NORMAL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate function %s is not supported in a lambda view",
						format_procedure(aggref->aggfnoid)),
				 errdetail("Ordered-set and hypothetical-set aggregates have no partial states to merge."),
				 aggref->aggkind == AGGKIND_ORDERED_SET ?
				 errhint("For percentiles, use tdigest_percentile(value, 100, fraction) of the tdigest extension, whose partial states merge.") : 0));
	if (aggref->aggorder != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ORDER BY in an aggregate call is not supported in a lambda view"),
				 errdetail("The order of rows across the two layers is not the order of the query.")));

	if (get_func_namespace(aggref->aggfnoid) == PG_CATALOG_NAMESPACE)
	{
		if (aggref->aggstar)
			return LAMBDA_AGG_COUNT_STAR;
		for (i = 0; i < lengthof(specialised); i++)
		{
			if (strcmp(specialised[i].name, fname) == 0)
				return specialised[i].kind;
		}
	}

	why = Refusal(aggref->aggfnoid, &detail, &hint);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate function %s is not supported in a lambda view",
						format_procedure(aggref->aggfnoid)),
				 errdetail("%s", detail),
				 hint ? errhint("%s", hint) : 0));
	return LAMBDA_AGG_GENERIC;
}

/*
 * Why the aggregate aggfnoid cannot be a generic lambda aggregate, or NULL
 * if it can.  detail and hint are set with the reason.
 */
static const char *
Refusal(Oid aggfnoid, const char **detail, const char **hint)
{
	HeapTuple	tuple;
	Form_pg_aggregate aggform;
	Form_pg_proc procform;
	Oid			transtype;
	bool		polymorphic;
	bool		variadic;
	bool		initnull;
	Oid			transfn;
	Oid			firstArg;
	int			i;

	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
	{
		*detail = "It is not an aggregate function.";
		return *detail;
	}
	aggform = (Form_pg_aggregate) GETSTRUCT(tuple);
	transtype = aggform->aggtranstype;
	transfn = aggform->aggtransfn;
	(void) SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval, &initnull);
	if (aggform->aggkind != AGGKIND_NORMAL)
		*detail = "Ordered-set and hypothetical-set aggregates have no partial states to merge.";
	else if (!OidIsValid(aggform->aggcombinefn))
	{
		*detail = "It has no combine function, so its partial states cannot be merged: PostgreSQL cannot run it in parallel either.";
		*hint = "Lambda views take aggregates that declare a COMBINEFUNC (and SERIALFUNC and DESERIALFUNC for an internal state).";
	}
	else if (transtype == INTERNALOID &&
			 (!OidIsValid(aggform->aggserialfn) || !OidIsValid(aggform->aggdeserialfn)))
		*detail = "Its state is of type internal and it has no serialize and deserialize functions, so its partial states cannot be stored.";
	else
	{
		Oid			merging[3];
		int			j;

		/*
		 * Merges run while the speed layer's lock is held (speed.c, merge.c):
		 * no code that could take a lock, start a subtransaction or wait may
		 * run there, which rules out every procedural language.
		 */
		merging[0] = aggform->aggcombinefn;
		merging[1] = aggform->aggserialfn;
		merging[2] = aggform->aggdeserialfn;
		for (j = 0; j < lengthof(merging) && *detail == NULL; j++)
		{
			if (!OidIsValid(merging[j]))
				continue;
			if (!CatalogFunctionIsC(merging[j]))
			{
				*detail = psprintf("Its %s function %s is not written in C: lambda merges partial states while it holds the speed layer's lock, where no query may run.",
								   j == 0 ? "combine" : j == 1 ? "serialize" : "deserialize",
								   format_procedure(merging[j]));
				*hint = "Declare a combine function written in C, such as a built-in one (int8pl, numeric_add, float8_combine).";
			}
		}
	}
	ReleaseSysCache(tuple);
	if (*detail != NULL)
		return *detail;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	procform = (Form_pg_proc) GETSTRUCT(tuple);
	firstArg = procform->pronargs > 0 ? procform->proargtypes.values[0] : InvalidOid;
	polymorphic = IsPolymorphicType(transtype) || IsPolymorphicType(procform->prorettype);
	for (i = 0; i < procform->pronargs; i++)
		polymorphic |= IsPolymorphicType(procform->proargtypes.values[i]);
	variadic = OidIsValid(procform->provariadic) || procform->pronargs == 0;
	ReleaseSysCache(tuple);
	if (polymorphic || variadic)
	{
		*detail = "Aggregates with polymorphic, variadic or no arguments, or a polymorphic result or state, are not supported, but for count, min and max.";
		return *detail;
	}

	/*
	 * A strict transition function with no initial value takes its first
	 * input as the state: nodeAgg.c checks, at every start, that the input
	 * is of the state's type, since the function may have become strict
	 * after CREATE AGGREGATE checked it.
	 */
	if (initnull && func_strict(transfn) && !IsBinaryCoercible(firstArg, transtype))
	{
		*detail = "Its transition function is strict and it has no initial value, so its first input becomes its state, but the input is not of the state's type.";
		return *detail;
	}

	/*
	 * A state that is not internal is kept in its type's binary format and
	 * read back with its receive function, under the speed layer's lock: a
	 * domain's (even as an array element, a range's subtype or a column)
	 * runs its CHECK; an enum's reads a label, which ALTER TYPE can rename.
	 */
	if (transtype != INTERNALOID && ReceiveIsUnsafe(transtype))
	{
		*detail = "Its state type is or contains a domain, a composite or an enum type, which lambda cannot keep in binary form and read back safely.";
		return *detail;
	}

	if (transtype != INTERNALOID)
	{
		Oid			send;
		Oid			recv;
		HeapTuple	typtuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(transtype));

		if (!HeapTupleIsValid(typtuple))
			elog(ERROR, "cache lookup failed for type %u", transtype);
		send = ((Form_pg_type) GETSTRUCT(typtuple))->typsend;
		recv = ((Form_pg_type) GETSTRUCT(typtuple))->typreceive;
		ReleaseSysCache(typtuple);
		if (!OidIsValid(send) || !OidIsValid(recv))
		{
			*detail = "Its state type has no binary send and receive functions, so its partial states cannot be stored.";
			return *detail;
		}
	}
	return NULL;
}

/*
 * Could reading back a value of this type, kept in its binary format, run
 * code a role wrote or give another value?  A domain's receive runs its
 * CHECK constraints; an enum's reads a label, which may have been renamed
 * since; an array, range or multirange reads its elements, a composite its
 * columns.
 */
static bool
ReceiveIsUnsafe(Oid type)
{
	return CatalogTypeOrPartIs(type, IsUnsafeToReceive);
}

static bool
IsUnsafeToReceive(Oid type, char typtype)
{
	return typtype == TYPTYPE_DOMAIN || typtype == TYPTYPE_COMPOSITE ||
		typtype == TYPTYPE_ENUM;
}

/* Error unless aggfnoid can be a generic lambda aggregate */
void
AggregateCheckMergeable(Oid aggfnoid)
{
	const char *detail = NULL;
	const char *hint = NULL;

	if (Refusal(aggfnoid, &detail, &hint) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate function %s has no partial state lambda can keep",
						format_procedure(aggfnoid)),
				 errdetail("%s", detail),
				 hint ? errhint("%s", hint) : 0));
}

/*
 * The kind of state column a partial-state query's aggregate call makes
 * (count, sum, min or max of pg_catalog, or a wrapper aggregate for a
 * generic state, whose aggregate is returned in *aggfnoid); false for any
 * other call.
 */
bool
AggregateStateKindOf(Aggref *aggref, LambdaStateKind *kind, Oid *aggfnoid)
{
	char	   *fname;
	int			i;

	*aggfnoid = InvalidOid;
	if (IsWrapper(aggref->aggfnoid))
	{
		Expr	   *first = linitial_node(TargetEntry, aggref->args)->expr;

		if (!IsA(first, Const) || ((Const *) first)->constisnull)
			return false;
		*kind = LAMBDA_STATE_GENERIC;
		*aggfnoid = DatumGetObjectId(((Const *) first)->constvalue);
		return true;
	}
	if (get_func_namespace(aggref->aggfnoid) != PG_CATALOG_NAMESPACE)
		return false;
	fname = get_func_name(aggref->aggfnoid);
	for (i = 0; i < lengthof(specialised); i++)
	{
		if (strcmp(specialised[i].name, fname) == 0 &&
			specialised[i].kind != LAMBDA_AGG_AVG)
		{
			*kind = specialised[i].state;
			return true;
		}
	}
	return false;
}

/*
 * The aggregate aggfnoid and the functions it runs (transition, combine,
 * serialize, deserialize, final): who wrote them is who wrote the code a
 * view using it runs.
 */
List *
AggregateFunctions(Oid aggfnoid)
{
	List	   *funcs = list_make1_oid(aggfnoid);
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate aggform;
	Oid			support[5];
	int			i;

	if (!HeapTupleIsValid(tuple))
		return funcs;
	aggform = (Form_pg_aggregate) GETSTRUCT(tuple);
	support[0] = aggform->aggtransfn;
	support[1] = aggform->aggcombinefn;
	support[2] = aggform->aggserialfn;
	support[3] = aggform->aggdeserialfn;
	support[4] = aggform->aggfinalfn;
	ReleaseSysCache(tuple);
	for (i = 0; i < lengthof(support); i++)
	{
		if (OidIsValid(support[i]))
			funcs = list_append_unique_oid(funcs, support[i]);
	}
	return funcs;
}

/* Is funcid one of lambda's wrapper aggregates? */
static bool
IsWrapper(Oid funcid)
{
	char	   *name;

	if (get_func_namespace(funcid) != get_namespace_oid(LAMBDA_SCHEMA_NAME, true))
		return false;
	name = get_func_name(funcid);
	return strcmp(name, PARTIAL_AGG) == 0 || strcmp(name, PARTIAL_AGG_RESTRICTED) == 0;
}

/*
 * May PostgreSQL run the aggregate in parallel workers?  Its partial state
 * is computed by lambda.partial_agg, parallel safe, if so, and by
 * lambda.partial_agg_restricted otherwise.
 */
bool
AggregateIsParallelSafe(Oid aggfnoid)
{
	return func_parallel(aggfnoid) == PROPARALLEL_SAFE;
}

/* The type lambda.state */
Oid
AggregateStateType(void)
{
	Oid			nsp = get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum("state"),
									   ObjectIdGetDatum(nsp));

	if (!OidIsValid(type))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("type lambda.state does not exist"),
				 errhint("Update the extension with ALTER EXTENSION lambda UPDATE.")));
	return type;
}
