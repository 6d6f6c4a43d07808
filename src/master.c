/*-------------------------------------------------------------------------
 *
 * master.c
 *	  Making a table an append-only master, and keeping it so.
 *
 * A master is the system of record: every view is recomputed from it, and
 * the speed layer only ever adds what was inserted.  An UPDATE, DELETE,
 * TRUNCATE or a MERGE with an UPDATE or DELETE action would make the layers
 * disagree, so BEFORE triggers refuse them:
 *
 *	- a statement-level trigger for UPDATE, DELETE and TRUNCATE on the master,
 *	  so the statement fails even when it would touch no row (MERGE fires it
 *	  for each kind of action it names);
 *	- a row-level trigger for UPDATE and DELETE, which PostgreSQL clones onto
 *	  every partition, present and future, so a statement aimed at a
 *	  partition directly fails too;
 *	- TRUNCATE of a partition, which fires no trigger of its parent, is
 *	  refused by the ProcessUtility hook (utility.c) through
 *	  MasterCheckTruncate.
 *
 * The triggers are ENABLE ALWAYS, so they also fire under
 * session_replication_role = replica (logical replication apply).  Nobody
 * may disable, drop or rename them, nor switch on row-level security,
 * which would make the views reveal rows its policies hide (guard.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "guard.h"
#include "identity.h"
#include "lambda.h"
#include "master.h"

LAMBDA_FUNCTION(lambda_create_master);
LAMBDA_FUNCTION(lambda_master_guard);

/*
 * Refuse a relation that cannot be a master.  Checked when a table becomes a
 * master and again whenever a view or a batch reads it, since row-level
 * security can be switched on later.
 */
void
MasterCheckUsable(Oid relid)
{
	HeapTuple	tuple;
	Form_pg_class form;
	char	   *name = RelationDisplayName(relid);

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	form = (Form_pg_class) GETSTRUCT(tuple);

	if (form->relkind != RELKIND_RELATION &&
		form->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", name),
				 errdetail("Only ordinary and partitioned tables can be masters.")));

	if (form->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("temporary table \"%s\" cannot be a master", name),
				 errdetail("Scheduled batches and background workers cannot see another session's temporary tables.")));

	if (form->relkind == RELKIND_RELATION && form->relhassubclass &&
		find_inheritance_children(relid, NoLock) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" with inheritance children cannot be a master", name),
				 errdetail("Rows of the children would be read by batches but never captured."),
				 errhint("Use a partitioned table to split a master.")));

	if (form->relrowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" with row-level security cannot be a master", name),
				 errdetail("Aggregates over the whole table would reveal rows that its policies hide.")));

	ReleaseSysCache(tuple);
}

/*
 * create_master(master regclass) returns void
 *
 * Make a table append-only and register it as a master.  Calling it again
 * on a master is a no-op.
 */
Datum
lambda_create_master(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *qualified;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	LambdaIdentity save;

	LambdaCheckPreloaded();
	MasterCheckUsable(relid);

	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	SPI_connect();

	if (CatalogIsMaster(relid))
	{
		ereport(NOTICE,
				(errmsg("table \"%s\" is already a master, skipping",
						RelationDisplayName(relid))));
		SPI_finish();
		PG_RETURN_VOID();
	}

	qualified = QualifiedRelationName(relid);

	/* The trigger function is not PUBLIC: the extension creates its triggers */
	IdentityBecomeCatalogOwner(&save);
	GuardInternalExec(psprintf("CREATE TRIGGER lambda_append_only "
							   "BEFORE UPDATE OR DELETE OR TRUNCATE ON %s "
							   "FOR EACH STATEMENT EXECUTE FUNCTION lambda.master_guard()",
							   qualified));
	GuardInternalExec(psprintf("CREATE TRIGGER lambda_append_only_row "
							   "BEFORE UPDATE OR DELETE ON %s "
							   "FOR EACH ROW EXECUTE FUNCTION lambda.master_guard()",
							   qualified));
	GuardInternalExec(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER lambda_append_only, "
							   "ENABLE ALWAYS TRIGGER lambda_append_only_row",
							   qualified));
	IdentityRestore(&save);

	values[0] = ObjectIdGetDatum(relid);
	CatalogExec("INSERT INTO lambda.master (master) VALUES ($1)",
				1, argtypes, values, NULL);

	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Refuse TRUNCATE of a partition of a master.  Called by the ProcessUtility
 * hook for every relation a TRUNCATE names; the master itself is guarded by
 * its own trigger.
 */
static bool PartitionIsEmpty(Oid relid);

void
MasterCheckTruncate(Oid relid)
{
	List	   *ancestors;
	ListCell   *lc;

	if (!get_rel_relispartition(relid))
		return;
	/* emptying an empty partition changes nothing: a parallel restore does */
	if (PartitionIsEmpty(relid))
		return;

	ancestors = get_partition_ancestors(relid);
	SPI_connect();
	foreach(lc, ancestors)
	{
		if (CatalogIsMaster(lfirst_oid(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot truncate partition \"%s\" of master table \"%s\"",
							get_rel_name(relid), get_rel_name(lfirst_oid(lc))),
					 errdetail("Master tables of lambda views are append-only.")));
	}
	SPI_finish();
}

/*
 * Does partition relid hold no row, for good?  Only asked for a role that
 * may truncate it (others are refused by TRUNCATE itself, and may not take
 * its lock), after taking the lock TRUNCATE takes, which waits for every
 * writer: then the latest snapshot sees every row there is.  A partition
 * that is itself partitioned does not count as empty.
 */
static bool
PartitionIsEmpty(Oid relid)
{
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		empty;

	if (get_rel_relkind(relid) != RELKIND_RELATION ||
		pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
		return false;
	rel = table_open(relid, AccessExclusiveLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return empty;
}

/*
 * Trigger function: refuse any change to a master but INSERT.
 */
Datum
lambda_master_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *name;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lambda.master_guard() was not called by the trigger manager")));

	name = RelationGetRelationName(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot update master table \"%s\"", name),
				 errdetail("Master tables of lambda views are append-only."),
				 errhint("Insert a correcting event instead.")));
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot delete from master table \"%s\"", name),
				 errdetail("Master tables of lambda views are append-only."),
				 errhint("Insert a correcting event instead.")));
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate master table \"%s\"", name),
				 errdetail("Master tables of lambda views are append-only.")));

	/* INSERT never reaches here: the triggers are not defined for it */
	return PointerGetDatum(NULL);
}
