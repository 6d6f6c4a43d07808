/*-------------------------------------------------------------------------
 *
 * lambda.c
 *	  Entry point of the lambda extension: module initialization and the
 *	  check that the library was preloaded.
 *
 * The library must be in shared_preload_libraries: the speed layer lives in
 * shared memory requested at postmaster start and is kept by background
 * workers registered there.  Loaded any other way, _PG_init does nothing and
 * every SQL entry point refuses to run, so a half-initialized extension can
 * never answer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "capture.h"
#include "guc.h"
#include "lambda.h"
#include "lookup.h"
#include "shmem.h"
#include "guard.h"
#include "worker.h"

PG_MODULE_MAGIC;

bool		lambda_preloaded = false;

PGDLLEXPORT void _PG_init(void);

LAMBDA_FUNCTION(lambda_check_preloaded);

/*
 * Module load callback
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	lambda_preloaded = true;

	GucInit();
	ShmemInit();
	CaptureInit();
	LookupInit();
	GuardInit();
	WorkerInit();

	MarkGUCPrefixReserved("lambda");
}

/*
 * Raise an error unless the library was preloaded.  Every SQL entry point
 * calls this first.
 */
void
LambdaCheckPreloaded(void)
{
	if (!lambda_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lambda must be loaded via \"shared_preload_libraries\""),
				 errhint("Add lambda to \"shared_preload_libraries\" in postgresql.conf and restart the server.")));
}

/*
 * SQL-callable form of the check, run by the install script so that
 * CREATE EXTENSION itself fails without the preload.
 */
Datum
lambda_check_preloaded(PG_FUNCTION_ARGS)
{
	LambdaCheckPreloaded();
	PG_RETURN_VOID();
}
