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

extern int64 RunBatch(LambdaViewEntry *entry);

#endif							/* LAMBDA_BATCH_H */
