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
 *	  lambda view changes owner, lets the new owner read its partial view
 *	  and runs its cron job as the new owner, so its batches keep running
 *	  (REASSIGN OWNED, which fires no event trigger, is followed by the
 *	  ProcessUtility hook, guard.c); refuses
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
 * owner, since any role that may drop a view may have to clean up after it,
 * and therefore run only qualified SQL under a pinned search_path
 * (identity.c): whoever runs the DDL chooses the search_path, and a type or
 * operator of theirs must never run with the owner's rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/deparse_utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "catalog.h"
#include "ddl.h"
#include "views.h"
#include "identity.h"
#include "lambda.h"
#include "schedule.h"
#include "viewdef.h"

LAMBDA_FUNCTION(lambda_on_ddl_start);
LAMBDA_FUNCTION(lambda_on_ddl_end);
LAMBDA_FUNCTION(lambda_on_sql_drop);

static void RefuseChangedFunctions(void);
static void RefreshStoredQueries(bool all);
static bool ChangesWhatRuns(Node *parsetree);
static EventTriggerData *CheckEventTrigger(FunctionCallInfo fcinfo, const char *name);
static bool DropsLambda(Node *parsetree);
static void ForEachValue(const char *sql, void (*fn) (Datum value));
static void RemoveJob(Datum jobid);
static void SyncOwnerOf(Datum viewid);
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
 * Call fn with the first column of every row the query returns.  Caller is
 * connected to SPI; fn may run SPI itself.
 */
static void
ForEachValue(const char *sql, void (*fn) (Datum value))
{
	SPITupleTable *rows;
	uint64		nrows;
	uint64		i;
	int			ret;

	ret = SPI_execute(sql, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (i = 0; i < nrows; i++)
	{
		bool		isnull;

		fn(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
	}
}

static void
RemoveJob(Datum jobid)
{
	ScheduleRemove(DatumGetInt64(jobid));
}

static void
SyncOwnerOf(Datum viewid)
{
	DdlSyncOwner(DatumGetObjectId(viewid));
}

/*
 * Event trigger on ddl_command_start for DROP EXTENSION and DROP SCHEMA.
 */
Datum
lambda_on_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = CheckEventTrigger(fcinfo, "lambda.on_ddl_start()");
	LambdaIdentity save;

	if (!DropsLambda(trigdata->parsetree))
		PG_RETURN_VOID();

	SPI_connect();
	IdentityBecomeCatalogOwner(&save);
	ForEachValue("SELECT cron_jobid FROM lambda.view WHERE cron_jobid IS NOT NULL",
				 RemoveJob);
	IdentityRestore(&save);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Follow a view's owner: the partial view, which the owner's batches and
 * slow path read, is readable by the owner alone, and the cron job runs as
 * the owner.  Caller is connected to SPI and acts as the catalog owner.
 */
void
DdlSyncOwner(Oid viewid)
{
	LambdaViewEntry entry;
	Oid			owner = IdentityRelationOwner(viewid);
	char	   *ownerName = GetUserNameFromId(owner, false);

	if (!CatalogGetView(viewid, &entry))
		return;
	if (ViewsPartialReader(entry.partialView) != owner)
		ViewsCheckNewOwner(viewid, entry.partialView, owner);
	ViewsGrantOnly(entry.partialView, owner);
	if (entry.cronJobId != 0)
		ScheduleSetOwner(entry.cronJobId, viewid, ownerName);
}

/*
 * Follow the owner of every view of this database (after REASSIGN OWNED,
 * which fires no event trigger).  Caller is connected to SPI.
 */
void
DdlSyncAllOwners(void)
{
	LambdaIdentity save;

	IdentityBecomeCatalogOwner(&save);
	ForEachValue("SELECT view FROM lambda.view", SyncOwnerOf);
	IdentityRestore(&save);
}

/*
 * Event trigger on ddl_command_end for ALTER TABLE, ALTER VIEW, CREATE
 * VIEW, CREATE TABLE, CREATE SCHEMA, CREATE AGGREGATE, CREATE FUNCTION,
 * ALTER FUNCTION and ALTER ROUTINE.
 */
Datum
lambda_on_ddl_end(PG_FUNCTION_ARGS)
{
	LambdaIdentity save;
	SPITupleTable *views;
	uint64		nviews;
	uint64		i;
	int			ret;

	EventTriggerData *trigdata = CheckEventTrigger(fcinfo, "lambda.on_ddl_end()");

	SPI_connect();
	IdentityBecomeCatalogOwner(&save);

	ret = SPI_execute("SELECT DISTINCT v.view, "
					  "c.command_tag OPERATOR(pg_catalog.=) 'CREATE VIEW' "
					  "FROM pg_catalog.pg_event_trigger_ddl_commands() c "
					  "JOIN lambda.view v "
					  "ON c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					  "AND c.objid OPERATOR(pg_catalog.=) v.view",
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

		/* the update script gives 0.1's views definitions of 0.2 */
		if (DatumGetBool(SPI_getbinval(views->vals[i], views->tupdesc, 2, &isnull)) &&
			!(creating_extension &&
			  CurrentExtensionObject == get_extension_oid(LAMBDA_EXTENSION_NAME, true)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot replace the definition of lambda view \"%s\"",
							get_rel_name(viewid)),
					 errdetail("Both layers of a lambda view compute the definition it was created with."),
					 errhint("Drop it with lambda.drop_view() and create it again with lambda.create_view().")));
		DdlSyncOwner(viewid);
	}

	CapturePartitions();
	if (trigdata->tag == CMDTAG_CREATE_AGGREGATE || trigdata->tag == CMDTAG_CREATE_FUNCTION ||
		trigdata->tag == CMDTAG_ALTER_FUNCTION || trigdata->tag == CMDTAG_ALTER_ROUTINE)
		RefuseChangedFunctions();
	if (strncmp(GetCommandTagName(trigdata->tag), "ALTER ", 6) == 0)
		RefreshStoredQueries(trigdata->tag == CMDTAG_ALTER_SCHEMA ||
							 trigdata->tag == CMDTAG_ALTER_EXTENSION);

	IdentityRestore(&save);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * What a lambda view's layers compute must not change under them: both
 * computed the states they keep with the functions as they were.  So
 * refuse, for a function the view's partial-state query calls (in its
 * filter, group keys, aggregate arguments) and for an aggregate it calls
 * with the aggregate's transition, combine, serialize and deserialize
 * functions:
 *
 *	- CREATE OR REPLACE AGGREGATE, which could give the aggregate another
 *	  state type or support functions (partial.c);
 *	- CREATE OR REPLACE FUNCTION;
 *	- ALTER FUNCTION (or ROUTINE) of its strictness, volatility, security
 *	  or settings.
 *
 * The partial view's rule depends on each function and aggregate it calls.
 * Functions used only in the view's select list over aggregates and HAVING
 * run when it is read, as in any view, and may change.  Caller is connected
 * to SPI and acts as the catalog owner.
 */
static void
RefuseChangedFunctions(void)
{
	uint64		i;
	int			ret;
	bool		isnull;

	/*
	 * An extension's update script may replace its own functions: the
	 * README asks for a batch of the views using them afterwards.
	 */
	if (creating_extension)
		return;

	ret = SPI_execute("SELECT DISTINCT ON (c.objid) v.view, c.objid, c.command_tag, c.command "
					  "FROM pg_catalog.pg_event_trigger_ddl_commands() c "
					  "JOIN pg_catalog.pg_depend d "
					  "ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass "
					  "AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
					  "JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid "
					  "JOIN lambda.view v ON v.partial_view OPERATOR(pg_catalog.=) r.ev_class "
					  "LEFT JOIN pg_catalog.pg_aggregate a ON a.aggfnoid OPERATOR(pg_catalog.=) d.refobjid "
					  "WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass "
					  "AND (d.refobjid OPERATOR(pg_catalog.=) c.objid "
					  "     OR c.objid OPERATOR(pg_catalog.=) ANY (ARRAY[a.aggtransfn::pg_catalog.oid, "
					  "        a.aggcombinefn::pg_catalog.oid, a.aggserialfn::pg_catalog.oid, "
					  "        a.aggdeserialfn::pg_catalog.oid]))",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Oid			viewid = DatumGetObjectId(SPI_getbinval(row, desc, 1, &isnull));
		Oid			funcid = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
		char	   *tag = SPI_getvalue(row, desc, 3);
		CollectedCommand *cmd = (CollectedCommand *) DatumGetPointer(SPI_getbinval(row, desc, 4, &isnull));

		if (strncmp(tag, "ALTER ", 6) == 0 && !ChangesWhatRuns(cmd->parsetree))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot change %s %s: lambda view \"%s\" uses it",
						strcmp(tag, "CREATE AGGREGATE") == 0 ? "aggregate" : "function",
						format_procedure(funcid), get_rel_name(viewid)),
				 errdetail("The view's layers keep partial states computed with it as it was."),
				 errhint("Drop the view with lambda.drop_view(), change the function, and create the view again.")));
	}
}

/*
 * A rename, or a move to another schema, of what a view reads (its master,
 * a column, a function, an aggregate, a type, a schema, an extension) does
 * not change what the view computes, whose layers name everything by OID.
 * But its stored query names them by name, and a restore reads it: deparse
 * the view's analyzed query again (viewdef.c), now with the new names, and
 * keep the text current.  Objects a view reads cannot be dropped under it.
 * Caller is connected to SPI and acts as the catalog owner.
 */
static void
RefreshStoredQueries(bool all)
{
	List	   *views = NIL;
	List	   *queries = NIL;
	List	   *trees = NIL;
	ListCell   *lv;
	ListCell   *lq;
	ListCell   *lt;
	uint64		i;
	int			nestLevel;
	bool		isnull;

	if (!CatalogHasQueryTrees())
		return;
	/*
	 * Only the views whose definition depends on what the command changed
	 * (their partial view's or their own rule does, through pg_depend: on a
	 * relation or column, a function, a type, a regclass or regconfig
	 * constant...): deparsing opens the relations a view reads, and an ALTER
	 * elsewhere must not wait for a lock on them.  Renaming a schema, or
	 * moving an extension's objects, changes names without touching what
	 * the rules depend on: then all.
	 */
	if (SPI_execute(all ?
					"SELECT view, query, query_tree FROM lambda.view "
					"WHERE query_tree IS NOT NULL" :
					"SELECT DISTINCT v.view, v.query, v.query_tree "
					"FROM lambda.view v "
					"JOIN pg_catalog.pg_rewrite r "
					"ON r.ev_class OPERATOR(pg_catalog.=) ANY (ARRAY[v.partial_view, v.view::pg_catalog.oid]) "
					"JOIN pg_catalog.pg_depend d "
					"ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
					"AND d.objid OPERATOR(pg_catalog.=) r.oid "
					"JOIN pg_catalog.pg_event_trigger_ddl_commands() c "
					"ON c.classid OPERATOR(pg_catalog.=) d.refclassid "
					"AND c.objid OPERATOR(pg_catalog.=) d.refobjid "
					"WHERE v.query_tree IS NOT NULL", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		views = lappend_oid(views, DatumGetObjectId(SPI_getbinval(row, desc, 1, &isnull)));
		queries = lappend(queries, SPI_getvalue(row, desc, 2));
		trees = lappend(trees, SPI_getvalue(row, desc, 3));
	}

	nestLevel = ViewDefPinSettings();
	forthree(lv, views, lq, queries, lt, trees)
	{
		char	   *query = ViewDefDeparseTree(lfirst(lt));

		if (strcmp(query, lfirst(lq)) != 0)
		{
			Oid			argtypes[2] = {TEXTOID, OIDOID};
			Datum		values[2];

			values[0] = CStringGetTextDatum(query);
			values[1] = ObjectIdGetDatum(lfirst_oid(lv));
			CatalogExec("UPDATE lambda.view SET query = $1 WHERE view = $2",
						2, argtypes, values, NULL);
		}
	}
	ViewDefUnpinSettings(nestLevel);
}

/*
 * Does an ALTER FUNCTION change what the function computes or as whom:
 * its strictness, volatility, security or settings?  (Its cost, rows,
 * support function, parallel safety and leakproofness do not.)
 */
static bool
ChangesWhatRuns(Node *parsetree)
{
	ListCell   *lc;

	if (!IsA(parsetree, AlterFunctionStmt))
		return false;			/* owner, name, schema, extension */
	foreach(lc, ((AlterFunctionStmt *) parsetree)->actions)
	{
		const char *name = lfirst_node(DefElem, lc)->defname;

		if (strcmp(name, "strict") == 0 || strcmp(name, "volatility") == 0 ||
			strcmp(name, "security") == 0 || strcmp(name, "set") == 0)
			return true;
	}
	return false;
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
	/*
	 * In the order of the partitions' OIDs: a restore creating their
	 * triggers at the same time takes them one by one (restore.c)
	 */
	ret = SPI_execute(psprintf("SELECT DISTINCT v.view, p.relid, %s "
							   "FROM pg_catalog.pg_event_trigger_ddl_commands() c "
							   "CROSS JOIN LATERAL pg_catalog.pg_partition_tree(c.objid) p "
							   "JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) p.relid "
							   "CROSS JOIN LATERAL pg_catalog.pg_partition_ancestors(p.relid) a "
							   "JOIN lambda.view v ON v.master OPERATOR(pg_catalog.=) a.relid "
							   "WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
							   "AND r.relispartition "
							   "AND p.relid OPERATOR(pg_catalog.<>) v.master "
							   "ORDER BY p.relid, v.view",
							   CatalogIdColumn("v")),
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	pairs = SPI_tuptable;
	npairs = SPI_processed;
	for (i = 0; i < npairs; i++)
	{
		bool		isnull;

		CaptureTriggerOn(DatumGetObjectId(SPI_getbinval(pairs->vals[i], pairs->tupdesc, 1, &isnull)),
						 DatumGetInt64(SPI_getbinval(pairs->vals[i], pairs->tupdesc, 3, &isnull)),
						 DatumGetObjectId(SPI_getbinval(pairs->vals[i], pairs->tupdesc, 2, &isnull)),
						 false);
	}
}

/*
 * Event trigger on sql_drop.
 */
Datum
lambda_on_sql_drop(PG_FUNCTION_ARGS)
{
	LambdaIdentity save;

	(void) CheckEventTrigger(fcinfo, "lambda.on_sql_drop()");

	SPI_connect();
	IdentityBecomeCatalogOwner(&save);

	ForEachValue("SELECT v.cron_jobid FROM lambda.view v "
				 "JOIN pg_catalog.pg_event_trigger_dropped_objects() d "
				 "ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
				 "AND d.objid OPERATOR(pg_catalog.=) v.view "
				 "AND d.objsubid OPERATOR(pg_catalog.=) 0 "
				 "WHERE v.cron_jobid IS NOT NULL", RemoveJob);
	SpiExec("DELETE FROM lambda.view v "
			"USING pg_catalog.pg_event_trigger_dropped_objects() d "
			"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
			"AND d.objid OPERATOR(pg_catalog.=) v.view "
			"AND d.objsubid OPERATOR(pg_catalog.=) 0");
	SpiExec("DELETE FROM lambda.master m "
			"USING pg_catalog.pg_event_trigger_dropped_objects() d "
			"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
			"AND d.objid OPERATOR(pg_catalog.=) m.master "
			"AND d.objsubid OPERATOR(pg_catalog.=) 0");
	SpiExec("UPDATE lambda.view SET schedule = NULL, cron_jobid = NULL "
			"WHERE cron_jobid IS NOT NULL AND EXISTS ("
			"SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() d "
			"WHERE d.object_type OPERATOR(pg_catalog.=) 'extension' "
			"AND d.object_identity OPERATOR(pg_catalog.=) 'pg_cron')");

	IdentityRestore(&save);
	SPI_finish();
	PG_RETURN_VOID();
}
