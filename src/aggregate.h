/*-------------------------------------------------------------------------
 *
 * aggregate.h
 *	  What lambda knows of an aggregate, and PostgreSQL's partial
 *	  aggregation protocol run outside an Agg node.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_AGGREGATE_H
#define LAMBDA_AGGREGATE_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/primnodes.h"

/* How a view keeps an aggregate of its definition */
typedef enum LambdaAggKind
{
	LAMBDA_AGG_COUNT_STAR,
	LAMBDA_AGG_COUNT,
	LAMBDA_AGG_SUM,
	LAMBDA_AGG_AVG,
	LAMBDA_AGG_MIN,
	LAMBDA_AGG_MAX,
	LAMBDA_AGG_GENERIC			/* the aggregate's own partial state */
} LambdaAggKind;

/* A partial state, one column of the batch table after the group keys */
typedef enum LambdaStateKind
{
	LAMBDA_STATE_COUNT,			/* bigint, merged by addition */
	LAMBDA_STATE_SUM,			/* merged by the type's + */
	LAMBDA_STATE_MIN,			/* merged by the type's btree order */
	LAMBDA_STATE_MAX,
	LAMBDA_STATE_GENERIC		/* lambda.state, merged by the combine
								 * function */
} LambdaStateKind;

/* A generic aggregate's functions, looked up once (aggregate.c) */
typedef struct LambdaAggregate LambdaAggregate;

/* A transition state as nodeAgg.c keeps one per group */
typedef struct LambdaAggValue
{
	Datum		value;
	bool		isnull;
	bool		noValue;		/* no input yet, and no initial value */
} LambdaAggValue;

/* The one table: what a view keeps for an aggregate call */
extern LambdaAggKind AggregateKindOf(Aggref *aggref);
extern bool AggregateStateKindOf(Aggref *aggref, LambdaStateKind *kind,
								 Oid *aggfnoid);
extern bool AggregateIsParallelSafe(Oid aggfnoid);
extern Oid	AggregateStateType(void);

/* The protocol, for the generic kind */
extern LambdaAggregate *AggregateLookup(Oid aggfnoid, Oid collation,
										MemoryContext cxt);
extern int	AggregateNumArgs(LambdaAggregate *agg);
extern void AggregateInit(LambdaAggregate *agg, LambdaAggValue *v,
						  MemoryContext aggcxt);
extern void AggregateAdvance(LambdaAggregate *agg, LambdaAggValue *v,
							 Datum *args, bool *argnull, MemoryContext aggcxt);
extern Datum AggregateSerialize(LambdaAggregate *agg, LambdaAggValue *v,
								bool *isnull, MemoryContext aggcxt);
extern Datum AggregateMergeStates(LambdaAggregate *agg, Datum a, Datum b);

#endif							/* LAMBDA_AGGREGATE_H */
