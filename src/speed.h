/*-------------------------------------------------------------------------
 *
 * speed.h
 *	  The speed layer's shared state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_SPEED_H
#define LAMBDA_SPEED_H

#include "postgres.h"

#include "utils/timestamp.h"

#include "nodes/pg_list.h"
#include "utils/snapshot.h"
#include "utils/tuplestore.h"

#include "layout.h"
#include "shmem.h"

extern void SpeedHandOff(Oid viewid, TransactionId xid, List *tuples);
extern void SpeedLose(Oid viewid, TransactionId xid, const char *why);
extern void SpeedRegisterBatch(Oid viewid, TransactionId xmin, TransactionId xmax,
							   TransactionId *xip, int xcnt, TransactionId batchXid,
							   bool fresh);
extern bool SpeedUsable(Oid viewid, Snapshot snapshot);
/* Where SpeedRead and CaptureRead put the partial state rows they read */
typedef void (*SpeedEmit) (HeapTuple tuple, void *arg);

extern void SpeedRead(Oid viewid, Snapshot snapshot, LambdaLayout *layout,
					  int nprefix, Datum *key, bool *keynull,
					  SpeedEmit emit, void *arg);
extern void SpeedSettle(LambdaSharedView *view, LambdaLayout *layout,
						TransactionId horizon);
extern bool SpeedNeedsBatch(LambdaSharedView *view, Oid viewid);
extern bool SpeedNeedsCompaction(LambdaSharedView *view, Oid viewid);
extern void SpeedForget(Oid dbid, Oid viewid, uint64 taken);
extern bool SpeedSave(LambdaSharedView *view, FILE *file);
extern bool SpeedLoad(LambdaSharedView *view, FILE *file);
extern int64 SpeedSettleRounds(Oid viewid);
extern void SpeedDiscard(LambdaSharedView *view, Oid viewid, const char *why);
extern void SpeedMemoryUsed(int64 *views, int64 *chunks, int64 *bytes);
extern void SpeedStatus(Oid viewid, int64 *groups, int64 *bytes, int64 *pending,
						const char **state, char **reason, TimestampTz *since);

#endif							/* LAMBDA_SPEED_H */
