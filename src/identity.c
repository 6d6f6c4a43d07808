/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  Whose rights lambda's code runs with.  Every switch of user id in the
 *	  extension happens here, and obeys one rule: down, never up.
 *
 *	- User-derived code runs as the view's owner, restricted.  Whatever
 *	  evaluates a view's expressions, or the functions of the types it
 *	  groups and aggregates, outside the writer's own INSERT (the batch
 *	  query and its publish, a worker's recovery batch and its settling, the
 *	  exact slow path) runs as the owner of the user-facing view, under
 *	  SECURITY_RESTRICTED_OPERATION, with search_path pinned to
 *	  "pg_catalog, pg_temp", as REFRESH MATERIALIZED VIEW and VACUUM run a
 *	  table owner's code.  The owner could run that code anyway; nobody
 *	  else's rights, least of all the bootstrap superuser a worker connects
 *	  as, are lent to it.
 *	- Bookkeeping runs as the catalog owner (the role that created the
 *	  extension) with the same pinned search_path, and runs only SQL
 *	  written here, every operator, type and function of it qualified:
 *	  nothing in it resolves a caller's name, so a caller's temporary type
 *	  or a schema's operator can never run with the owner's rights.  The
 *	  caller checks its own right to ask for the change before asking.
 *	- Capture is a trigger: a view's expressions run inside every writer's
 *	  INSERT as the writer, exactly like a trigger function, and nothing
 *	  here switches for it.  That is why defining a view takes what
 *	  CREATE TRIGGER takes (views.c).
 *
 * A switch lasts until IdentityRestore, or until the (sub)transaction that
 * made it aborts, which restores user id, security context and GUCs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "identity.h"
#include "lambda.h"

static void PinSearchPath(LambdaIdentity *save);

/*
 * Owner of the catalog, that is of the table lambda.view: the role that
 * created the extension.
 */
Oid
IdentityCatalogOwner(void)
{
	Oid			nsp = get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
	Oid			relid = get_relname_relid("view", nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "catalog table lambda.view is missing");
	return IdentityRelationOwner(relid);
}

/*
 * Owner of a relation.
 */
Oid
IdentityRelationOwner(Oid relid)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Act as the owner of lambda view viewid, restricted, until IdentityRestore.
 */
void
IdentityBecomeViewOwner(Oid viewid, LambdaIdentity *save)
{
	Oid			owner = IdentityRelationOwner(viewid);

	GetUserIdAndSecContext(&save->userid, &save->secContext);
	SetUserIdAndSecContext(owner, save->secContext |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PinSearchPath(save);
}

/*
 * Act as the catalog owner until IdentityRestore, for bookkeeping.
 */
void
IdentityBecomeCatalogOwner(LambdaIdentity *save)
{
	Oid			owner = IdentityCatalogOwner();

	GetUserIdAndSecContext(&save->userid, &save->secContext);
	SetUserIdAndSecContext(owner, save->secContext | SECURITY_LOCAL_USERID_CHANGE);
	PinSearchPath(save);
}

/*
 * Undo an IdentityBecome*: GUCs, user id and security context as they were.
 * Every setting the code run meanwhile changed, even with a session-level
 * SET, is rolled back (isCommit false, as REFRESH MATERIALIZED VIEW does):
 * the owner's code must leave nothing behind in the caller's session, such
 * as a search_path through which the caller's next query would run the
 * owner's operators.
 */
void
IdentityRestore(LambdaIdentity *save)
{
	AtEOXact_GUC(false, save->gucNestLevel);
	SetUserIdAndSecContext(save->userid, save->secContext);
}

/*
 * Pin search_path for the rest of this process: a worker resolves no name
 * through a path that a database's users could put objects on.
 */
void
IdentityPinSearchPath(void)
{
	SetConfigOption("search_path", LAMBDA_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
}

static void
PinSearchPath(LambdaIdentity *save)
{
	save->gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("search_path", LAMBDA_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}
