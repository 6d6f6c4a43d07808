/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  The ProcessUtility hook: refuse TRUNCATE of a master's partition.
 *
 * A TRUNCATE aimed at a partition fires no trigger of the partitioned
 * master, and partitions attached later carry none of their own, so the
 * check is made here for every relation the statement names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "lambda.h"
#include "master.h"
#include "utility.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void lambda_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);

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

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}
