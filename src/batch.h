/*-------------------------------------------------------------------------
 *
 * batch.h
 *	  The batch layer: recomputing a view from its whole master.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_BATCH_H
#define LAMBDA_BATCH_H

#include "postgres.h"

#include "catalog.h"
#include "utils/snapshot.h"

extern int64 RunBatch(LambdaViewEntry *entry);
extern bool BatchBegin(LambdaViewEntry *entry, bool compaction, bool wait);
extern void BatchRegisterCut(Oid viewid, Snapshot snap, bool fresh);
extern char *BatchSnapshotText(Snapshot snap);

#endif							/* LAMBDA_BATCH_H */
