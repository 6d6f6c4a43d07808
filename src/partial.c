/*-------------------------------------------------------------------------
 *
 * partial.c
 *	  PostgreSQL's partial aggregation protocol, run outside an Agg node,
 *	  for the aggregates lambda has no specialised code for (aggregate.c).
 *
 * The layers map onto the protocol parallel query uses:
 *
 *	capture (fold.c)		the aggregate's transition function
 *	hand-off, settle, read	serialize; the combine function (LayoutMerge)
 *	batch table				the serialized partial state
 *	the view				the final function (lambda.finalize)
 *
 * A lambda.state is the aggregate's serialized transition state (its
 * serialize function's bytes for an "internal" state, its type's binary
 * send format otherwise), headed by the aggregate and state type it
 * belongs to.  The type has no input function and no casts, so only lambda
 * makes one: deserialize functions trust their input, and are reachable
 * from SQL only through lambda.finalize, which checks the header.  The
 * batch computes states with lambda.partial_agg(aggregate, args...), an
 * aggregate of its own that parallel workers can run and combine.
 *
 * Outside an Agg node (capture, merges, the view's final step) the
 * aggregate's functions are called with a stand-in AggState, whose only use
 * is AggCheckCallContext's: to give them the memory context their state
 * lives in, as nodeAgg.c does.  Everything here follows nodeAgg.c's rules
 * for strict transition and combine functions, NULL initial values and
 * by-reference states.
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
#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
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
#include "partial.h"

LAMBDA_FUNCTION(lambda_state_in);
LAMBDA_FUNCTION(lambda_state_out);
LAMBDA_FUNCTION(lambda_partial_agg_trans);
LAMBDA_FUNCTION(lambda_partial_agg_final);
LAMBDA_FUNCTION(lambda_partial_agg_combine);
LAMBDA_FUNCTION(lambda_partial_agg_serial);
LAMBDA_FUNCTION(lambda_partial_agg_deserial);
LAMBDA_FUNCTION(lambda_finalize);

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
	MemoryContext scratch;		/* PartialMergeStates' work */
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

/*
 * Look up what running the generic aggregate aggfnoid takes, in cxt.
 * collation is the call's input collation.  Errors if the aggregate cannot
 * be one.
 */
LambdaAggregate *
PartialLookup(Oid aggfnoid, Oid collation, MemoryContext cxt)
{
	LambdaAggregate *agg;
	HeapTuple	tuple;
	Form_pg_aggregate aggform;
	Datum		initval;
	bool		initnull;
	MemoryContext old;

	AggregateCheckMergeable(aggfnoid);
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
PartialNumArgs(LambdaAggregate *agg)
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
PartialInit(LambdaAggregate *agg, LambdaAggValue *v, MemoryContext aggcxt)
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
 * Advance v by one row's aggregated arguments (PartialNumArgs of them),
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
PartialAdvance(LambdaAggregate *agg, LambdaAggValue *v, Datum *args,
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
PartialSerialize(LambdaAggregate *agg, LambdaAggValue *v, bool *isnull,
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
PartialMergeStates(LambdaAggregate *agg, Datum a, Datum b)
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
	agg = PartialLookup(aggfnoid, PG_GET_COLLATION(), fcinfo->flinfo->fn_mcxt);
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
lambda_partial_agg_trans(PG_FUNCTION_ARGS)
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
		PartialInit(agg, &state->value, aggcxt);
	}
	agg = state->agg;
	if (agg->aggfnoid != PG_GETARG_OID(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the aggregate of lambda.partial_agg must be the same for every row of a group")));

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
lambda_partial_agg_final(PG_FUNCTION_ARGS)
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
		PartialInit(state->agg, &state->value, aggcxt);
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
lambda_partial_agg_combine(PG_FUNCTION_ARGS)
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
		PartialInit(a->agg, &a->value, aggcxt);
		a->value.isnull = a->value.noValue = true;
	}
	if (a->agg->aggfnoid != b->agg->aggfnoid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the aggregate of lambda.partial_agg must be the same for every row of a group")));
	Combine(a->agg, &a->value, &b->value, fcinfo->context, aggcxt);
	PG_RETURN_POINTER(a);
}

/*
 * partial_agg_serial(internal) returns bytea: a parallel worker's state of
 * lambda.partial_agg, as a lambda.state (a NULL state flagged).
 */
Datum
lambda_partial_agg_serial(PG_FUNCTION_ARGS)
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
lambda_partial_agg_deserial(PG_FUNCTION_ARGS)
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
lambda_finalize(PG_FUNCTION_ARGS)
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
