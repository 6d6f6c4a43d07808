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

extern List *FoldRows(LambdaLayout *layout, Relation rel, Tuplestorestate *rows,
					  MemoryContext into);

#endif							/* LAMBDA_FOLD_H */
