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

#include "viewdef.h"

extern char *ServingViewSql(LambdaViewDef *def, Oid viewid, Oid batchTable);

#endif							/* LAMBDA_SERVING_H */
