/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Event triggers that keep the catalog and the cron jobs in step with
 *	  DDL on lambda views, masters and the extension itself.
 *
 *	- on_ddl_start (ddl_command_start, DROP EXTENSION and DROP SCHEMA):
 *	  removes every view's cron job before the extension or its schema is
 *	  dropped.  The other triggers are dropped with the extension, before
 *	  they could fire, so this one must act first.
 *	- on_ddl_end (ddl_command_end, ALTER and CREATE VIEW/TABLE): after a
 *	  lambda view changes owner, hands its batch table, its partial view and
 *	  its cron job to the new owner, so its batches keep running; refuses
 *	  CREATE OR REPLACE VIEW of a lambda view, whose definition must stay
 *	  the one both layers compute; gives a partition created or attached
 *	  under a master the capture triggers of the master's views.
 *	- on_sql_drop (sql_drop): forgets dropped views and masters, removes
 *	  the cron jobs of dropped views, and forgets all schedules when pg_cron
 *	  itself goes.
 *
 * They only touch the catalog and pg_cron, so unlike the SQL API they also
 * work when the library is not preloaded: a view dropped then must not
 * leave a job behind that fails every minute.  They run as the catalog
 * owner, since any role that may drop a view may have to clean up after it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog.h"
#include "lambda.h"
#include "schedule.h"

PG_FUNCTION_INFO_V1(on_ddl_start);
PG_FUNCTION_INFO_V1(on_ddl_end);
PG_FUNCTION_INFO_V1(on_sql_drop);

static EventTriggerData *CheckEventTrigger(FunctionCallInfo fcinfo, const char *name);
static bool DropsLambda(Node *parsetree);
static void RemoveJobs(const char *sql);
static void SyncOwner(Oid viewid);
static void CapturePartitions(void);

static EventTriggerData *
CheckEventTrigger(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s was not called by the event trigger manager", name)));
	return (EventTriggerData *) fcinfo->context;
}

/*
 * Does this DROP remove the extension or its schema?
 */
static bool
DropsLambda(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION && stmt->removeType != OBJECT_SCHEMA)
		return false;

	foreach(lc, stmt->objects)
	{
		const char *name = strVal(lfirst(lc));

		if (stmt->removeType == OBJECT_EXTENSION &&
			strcmp(name, LAMBDA_EXTENSION_NAME) == 0)
			return true;
		if (stmt->removeType == OBJECT_SCHEMA &&
			strcmp(name, LAMBDA_SCHEMA_NAME) == 0)
			return true;
	}
	return false;
}

/*
 * Remove the cron jobs whose ids the query returns.  Caller is connected to
 * SPI and acts as the catalog owner.
 */
static void
RemoveJobs(const char *sql)
{
	SPITupleTable *jobs;
	uint64		njobs;
	uint64		i;
	int			ret;

	ret = SPI_execute(sql, false, 0);
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
}

/*
 * Event trigger on ddl_command_start for DROP EXTENSION and DROP SCHEMA.
 */
Datum
on_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = CheckEventTrigger(fcinfo, "lambda.on_ddl_start()");
	CatalogSavedUser save;

	if (!DropsLambda(trigdata->parsetree))
		PG_RETURN_VOID();

	SPI_connect();
	CatalogBecomeOwner(&save);
	RemoveJobs("SELECT cron_jobid FROM lambda.view WHERE cron_jobid IS NOT NULL");
	CatalogRestoreUser(&save);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Hand a view's internal relations and cron job to the view's owner.
 */
static void
SyncOwner(Oid viewid)
{
	LambdaViewEntry entry;
	Oid			owner = RelationOwner(viewid);
	char	   *ownerName = GetUserNameFromId(owner, false);

	CatalogGetViewOrError(viewid, &entry);
	if (RelationOwner(entry.batchTable) != owner)
		SpiExec(psprintf("ALTER TABLE %s OWNER TO %s",
						 QualifiedRelationName(entry.batchTable),
						 quote_identifier(ownerName)));
	if (RelationOwner(entry.partialView) != owner)
		SpiExec(psprintf("ALTER VIEW %s OWNER TO %s",
						 QualifiedRelationName(entry.partialView),
						 quote_identifier(ownerName)));
	if (entry.cronJobId != 0)
		ScheduleSetOwner(entry.cronJobId, ownerName);
}

/*
 * Event trigger on ddl_command_end for ALTER TABLE, ALTER VIEW and
 * CREATE VIEW.
 */
Datum
on_ddl_end(PG_FUNCTION_ARGS)
{
	CatalogSavedUser save;
	SPITupleTable *views;
	uint64		nviews;
	uint64		i;
	int			ret;

	(void) CheckEventTrigger(fcinfo, "lambda.on_ddl_end()");

	SPI_connect();
	CatalogBecomeOwner(&save);

	ret = SPI_execute("SELECT DISTINCT v.view, c.command_tag = 'CREATE VIEW' "
					  "FROM pg_event_trigger_ddl_commands() c "
					  "JOIN lambda.view v ON c.classid = 'pg_class'::regclass "
					  "AND c.objid = v.view",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	views = SPI_tuptable;
	nviews = SPI_processed;
	for (i = 0; i < nviews; i++)
	{
		bool		isnull;
		Oid			viewid = DatumGetObjectId(SPI_getbinval(views->vals[i],
															views->tupdesc, 1, &isnull));

		if (DatumGetBool(SPI_getbinval(views->vals[i], views->tupdesc, 2, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot replace the definition of lambda view \"%s\"",
							get_rel_name(viewid)),
					 errdetail("Both layers of a lambda view compute the definition it was created with."),
					 errhint("Drop it with lambda.drop_view() and create it again with lambda.create_view().")));
		SyncOwner(viewid);
	}

	CapturePartitions();

	CatalogRestoreUser(&save);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Partitions created or attached under a master capture for its views:
 * statements aimed at them directly fire their own statement triggers only.
 * Caller is connected to SPI and acts as the catalog owner.
 */
static void
CapturePartitions(void)
{
	SPITupleTable *pairs;
	uint64		npairs;
	uint64		i;
	int			ret;

	/* ATTACH PARTITION names the parent: look at the whole tree below */
	ret = SPI_execute("SELECT DISTINCT v.view, p.relid "
					  "FROM pg_event_trigger_ddl_commands() c "
					  "CROSS JOIN LATERAL pg_partition_tree(c.objid) p "
					  "JOIN pg_class r ON r.oid = p.relid "
					  "CROSS JOIN LATERAL pg_partition_ancestors(p.relid) a "
					  "JOIN lambda.view v ON v.master = a.relid "
					  "WHERE c.classid = 'pg_class'::regclass AND r.relispartition "
					  "AND p.relid <> v.master",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	pairs = SPI_tuptable;
	npairs = SPI_processed;
	for (i = 0; i < npairs; i++)
	{
		bool		isnull;

		CaptureTriggerOn(DatumGetObjectId(SPI_getbinval(pairs->vals[i], pairs->tupdesc, 1, &isnull)),
						 DatumGetObjectId(SPI_getbinval(pairs->vals[i], pairs->tupdesc, 2, &isnull)));
	}
}

/*
 * Event trigger on sql_drop.
 */
Datum
on_sql_drop(PG_FUNCTION_ARGS)
{
	CatalogSavedUser save;

	(void) CheckEventTrigger(fcinfo, "lambda.on_sql_drop()");

	SPI_connect();
	CatalogBecomeOwner(&save);

	RemoveJobs("SELECT v.cron_jobid FROM lambda.view v "
			   "JOIN pg_event_trigger_dropped_objects() d "
			   "ON d.classid = 'pg_class'::regclass AND d.objid = v.view "
			   "AND d.objsubid = 0 "
			   "WHERE v.cron_jobid IS NOT NULL");
	SpiExec("DELETE FROM lambda.view v USING pg_event_trigger_dropped_objects() d "
			"WHERE d.classid = 'pg_class'::regclass AND d.objid = v.view "
			"AND d.objsubid = 0");
	SpiExec("DELETE FROM lambda.master m USING pg_event_trigger_dropped_objects() d "
			"WHERE d.classid = 'pg_class'::regclass AND d.objid = m.master "
			"AND d.objsubid = 0");
	SpiExec("UPDATE lambda.view SET schedule = NULL, cron_jobid = NULL "
			"WHERE cron_jobid IS NOT NULL AND EXISTS ("
			"SELECT FROM pg_event_trigger_dropped_objects() d "
			"WHERE d.object_type = 'extension' AND d.object_identity = 'pg_cron')");

	CatalogRestoreUser(&save);
	SPI_finish();
	PG_RETURN_VOID();
}
