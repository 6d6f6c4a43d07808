/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading and writing the extension's catalog tables.
 *
 * lambda.master and lambda.view are ordinary tables in the extension's
 * schema, readable by everyone and writable by nobody but their owner (the
 * role that created the extension).  The SQL API runs as the caller, so
 * catalog writes switch to the owner for the one statement (identity.c),
 * the way PostgreSQL's referential-integrity triggers switch to a table's
 * owner.  The caller checks its own permissions before asking for a write.
 * Every statement here qualifies its operators, so that a caller's
 * search_path cannot change what it means.
 *
 * All functions here run SPI and expect the caller to be connected; values
 * returned point into the caller's SPI memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "identity.h"
#include "lambda.h"
#include "layout.h"

/*
 * Run one statement as the catalog owner (identity.c) and return the number
 * of rows it processed.  The statement is lambda's own, every name in it
 * qualified.
 */
uint64
CatalogExec(const char *sql, int nargs, Oid *argtypes, Datum *values,
			const char *nulls)
{
	LambdaIdentity save;
	int			ret;

	IdentityBecomeCatalogOwner(&save);
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	IdentityRestore(&save);

	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Name of a relation for messages: schema-qualified when not visible, the
 * bare OID when it does not exist (a regclass argument may hold any OID).
 */
char *
RelationDisplayName(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout,
											   ObjectIdGetDatum(relid)));
}

/*
 * Run one statement as the current user; the caller checked what it may do.
 */
void
SpiExec(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
}

/*
 * Schema-qualified, quoted name of a relation, for generated SQL.
 */
char *
QualifiedRelationName(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * Changing a view's batch or schedule takes ownership, as REFRESH
 * MATERIALIZED VIEW does.
 */
void
CheckViewOwner(Oid viewid)
{
	if (!pg_class_ownercheck(viewid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, get_rel_name(viewid));
}

/*
 * The schema views' internal relations are created in: pg_lambda, or
 * lambda itself while the extension is still at 0.1 (before ALTER EXTENSION
 * UPDATE made the internal schema).
 */
Oid
CatalogInternalNamespace(void)
{
	Oid			nsp = get_namespace_oid(LAMBDA_INTERNAL_SCHEMA_NAME, true);

	return OidIsValid(nsp) ? nsp : get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
}

/*
 * Does lambda.view have this column?  Each release's update script adds
 * what that release's code relies on, and the library, installed first,
 * asks before it relies on it.
 */
static bool
CatalogHasColumn(const char *column)
{
	Oid			catalog = get_relname_relid("view", get_namespace_oid(LAMBDA_SCHEMA_NAME, false));

	return get_attnum(catalog, column) != InvalidAttrNumber;
}

/*
 * Does the catalog give views ids?  Not while the extension is still at
 * 0.1, whose views are named by their OIDs: there a view's "id" is its OID,
 * which is what 0.1 put into names, trigger arguments and definitions, and
 * ALTER EXTENSION UPDATE makes it the view's id.
 */
bool
CatalogHasIds(void)
{
	return CatalogHasColumn("id");
}

/*
 * Is type, or a type it is made of (an array's element, a range's or a
 * multirange's subtype, and so on down), one test(type, typtype) is true
 * of?  A composite's columns are not walked: callers refuse composites.
 */
bool
CatalogTypeOrPartIs(Oid type, bool (*test) (Oid type, char typtype))
{
	for (;;)
	{
		char		typtype = get_typtype(type);
		Oid			elem;

		if (test(type, typtype))
			return true;
		if (typtype == TYPTYPE_RANGE)
			type = get_range_subtype(type);
		else if (typtype == TYPTYPE_MULTIRANGE)
			type = get_range_subtype(get_multirange_range(type));
		else if (OidIsValid(elem = get_element_type(type)))
			type = elem;
		else
			return false;
	}
}

/*
 * Is the function written in C, or built in?  What runs while the speed
 * layer's lock is held must be (speed.c): no procedural language can be
 * kept from running a query, waiting for a lock or being cancelled.
 */
bool
CatalogFunctionIsC(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			lang;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	lang = ((Form_pg_proc) GETSTRUCT(tuple))->prolang;
	ReleaseSysCache(tuple);
	return lang == ClanguageId || lang == INTERNALlanguageId;
}

/*
 * Does the catalog keep each view's analyzed query (query_tree, from 0.3
 * on), which a rename leaves meaning the same objects (ddl.c)?
 */
bool
CatalogHasQueryTrees(void)
{
	return CatalogHasColumn("query_tree");
}

/*
 * Does the catalog count compactions (from 0.4 on)?  Until ALTER EXTENSION
 * lambda UPDATE gives it the columns, the workers compact none of the
 * database's views (compact.c).
 */
bool
CatalogHasCompactions(void)
{
	return CatalogHasColumn("compactions");
}

/*
 * SQL for the id of the lambda.view row called alias: its id column, or at
 * 0.1 the view's OID.
 */
char *
CatalogIdColumn(const char *alias)
{
	return CatalogHasIds() ? psprintf("%s.id", alias) :
		psprintf("%s.view::pg_catalog.oid::pg_catalog.int8", alias);
}

/*
 * The id a new view viewid gets.  Caller is connected to SPI.
 */
int64
CatalogNextViewId(Oid viewid)
{
	bool		isnull;

	if (!CatalogHasIds())
		return (int64) viewid;
	CatalogExec("SELECT pg_catalog.nextval('lambda.view_id_seq'::pg_catalog.regclass)",
				0, NULL, NULL, NULL);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
}

/*
 * Name of a view's internal object of this kind ("batch", "partial", or a
 * capture trigger's "lambda_capture" and "lambda_capture_row").
 */
char *
CatalogInternalName(const char *kind, int64 id)
{
	return psprintf("%s_" INT64_FORMAT, kind, id);
}

/*
 * The lambda view with this id, or InvalidOid.  Capture triggers and view
 * definitions name their view by id and ask at every statement: answers
 * are kept, and one is trusted while the view's layout, which a drop or any
 * change of the view invalidates, is valid and has that id.
 */
Oid
CatalogViewById(int64 id)
{
	static HTAB *ids = NULL;
	struct IdEntry
	{
		int64		id;
		Oid			viewid;
	}		   *cached;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	Oid			viewid = InvalidOid;
	bool		isnull;
	int			ret;

	if (ids == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(struct IdEntry);
		ids = hash_create("lambda view ids", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	cached = hash_search(ids, &id, HASH_FIND, NULL);
	if (cached != NULL && LayoutHasId(cached->viewid, id))
		return cached->viewid;

	if (!CatalogHasIds())
		return (id > 0 && id <= PG_UINT32_MAX) ? (Oid) id : InvalidOid;

	SPI_connect();
	ret = SPI_execute_with_args("SELECT view FROM lambda.view WHERE id OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		viewid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	if (OidIsValid(viewid))
	{
		cached = hash_search(ids, &id, HASH_ENTER, NULL);
		cached->viewid = viewid;
	}
	return viewid;
}

/*
 * Is relid registered as a master table?
 */
bool
CatalogIsMaster(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	int			ret;

	ret = SPI_execute_with_args("SELECT 1 FROM lambda.master WHERE master OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/*
 * Look up a lambda view under the current snapshot.  Returns false when
 * viewid is not one.
 */
bool
CatalogGetView(Oid viewid, LambdaViewEntry *entry)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(viewid)};
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	bool		isnull;
	Datum		d;
	int			ret;

	ret = SPI_execute_with_args(psprintf("SELECT l.view, l.master, l.batch_table, l.partial_view, "
										 "l.schedule, l.cron_jobid, l.batch_version, %s "
										 "FROM lambda.view l WHERE l.view OPERATOR(pg_catalog.=) $1",
										 CatalogIdColumn("l")),
								1, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;

	tuple = SPI_tuptable->vals[0];
	tupdesc = SPI_tuptable->tupdesc;

	entry->view = DatumGetObjectId(SPI_getbinval(tuple, tupdesc, 1, &isnull));
	entry->master = DatumGetObjectId(SPI_getbinval(tuple, tupdesc, 2, &isnull));
	entry->batchTable = DatumGetObjectId(SPI_getbinval(tuple, tupdesc, 3, &isnull));
	entry->partialView = DatumGetObjectId(SPI_getbinval(tuple, tupdesc, 4, &isnull));
	entry->schedule = SPI_getvalue(tuple, tupdesc, 5);
	d = SPI_getbinval(tuple, tupdesc, 6, &isnull);
	entry->cronJobId = isnull ? 0 : DatumGetInt64(d);
	entry->batchVersion = DatumGetInt64(SPI_getbinval(tuple, tupdesc, 7, &isnull));
	entry->id = DatumGetInt64(SPI_getbinval(tuple, tupdesc, 8, &isnull));
	return true;
}

/*
 * As CatalogGetView, but a relation that is not a lambda view is the
 * caller's mistake and gets an error.
 */
void
CatalogGetViewOrError(Oid viewid, LambdaViewEntry *entry)
{
	if (get_rel_name(viewid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", viewid)));
	if (!CatalogGetView(viewid, entry))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a lambda view", RelationDisplayName(viewid)),
				 errhint("The view lambda.views lists the lambda views.")));
}
