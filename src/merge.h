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

#include "access/skey.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/tuplestore.h"

#include "layout.h"

typedef struct MergeScan MergeScan;

extern MergeScan *MergeBegin(LambdaLayout *layout, Snapshot snapshot, int nprefix,
							 Datum *key, bool *keynull);
extern bool MergeNext(MergeScan *scan, Datum **values, bool **isnull);
extern void MergeEnd(MergeScan *scan);
extern LayoutGroups *MergeSpeedGroups(LambdaLayout *layout, Snapshot snapshot,
									  int nprefix, Datum *key, bool *keynull,
									  Size groupSize);
extern Relation MergeKeyIndex(Relation batch, int nprefix);
extern void MergeKeyScanKeys(Relation index, int nkeys, Datum *key, bool *keynull,
							 ScanKey scankeys);
extern void ExactRead(LambdaLayout *layout, Snapshot snapshot, Tuplestorestate *out,
					  MemoryContext outcxt);

#endif							/* LAMBDA_MERGE_H */
