/*-------------------------------------------------------------------------
 *
 * capture.h
 *	  Capturing inserted rows in the writing transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_CAPTURE_H
#define LAMBDA_CAPTURE_H

#include "postgres.h"

#include "utils/tuplestore.h"

#include "layout.h"
#include "nodes/primnodes.h"
#include "utils/snapshot.h"

/* The capture trigger's name for the rows a statement inserted */
#define LAMBDA_CAPTURE_TABLE	"lambda_new_rows"

extern void CaptureInit(void);
extern void CaptureCover(Oid viewid);
extern void CaptureRead(Oid viewid, Snapshot snapshot, LambdaLayout *layout,
						int nprefix, Datum *key, bool *keynull,
						void (*emit) (HeapTuple tuple, void *arg), void *arg);
extern bool CaptureExact(LambdaLayout *layout, Snapshot snapshot);
extern void CaptureBatchPublished(Oid viewid, CommandId cid);
extern void *CaptureCopyBegin(RangeVar *rv);
extern bool CaptureInsertRunning(LambdaLayout *layout);
extern void CaptureCopyEnd(void *key);

#endif							/* LAMBDA_CAPTURE_H */
