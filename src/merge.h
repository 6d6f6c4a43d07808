/*-------------------------------------------------------------------------
 *
 * merge.h
 *	  The fast path's merge of the batch table with the speed layer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_MERGE_H
#define LAMBDA_MERGE_H

#include "postgres.h"

#include "utils/snapshot.h"
#include "utils/tuplestore.h"

#include "layout.h"

extern void MergedRead(LambdaLayout *layout, Snapshot snapshot, int nprefix,
					   Datum *key, bool *keynull, Tuplestorestate *out);

#endif							/* LAMBDA_MERGE_H */
