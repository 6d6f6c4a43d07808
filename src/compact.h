/*-------------------------------------------------------------------------
 *
 * compact.h
 *	  Compaction: a view's batch table merged with its speed layer,
 *	  published as a new batch.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_COMPACT_H
#define LAMBDA_COMPACT_H

#include "postgres.h"

#include "catalog.h"

extern int64 Compact(LambdaViewEntry *entry, bool wait);

#endif							/* LAMBDA_COMPACT_H */
