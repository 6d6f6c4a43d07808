/*-------------------------------------------------------------------------
 *
 * aggregate.h
 *	  What lambda knows of an aggregate: which it keeps with specialised
 *	  states, which by the partial aggregation protocol, which it refuses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_AGGREGATE_H
#define LAMBDA_AGGREGATE_H

#include "postgres.h"

#include "nodes/pg_list.h"
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

/* What a view keeps for an aggregate call, and what it refuses */
extern LambdaAggKind AggregateKindOf(Aggref *aggref);
extern bool AggregateStateKindOf(Aggref *aggref, LambdaStateKind *kind,
								 Oid *aggfnoid);
extern void AggregateCheckMergeable(Oid aggfnoid);
extern List *AggregateFunctions(Oid aggfnoid);
extern bool AggregateIsParallelSafe(Oid aggfnoid);
extern Oid	AggregateStateType(void);

#endif							/* LAMBDA_AGGREGATE_H */
