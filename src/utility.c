/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  The ProcessUtility hook: refuse TRUNCATE of a master's partition, and
 *	  remove the cron jobs of all views before DROP EXTENSION lambda.
 *
 * A TRUNCATE aimed at a partition fires no trigger of the partitioned
 * master, and partitions attached later carry none of their own, so the
 * check is made here for every relation the statement names.
 *
 * Dropped views are otherwise forgotten by the extension's sql_drop event
 * trigger, but DROP EXTENSION drops that trigger before it could fire.
 * Unscheduling first, in the same transaction, leaves no job behind when
 * the drop succeeds and changes nothing when it fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "catalog.h"
#include "lambda.h"
#include "master.h"
#include "schedule.h"
#include "utility.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void lambda_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);
static bool DropsThisExtension(Node *parsetree);
static void UnscheduleAll(void);

void
UtilityInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = lambda_ProcessUtility;
}

static void
lambda_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, TruncateStmt) &&
		OidIsValid(get_extension_oid(LAMBDA_EXTENSION_NAME, true)))
	{
		ListCell   *lc;

		foreach(lc, ((TruncateStmt *) parsetree)->relations)
		{
			Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc),
												 NoLock, true);

			if (OidIsValid(relid))
				MasterCheckTruncate(relid);
		}
	}

	if (DropsThisExtension(parsetree))
		UnscheduleAll();

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * Is this DROP EXTENSION naming lambda, installed in this database?
 */
static bool
DropsThisExtension(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;

	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), LAMBDA_EXTENSION_NAME) == 0)
			return OidIsValid(get_extension_oid(LAMBDA_EXTENSION_NAME, true));
	}
	return false;
}

/*
 * Remove the cron jobs of every lambda view in this database.
 */
static void
UnscheduleAll(void)
{
	CatalogSavedUser save;
	SPITupleTable *jobs;
	uint64		njobs;
	uint64		i;
	int			ret;

	SPI_connect();
	CatalogBecomeOwner(&save);

	ret = SPI_execute("SELECT cron_jobid FROM lambda.view WHERE cron_jobid IS NOT NULL",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	jobs = SPI_tuptable;
	njobs = SPI_processed;
	for (i = 0; i < njobs; i++)
	{
		bool		isnull;

		ScheduleRemove(DatumGetInt64(SPI_getbinval(jobs->vals[i], jobs->tupdesc,
												   1, &isnull)));
	}

	CatalogRestoreUser(&save);
	SPI_finish();
}
