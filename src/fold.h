/*-------------------------------------------------------------------------
 *
 * fold.h
 *	  Folding inserted rows into partial states without running a query.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_FOLD_H
#define LAMBDA_FOLD_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "layout.h"

typedef struct LambdaFold LambdaFold;

extern void FoldRows(int nviews, LambdaLayout **layouts, Relation rel,
					 Tuplestorestate *rows, MemoryContext into, List **results);

#endif							/* LAMBDA_FOLD_H */
