/*-------------------------------------------------------------------------
 *
 * aggregate.c
 *	  What lambda knows of an aggregate, in one place, and PostgreSQL's
 *	  partial aggregation protocol for the aggregates it has no specialised
 *	  code for.
 *
 * Any aggregate PostgreSQL itself can split across parallel workers can be
 * a lambda aggregate: one with a combine function, and serialize and
 * deserialize functions when its state is "internal".  The layers map onto
 * the protocol parallel query uses:
 *
 *	capture (fold.c)		the aggregate's transition function
 *	hand-off, settle, read	serialize; the combine function (LayoutMerge)
 *	batch table				the serialized partial state
 *	the view				the final function (lambda.finalize)
 *
 * The table below says what a view keeps for each aggregate call; nothing
 * else in lambda looks at an aggregate's name.  count, sum, avg, min and max
 * keep their specialised states (a bigint, the sum's own type, the min's
 * own type), which fold and merge without a function call per row; every
 * other mergeable aggregate is "generic", kept as a lambda.state.
 *
 * A lambda.state is the aggregate's serialized transition state (its
 * serialize function's bytes for an "internal" state, its type's binary
 * send format otherwise), headed by the aggregate and state type it
 * belongs to.  The type has no input function and no casts, so only lambda
 * makes one: deserialize functions trust their input, and are reachable
 * from SQL only through lambda.finalize, which checks the header.
 *
 * Outside an Agg node (capture, merges, the view's final step) the
 * aggregate's functions are called with a stand-in AggState, whose only use
 * is AggCheckCallContext's: to give them the memory context their state
 * lives in, as nodeAgg.c does.  Everything here follows nodeAgg.c's rules
 * for strict transition and combine functions, NULL initial values and
 * by-reference states.
 *
 * Merges run while the speed layer's lock is held (speed.c settles under
 * it, readers merge what they read under it): a combine, serialize or
 * deserialize function there must not take locks, start subtransactions,
 * wait or run queries, so lambda takes only those written in C, as every
 * built-in one and those of hll and tdigest are.  Transition and final
 * functions run outside any lock and may be in any language.
 *
 * Rights: the writer runs the transition function in its INSERT, as it runs
 * the view's expressions; the reader runs the combine and final functions,
 * as it runs an ordinary view's functions; the worker settles as the view's
 * owner (worker.c).  SQL entry points check EXECUTE on the aggregate, as
 * nodeAgg.c does.
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
#include "commands/extension.h"
#include "executor/nodeAgg.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "aggregate.h"
#include "lambda.h"

PG_FUNCTION_INFO_V1(lambda_state_in);
PG_FUNCTION_INFO_V1(lambda_state_out);
PG_FUNCTION_INFO_V1(partial_agg_trans);
PG_FUNCTION_INFO_V1(partial_agg_final);
PG_FUNCTION_INFO_V1(partial_agg_combine);
PG_FUNCTION_INFO_V1(partial_agg_serial);
PG_FUNCTION_INFO_V1(partial_agg_deserial);
PG_FUNCTION_INFO_V1(finalize);

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

struct LambdaAggregate
{
	Oid			aggfnoid;
	Oid			collation;		/* the call's input collation */
	int			numArgs;		/* aggregated arguments */
	Oid			transtype;
	int16		transtypeLen;
	bool		transtypeByVal;
	bool		internalState;
	bool		initValueIsNull;
	Datum		initValue;
	FmgrInfo	transfn;
	FmgrInfo	combinefn;
	FmgrInfo	serialfn;		/* internal state: serialize ... */
	FmgrInfo	deserialfn;		/* ... and deserialize */
	FmgrInfo	sendfn;			/* other states: binary send ... */
	FmgrInfo	recvfn;			/* ... and receive */
	Oid			recvioparam;
	bool		hasFinal;
	int			numFinalArgs;
	FmgrInfo	finalfn;
	MemoryContext scratch;		/* AggregateMergeStates' work */
	AggState   *callContext;	/* stand-in AggState, see above */
	ExprContext *aggContext;	/* its curaggcontext */
};

/* lambda.state: the header, then the serialized state */
typedef struct LambdaStateData
{
	int32		vl_len_;		/* varlena header */
	Oid			aggfnoid;
	Oid			transtype;
	uint32		flags;			/* STATE_NULL: (partial_agg_serial only) */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} LambdaStateData;

#define STATE_HEADER	offsetof(LambdaStateData, data)
#define STATE_NULL		0x0001

/* partial_agg's transition state */
typedef struct PartialState
{
	LambdaAggregate *agg;
	LambdaAggValue value;
} PartialState;

static const char *Refusal(Oid aggfnoid, const char **detail, const char **hint);
static void CheckMergeable(Oid aggfnoid);
static Oid	FunctionLanguage(Oid funcid);
static bool ReceiveRunsUserCode(Oid type);
static Node *StandInContext(LambdaAggregate *agg, MemoryContext aggcxt);
static void KeepValue(LambdaAggregate *agg, LambdaAggValue *v, Datum newValue,
					  bool isnull, MemoryContext aggcxt);
static void Combine(LambdaAggregate *agg, LambdaAggValue *a, LambdaAggValue *b,
					Node *context, MemoryContext aggcxt);
static Datum Serialize(LambdaAggregate *agg, LambdaAggValue *v, Node *context,
					   uint32 flags);
static void Deserialize(LambdaAggregate *agg, LambdaStateData *state,
						LambdaAggValue *v, Node *context, MemoryContext aggcxt);
static LambdaStateData *StateOf(Datum datum, LambdaAggregate *agg);
static LambdaAggregate *CachedLookup(FunctionCallInfo fcinfo, Oid aggfnoid);
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
			Oid			lang;

			if (!OidIsValid(merging[j]))
				continue;
			lang = FunctionLanguage(merging[j]);
			if (lang != INTERNALlanguageId && lang != ClanguageId)
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
	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggfnoid);
	aggform = (Form_pg_aggregate) GETSTRUCT(tuple);
	(void) SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval, &initnull);
	if (initnull && func_strict(aggform->aggtransfn) &&
		!IsBinaryCoercible(firstArg, transtype))
		*detail = "Its transition function is strict and it has no initial value, so its first input becomes its state, but the input is not of the state's type.";
	ReleaseSysCache(tuple);
	if (*detail != NULL)
		return *detail;

	/*
	 * A state that is not internal is read back with its type's receive
	 * function, under the speed layer's lock: a domain's (even as an array
	 * element, a range's subtype or a column) runs its CHECK.
	 */
	if (transtype != INTERNALOID && ReceiveRunsUserCode(transtype))
	{
		*detail = "Its state type is or contains a domain or a composite type, whose reading runs code of its own.";
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
 * Does reading a value of this type with its receive function run code a
 * role wrote?  A domain's receive runs its CHECK constraints; an array,
 * range or multirange reads its elements, a composite its columns.
 */
static bool
ReceiveRunsUserCode(Oid type)
{
	for (;;)
	{
		char		typtype = get_typtype(type);
		Oid			elem;

		if (typtype == TYPTYPE_DOMAIN || typtype == TYPTYPE_COMPOSITE)
			return true;
		if (typtype == TYPTYPE_RANGE)
		{
			type = get_range_subtype(type);
			continue;
		}
		if (typtype == TYPTYPE_MULTIRANGE)
		{
			type = get_range_subtype(get_multirange_range(type));
			continue;
		}
		elem = get_element_type(type);
		if (!OidIsValid(elem))
			return false;
		type = elem;
	}
}

/* The language a function is written in */
static Oid
FunctionLanguage(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			lang;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	lang = ((Form_pg_proc) GETSTRUCT(tuple))->prolang;
	ReleaseSysCache(tuple);
	return lang;
}

/* Error unless aggfnoid can be a generic lambda aggregate */
static void
CheckMergeable(Oid aggfnoid)
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

/*
 * Look up what running the generic aggregate aggfnoid takes, in cxt.
 * collation is the call's input collation.  Errors if the aggregate cannot
 * be one.
 */
LambdaAggregate *
AggregateLookup(Oid aggfnoid, Oid collation, MemoryContext cxt)
{
	LambdaAggregate *agg;
	HeapTuple	tuple;
	Form_pg_aggregate aggform;
	Datum		initval;
	bool		initnull;
	MemoryContext old;

	CheckMergeable(aggfnoid);
	old = MemoryContextSwitchTo(cxt);
	agg = palloc0(sizeof(LambdaAggregate));
	agg->aggfnoid = aggfnoid;
	agg->collation = collation;
	agg->numArgs = get_func_nargs(aggfnoid);

	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggfnoid);
	aggform = (Form_pg_aggregate) GETSTRUCT(tuple);
	agg->transtype = aggform->aggtranstype;
	agg->internalState = agg->transtype == INTERNALOID;
	get_typlenbyval(agg->transtype, &agg->transtypeLen, &agg->transtypeByVal);
	fmgr_info_cxt(aggform->aggtransfn, &agg->transfn, cxt);
	fmgr_info_cxt(aggform->aggcombinefn, &agg->combinefn, cxt);
	if (agg->internalState)
	{
		fmgr_info_cxt(aggform->aggserialfn, &agg->serialfn, cxt);
		fmgr_info_cxt(aggform->aggdeserialfn, &agg->deserialfn, cxt);
	}
	else
	{
		Oid			send;
		Oid			recv;
		bool		isvarlena;

		getTypeBinaryOutputInfo(agg->transtype, &send, &isvarlena);
		getTypeBinaryInputInfo(agg->transtype, &recv, &agg->recvioparam);
		fmgr_info_cxt(send, &agg->sendfn, cxt);
		fmgr_info_cxt(recv, &agg->recvfn, cxt);
	}
	agg->hasFinal = OidIsValid(aggform->aggfinalfn);
	if (agg->hasFinal)
	{
		fmgr_info_cxt(aggform->aggfinalfn, &agg->finalfn, cxt);
		agg->numFinalArgs = aggform->aggfinalextra ? agg->numArgs + 1 : 1;
	}
	initval = SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval, &initnull);
	agg->initValueIsNull = initnull;
	if (!initnull)
	{
		Oid			input;
		Oid			ioparam;

		getTypeInputInfo(agg->transtype, &input, &ioparam);
		agg->initValue = OidInputFunctionCall(input, TextDatumGetCString(initval),
											  ioparam, -1);
	}
	ReleaseSysCache(tuple);

	agg->scratch = AllocSetContextCreate(cxt, "lambda aggregate", ALLOCSET_DEFAULT_SIZES);
	agg->aggContext = makeNode(ExprContext);
	agg->callContext = makeNode(AggState);
	agg->callContext->curaggcontext = agg->aggContext;
	agg->callContext->tmpcontext = agg->aggContext;
	MemoryContextSwitchTo(old);
	return agg;
}

int
AggregateNumArgs(LambdaAggregate *agg)
{
	return agg->numArgs;
}

/*
 * The stand-in AggState for calls whose state lives in aggcxt.
 */
static Node *
StandInContext(LambdaAggregate *agg, MemoryContext aggcxt)
{
	agg->aggContext->ecxt_per_tuple_memory = aggcxt;
	agg->aggContext->ecxt_per_query_memory = aggcxt;
	return (Node *) agg->callContext;
}

/*
 * A group's state before its first row: the initial value, copied to
 * aggcxt.
 */
void
AggregateInit(LambdaAggregate *agg, LambdaAggValue *v, MemoryContext aggcxt)
{
	v->isnull = v->noValue = agg->initValueIsNull;
	v->value = (Datum) 0;
	if (!agg->initValueIsNull)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		v->value = datumCopy(agg->initValue, agg->transtypeByVal, agg->transtypeLen);
		MemoryContextSwitchTo(old);
	}
}

/*
 * Advance v by one row's aggregated arguments (AggregateNumArgs of them),
 * as nodeAgg.c's advance_transition_function does.  Runs in short-lived
 * memory; the state is kept in aggcxt.
 */
static void
Advance(LambdaAggregate *agg, LambdaAggValue *v, Datum *args, bool *argnull,
		Node *context, MemoryContext aggcxt)
{
	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
	Datum		result;
	int			i;

	if (agg->transfn.fn_strict)
	{
		for (i = 0; i < agg->numArgs; i++)
		{
			if (argnull[i])
				return;
		}
		if (v->noValue)
		{
			/* the first input is the state, as for min() of a strict max */
			MemoryContext old = MemoryContextSwitchTo(aggcxt);

			v->value = datumCopy(args[0], agg->transtypeByVal, agg->transtypeLen);
			MemoryContextSwitchTo(old);
			v->isnull = v->noValue = false;
			return;
		}
		if (v->isnull)
			return;
	}

	InitFunctionCallInfoData(*fcinfo, &agg->transfn, agg->numArgs + 1,
							 agg->collation, context, NULL);
	fcinfo->args[0].value = v->value;
	fcinfo->args[0].isnull = v->isnull;
	for (i = 0; i < agg->numArgs; i++)
	{
		fcinfo->args[i + 1].value = args[i];
		fcinfo->args[i + 1].isnull = argnull[i];
	}
	result = FunctionCallInvoke(fcinfo);
	KeepValue(agg, v, result, fcinfo->isnull, aggcxt);
}

void
AggregateAdvance(LambdaAggregate *agg, LambdaAggValue *v, Datum *args,
				 bool *argnull, MemoryContext aggcxt)
{
	Advance(agg, v, args, argnull, StandInContext(agg, aggcxt), aggcxt);
}

/*
 * Make newValue, a transition or combine function's result, v's state: a
 * new by-reference value is copied to aggcxt and the old one freed, as
 * nodeAgg.c does.
 */
static void
KeepValue(LambdaAggregate *agg, LambdaAggValue *v, Datum newValue, bool isnull,
		  MemoryContext aggcxt)
{
	if (!agg->transtypeByVal && DatumGetPointer(newValue) != DatumGetPointer(v->value))
	{
		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(aggcxt);

			newValue = datumCopy(newValue, false, agg->transtypeLen);
			MemoryContextSwitchTo(old);
		}
		if (!v->isnull)
		{
			if (DatumIsReadWriteExpandedObject(v->value, false, agg->transtypeLen))
				DeleteExpandedObject(v->value);
			else
				pfree(DatumGetPointer(v->value));
		}
	}
	v->value = newValue;
	v->isnull = isnull;
	v->noValue = false;
}

/*
 * Merge state b into state a with the combine function, as nodeAgg.c
 * combines partial states.  A NULL state is one no row reached.
 */
static void
Combine(LambdaAggregate *agg, LambdaAggValue *a, LambdaAggValue *b, Node *context,
		MemoryContext aggcxt)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	if (agg->combinefn.fn_strict)
	{
		if (b->isnull)
			return;
		if (a->isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(aggcxt);

			a->value = datumCopy(b->value, agg->transtypeByVal, agg->transtypeLen);
			MemoryContextSwitchTo(old);
			a->isnull = a->noValue = false;
			return;
		}
	}
	InitFunctionCallInfoData(*fcinfo, &agg->combinefn, 2, agg->collation, context, NULL);
	fcinfo->args[0].value = a->value;
	fcinfo->args[0].isnull = a->isnull;
	fcinfo->args[1].value = b->value;
	fcinfo->args[1].isnull = b->isnull;
	result = FunctionCallInvoke(fcinfo);
	KeepValue(agg, a, result, fcinfo->isnull, aggcxt);
}

/*
 * v as a lambda.state, in the current memory context, or NULL (*isnull)
 * for a NULL state.  The aggregate's serialize function sees its state in
 * aggcxt.
 */
Datum
AggregateSerialize(LambdaAggregate *agg, LambdaAggValue *v, bool *isnull,
				   MemoryContext aggcxt)
{
	*isnull = v->isnull;
	if (v->isnull)
		return (Datum) 0;
	return Serialize(agg, v, StandInContext(agg, aggcxt), 0);
}

static Datum
Serialize(LambdaAggregate *agg, LambdaAggValue *v, Node *context, uint32 flags)
{
	bytea	   *bytes = NULL;
	LambdaStateData *state;
	Size		len = 0;

	if (!v->isnull)
	{
		if (agg->internalState)
		{
			LOCAL_FCINFO(fcinfo, 1);

			InitFunctionCallInfoData(*fcinfo, &agg->serialfn, 1, InvalidOid, context, NULL);
			fcinfo->args[0].value = v->value;
			fcinfo->args[0].isnull = false;
			bytes = DatumGetByteaPP(FunctionCallInvoke(fcinfo));
			if (fcinfo->isnull)
				elog(ERROR, "serialize function of aggregate %u returned NULL",
					 agg->aggfnoid);
		}
		else
			bytes = SendFunctionCall(&agg->sendfn, v->value);
		len = VARSIZE_ANY_EXHDR(bytes);
	}
	else
		flags |= STATE_NULL;

	state = palloc(STATE_HEADER + len);
	SET_VARSIZE(state, STATE_HEADER + len);
	state->aggfnoid = agg->aggfnoid;
	state->transtype = agg->transtype;
	state->flags = flags;
	if (len > 0)
		memcpy(state->data, VARDATA_ANY(bytes), len);
	return PointerGetDatum(state);
}

/*
 * The state a lambda.state holds, in v, allocated in aggcxt.
 */
static void
Deserialize(LambdaAggregate *agg, LambdaStateData *state, LambdaAggValue *v,
			Node *context, MemoryContext aggcxt)
{
	Size		len = VARSIZE(state) - STATE_HEADER;
	MemoryContext old;

	if (state->flags & STATE_NULL)
	{
		v->isnull = v->noValue = true;
		v->value = (Datum) 0;
		return;
	}
	if (agg->internalState)
	{
		LOCAL_FCINFO(fcinfo, 2);
		bytea	   *bytes = palloc(VARHDRSZ + len);

		SET_VARSIZE(bytes, VARHDRSZ + len);
		memcpy(VARDATA(bytes), state->data, len);
		InitFunctionCallInfoData(*fcinfo, &agg->deserialfn, 2, InvalidOid, context, NULL);
		fcinfo->args[0].value = PointerGetDatum(bytes);
		fcinfo->args[0].isnull = false;
		fcinfo->args[1].value = (Datum) 0;
		fcinfo->args[1].isnull = false;
		v->value = FunctionCallInvoke(fcinfo);
		if (fcinfo->isnull)
			elog(ERROR, "deserialize function of aggregate %u returned NULL",
				 agg->aggfnoid);
	}
	else
	{
		StringInfoData buf;

		old = MemoryContextSwitchTo(aggcxt);
		buf.data = palloc(len + 1);
		memcpy(buf.data, state->data, len);
		buf.data[len] = '\0';
		buf.len = len;
		buf.maxlen = len + 1;
		buf.cursor = 0;
		v->value = ReceiveFunctionCall(&agg->recvfn, &buf, agg->recvioparam, -1);
		if (buf.cursor != buf.len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("incorrect partial state of aggregate %s",
							format_procedure(agg->aggfnoid))));
		MemoryContextSwitchTo(old);
	}
	v->isnull = v->noValue = false;
}

/*
 * A lambda.state datum, detoasted, checked to be a state of agg: the
 * header is what keeps a state from being read as another aggregate's.
 */
static LambdaStateData *
StateOf(Datum datum, LambdaAggregate *agg)
{
	LambdaStateData *state = (LambdaStateData *) PG_DETOAST_DATUM(datum);

	if (VARSIZE(state) < STATE_HEADER ||
		state->aggfnoid != agg->aggfnoid || state->transtype != agg->transtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("partial state is not one of aggregate %s",
						format_procedure(agg->aggfnoid))));
	return state;
}

/*
 * Two lambda.states of agg merged by its combine function: a new
 * lambda.state in the current memory context.
 */
Datum
AggregateMergeStates(LambdaAggregate *agg, Datum a, Datum b)
{
	MemoryContext old = CurrentMemoryContext;
	MemoryContext scratch = agg->scratch;
	Node	   *context = StandInContext(agg, scratch);
	LambdaAggValue va;
	LambdaAggValue vb;
	Datum		merged;
	Size		len;
	void	   *result;

	MemoryContextSwitchTo(scratch);
	PG_TRY();
	{
		Deserialize(agg, StateOf(a, agg), &va, context, scratch);
		Deserialize(agg, StateOf(b, agg), &vb, context, scratch);
		Combine(agg, &va, &vb, context, scratch);
		merged = Serialize(agg, &va, context, 0);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(scratch);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	len = VARSIZE(DatumGetPointer(merged));
	result = palloc(len);
	memcpy(result, DatumGetPointer(merged), len);
	MemoryContextReset(scratch);
	return PointerGetDatum(result);
}

/*
 * lambda.state_in(cstring): there is no text form to read.  Only lambda
 * makes these values, since deserialize functions trust their input.
 */
Datum
lambda_state_in(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot accept a value of type lambda.state"),
			 errdetail("Partial states are made by lambda views only.")));
	PG_RETURN_VOID();			/* keep compiler quiet */
}

/*
 * lambda.state_out(lambda.state): hexadecimal, as bytea shows.
 */
Datum
lambda_state_out(PG_FUNCTION_ARGS)
{
	bytea	   *state = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(state);
	char	   *result = palloc(len * 2 + 3);

	result[0] = '\\';
	result[1] = 'x';
	hex_encode(VARDATA_ANY(state), len, result + 2);
	result[len * 2 + 2] = '\0';
	PG_RETURN_CSTRING(result);
}

/*
 * The aggregate aggfnoid of a call to one of the SQL functions below,
 * looked up once per call site: its first use checks the caller's EXECUTE
 * right on it, as nodeAgg.c checks an aggregate's.
 */
static LambdaAggregate *
CachedLookup(FunctionCallInfo fcinfo, Oid aggfnoid)
{
	LambdaAggregate *agg = fcinfo->flinfo->fn_extra;
	AclResult	aclresult;

	if (agg != NULL && agg->aggfnoid == aggfnoid)
		return agg;
	aclresult = pg_proc_aclcheck(aggfnoid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_AGGREGATE, get_func_name(aggfnoid));
	agg = AggregateLookup(aggfnoid, PG_GET_COLLATION(), fcinfo->flinfo->fn_mcxt);
	fcinfo->flinfo->fn_extra = agg;
	return agg;
}

/*
 * partial_agg_trans(internal, regprocedure, VARIADIC "any")
 *
 * Transition of lambda.partial_agg(aggregate, args...): the aggregate's own
 * transition, in a state that remembers which aggregate it is.  The batch
 * computes generic partial states with it.
 */
Datum
partial_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PartialState *state;
	LambdaAggregate *agg;
	Datum		args[FUNC_MAX_ARGS];
	bool		argnull[FUNC_MAX_ARGS];
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "partial_agg_trans called in non-aggregate context");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the aggregate of lambda.partial_agg must not be null")));

	state = PG_ARGISNULL(0) ? NULL : (PartialState *) PG_GETARG_POINTER(0);
	if (state == NULL)
	{
		Oid			aggfnoid = PG_GETARG_OID(1);
		Oid		   *declared;
		int			nargs;

		agg = CachedLookup(fcinfo, aggfnoid);
		(void) get_func_signature(aggfnoid, &declared, &nargs);
		if (PG_NARGS() - 2 != nargs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("aggregate %s takes %d arguments, not %d",
							format_procedure(aggfnoid), nargs, PG_NARGS() - 2)));
		for (i = 0; i < nargs; i++)
		{
			Oid			actual = get_fn_expr_argtype(fcinfo->flinfo, i + 2);

			if (!IsBinaryCoercible(actual, declared[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("argument %d of aggregate %s is of type %s, not %s",
								i + 1, format_procedure(aggfnoid),
								format_type_be(actual), format_type_be(declared[i]))));
		}
		state = MemoryContextAlloc(aggcxt, sizeof(PartialState));
		state->agg = agg;
		AggregateInit(agg, &state->value, aggcxt);
	}
	agg = state->agg;
	if (agg->aggfnoid != PG_GETARG_OID(1))
		elog(ERROR, "aggregate of lambda.partial_agg changed within a group");

	for (i = 0; i < agg->numArgs; i++)
	{
		args[i] = PG_GETARG_DATUM(i + 2);
		argnull[i] = PG_ARGISNULL(i + 2);
	}
	/* the aggregate's functions see this Agg node, and its memory */
	Advance(agg, &state->value, args, argnull, fcinfo->context, aggcxt);
	PG_RETURN_POINTER(state);
}

/*
 * partial_agg_final(internal) returns lambda.state
 */
Datum
partial_agg_final(PG_FUNCTION_ARGS)
{
	PartialState *state = PG_ARGISNULL(0) ? NULL : (PartialState *) PG_GETARG_POINTER(0);

	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "partial_agg_final called in non-aggregate context");

	/*
	 * No row reached the transition (a FILTER, a group of NULLs): the
	 * aggregate's state is its initial value, which the batch must keep as
	 * the capture does (product of nothing is 1).  The aggregate is the
	 * call's first argument, a constant in the partial-state query.
	 */
	if (state == NULL)
	{
		Aggref	   *aggref = AggGetAggref(fcinfo);
		Expr	   *first;

		if (aggref == NULL)
			elog(ERROR, "partial_agg_final called without its aggregate call");
		first = linitial_node(TargetEntry, aggref->args)->expr;
		if (!IsA(first, Const) || ((Const *) first)->constisnull)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the aggregate of lambda.partial_agg must be a constant")));
		state = MemoryContextAlloc(aggcxt, sizeof(PartialState));
		state->agg = CachedLookup(fcinfo, DatumGetObjectId(((Const *) first)->constvalue));
		AggregateInit(state->agg, &state->value, aggcxt);
	}
	if (state->value.isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(Serialize(state->agg, &state->value, fcinfo->context, 0));
}

/*
 * partial_agg_combine(internal, internal) returns internal: parallel
 * workers' states of lambda.partial_agg, merged by the aggregate's combine
 * function.
 */
Datum
partial_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PartialState *a = PG_ARGISNULL(0) ? NULL : (PartialState *) PG_GETARG_POINTER(0);
	PartialState *b = PG_ARGISNULL(1) ? NULL : (PartialState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "partial_agg_combine called in non-aggregate context");
	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
	{
		a = MemoryContextAlloc(aggcxt, sizeof(PartialState));
		a->agg = b->agg;
		AggregateInit(a->agg, &a->value, aggcxt);
		a->value.isnull = a->value.noValue = true;
	}
	if (a->agg->aggfnoid != b->agg->aggfnoid)
		elog(ERROR, "cannot combine partial states of two aggregates");
	Combine(a->agg, &a->value, &b->value, fcinfo->context, aggcxt);
	PG_RETURN_POINTER(a);
}

/*
 * partial_agg_serial(internal) returns bytea: a parallel worker's state of
 * lambda.partial_agg, as a lambda.state (a NULL state flagged).
 */
Datum
partial_agg_serial(PG_FUNCTION_ARGS)
{
	PartialState *state = (PartialState *) PG_GETARG_POINTER(0);

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "partial_agg_serial called in non-aggregate context");
	PG_RETURN_DATUM(Serialize(state->agg, &state->value, fcinfo->context, 0));
}

/*
 * partial_agg_deserial(bytea, internal) returns internal
 */
Datum
partial_agg_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	LambdaStateData *bytes = (LambdaStateData *) PG_GETARG_BYTEA_P(0);
	PartialState *state;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "partial_agg_deserial called in non-aggregate context");
	if (VARSIZE(bytes) < STATE_HEADER)
		elog(ERROR, "partial state too short");
	state = MemoryContextAlloc(aggcxt, sizeof(PartialState));
	state->agg = CachedLookup(fcinfo, bytes->aggfnoid);
	Deserialize(state->agg, StateOf(PointerGetDatum(bytes), state->agg),
				&state->value, fcinfo->context, aggcxt);
	PG_RETURN_POINTER(state);
}

/*
 * finalize(state lambda.state, aggregate regprocedure, result anyelement)
 * returns anyelement
 *
 * The aggregate's result from its merged partial state: its final
 * function, as nodeAgg.c calls it (extra arguments NULL).  result only
 * names the result type, which must be the aggregate's.
 */
Datum
finalize(PG_FUNCTION_ARGS)
{
	LambdaAggregate *agg;
	Oid			aggfnoid;
	Oid			resultType = get_fn_expr_argtype(fcinfo->flinfo, 2);
	MemoryContext aggcxt = CurrentMemoryContext;
	Node	   *context;
	LambdaAggValue v;
	Datum		result;
	int			i;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the aggregate of lambda.finalize must not be null")));
	aggfnoid = PG_GETARG_OID(1);
	agg = CachedLookup(fcinfo, aggfnoid);
	if (resultType != get_func_rettype(aggfnoid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aggregate %s returns %s, not %s",
						format_procedure(aggfnoid),
						format_type_be(get_func_rettype(aggfnoid)),
						format_type_be(resultType))));

	context = StandInContext(agg, aggcxt);
	if (PG_ARGISNULL(0))
		v.isnull = v.noValue = true;
	else
		Deserialize(agg, StateOf(PG_GETARG_DATUM(0), agg), &v, context, aggcxt);

	if (!agg->hasFinal)
	{
		if (v.isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(v.value);
	}
	if (agg->finalfn.fn_strict && (v.isnull || agg->numFinalArgs > 1))
		PG_RETURN_NULL();
	{
		LOCAL_FCINFO(finalinfo, FUNC_MAX_ARGS);

		InitFunctionCallInfoData(*finalinfo, &agg->finalfn, agg->numFinalArgs,
								 agg->collation, context, NULL);
		finalinfo->args[0].value = v.value;
		finalinfo->args[0].isnull = v.isnull;
		for (i = 1; i < agg->numFinalArgs; i++)
		{
			finalinfo->args[i].value = (Datum) 0;
			finalinfo->args[i].isnull = true;
		}
		result = FunctionCallInvoke(finalinfo);
		if (finalinfo->isnull)
			PG_RETURN_NULL();
	}
	PG_RETURN_DATUM(result);
}
