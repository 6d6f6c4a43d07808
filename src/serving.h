/*-------------------------------------------------------------------------
 *
 * serving.h
 *	  The serving layer: the merged view and the speed SRF.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_SERVING_H
#define LAMBDA_SERVING_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"

#include "layout.h"
#include "viewdef.h"

extern char *ServingViewSql(LambdaViewDef *def, int64 id, Oid batchTable);
extern void SpeedCheckReadable(Oid viewid);
extern void ServingCheckOwnerReads(LambdaLayout *layout);
extern void EmitToTuplestore(HeapTuple tuple, void *arg);
extern LambdaLayout *BeginStatesFunction(FunctionCallInfo fcinfo, Oid viewid);
extern void SpeedCheckColumns(TupleDesc expected, TupleDesc actual, Oid viewid);

#endif							/* LAMBDA_SERVING_H */
