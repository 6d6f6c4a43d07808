/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  What DDL may do to lambda's objects: the ProcessUtility hook.
 *
 * Internal objects belong to the extension.  A view's batch table (with
 * its index) and its partial view are owned by the catalog owner, so
 * PostgreSQL itself refuses every other role that would alter, write,
 * truncate or drop them.  This hook refuses the same to everyone,
 * superusers included, with a message that names the view they belong to,
 * unless lambda's own code runs the statement (GuardInternalExec):
 *
 *	- on a batch table, its index or a partial view: ALTER, RENAME,
 *	  SET SCHEMA, CREATE TRIGGER, RULE, POLICY or INDEX, GRANT and REVOKE,
 *	  TRUNCATE, DROP, CREATE OR REPLACE VIEW, and CREATE TABLE ... INHERITS
 *	  or PARTITION OF;
 *	- on a master or one of its partitions: ENABLE or DISABLE of lambda's
 *	  triggers (but for setting the state lambda gave them, which a restore
 *	  does), of ALL or USER triggers (which include them), DROP and
 *	  RENAME of lambda's triggers, ENABLE and FORCE ROW LEVEL SECURITY
 *	  (aggregates would reveal rows that policies hide), and TRUNCATE of a
 *	  partition, which fires no trigger of its master (master.c);
 *	- rows that would reach or leave a master without INSERT: inheritance
 *	  from a master (CREATE TABLE ... INHERITS, ALTER TABLE ... INHERIT),
 *	  ATTACH PARTITION of a table that holds rows, DETACH PARTITION and
 *	  DROP TABLE of a partition.
 *
 * After REASSIGN OWNED, which fires no event trigger, every view's partial
 * view grant and cron job follow its owner (ddl.c).  A CREATE TRIGGER of
 * lambda's capture functions is refused unless it makes exactly the
 * trigger lambda gives a view, which only a restore does; then the trigger
 * becomes an internal part of its view again (restore.c).  If lambda made
 * that trigger already, the statement does nothing.
 *
 * The capture triggers are also internal parts of their view, so that
 * PostgreSQL refuses to drop them alone; the guard triggers of a master are
 * not (an internal dependency on the extension would make dropping the
 * master drop the extension), so this hook is what keeps them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_inherits.h"
#include "executor/tuptable.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "commands/trigger.h"

#include "catalog.h"
#include "ddl.h"
#include "guard.h"
#include "lambda.h"
#include "capture.h"
#include "master.h"
#include "restore.h"
#include "shmem.h"
#include "worker.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Set while lambda's own code runs DDL on its objects */
static bool internalDdl = false;

static void lambda_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);
static bool Guarded(Node *parsetree);
static Oid ReleaseDatabaseFor(Node *parsetree);
static void GuardStatement(Node *parsetree);
static void GuardInternal(RangeVar *rv);
static void GuardAlterTable(AlterTableStmt *stmt);
static void GuardTrigger(RangeVar *rv, const char *trigger, const char *action);
static void LockMasterFirst(RangeVar *rv);
static void GuardTriggerName(const char *name, Oid funcid);
static void GuardInherit(RangeVar *parent);
static void GuardViewRule(RuleStmt *stmt);
static void GuardPartition(RangeVar *rv, const char *action);
static void GuardAttach(RangeVar *rv, Oid master);
static bool HoldsRows(Oid relid);
static List *TruncateCascade(List *relids);
static Oid	InternalOwner(Oid relid);
static Oid	MasterOf(Oid relid);
static bool IsLambdaTrigger(Oid relid, const char *name);
static bool IsOrphanCapture(Oid relid, const char *name);
static char LambdaTriggerFires(Oid relid, const char *name);

void
GuardInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = lambda_ProcessUtility;
}

/*
 * Run one statement of lambda's own on its internal objects.  Caller is
 * connected to SPI.
 */
void
GuardInternalExec(const char *sql)
{
	bool		save = internalDdl;

	internalDdl = true;
	PG_TRY();
	{
		SpiExec(sql);
	}
	PG_FINALLY();
	{
		internalDdl = save;
	}
	PG_END_TRY();
}

static void
NextProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * Run a statement that stopped database dbid's worker (ReleaseDatabaseFor).
 * The database still exists once the statement is over, unless it dropped
 * it: its deltas need settling without waiting for its next write, so it
 * asks for a worker again, also when the statement failed.
 */
static void
ProcessUtilityAskingAgain(Oid dbid, PlannedStmt *pstmt, const char *queryString,
						  bool readOnlyTree, ProcessUtilityContext context,
						  ParamListInfo params, QueryEnvironment *queryEnv,
						  DestReceiver *dest, QueryCompletion *qc)
{
	PG_TRY();
	{
		NextProcessUtility(pstmt, queryString, readOnlyTree, context,
						   params, queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		(void) SharedWantDatabase(dbid);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (!IsA(pstmt->utilityStmt, DropdbStmt))
		(void) SharedWantDatabase(dbid);
}

static void
lambda_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		installed = false;
	Oid			extension;
	void	   *copying = NULL;
	Oid			released = InvalidOid;

	/*
	 * DROP DATABASE, and renaming, moving or copying one, count a lambda
	 * worker connected to the database as a session using it: stop it first
	 */
	if (lambda_preloaded)
		released = ReleaseDatabaseFor(parsetree);

	/* Not for lambda's own DDL, nor for its install and update scripts */
	if (!internalDdl && Guarded(parsetree) &&
		OidIsValid(extension = get_extension_oid(LAMBDA_EXTENSION_NAME, true)) &&
		!(creating_extension && CurrentExtensionObject == extension))
	{
		installed = true;
		SPI_connect();
		GuardStatement(parsetree);
		SPI_finish();
	}

	/* What a restore would create twice is there (restore.c) */
	if (installed && IsA(parsetree, CreateTrigStmt) &&
		RestoreIsCaptureTrigger((CreateTrigStmt *) parsetree))
	{
		bool		exists;

		/*
		 * The lock CREATE TRIGGER takes, first: ddl.c may be creating the
		 * same partition trigger, and then this sees it once it committed
		 */
		(void) RangeVarGetRelid(((CreateTrigStmt *) parsetree)->relation,
								ShareRowExclusiveLock, true);
		SPI_connect();
		exists = RestoreTriggerExists((CreateTrigStmt *) parsetree);
		SPI_finish();
		if (exists)
			return;
	}

	/* A COPY into a master runs like an INSERT (capture.c) */
	if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from &&
		((CopyStmt *) parsetree)->relation != NULL)
		copying = CaptureCopyBegin(((CopyStmt *) parsetree)->relation);

	if (!OidIsValid(released))
		NextProcessUtility(pstmt, queryString, readOnlyTree, context,
						   params, queryEnv, dest, qc);
	else
		ProcessUtilityAskingAgain(released, pstmt, queryString, readOnlyTree,
								  context, params, queryEnv, dest, qc);

	if (copying != NULL)
		CaptureCopyEnd(copying);

	if (installed && IsA(parsetree, ReassignOwnedStmt))
	{
		SPI_connect();
		DdlSyncAllOwners();
		SPI_finish();
	}

	/* Only a restore makes capture triggers but lambda (restore.c) */
	if (installed && IsA(parsetree, CreateTrigStmt) &&
		RestoreIsCaptureTrigger((CreateTrigStmt *) parsetree))
	{
		SPI_connect();
		RestoreAdoptTrigger((CreateTrigStmt *) parsetree);
		SPI_finish();
	}
}

/*
 * If the statement drops, renames, moves (SET TABLESPACE) or copies (as
 * CREATE DATABASE's template) a database, stop that database's lambda
 * worker (worker.c).  Only for the database's owner: nobody else may run
 * these, and nobody else may stop the worker.  Returns the database when
 * it had a worker or was waiting for one, else InvalidOid.
 */
static Oid
ReleaseDatabaseFor(Node *parsetree)
{
	const char *dbname = NULL;
	ListCell   *lc;
	Oid			dbid;

	if (IsA(parsetree, DropdbStmt))
		dbname = ((DropdbStmt *) parsetree)->dbname;
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		dbname = ((RenameStmt *) parsetree)->subname;
	else if (IsA(parsetree, AlterDatabaseStmt))
	{
		foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
		{
			if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
				dbname = ((AlterDatabaseStmt *) parsetree)->dbname;
		}
	}
	else if (IsA(parsetree, CreatedbStmt))
	{
		foreach(lc, ((CreatedbStmt *) parsetree)->options)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
				dbname = defGetString(opt);
		}
	}
	if (dbname == NULL)
		return InvalidOid;
	dbid = get_database_oid(dbname, true);
	if (OidIsValid(dbid) && pg_database_ownercheck(dbid, GetUserId()) &&
		WorkerReleaseDatabase(dbid))
		return dbid;
	return InvalidOid;
}

/*
 * Is this a statement the guard looks at?  Decided from the parse tree
 * alone, so that other statements cost nothing.
 */
static bool
Guarded(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
		case T_RenameStmt:
		case T_AlterObjectSchemaStmt:
		case T_CreateTrigStmt:
		case T_RuleStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_IndexStmt:
		case T_TruncateStmt:
		case T_GrantStmt:
		case T_ViewStmt:
		case T_DropStmt:
		case T_CreateStmt:
		case T_ReassignOwnedStmt:
		case T_AlterObjectDependsStmt:
			return true;
		default:
			return false;
	}
}

/*
 * Refuse the statement if it would change what lambda keeps.  Caller is
 * connected to SPI.
 */
static void
GuardStatement(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			GuardAlterTable((AlterTableStmt *) parsetree);
			break;
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->relation == NULL)
					break;
				GuardInternal(stmt->relation);
				if (stmt->renameType == OBJECT_TRIGGER)
				{
					GuardTrigger(stmt->relation, stmt->subname, "rename");
					GuardTriggerName(stmt->newname, InvalidOid);
				}
				break;
			}
		case T_AlterObjectSchemaStmt:
			if (((AlterObjectSchemaStmt *) parsetree)->relation != NULL)
				GuardInternal(((AlterObjectSchemaStmt *) parsetree)->relation);
			break;
		case T_CreateTrigStmt:
			{
				CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;

				GuardInternal(stmt->relation);
				if (stmt->replace)
					GuardTrigger(stmt->relation, stmt->trigname, "replace");
				GuardTriggerName(stmt->trigname, LookupFuncName(stmt->funcname, 0, NULL, true));
				break;
			}
		case T_RuleStmt:
			GuardInternal(((RuleStmt *) parsetree)->relation);
			GuardViewRule((RuleStmt *) parsetree);
			break;
		case T_AlterObjectDependsStmt:
			{
				AlterObjectDependsStmt *stmt = (AlterObjectDependsStmt *) parsetree;

				if (stmt->relation == NULL)
					break;
				GuardInternal(stmt->relation);
				if (stmt->objectType == OBJECT_TRIGGER)
					GuardTrigger(stmt->relation, strVal(llast(castNode(List, stmt->object))),
								 "alter");
				break;
			}
		case T_CreatePolicyStmt:
			GuardInternal(((CreatePolicyStmt *) parsetree)->table);
			break;
		case T_AlterPolicyStmt:
			GuardInternal(((AlterPolicyStmt *) parsetree)->table);
			break;
		case T_IndexStmt:
			GuardInternal(((IndexStmt *) parsetree)->relation);
			break;
		case T_ViewStmt:
			GuardInternal(((ViewStmt *) parsetree)->view);
			break;
		case T_CreateStmt:
			foreach(lc, ((CreateStmt *) parsetree)->inhRelations)
			{
				GuardInternal(lfirst_node(RangeVar, lc));
				if (((CreateStmt *) parsetree)->partbound == NULL)
					GuardInherit(lfirst_node(RangeVar, lc));
			}
			break;
		case T_TruncateStmt:
			{
				TruncateStmt *stmt = (TruncateStmt *) parsetree;
				List	   *relids = NIL;

				foreach(lc, stmt->relations)
				{
					RangeVar   *rv = lfirst_node(RangeVar, lc);
					Oid			relid = RangeVarGetRelid(rv, NoLock, true);

					GuardInternal(rv);
					if (OidIsValid(relid))
						relids = list_append_unique_oid(relids, relid);
				}
				if (stmt->behavior == DROP_CASCADE)
					relids = TruncateCascade(relids);
				foreach(lc, relids)
					MasterCheckTruncate(lfirst_oid(lc));
				break;
			}
		case T_GrantStmt:
			{
				GrantStmt  *stmt = (GrantStmt *) parsetree;

				if (stmt->objtype != OBJECT_TABLE)
					break;
				if (stmt->targtype == ACL_TARGET_OBJECT)
				{
					foreach(lc, stmt->objects)
						GuardInternal(lfirst_node(RangeVar, lc));
				}
				else if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
				{
					foreach(lc, stmt->objects)
					{
						if (strcmp(strVal(lfirst(lc)), LAMBDA_SCHEMA_NAME) == 0 ||
							strcmp(strVal(lfirst(lc)), LAMBDA_INTERNAL_SCHEMA_NAME) == 0)
							ereport(ERROR,
									(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
									 errmsg("cannot change privileges on all tables in schema \"%s\"",
											strVal(lfirst(lc))),
									 errdetail("The schema holds the internal tables of lambda views, whose privileges lambda keeps."),
									 errhint("Grant SELECT on the lambda views themselves.")));
					}
				}
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				foreach(lc, stmt->objects)
				{
					List	   *names;

					if (stmt->removeType == OBJECT_TABLE ||
						stmt->removeType == OBJECT_VIEW ||
						stmt->removeType == OBJECT_INDEX)
						GuardInternal(makeRangeVarFromNameList(lfirst(lc)));
					if (stmt->removeType == OBJECT_VIEW)
						LockMasterFirst(makeRangeVarFromNameList(lfirst(lc)));
					if (stmt->removeType == OBJECT_TABLE)
						GuardPartition(makeRangeVarFromNameList(lfirst(lc)), "drop");
					else if (stmt->removeType == OBJECT_TRIGGER)
					{
						names = lfirst(lc);
						if (list_length(names) < 2)
							continue;
						GuardTrigger(makeRangeVarFromNameList(list_truncate(list_copy(names),
																			list_length(names) - 1)),
									 strVal(llast(names)), "drop");
					}
				}
				break;
			}
		default:
			break;
	}
}

/*
 * Refuse any statement on a lambda view's batch table, its index or its
 * partial view.
 */
static void
GuardInternal(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Oid			viewid;

	if (!OidIsValid(relid))
		return;
	viewid = InternalOwner(relid);
	if (!OidIsValid(viewid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("\"%s\" is an internal part of lambda view \"%s\"",
					RelationDisplayName(relid), RelationDisplayName(viewid)),
			 errdetail("Only lambda changes the batch table and the partial-state view of a lambda view."),
			 errhint("Use lambda's functions on the view, or drop it with lambda.drop_view().")));
}

/*
 * ALTER TABLE (VIEW, INDEX): nothing on internal relations; on masters and
 * their partitions, nothing that switches lambda's triggers or row-level
 * security.
 */
static void
GuardAlterTable(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			master;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	GuardInternal(stmt->relation);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AddInherit)
			GuardInherit((RangeVar *) cmd->def);
	}
	master = MasterOf(relid);
	if (!OidIsValid(master))
		return;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:

				/*
				 * Setting the state lambda gives the trigger changes nothing:
				 * a restore does it right after creating it.
				 */
				if (LambdaTriggerFires(relid, cmd->name) ==
					(cmd->subtype == AT_EnableAlwaysTrig ?
					 TRIGGER_FIRES_ALWAYS : TRIGGER_FIRES_ON_REPLICA))
					break;
				GuardTrigger(stmt->relation, cmd->name, "enable or disable");
				break;
			case AT_EnableTrig:
			case AT_DisableTrig:
				GuardTrigger(stmt->relation, cmd->name, "enable or disable");
				break;
			case AT_EnableTrigAll:
			case AT_DisableTrigAll:
			case AT_EnableTrigUser:
			case AT_DisableTrigUser:
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot enable or disable all triggers of master table \"%s\"",
								RelationDisplayName(relid)),
						 errdetail("The append-only guard and the capture triggers of lambda views must fire for every statement."),
						 errhint("Enable or disable your own triggers by name.")));
				break;
			case AT_AttachPartition:
				GuardAttach(((PartitionCmd *) cmd->def)->name, master);
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				GuardPartition(((PartitionCmd *) cmd->def)->name, "detach");
				break;
			case AT_EnableRowSecurity:
			case AT_ForceRowSecurity:
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot enable row-level security on master table \"%s\"",
								RelationDisplayName(relid)),
						 errdetail("Lambda views aggregate the whole table; they would reveal rows that its policies hide.")));
				break;
			default:
				break;
		}
	}
}

/*
 * Refuse CREATE OR REPLACE RULE "_RETURN" on a lambda view: both layers
 * compute the definition it was created with (ddl.c refuses CREATE OR
 * REPLACE VIEW for the same reason).
 */
static void
GuardViewRule(RuleStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	LambdaViewEntry entry;

	if (!OidIsValid(relid) || strcmp(stmt->rulename, "_RETURN") != 0 ||
		!CatalogGetView(relid, &entry))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot replace the definition of lambda view \"%s\"",
					get_rel_name(relid)),
			 errdetail("Both layers of a lambda view compute the definition it was created with."),
			 errhint("Drop it with lambda.drop_view() and create it again with lambda.create_view().")));
}

/*
 * Refuse inheriting from a master (or a partition of one): an inheritance
 * child's rows would be read by the batch but never captured, and could be
 * updated.  Partitioning is the supported way to split a master.
 */
static void
GuardInherit(RangeVar *parent)
{
	Oid			relid = RangeVarGetRelid(parent, NoLock, true);
	Oid			master = OidIsValid(relid) ? MasterOf(relid) : InvalidOid;

	if (!OidIsValid(master))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot inherit from master table \"%s\"", RelationDisplayName(relid)),
			 errdetail("Rows reach a master only by INSERT, where lambda views capture them."),
			 errhint("Create a partition of a partitioned master instead.")));
}

/*
 * Refuse to drop or detach a partition of a master: its rows would leave an
 * append-only master.  Dropping the master itself drops its views.
 */
static void
GuardPartition(RangeVar *rv, const char *action)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Oid			master;

	if (!OidIsValid(relid) || !get_rel_relispartition(relid))
		return;
	master = MasterOf(relid);
	if (!OidIsValid(master) || master == relid)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s partition \"%s\" of master table \"%s\"", action,
					RelationDisplayName(relid), RelationDisplayName(master)),
			 errdetail("Master tables of lambda views are append-only.")));
}

/*
 * Refuse to attach a table that holds rows to a master: they would reach it
 * without an INSERT, and no view would count them.  An empty table becomes
 * a partition like any other, captured from then on.  The table is locked
 * as ATTACH PARTITION will lock it, so no row can arrive in between.
 */
static void
GuardAttach(RangeVar *rv, Oid master)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	/* PostgreSQL refuses other roles, before locking anything */
	if (!OidIsValid(relid) || !pg_class_ownercheck(relid, GetUserId()))
		return;
	if (!HoldsRows(relid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot attach table \"%s\" to master table \"%s\": it holds rows",
					RelationDisplayName(relid), RelationDisplayName(master)),
			 errdetail("Rows reach a master only by INSERT, where lambda views capture them."),
			 errhint("Attach an empty table and insert the rows through the master.")));
}

/*
 * Does relid, or any table under it, hold a row (or might it: a foreign
 * table)?  Locks them all in the mode ATTACH PARTITION takes.
 */
static bool
HoldsRows(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, AccessExclusiveLock, NULL))
	{
		Oid			child = lfirst_oid(lc);
		char		relkind = get_rel_relkind(child);
		Relation	rel;
		Snapshot	snap;
		TableScanDesc scan;
		TupleTableSlot *slot;
		bool		found;

		if (relkind == RELKIND_FOREIGN_TABLE)
			return true;
		if (relkind != RELKIND_RELATION)
			continue;
		rel = table_open(child, NoLock);
		snap = RegisterSnapshot(GetLatestSnapshot());
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, snap, 0, NULL);
		found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		UnregisterSnapshot(snap);
		table_close(rel, NoLock);
		if (found)
			return true;
	}
	return false;
}

/*
 * The tables a TRUNCATE ... CASCADE of relids (and their partitions)
 * reaches through foreign keys, as ExecuteTruncate finds them: a partition
 * of a master among them would be emptied, and fires no trigger of its
 * master.
 */
static List *
TruncateCascade(List *relids)
{
	List	   *all = NIL;
	ListCell   *lc;

	foreach(lc, relids)
		all = list_concat_unique_oid(all, find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
	for (;;)
	{
		List	   *more = heap_truncate_find_FKs(all);
		int			before = list_length(all);

		foreach(lc, more)
			all = list_concat_unique_oid(all, find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
		if (list_length(all) == before)
			return all;
	}
}

/*
 * Before DROP VIEW of a lambda view (also lambda.drop_view's) takes the
 * view, take its master and the master's partitions, as dropping their
 * capture triggers will: AccessExclusiveLock, master first.  The one lock
 * order of DDL and capture is master before view: an insert holds the
 * master from its start and opens the view's relations at the end of its
 * statement, to capture.  DROP VIEW alone would take the view first and the
 * master last, and a deadlock with a running insert would cancel one of
 * them, the insert perhaps.  This way the drop waits for running inserts,
 * and inserts that start later wait for the drop and then find no trigger.
 */
static void
LockMasterFirst(RangeVar *rv)
{
	Oid			viewid = RangeVarGetRelid(rv, NoLock, true);
	LambdaViewEntry entry;

	/* not for those whom DROP VIEW will refuse: they may not stall inserts */
	if (!OidIsValid(viewid) || !pg_class_ownercheck(viewid, GetUserId()) ||
		!CatalogGetView(viewid, &entry) || get_rel_name(entry.master) == NULL)
		return;
	LockRelationOid(entry.master, AccessExclusiveLock);
	(void) find_all_inheritors(entry.master, AccessExclusiveLock, NULL);
}

/*
 * The names of lambda's triggers are lambda's, on every table: a trigger of
 * someone else's called like the capture trigger a view will get
 * (lambda_capture_<id>) would take its place.  A trigger whose function
 * funcid is one of lambda's (a restore makes those) may have one.
 */
static void
GuardTriggerName(const char *name, Oid funcid)
{
	const char *digits = NULL;
	const char *function;

	if (name == NULL)
		return;
	if (strncmp(name, "lambda_capture_row_", strlen("lambda_capture_row_")) == 0)
	{
		digits = name + strlen("lambda_capture_row_");
		function = "capture_row";
	}
	else if (strncmp(name, "lambda_capture_", strlen("lambda_capture_")) == 0)
	{
		digits = name + strlen("lambda_capture_");
		function = "capture";
	}
	else
		function = "master_guard";
	if (digits != NULL)
	{
		if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits))
			return;
	}
	else if (strcmp(name, "lambda_append_only") != 0 &&
			 strcmp(name, "lambda_append_only_row") != 0)
		return;
	/* only lambda's own function for each name: master_guard is PUBLIC */
	if (OidIsValid(funcid) &&
		get_func_namespace(funcid) == get_namespace_oid(LAMBDA_SCHEMA_NAME, true) &&
		strcmp(get_func_name(funcid), function) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_RESERVED_NAME),
			 errmsg("trigger name \"%s\" is reserved for lambda", name),
			 errdetail("lambda_append_only, lambda_append_only_row, lambda_capture_<id> and lambda_capture_row_<id> are the names of the append-only guard and the capture triggers of lambda views."),
			 errhint("Choose another name.")));
}

/*
 * Refuse action on trigger name of relation rv if it is one of lambda's.
 */
static void
GuardTrigger(RangeVar *rv, const char *trigger, const char *action)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (!OidIsValid(relid) || trigger == NULL || !IsLambdaTrigger(relid, trigger))
		return;
	/* a capture trigger whose view a restore could not make is nobody's */
	if (strcmp(action, "drop") == 0 && IsOrphanCapture(relid, trigger))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s trigger \"%s\" of table \"%s\"", action, trigger,
					RelationDisplayName(relid)),
			 errdetail("The trigger keeps the table an append-only master or captures its rows for a lambda view."),
			 errhint("Drop the lambda views of the table to drop their triggers.")));
}

/*
 * The lambda view that relid (a batch table, its index or a partial view)
 * is an internal part of, or InvalidOid.
 */
static Oid
InternalOwner(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	int			ret;

	if (get_rel_namespace(relid) != get_namespace_oid(LAMBDA_INTERNAL_SCHEMA_NAME, true) &&
		get_rel_namespace(relid) != get_namespace_oid(LAMBDA_SCHEMA_NAME, true))
		return InvalidOid;
	if (get_rel_relkind(relid) == RELKIND_INDEX)
		relid = IndexGetRelation(relid, true);
	values[0] = ObjectIdGetDatum(relid);
	ret = SPI_execute_with_args("SELECT view FROM lambda.view "
								"WHERE batch_table OPERATOR(pg_catalog.=) $1 "
								"OR partial_view OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The master that relid is, or is a partition of, or InvalidOid.
 */
static Oid
MasterOf(Oid relid)
{
	ListCell   *lc;

	if (CatalogIsMaster(relid))
		return relid;
	if (!get_rel_relispartition(relid))
		return InvalidOid;
	foreach(lc, get_partition_ancestors(relid))
	{
		if (CatalogIsMaster(lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

/*
 * When lambda's trigger name of relid fires, as lambda made it:
 * TRIGGER_FIRES_ON_REPLICA for the replication capture (capture_row),
 * TRIGGER_FIRES_ALWAYS for the others; 0 when it is not lambda's.
 */
static char
LambdaTriggerFires(Oid relid, const char *name)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	/* a copy: the look-ups below may take in an invalidation of rel */
	TriggerDesc *trigdesc = CopyTriggerDesc(rel->trigdesc);
	Oid			nsp = get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
	char		fires = 0;
	int			i;

	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, name) == 0 &&
			get_func_namespace(trigger->tgfoid) == nsp)
			fires = strcmp(get_func_name(trigger->tgfoid), "capture_row") == 0 ?
				TRIGGER_FIRES_ON_REPLICA : TRIGGER_FIRES_ALWAYS;
	}
	FreeTriggerDesc(trigdesc);
	relation_close(rel, AccessShareLock);
	return fires;
}

/*
 * Is trigger name of relid one of lambda's: the append-only guard or a
 * capture trigger?  Told by its function, whatever it is called.
 */
/*
 * Is trigger name of relid a capture trigger whose view id no view has (a
 * restore skipped the view's catalog row)?  Caller is connected to SPI.
 */
static bool
IsOrphanCapture(Oid relid, const char *name)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	/* a copy: the look-ups below may take in an invalidation of rel */
	TriggerDesc *trigdesc = CopyTriggerDesc(rel->trigdesc);
	bool		result = false;
	int			i;

	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];
		char	   *fname;

		if (strcmp(trigger->tgname, name) != 0 || trigger->tgnargs != 1)
			continue;
		fname = get_func_name(trigger->tgfoid);
		if (fname != NULL &&
			(strcmp(fname, "capture") == 0 || strcmp(fname, "capture_row") == 0) &&
			!OidIsValid(CatalogViewById(DatumGetInt64(DirectFunctionCall1(int8in,
																		  CStringGetDatum(trigger->tgargs[0]))))))
			result = true;
	}
	FreeTriggerDesc(trigdesc);
	relation_close(rel, AccessShareLock);
	return result;
}

static bool
IsLambdaTrigger(Oid relid, const char *name)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	/* a copy: the look-ups below may take in an invalidation of rel */
	TriggerDesc *trigdesc = CopyTriggerDesc(rel->trigdesc);
	Oid			nsp = get_namespace_oid(LAMBDA_SCHEMA_NAME, false);
	bool		result = false;
	int			i;

	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, name) == 0 &&
			get_func_namespace(trigger->tgfoid) == nsp)
			result = true;
	}
	FreeTriggerDesc(trigdesc);
	relation_close(rel, AccessShareLock);
	return result;
}
