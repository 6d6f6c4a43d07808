/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  The extension's configuration parameters, all under "lambda.".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"
#include "utils/memutils.h"

#include "guc.h"

/* Shared memory budget of the speed layer, in kB */
int			lambda_speed_memory = 64 * 1024;

/* Background workers that keep speed layers, one per database at a time */
int			lambda_workers = 2;

/* Lambda views the speed layer can hold, over all databases */
int			lambda_max_views = 64;

/* Milliseconds a worker sleeps between rounds when idle */
int			lambda_naptime = 100;

/* lambda.max_handoff: largest delta a transaction hands off for a view, kB */
int			lambda_max_handoff = MaxAllocSize / 1024;

/* lambda.recovery_timeout: longest a worker's recovery batch may run, ms */
int			lambda_recovery_timeout = 600000;

/*
 * lambda.compact_threshold: share of lambda.speed_memory a view's settled
 * speed state may take before its worker compacts it; 0 never
 */
double		lambda_compact_threshold = 0.05;

/*
 * Define the parameters.  Called from _PG_init while preloading.
 */
void
GucInit(void)
{
	DefineCustomIntVariable("lambda.speed_memory",
							"Shared memory the speed layer may use.",
							"When a view's speed state would exceed it, inserts still succeed and the view answers through the exact slow path until a batch restores it.",
							&lambda_speed_memory,
							64 * 1024,
							1024,
							INT_MAX / 2,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lambda.workers",
							"Background workers that keep the speed layer, one per database.",
							NULL,
							&lambda_workers,
							2,
							1,
							64,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lambda.max_views",
							"Lambda views, over all databases, whose speed layer is kept in shared memory.",
							"Views beyond it answer through the exact slow path.",
							&lambda_max_views,
							64,
							1,
							10000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lambda.naptime",
							"Time a speed layer worker sleeps between rounds.",
							NULL,
							&lambda_naptime,
							100,
							1,
							60000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lambda.max_handoff",
							"Largest set of partial states a transaction hands to the speed layer for one view.",
							"A larger one is not stored: the view answers through the exact slow path until a batch covers it; the commit never fails.",
							&lambda_max_handoff,
							MaxAllocSize / 1024,
							8,
							MaxAllocSize / 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lambda.recovery_timeout",
							"Longest time a worker's recovery batch may run; 0 means no limit.",
							"A batch that takes longer is cancelled and retried later, so that one view cannot hold up the others' settling.",
							&lambda_recovery_timeout,
							600000,
							0,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomRealVariable("lambda.compact_threshold",
							 "Share of lambda.speed_memory a view's speed layer may take before its worker compacts it.",
							 "A compaction publishes the batch table merged with the speed layer as a new batch, without reading the master. 0 turns it off.",
							 &lambda_compact_threshold,
							 0.05,
							 0.0,
							 1.0,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
}
