/*-------------------------------------------------------------------------
 *
 * views.c
 *	  The SQL API of lambda views: create_view, alter_schedule and drop_view.
 *
 * A lambda view is a set of objects created together, in the caller's
 * transaction, so a failed create_view leaves nothing behind:
 *
 *	- the user-facing view, named by the user and owned by the caller;
 *	- pg_lambda.partial_<id>, the partial-state query over the master;
 *	- pg_lambda.batch_<id>, the batch table, with an index on the group
 *	  keys;
 *	- the capture triggers on the master and its partitions;
 *	- its row in lambda.view, and its pg_cron job when it has a schedule.
 *
 * The id (catalog.c) names what a dump keeps; the OID, which a restore
 * changes, appears in no name, definition, trigger argument or job.
 *
 * The partial view and the batch table depend internally on the user-facing
 * view, as an index depends on its table: dropping the view drops them,
 * dropping them alone is refused.  They belong to the catalog owner; the
 * view's owner may read the partial view, nobody may change either but
 * through lambda (guard.c).  The view depends on the extension, so
 * DROP EXTENSION asks for CASCADE while views exist.  Event triggers (ddl.c)
 * keep the catalog and the cron jobs in step with whatever DDL does to them.
 *
 * The user-facing view answers through the exact slow path: the view's own
 * query, run on the master under the reader's snapshot.  The batch table is
 * kept by run_batch for the speed layer to merge with.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "rewrite/rewriteHandler.h"
#include "access/relation.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "executor/executor.h"
#include "storage/lmgr.h"

#include "batch.h"
#include "capture.h"
#include "layout.h"
#include "catalog.h"
#include "guard.h"
#include "identity.h"
#include "lambda.h"
#include "restore.h"
#include "schedule.h"
#include "serving.h"
#include "viewdef.h"
#include "views.h"

LAMBDA_FUNCTION(lambda_create_view);
LAMBDA_FUNCTION(lambda_alter_schedule);
LAMBDA_FUNCTION(lambda_drop_view);

static void CheckDefinePrivileges(LambdaViewDef *def);
static Oid	CreateUserView(RangeVar *rv, Oid nspid, LambdaViewDef *def);
static void CreateCaptureTriggers(Oid viewid, int64 id, Oid master);
static void CreateViewTrigger(Oid viewid, Oid relid, const char *name,
							  const char *enable,
							  const char *definition);
static void SetSchedule(Oid viewid, const char *schedule, int64 jobid);

/*
 * create_view(name text, query text, schedule text) returns regclass
 */
Datum
lambda_create_view(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	char	   *schedule = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	LambdaViewDef *def;
	LambdaViewEntry entry;
	Oid			viewid;
	Oid			batchTable;
	Oid			argtypes[6] = {OIDOID, OIDOID, OIDOID, OIDOID, TEXTOID, INT8OID};
	Datum		values[6];
	int64		id;
	bool		hasIds;
	RangeVar   *rv;
	Oid			nspid;
	int			nestLevel;

	LambdaCheckPreloaded();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name and the query of a lambda view must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));

	SPI_connect();

	/* The caller's search_path names the view and resolves the definition */
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	nspid = RangeVarGetCreationNamespace(rv);
	def = ViewDefAnalyze(query, false);
	CheckDefinePrivileges(def);

	/* Then every object is made from deparsed text, under pinned settings */
	nestLevel = ViewDefPinSettings();
	viewid = CreateUserView(rv, nspid, def);
	id = CatalogNextViewId(viewid);
	ViewsCreateInternalObjects(viewid, id, def, GetUserId());
	CreateCaptureTriggers(viewid, id, def->master);
	batchTable = get_relname_relid(CatalogInternalName("batch", id),
								   CatalogInternalNamespace());

	/*
	 * Now that its parts exist, the view becomes the merged view.  Its
	 * columns cannot change in the process: CREATE OR REPLACE VIEW checks
	 * that the merge gives exactly the query's column types.
	 */
	SpiExec(psprintf("CREATE OR REPLACE VIEW %s AS %s",
					 QualifiedRelationName(viewid),
					 ServingViewSql(def, id, batchTable)));

	/* The query as normalized, every name qualified: a restore reads it */
	hasIds = CatalogHasIds();	/* not at 0.1: see catalog.c */
	values[0] = ObjectIdGetDatum(viewid);
	values[1] = ObjectIdGetDatum(def->master);
	values[2] = ObjectIdGetDatum(batchTable);
	values[3] = ObjectIdGetDatum(get_relname_relid(CatalogInternalName("partial", id),
												   CatalogInternalNamespace()));
	values[4] = CStringGetTextDatum(hasIds ? def->querySql : query);
	values[5] = Int64GetDatum(id);
	CatalogExec(hasIds ?
				"INSERT INTO lambda.view (view, master, batch_table, partial_view, query, id) "
				"VALUES ($1, $2, $3, $4, $5, $6)" :
				"INSERT INTO lambda.view (view, master, batch_table, partial_view, query) "
				"VALUES ($1, $2, $3, $4, $5)",
				hasIds ? 6 : 5, argtypes, values, NULL);

	if (CatalogHasQueryTrees())
	{
		Oid			treeTypes[2] = {TEXTOID, OIDOID};
		Datum		treeValues[2];

		treeValues[0] = CStringGetTextDatum(ViewDefQueryTree(def));
		treeValues[1] = ObjectIdGetDatum(viewid);
		CatalogExec("UPDATE lambda.view SET query_tree = $1 WHERE view = $2",
					2, treeTypes, treeValues, NULL);
	}

	if (schedule != NULL)
		SetSchedule(viewid, schedule, 0);

	/* Publish the first batch, as CREATE MATERIALIZED VIEW fills its table */
	CatalogGetViewOrError(viewid, &entry);
	(void) RunBatch(&entry);

	ViewDefUnpinSettings(nestLevel);
	SPI_finish();
	PG_RETURN_OID(viewid);
}

/*
 * Defining a view takes what CREATE TRIGGER takes: its expressions run in
 * every writer's INSERT, as the writer, like a trigger function's.  And it
 * takes SELECT on the columns it reads, which its batches read as its
 * owner.
 */
static void
CheckDefinePrivileges(LambdaViewDef *def)
{
	AclResult	aclresult = pg_class_aclcheck(def->master, GetUserId(), ACL_TRIGGER);

	if (aclresult != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to define a lambda view over table \"%s\"",
						RelationDisplayName(def->master)),
				 errdetail("A lambda view's expressions run in every insert into its master, as a trigger's do."),
				 errhint("Ask the owner of the table to GRANT TRIGGER on it to you.")));
	if (!ExecCheckRTPerms(def->query->rtable, false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table \"%s\"",
						RelationDisplayName(def->master)),
				 errdetail("A lambda view's batches read the columns it uses as its owner."),
				 errhint("Ask the owner of the table to GRANT SELECT on it, or on the columns the view reads, to you.")));
}

/*
 * Create the user-facing view rv in schema nspid and return its OID.  Its
 * definition is the view's query as PostgreSQL normalized it: run on the
 * master under the reader's snapshot, it is exact by MVCC.
 */
static Oid
CreateUserView(RangeVar *rv, Oid nspid, LambdaViewDef *def)
{
	Oid			viewid;
	ObjectAddress viewAddr;
	ObjectAddress extAddr;

	if (rv->relpersistence == RELPERSISTENCE_TEMP || isTempNamespace(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a lambda view cannot be temporary")));

	SpiExec(psprintf("CREATE VIEW %s AS %s",
					 quote_qualified_identifier(get_namespace_name(nspid), rv->relname),
					 ViewDefQuerySql(def)));
	viewid = get_relname_relid(rv->relname, nspid);
	if (!OidIsValid(viewid))
		elog(ERROR, "view \"%s\" was not created", rv->relname);

	ObjectAddressSet(viewAddr, RelationRelationId, viewid);
	ObjectAddressSet(extAddr, ExtensionRelationId,
					 get_extension_oid(LAMBDA_EXTENSION_NAME, false));
	recordDependencyOn(&viewAddr, &extAddr, DEPENDENCY_NORMAL);
	return viewid;
}

/*
 * Create the partial view and the batch table of view viewid (id id),
 * owned by owner.  They live in the internal schema, apart from the API
 * that tools browsing "lambda" see, and belong to the catalog owner, so
 * that no role can alter, write or drop them but through lambda
 * (guard.c).  The partial view is security_invoker: the view's owner reads
 * it, for batches and the slow path, with the owner's own rights on the
 * master.
 */
void
ViewsCreateInternalObjects(Oid viewid, int64 id, LambdaViewDef *def, Oid owner)
{
	Oid			nspid = CatalogInternalNamespace();
	char	   *nspname = (char *) quote_identifier(get_namespace_name(nspid));
	char	   *partialName = CatalogInternalName("partial", id);
	char	   *batchName = CatalogInternalName("batch", id);
	char	   *partial = psprintf("%s.%s", nspname, partialName);
	char	   *batch = psprintf("%s.%s", nspname, batchName);
	char	   *keys = ViewDefKeyList(def);
	LambdaIdentity save;

	IdentityBecomeCatalogOwner(&save);
	GuardInternalExec(psprintf("CREATE VIEW %s WITH (security_invoker = true) AS %s",
							   partial, ViewDefPartialSql(def)));
	GuardInternalExec(psprintf("CREATE TABLE %s AS SELECT * FROM %s WITH NO DATA",
							   batch, partial));
	if (keys != NULL)
		GuardInternalExec(psprintf("CREATE INDEX ON %s (%s)", batch, keys));
	ViewsGrantOnly(get_relname_relid(batchName, nspid), InvalidOid);
	ViewsGrantOnly(get_relname_relid(partialName, nspid), owner);
	IdentityRestore(&save);

	ViewsRecordInternal(RelationRelationId, get_relname_relid(partialName, nspid), viewid);
	ViewsRecordInternal(RelationRelationId, get_relname_relid(batchName, nspid), viewid);
}

/*
 * A copy of relid's ACL, or NULL when it has the default privileges.
 */
static Acl *
RelationAcl(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Datum		acl;
	bool		isnull;
	Acl		   *copy = NULL;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	acl = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	if (!isnull)
		copy = DatumGetAclPCopy(acl);
	ReleaseSysCache(tuple);
	return copy;
}

/*
 * Leave relid (an internal relation, owned by the catalog owner) readable
 * by reader alone, or by nobody else with reader InvalidOid: revoke what
 * default privileges or an earlier owner of the view were given.  Caller
 * acts as the catalog owner.
 */
void
ViewsGrantOnly(Oid relid, Oid reader)
{
	char	   *name = QualifiedRelationName(relid);
	Oid			relowner = IdentityRelationOwner(relid);
	Acl		   *acl = RelationAcl(relid);
	bool		granted = false;
	List	   *revoke = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; acl != NULL && i < ACL_NUM(acl); i++)
	{
		AclItem    *item = &ACL_DAT(acl)[i];

		if (item->ai_grantee == relowner)
			continue;
		if (item->ai_grantee == reader && item->ai_privs == ACL_SELECT)
			granted = true;
		else if (!list_member_oid(revoke, item->ai_grantee))
			revoke = lappend_oid(revoke, item->ai_grantee);
	}

	foreach(lc, revoke)
	{
		Oid			grantee = lfirst_oid(lc);

		GuardInternalExec(psprintf("REVOKE ALL ON %s FROM %s", name,
								   grantee == ACL_ID_PUBLIC ? "PUBLIC" :
								   quote_identifier(GetUserNameFromId(grantee, false))));
	}
	if (OidIsValid(reader) && reader != relowner && !granted)
		GuardInternalExec(psprintf("GRANT SELECT ON %s TO %s", name,
								   quote_identifier(GetUserNameFromId(reader, false))));
}

/*
 * The role the partial view is granted to, that is the view's owner when
 * lambda last followed it (ViewsGrantOnly); the partial view's own owner
 * when it is granted to nobody.
 */
Oid
ViewsPartialReader(Oid partialView)
{
	Oid			relowner = IdentityRelationOwner(partialView);
	Oid			reader = relowner;
	Acl		   *acl = RelationAcl(partialView);
	int			i;

	for (i = 0; acl != NULL && i < ACL_NUM(acl); i++)
	{
		Oid			grantee = ACL_DAT(acl)[i].ai_grantee;

		if (grantee != relowner && grantee != ACL_ID_PUBLIC)
			reader = grantee;
	}
	return reader;
}

/* The type a domain is defined over (itself perhaps a domain) */
static Oid
DomainParent(Oid domain)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(domain));
	Oid			parent;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", domain);
	parent = ((Form_pg_type) GETSTRUCT(tuple))->typbasetype;
	ReleaseSysCache(tuple);
	return parent;
}

/* Collect the functions a node calls */
static bool
CollectFunction(Oid funcid, void *context)
{
	List	  **funcs = (List **) context;

	*funcs = list_append_unique_oid(*funcs, funcid);
	return false;
}

static bool
CollectFunctions(Node *node, void *context)
{
	if (node == NULL)
		return false;
	(void) check_functions_in_node(node, CollectFunction, context);

	/*
	 * An aggregate without specialised code is a constant of the partial
	 * view's query (lambda.partial_agg's first argument): count it, and the
	 * functions it runs, by their owners.
	 */
	if (IsA(node, Aggref))
	{
		LambdaStateKind kind;
		Oid			aggfnoid;

		if (AggregateStateKindOf((Aggref *) node, &kind, &aggfnoid) &&
			kind == LAMBDA_STATE_GENERIC)
		{
			ListCell   *lc;

			foreach(lc, AggregateFunctions(aggfnoid))
				(void) CollectFunction(lfirst_oid(lc), context);
		}
	}

	/*
	 * A domain's CHECK constraints run too, as its owner wrote them: count
	 * the domain (and the domains it is based on) by the functions of its
	 * constraints.
	 */
	if (IsA(node, CoerceToDomain))
	{
		Oid			type = ((CoerceToDomain *) node)->resulttype;

		while (get_typtype(type) == TYPTYPE_DOMAIN)
		{
			Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
			ScanKeyData key;
			SysScanDesc scan;
			HeapTuple	tuple;

			ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(type));
			scan = systable_beginscan(rel, ConstraintTypidIndexId, true, NULL, 1, &key);
			while (HeapTupleIsValid(tuple = systable_getnext(scan)))
			{
				bool		isnull;
				Datum		bin = heap_getattr(tuple, Anum_pg_constraint_conbin,
											   RelationGetDescr(rel), &isnull);

				if (!isnull)
					(void) CollectFunctions(stringToNode(TextDatumGetCString(bin)), context);
			}
			systable_endscan(scan);
			table_close(rel, AccessShareLock);
			type = DomainParent(type);
		}
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CollectFunctions, context, 0);
	return expression_tree_walker(node, CollectFunctions, context);
}

/*
 * Refuse to make owner the owner of a lambda view whose code includes a
 * function of a third role: the view's batches, slow path and settling run
 * as its owner (identity.c), so that role's code would run with owner's
 * rights, a superuser's say, without anyone calling it.  Functions of
 * superusers (PostgreSQL's own, extensions') and of owner are fine.
 */
void
ViewsCheckNewOwner(Oid viewid, Oid partialView, Oid owner)
{
	Relation	partial = relation_open(partialView, AccessShareLock);
	LambdaLayout *layout = LayoutGet(viewid);
	List	   *funcs = NIL;
	ListCell   *lc;
	int			i;

	(void) query_tree_walker(get_view_query(partial), CollectFunctions, &funcs, 0);
	relation_close(partial, AccessShareLock);
	for (i = 0; i < layout->desc->natts; i++)
	{
		FmgrInfo   *fns[3] = {&layout->hashFn[i], &layout->eqFn[i], &layout->mergeFn[i]};
		int			j;

		for (j = 0; j < 3; j++)
		{
			if (OidIsValid(fns[j]->fn_oid))
				funcs = list_append_unique_oid(funcs, fns[j]->fn_oid);
		}
	}

	foreach(lc, funcs)
	{
		Oid			funcid = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
		Oid			funcOwner;

		if (!HeapTupleIsValid(tuple))
			continue;
		funcOwner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
		ReleaseSysCache(tuple);
		if (funcOwner == owner || superuser_arg(funcOwner))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make role \"%s\" the owner of lambda view \"%s\"",
						GetUserNameFromId(owner, false), get_rel_name(viewid)),
				 errdetail("The view runs function %s of role \"%s\", which would then run with the rights of \"%s\" whenever a batch, a slow-path read or a worker runs it.",
						   format_procedure(funcid), GetUserNameFromId(funcOwner, false),
						   GetUserNameFromId(owner, false)),
				 errhint("Give the function to the new owner too, or drop the view and let the new owner create it.")));
	}
}

/*
 * Create the triggers that capture the rows inserted into the master for
 * this view (capture.c), as internal parts of the view.  A partition gets
 * its own statement trigger, for statements aimed at it directly.  The
 * triggers are the extension's, created as the catalog owner (the trigger
 * functions are not PUBLIC); the caller's TRIGGER privilege on the master
 * was checked (CheckDefinePrivileges).
 */
static void
CreateCaptureTriggers(Oid viewid, int64 id, Oid master)
{
	List	   *rels = find_all_inheritors(master, NoLock, NULL);
	char	   *rowName = CatalogInternalName("lambda_capture_row", id);
	ListCell   *lc;
	LambdaIdentity save;

	IdentityBecomeCatalogOwner(&save);
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);

		if (relid == master || get_rel_relispartition(relid))
			CaptureTriggerOn(viewid, id, relid, true);
	}

	/*
	 * The logical replication apply worker fires row triggers only, and
	 * runs as session_replication_role = replica: this one captures for it,
	 * fires in no other session but one with that role (where it does
	 * nothing), and is cloned onto every partition.  A WHEN condition would
	 * cost every insert its evaluation.
	 */
	CreateViewTrigger(viewid, master, rowName, "REPLICA",
					  psprintf("AFTER INSERT ON %s FOR EACH ROW "
							   "EXECUTE FUNCTION lambda.capture_row('" INT64_FORMAT "')",
							   QualifiedRelationName(master), id));
	IdentityRestore(&save);
}

/*
 * Create trigger name on relid, "CREATE TRIGGER name <definition>", enabled
 * as "ENABLE <enable> TRIGGER" says (ALWAYS or REPLICA), as an internal
 * part of the view.
 */
static void
CreateViewTrigger(Oid viewid, Oid relid, const char *name, const char *enable,
				  const char *definition)
{
	GuardInternalExec(psprintf("CREATE TRIGGER %s %s", name, definition));
	GuardInternalExec(psprintf("ALTER TABLE %s ENABLE %s TRIGGER %s",
					 QualifiedRelationName(relid), enable, name));
	ViewsRecordInternal(TriggerRelationId, get_trigger_oid(relid, name, false), viewid);
}

/*
 * Give relid (the master or one of its partitions) the statement trigger
 * that captures for viewid (id id), unless it has it.  Caller acts as the
 * catalog owner.  Without wait, a partition another transaction holds is
 * left alone: only a restore making that very trigger holds a partition
 * that already existed (a partition being created or attached is the
 * caller's), and lambda would deadlock with it.
 */
void
CaptureTriggerOn(Oid viewid, int64 id, Oid relid, bool wait)
{
	char	   *name = CatalogInternalName("lambda_capture", id);
	bool		exists;

	/* a restore may be creating it: wait for it, then look (restore.c) */
	if (wait)
		LockRelationOid(relid, ShareRowExclusiveLock);
	else if (!ConditionalLockRelationOid(relid, ShareRowExclusiveLock))
		return;
	if (OidIsValid(RestoreViewTrigger(relid, name, id, false, &exists)))
		return;
	if (exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("trigger \"%s\" of table \"%s\" is not lambda's capture trigger",
						name, RelationDisplayName(relid)),
				 errdetail("Lambda view \"%s\" needs that name for its capture trigger.",
						   get_rel_name(viewid)),
				 errhint("Rename or drop that trigger.")));
	CreateViewTrigger(viewid, relid, name, "ALWAYS",
					  psprintf("AFTER INSERT ON %s "
							   "REFERENCING NEW TABLE AS " LAMBDA_CAPTURE_TABLE " "
							   "FOR EACH STATEMENT EXECUTE FUNCTION lambda.capture('" INT64_FORMAT "')",
							   QualifiedRelationName(relid), id));
}

/*
 * Make object objectId of catalog classId (a relation or a trigger) an
 * internal part of view viewid: dropped with it, never alone.
 */
void
ViewsRecordInternal(Oid classId, Oid objectId, Oid viewid)
{
	ObjectAddress part;
	ObjectAddress whole;

	ObjectAddressSet(part, classId, objectId);
	ObjectAddressSet(whole, RelationRelationId, viewid);
	recordDependencyOn(&part, &whole, DEPENDENCY_INTERNAL);
}

/*
 * Set, change or (schedule NULL) remove the cron job of a view and record
 * it.  jobid is the view's current job, or 0.
 */
static void
SetSchedule(Oid viewid, const char *schedule, int64 jobid)
{
	Oid			argtypes[3] = {OIDOID, TEXTOID, INT8OID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (schedule == NULL)
	{
		if (jobid != 0)
			ScheduleRemove(jobid);
		jobid = 0;
	}
	else if (jobid != 0 && ScheduleJobExists(jobid))
		ScheduleAlter(jobid, schedule);
	else
		jobid = ScheduleCreate(viewid, schedule);

	values[0] = ObjectIdGetDatum(viewid);
	if (schedule != NULL)
		values[1] = CStringGetTextDatum(schedule);
	else
		nulls[1] = 'n';
	values[2] = Int64GetDatum(jobid);
	if (jobid == 0)
		nulls[2] = 'n';
	CatalogExec("UPDATE lambda.view SET schedule = $2, cron_jobid = $3 "
				"WHERE view OPERATOR(pg_catalog.=) $1",
				3, argtypes, values, nulls);
}

/*
 * alter_schedule(view regclass, schedule text) returns void
 */
Datum
lambda_alter_schedule(PG_FUNCTION_ARGS)
{
	Oid			viewid;
	LambdaViewEntry entry;

	LambdaCheckPreloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the view must not be null")));
	viewid = PG_GETARG_OID(0);

	SPI_connect();
	CatalogGetViewOrError(viewid, &entry);
	CheckViewOwner(viewid);
	SetSchedule(viewid,
				PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
				entry.cronJobId);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * drop_view(view regclass, cascade boolean) returns void
 *
 * An ordinary DROP VIEW does the same; this checks that the view is a lambda
 * view first.
 */
Datum
lambda_drop_view(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);
	bool		cascade = PG_GETARG_BOOL(1);
	LambdaViewEntry entry;

	LambdaCheckPreloaded();
	SPI_connect();
	CatalogGetViewOrError(viewid, &entry);
	CheckViewOwner(viewid);
	SpiExec(psprintf("DROP VIEW %s %s", QualifiedRelationName(viewid),
					 cascade ? "CASCADE" : "RESTRICT"));
	SPI_finish();
	PG_RETURN_VOID();
}
