/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  Lambda views through pg_dump and a restore.
 *
 * What a dump holds of a lambda view, and in which order a restore
 * (pg_restore, or psql with a plain dump) brings it back:
 *
 *	1. pre-data: CREATE EXTENSION lambda (an empty catalog), the master,
 *	   and the user-facing view, whose definition reads lambda.serve(<id>):
 *	   the view's id, not its OID, which the restore changes;
 *	2. data: the master's rows, and the catalog's (lambda.master and
 *	   lambda.view, marked with pg_extension_config_dump; the view and its
 *	   master by name, as regclass prints them);
 *	3. post-data: the master's triggers, lambda's among them
 *	   (lambda_capture_<id> and lambda_capture_row_<id>, whose argument is
 *	   the view's id), and the grants.
 *
 * A view's batch table and partial view are not in the dump: they live in
 * pg_lambda, a schema pg_dump leaves out as it leaves out every "pg_"
 * schema.  When a catalog row arrives without them (step 2), a trigger on
 * lambda.view makes them anew from the row's query, and writes their new
 * OIDs into the row.  When a capture trigger arrives (step 3), the
 * ProcessUtility hook makes it an internal part of its view again, as
 * create_view did; the dump cannot say so.  A parallel restore (pg_restore
 * -j) orders only what depends on what: it may load lambda.view before
 * lambda.master, and create a master's triggers once the master's rows are
 * in, before the catalog's; whichever of a view's row and its triggers
 * comes second links them.
 *
 * The restored view answers through the exact slow path until a batch
 * publishes: its speed layer starts out lost (shmem.c), and the worker
 * runs the recovery batch by itself, but only once every capture trigger
 * of the view is in place (RestoreCaptureInPlace).  A batch run before,
 * between steps 2 and 3, would be followed by rows that no trigger
 * captured, and the fast path would miss them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "identity.h"
#include "lambda.h"
#include "restore.h"
#include "shmem.h"
#include "viewdef.h"
#include "views.h"

LAMBDA_FUNCTION(lambda_on_view_restore);
LAMBDA_FUNCTION(lambda_normalized_query);
LAMBDA_FUNCTION(lambda_query_tree);

static bool InternalRelationsInPlace(int64 id, Oid batchTable, Oid partialView);
static bool IsNamed(Oid relid, const char *name);
static int	Column(TupleDesc desc, const char *name);
static HeapTuple RestoreRow(TriggerData *trigdata);
static Oid	RowView(TriggerData *trigdata);
static bool RowInPlace(TriggerData *trigdata);
static LambdaViewDef *AnalyzeAsRestore(const char *query);
static Datum AnalyzeStoredQuery(FunctionCallInfo fcinfo, bool asRestore);
static void RestoreLinkTriggers(Oid viewid, int64 id, Oid master);

/*
 * on_view_restore() returns trigger: BEFORE INSERT FOR EACH ROW on
 * lambda.view.
 *
 * create_view inserts a row whose internal relations it just made: that
 * row passes.  Any other row is a restore's (only the catalog owner may
 * write the catalog): its relations are made anew, and the row records
 * them.  What the row says of the last batch described the dumped
 * database's batch table; the new one is empty until a batch.
 */
Datum
lambda_on_view_restore(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	HeapTuple	volatile result = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lambda.on_view_restore() must be fired BEFORE INSERT FOR EACH ROW")));

	/* create_view's own row */
	if (RowInPlace(trigdata))
		return PointerGetDatum(trigdata->tg_trigtuple);

	/*
	 * A row that cannot be restored loses its own view, with a warning, not
	 * every view of the dump: one failed row would fail the COPY of the
	 * whole catalog.
	 */
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		result = RestoreRow(trigdata);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("lambda view \"%s\" was not restored: %s",
						RelationDisplayName(RowView(trigdata)), edata->message),
				 errdetail("The rows of its master are restored; reading the view fails until it is defined again."),
				 errhint("Drop the view and create it again with lambda.create_view().")));
		FreeErrorData(edata);
		return PointerGetDatum(NULL);
	}
	PG_END_TRY();
	return PointerGetDatum(result);
}

/*
 * Does the row name internal relations that exist under its id's names?
 */
static bool
RowInPlace(TriggerData *trigdata)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	HeapTuple	tuple = trigdata->tg_trigtuple;
	bool		isnull;

	return InternalRelationsInPlace(DatumGetInt64(heap_getattr(tuple, Column(desc, "id") + 1,
															   desc, &isnull)),
									DatumGetObjectId(heap_getattr(tuple, Column(desc, "batch_table") + 1,
																  desc, &isnull)),
									DatumGetObjectId(heap_getattr(tuple, Column(desc, "partial_view") + 1,
																  desc, &isnull)));
}

/*
 * The view a catalog row names.
 */
static Oid
RowView(TriggerData *trigdata)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	bool		isnull;

	return DatumGetObjectId(heap_getattr(trigdata->tg_trigtuple, Column(desc, "view") + 1,
										 desc, &isnull));
}

/*
 * on_view_restore's work on one row: the row to insert.
 */
static HeapTuple
RestoreRow(TriggerData *trigdata)
{
	TupleDesc	desc;
	HeapTuple	tuple;
	Datum	   *values;
	bool	   *isnull;
	bool	   *replace;
	Oid			viewid;
	int64		id;
	Oid			master;
	Oid			owner;
	char	   *query;
	LambdaViewDef *def;
	ObjectAddress viewAddr;
	ObjectAddress extAddr;
	int			nestLevel;
	int			i;
	const char *reset[] = {"batch_started", "batch_finished", "batch_duration",
	"batch_groups", "batch_snapshot"};


	tuple = trigdata->tg_trigtuple;
	desc = RelationGetDescr(trigdata->tg_relation);
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	replace = palloc0(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, values, isnull);

	viewid = DatumGetObjectId(values[Column(desc, "view")]);
	id = DatumGetInt64(values[Column(desc, "id")]);
	master = DatumGetObjectId(values[Column(desc, "master")]);
	if (InternalRelationsInPlace(id,
								 DatumGetObjectId(values[Column(desc, "batch_table")]),
								 DatumGetObjectId(values[Column(desc, "partial_view")])))
		return tuple;

	if (get_rel_relkind(viewid) != RELKIND_VIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot restore lambda view \"%s\": it is not a view",
						RelationDisplayName(viewid))));
	query = TextDatumGetCString(values[Column(desc, "query")]);
	owner = IdentityRelationOwner(viewid);

	/*
	 * The query was stored normalized, every name qualified: read it under
	 * the pinned settings.  Not as the view's owner: a restore grants rights
	 * last, so the owner may not yet have USAGE on a schema the query
	 * names.  As the catalog owner, restricted: parsing runs no code of the
	 * owner's (functions run when the view is read, not when it is parsed;
	 * only the input functions of base types, which only a superuser can
	 * make, run on the query's constants).  The master may not be
	 * registered yet either: a parallel restore loads lambda.master and
	 * lambda.view in any order.
	 */
	SPI_connect();
	nestLevel = ViewDefPinSettings();
	def = AnalyzeAsRestore(query);
	if (def->master != master)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot restore lambda view \"%s\": its query reads \"%s\", not its master \"%s\"",
						RelationDisplayName(viewid), RelationDisplayName(def->master),
						RelationDisplayName(master))));
	ViewsCreateInternalObjects(viewid, id, def, owner);
	RestoreLinkTriggers(viewid, id, master);
	SharedWantDatabase(MyDatabaseId);

	/* DROP EXTENSION asks for CASCADE while views exist, as before the dump */
	ObjectAddressSet(viewAddr, RelationRelationId, viewid);
	ObjectAddressSet(extAddr, ExtensionRelationId,
					 get_extension_oid(LAMBDA_EXTENSION_NAME, false));
	recordDependencyOn(&viewAddr, &extAddr, DEPENDENCY_NORMAL);

	values[Column(desc, "batch_table")] =
		ObjectIdGetDatum(get_relname_relid(CatalogInternalName("batch", id),
										   CatalogInternalNamespace()));
	values[Column(desc, "partial_view")] =
		ObjectIdGetDatum(get_relname_relid(CatalogInternalName("partial", id),
										   CatalogInternalNamespace()));
	replace[Column(desc, "batch_table")] = true;
	replace[Column(desc, "partial_view")] = true;
	/* the dumped tree names the dumped database's OIDs: analyzed anew */
	if (CatalogHasQueryTrees())
	{
		values[Column(desc, "query_tree")] = CStringGetTextDatum(ViewDefQueryTree(def));
		isnull[Column(desc, "query_tree")] = false;
		replace[Column(desc, "query_tree")] = true;
	}
	for (i = 0; i < lengthof(reset); i++)
	{
		isnull[Column(desc, reset[i])] = true;
		replace[Column(desc, reset[i])] = true;
	}
	ViewDefUnpinSettings(nestLevel);
	SPI_finish();

	return heap_modify_tuple(tuple, desc, values, isnull, replace);
}

/*
 * Does the row name internal relations that exist, in the internal
 * schema, under the names of view id?  Only create_view's rows do: the
 * relations of a dumped database are not in its dump.
 */
static bool
InternalRelationsInPlace(int64 id, Oid batchTable, Oid partialView)
{
	return IsNamed(batchTable, CatalogInternalName("batch", id)) &&
		IsNamed(partialView, CatalogInternalName("partial", id));
}

static bool
IsNamed(Oid relid, const char *name)
{
	char	   *relname = get_rel_name(relid);

	return relname != NULL && strcmp(relname, name) == 0 &&
		get_rel_namespace(relid) == CatalogInternalNamespace();
}

/* Index of lambda.view's column name in desc */
static int
Column(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	elog(ERROR, "lambda.view has no column \"%s\"", name);
	return -1;					/* keep compiler quiet */
}

/*
 * A CREATE TRIGGER of lambda.capture or lambda.capture_row, which only a
 * restore runs (lambda makes its own through GuardInternalExec): check that
 * the trigger is what lambda would have made, on the view's master or one
 * of its partitions, and make it an internal part of its view again.
 * Then the view's worker may rebuild its speed layer.  Caller is connected
 * to SPI; the trigger exists.
 */
void
RestoreAdoptTrigger(CreateTrigStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, false);
	Oid			funcid = LookupFuncName(stmt->funcname, 0, NULL, false);
	bool		row = strcmp(get_func_name(funcid), "capture_row") == 0;
	const char *arg;
	int64		id = 0;
	Oid			viewid = InvalidOid;
	LambdaViewEntry entry;
	char	   *name;

	arg = list_length(stmt->args) == 1 ? strVal(linitial(stmt->args)) : NULL;
	if (arg != NULL)
	{
		char	   *end;

		errno = 0;
		id = strtoi64(arg, &end, 10);
		if (errno == 0 && end != arg && *end == '\0' && id > 0)
		{
			/*
			 * A catalog row committed while this statement waited for its
			 * table (see RestoreLinkTriggers) is seen by a new snapshot.
			 */
			PushActiveSnapshot(GetLatestSnapshot());
			viewid = CatalogViewById(id);
			PopActiveSnapshot();
		}
		else
			id = 0;
	}

	/*
	 * A parallel restore may create the triggers before it loads the
	 * catalog: a superuser's (restores are) wait for their view's row,
	 * which makes them parts of the view (RestoreLinkTriggers).
	 */
	if (!OidIsValid(viewid) && id > 0 && superuser() &&
		strcmp(stmt->trigname, CatalogInternalName(row ? "lambda_capture_row" : "lambda_capture", id)) == 0)
		return;
	if (!OidIsValid(viewid) || !CatalogGetView(viewid, &entry))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create trigger \"%s\": its argument names no lambda view",
						stmt->trigname),
				 errdetail("lambda.%s() captures rows for the lambda view whose id is its argument.",
						   get_func_name(funcid)),
				 errhint("Lambda views make their own capture triggers.")));

	name = CatalogInternalName(row ? "lambda_capture_row" : "lambda_capture", id);
	if (strcmp(stmt->trigname, name) != 0 ||
		(relid != entry.master &&
		 !(get_rel_relispartition(relid) &&
		   list_member_oid(get_partition_ancestors(relid), entry.master))))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create trigger \"%s\" on table \"%s\"",
						stmt->trigname, RelationDisplayName(relid)),
				 errdetail("The capture triggers of lambda view \"%s\" are called \"%s\" and fire on its master \"%s\" and its partitions.",
						   RelationDisplayName(viewid), name, RelationDisplayName(entry.master)),
				 errhint("Lambda views make their own capture triggers.")));

	ViewsRecordInternal(TriggerRelationId, get_trigger_oid(relid, stmt->trigname, false), viewid);
	SharedWantDatabase(MyDatabaseId);
}

/*
 * Make the capture triggers of view viewid (id id, over master) that a
 * parallel restore created before the view's catalog row internal parts of
 * the view, as RestoreAdoptTrigger does for those created after it.  Only
 * triggers that are exactly lambda's count: on the master or a partition,
 * with lambda's name, function and argument.  Clones of the row trigger
 * on partitions depend on the master's already.
 */
static void
RestoreLinkTriggers(Oid viewid, int64 id, Oid master)
{
	char	   *statementName = CatalogInternalName("lambda_capture", id);
	char	   *rowName = CatalogInternalName("lambda_capture_row", id);
	ListCell   *lc;

	/*
	 * CREATE TRIGGER holds its table in ShareRowExclusiveLock until it
	 * commits, and so does this, on the master and every partition: one
	 * waits for the other, and the second sees what the first made.
	 */
	LockRelationOid(master, ShareRowExclusiveLock);
	foreach(lc, find_all_inheritors(master, ShareRowExclusiveLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);
		Oid			trigid;

		if (relid != master && !get_rel_relispartition(relid))
			continue;
		trigid = RestoreViewTrigger(relid, statementName, id, false, NULL);
		if (OidIsValid(trigid))
			ViewsRecordInternal(TriggerRelationId, trigid, viewid);
		trigid = relid == master ? RestoreViewTrigger(relid, rowName, id, true, NULL) : InvalidOid;
		if (OidIsValid(trigid))
			ViewsRecordInternal(TriggerRelationId, trigid, viewid);
	}
}

/*
 * Does the capture trigger stmt would create exist already, the same?  A
 * restore creates a partitioned master's capture trigger, then enables it,
 * and that ALTER TABLE gives the partitions theirs (ddl.c) before the
 * restore comes to them: creating them again is then nothing to do.
 */
bool
RestoreTriggerExists(CreateTrigStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			funcid = LookupFuncName(stmt->funcname, 0, NULL, false);
	Relation	rel;
	TriggerDesc *trigdesc;
	bool		same = false;
	int			i;

	if (!OidIsValid(relid) || stmt->replace || list_length(stmt->args) != 1)
		return false;
	rel = relation_open(relid, AccessShareLock);
	trigdesc = rel->trigdesc;
	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, stmt->trigname) == 0)
			same = trigger->tgfoid == funcid && trigger->tgnargs == 1 &&
				strcmp(trigger->tgargs[0], strVal(linitial(stmt->args))) == 0;
	}
	relation_close(rel, AccessShareLock);
	return same;
}

/*
 * The capture trigger of view id called name on relid, as lambda makes it:
 * lambda.capture (row: lambda.capture_row) with the id as its argument; or
 * InvalidOid.  Told by function and argument, not by the name alone, which
 * anyone with TRIGGER on the table could have given a trigger of theirs.
 * Sets *exists (unless NULL) when relid has a trigger called name at all.
 */
Oid
RestoreViewTrigger(Oid relid, const char *name, int64 id, bool row, bool *exists)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	/* a copy: the look-ups below may take in an invalidation of rel */
	TriggerDesc *trigdesc = CopyTriggerDesc(rel->trigdesc);
	Oid			nsp = get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
	char	   *arg = psprintf(INT64_FORMAT, id);
	Oid			result = InvalidOid;
	int			i;

	if (exists != NULL)
		*exists = false;
	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, name) != 0)
			continue;
		if (exists != NULL)
			*exists = true;
		if (trigger->tgnargs == 1 && strcmp(trigger->tgargs[0], arg) == 0 &&
			get_func_namespace(trigger->tgfoid) == nsp &&
			strcmp(get_func_name(trigger->tgfoid), row ? "capture_row" : "capture") == 0)
			result = trigger->tgoid;
	}
	FreeTriggerDesc(trigdesc);
	relation_close(rel, AccessShareLock);
	return result;
}

/*
 * Is the statement a CREATE TRIGGER of one of lambda's capture functions?
 */
bool
RestoreIsCaptureTrigger(CreateTrigStmt *stmt)
{
	Oid			funcid = LookupFuncName(stmt->funcname, 0, NULL, true);
	char	   *name;

	if (!OidIsValid(funcid) ||
		get_func_namespace(funcid) != get_namespace_oid(LAMBDA_SCHEMA_NAME, true))
		return false;
	name = get_func_name(funcid);
	return strcmp(name, "capture") == 0 || strcmp(name, "capture_row") == 0;
}

/*
 * Has view id, over master, every capture trigger it needs: the statement
 * trigger on the master and on each of its partitions, and the row trigger
 * on the master?  Not between a restore's data and its triggers.
 */
bool
RestoreCaptureInPlace(int64 id, Oid master)
{
	char	   *statement = CatalogInternalName("lambda_capture", id);
	ListCell   *lc;

	if (!OidIsValid(RestoreViewTrigger(master, CatalogInternalName("lambda_capture_row", id),
									   id, true, NULL)))
		return false;
	foreach(lc, find_all_inheritors(master, AccessShareLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);

		if ((relid == master || get_rel_relispartition(relid)) &&
			!OidIsValid(RestoreViewTrigger(relid, statement, id, false, NULL)))
			return false;
	}
	return true;
}

/*
 * A stored query analyzed as a restore reads it: as the catalog owner,
 * restricted, under the pinned settings, which the caller has set (see
 * RestoreRow for why).
 */
static LambdaViewDef *
AnalyzeAsRestore(const char *query)
{
	LambdaIdentity save;
	LambdaViewDef *def;

	IdentityBecomeCatalogOwner(&save);
	SetUserIdAndSecContext(GetUserId(), save.secContext |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	def = ViewDefAnalyze(query, true);
	IdentityRestore(&save);
	return def;
}

/*
 * What the update scripts make of view viewid's stored query, analyzed in a
 * subtransaction: as 0.1 stored it (asRestore false: as the view's owner,
 * restricted, under the master's schema and public), the query normalized
 * as create_view stores it now; or as a restore reads it (asRestore true),
 * the analyzed tree 0.3 keeps.  NULL when the analysis fails or reads
 * another master.
 */
static Datum
AnalyzeStoredQuery(FunctionCallInfo fcinfo, bool asRestore)
{
	Oid			viewid = PG_GETARG_OID(0);
	LambdaViewEntry entry;
	char	   *query;
	char	   *volatile result = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(viewid)};
	bool		isnull;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	SPI_connect();
	CatalogGetViewOrError(viewid, &entry);
	if (SPI_execute_with_args("SELECT query FROM lambda.view WHERE view OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "lambda view %u has no query", viewid);
	query = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											  1, &isnull));

	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		LambdaViewDef *def;

		if (asRestore)
		{
			int			nestLevel = ViewDefPinSettings();

			def = AnalyzeAsRestore(query);
			ViewDefUnpinSettings(nestLevel);
		}
		else
		{
			LambdaIdentity save;

			IdentityBecomeViewOwner(viewid, &save);
			(void) set_config_option("search_path",
									 psprintf("%s, public",
											  quote_identifier(get_namespace_name(get_rel_namespace(entry.master)))),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
			def = ViewDefAnalyze(query, false);
			IdentityRestore(&save);
		}
		if (def->master == entry.master)
			result = MemoryContextStrdup(oldcxt, asRestore ? ViewDefQueryTree(def) :
										 def->querySql);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		result = NULL;
	}
	PG_END_TRY();
	SPI_finish();

	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * normalized_query(view regclass) returns text
 *
 * For the update from 0.1, which stored a view's query as its creator typed
 * it, resolved under the creator's search_path then: the query normalized
 * (every name qualified), so that a restore can read it.
 */
Datum
lambda_normalized_query(PG_FUNCTION_ARGS)
{
	return AnalyzeStoredQuery(fcinfo, false);
}

/*
 * query_tree(view regclass) returns text
 *
 * For the update from 0.2, whose catalog kept a view's query as text only:
 * the tree 0.3 keeps beside it (ddl.c deparses it again after a rename).
 * NULL when the text no longer reads (something it names was renamed).
 */
Datum
lambda_query_tree(PG_FUNCTION_ARGS)
{
	return AnalyzeStoredQuery(fcinfo, true);
}
