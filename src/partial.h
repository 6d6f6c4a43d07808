/*-------------------------------------------------------------------------
 *
 * partial.h
 *	  PostgreSQL's partial aggregation protocol, run outside an Agg node.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_PARTIAL_H
#define LAMBDA_PARTIAL_H

#include "postgres.h"

#include "fmgr.h"

/* A generic aggregate's functions, looked up once (partial.c) */
typedef struct LambdaAggregate LambdaAggregate;

/* A transition state as nodeAgg.c keeps one per group */
typedef struct LambdaAggValue
{
	Datum		value;
	bool		isnull;
	bool		noValue;		/* no input yet, and no initial value */
} LambdaAggValue;

extern LambdaAggregate *PartialLookup(Oid aggfnoid, Oid collation,
									  MemoryContext cxt);
extern int	PartialNumArgs(LambdaAggregate *agg);
extern void PartialInit(LambdaAggregate *agg, LambdaAggValue *v,
						MemoryContext aggcxt);
extern void PartialAdvance(LambdaAggregate *agg, LambdaAggValue *v,
						   Datum *args, bool *argnull, MemoryContext aggcxt);
extern Datum PartialSerialize(LambdaAggregate *agg, LambdaAggValue *v,
							  bool *isnull, MemoryContext aggcxt);
extern Datum PartialMergeStates(LambdaAggregate *agg, Datum a, Datum b);

#endif							/* LAMBDA_PARTIAL_H */
