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

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "identity.h"
#include "lambda.h"

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
 * The schema views' internal relations are created in: lambda_internal, or
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

	ret = SPI_execute_with_args("SELECT view, master, batch_table, partial_view, "
								"schedule, cron_jobid, batch_version "
								"FROM lambda.view WHERE view OPERATOR(pg_catalog.=) $1",
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
