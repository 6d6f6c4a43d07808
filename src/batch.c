/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  The batch layer: recompute a view's partial states from the whole
 *	  master and publish them atomically.
 *
 * A batch run, in the caller's transaction:
 *
 *	1. locks the view's catalog row (SELECT ... FOR UPDATE).  This is the
 *	   mutex between runs of the same view: a second run waits for the
 *	   first to finish, then recomputes.  Under REPEATABLE READ a run that
 *	   started before another one published fails with a serialization
 *	   error rather than publishing over it.  Readers take no row lock and
 *	   are never blocked.
 *	2. takes and registers a snapshot S after the lock, so S sees the
 *	   previous batch.  S is the cut between the layers: a committed master
 *	   row belongs to this batch iff S sees it.
 *	3. runs the partial-state query under exactly S, read-only, so the
 *	   planner may use parallel query as it would for CREATE TABLE AS, and
 *	   collects the groups in a tuplestore.
 *	4. replaces the batch table's rows (DELETE, then one INSERT ... SELECT
 *	   from the tuplestore) and updates the catalog row with the new version
 *	   and S.  Readers keep seeing the old rows until this transaction
 *	   commits, then see the new batch and its catalog row together; an
 *	   error or a cancel anywhere leaves the previous batch in place.
 *
 * Steps 3 and 4 run as the view's owner, restricted (identity.c): the
 * query is the owner's, and so are the functions of the types its groups
 * are indexed and compared with.  The batch table belongs to the extension
 * and no role may write it (guard.c), so step 4 writes it directly, with
 * the table access method, as lambda's own work; no trigger, rule or
 * privilege of anyone's takes part.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/queryenvironment.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "batch.h"
#include "capture.h"
#include "catalog.h"
#include "identity.h"
#include "lambda.h"
#include "layout.h"
#include "master.h"
#include "restore.h"
#include "shmem.h"
#include "speed.h"

LAMBDA_FUNCTION(lambda_run_batch);
LAMBDA_FUNCTION(lambda_scheduled_batch);

static Tuplestorestate *ComputeUnderSnapshot(Oid partialView, Snapshot snap);
static void Publish(LambdaViewEntry *entry, Tuplestorestate *groups);
static uint64 WidenXid(TransactionId xid, FullTransactionId next);
static int	CompareUint64(const void *a, const void *b);

/*
 * run_batch(view regclass) returns bigint
 */
Datum
lambda_run_batch(PG_FUNCTION_ARGS)
{
	Oid			viewid = PG_GETARG_OID(0);
	LambdaViewEntry entry;
	int64		groups;

	LambdaCheckPreloaded();
	SPI_connect();
	CatalogGetViewOrError(viewid, &entry);
	CheckViewOwner(viewid);
	groups = RunBatch(&entry);
	SPI_finish();
	PG_RETURN_INT64(groups);
}

/*
 * scheduled_batch(view_id bigint) returns bigint
 *
 * run_batch of the view with this id: what a view's pg_cron job runs.
 */
Datum
lambda_scheduled_batch(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			viewid;

	LambdaCheckPreloaded();
	viewid = CatalogViewById(id);
	if (!OidIsValid(viewid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lambda view with id " INT64_FORMAT " does not exist", id),
				 errhint("The view lambda.views lists the lambda views and their ids.")));
	return DirectFunctionCall1(lambda_run_batch, ObjectIdGetDatum(viewid));
}

/*
 * Recompute and publish the batch of a view; return the number of groups.
 * The caller is connected to SPI and has checked the caller's right to run
 * it.
 */
int64
RunBatch(LambdaViewEntry *entry)
{
	TimestampTz started = GetCurrentTimestamp();
	Oid			argtypes[5] = {OIDOID, TIMESTAMPTZOID, INT8OID, TEXTOID};
	Datum		values[5];
	Snapshot	snap;
	Tuplestorestate *groups;
	int64		ngroups;
	LambdaIdentity save;

	/* 1: one run per view at a time */
	(void) BatchBegin(entry, false, true);

	/* 2: the cut; what this transaction captured so far is in this batch */
	snap = RegisterSnapshot(GetTransactionSnapshot());
	CaptureCover(entry->view);
	BatchRegisterCut(entry->view, snap, entry->batchVersion == 0);
	SharedWantDatabase(MyDatabaseId);

	/* 3: compute, and 4: publish, as the view's owner */
	IdentityBecomeViewOwner(entry->view, &save);
	groups = ComputeUnderSnapshot(entry->partialView, snap);
	ngroups = tuplestore_tuple_count(groups);
	Publish(entry, groups);
	IdentityRestore(&save);

	/* snapshots older than the catalog row's update read the old batch */
	CaptureBatchPublished(entry->view, GetCurrentCommandId(false));

	values[0] = ObjectIdGetDatum(entry->view);
	values[1] = TimestampTzGetDatum(started);
	values[2] = Int64GetDatum(ngroups);
	values[3] = CStringGetTextDatum(BatchSnapshotText(snap));
	CatalogExec("UPDATE lambda.view "
				"SET batch_version = batch_version OPERATOR(pg_catalog.+) 1, "
				"batch_started = $2, batch_finished = pg_catalog.clock_timestamp(), "
				"batch_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $2, "
				"batch_groups = $3, batch_snapshot = $4::pg_catalog.pg_snapshot "
				"WHERE view OPERATOR(pg_catalog.=) $1",
				4, argtypes, values, NULL);

	tuplestore_end(groups);
	UnregisterSnapshot(snap);
	return ngroups;
}

/*
 * Check that a batch run (or, with compaction, a compaction) of the view
 * may start, and take its catalog row's lock: the mutex between the runs
 * and compactions of a view (step 1).  Without wait, return false at once
 * when another transaction holds it.
 */
bool
BatchBegin(LambdaViewEntry *entry, bool compaction, bool wait)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	MasterCheckUsable(entry->master);
	if (!RestoreCaptureInPlace(entry->id, entry->master))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 compaction ?
				 errmsg("cannot compact lambda view \"%s\" before its capture triggers exist",
						get_rel_name(entry->view)) :
				 errmsg("cannot run a batch of lambda view \"%s\" before its capture triggers exist",
						get_rel_name(entry->view)),
				 errdetail("Rows inserted before the triggers exist would be in neither layer. A restore creates them after loading the data."),
				 errhint("Run the batch once the restore has finished.")));
	if (CaptureInsertRunning(LayoutGet(entry->view)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 compaction ?
				 errmsg("cannot compact lambda view \"%s\" while an insert into its master is running",
						get_rel_name(entry->view)) :
				 errmsg("cannot run a batch of lambda view \"%s\" while an insert into its master is running",
						get_rel_name(entry->view)),
				 errdetail("The rows the statement inserted so far would be counted twice: in the batch, and when the statement's rows are captured at its end."),
				 errhint("Run the batch after the statement, for example from the next statement of the transaction.")));

	values[0] = ObjectIdGetDatum(entry->view);
	return CatalogExec(wait ?
					   "SELECT 1 FROM lambda.view WHERE view OPERATOR(pg_catalog.=) $1 "
					   "FOR UPDATE" :
					   "SELECT 1 FROM lambda.view WHERE view OPERATOR(pg_catalog.=) $1 "
					   "FOR UPDATE SKIP LOCKED",
					   1, argtypes, values, NULL) > 0;
}

/*
 * Run the partial-state query under snap and return its rows.
 */
static Tuplestorestate *
ComputeUnderSnapshot(Oid partialView, Snapshot snap)
{
	SPIPrepareOptions prepopts = {0};
	SPIExecuteOptions execopts = {0};
	SPIPlanPtr	plan;
	Tuplestorestate *groups;
	DestReceiver *dest;
	int			ret;

	prepopts.parseMode = RAW_PARSE_DEFAULT;
	prepopts.cursorOptions = CURSOR_OPT_PARALLEL_OK;
	plan = SPI_prepare_extended(psprintf("SELECT * FROM %s",
										 QualifiedRelationName(partialView)),
								&prepopts);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_extended failed: %s",
			 SPI_result_code_string(SPI_result));

	groups = tuplestore_begin_heap(false, false, work_mem);
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, groups, CurrentMemoryContext,
									true, NULL, NULL);

	/*
	 * Read-only SPI runs the query under the active snapshot, unchanged: push
	 * S.  Read-only is also what lets the planner go parallel.
	 */
	execopts.read_only = true;
	execopts.dest = dest;
	PushActiveSnapshot(snap);
	ret = SPI_execute_plan_extended(plan, &execopts);
	PopActiveSnapshot();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan_extended failed: %s",
			 SPI_result_code_string(ret));

	dest->rDestroy(dest);
	SPI_freeplan(plan);
	return groups;
}

/*
 * Replace the batch table's rows with groups.  The catalog row lock (step
 * 1) keeps every other run out, so the latest snapshot sees exactly the
 * rows to replace: those of the previous batch, or of an earlier run in
 * this transaction.
 */
static void
Publish(LambdaViewEntry *entry, Tuplestorestate *groups)
{
	Relation	rel = table_open(entry->batchTable, RowExclusiveLock);
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *resultRelInfo = makeNode(ResultRelInfo);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TupleTableSlot *row;
	CommandId	cid;
	Snapshot	snap;
	TableScanDesc scan;

	LayoutCheckBatchTable(LayoutGet(entry->view), rel);
	InitResultRelInfo(resultRelInfo, rel, 1, NULL, 0);
	ExecOpenIndices(resultRelInfo, false);

	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		simple_table_tuple_delete(rel, &slot->tts_tid, snap);
	table_endscan(scan);
	UnregisterSnapshot(snap);

	cid = GetCurrentCommandId(true);
	row = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	tuplestore_rescan(groups);
	while (tuplestore_gettupleslot(groups, true, false, row))
	{
		ExecCopySlot(slot, row);
		table_tuple_insert(rel, slot, cid, 0, NULL);
		if (resultRelInfo->ri_NumIndices > 0)
			(void) ExecInsertIndexTuples(resultRelInfo, slot, estate,
										 false, false, NULL, NIL);
		ResetPerTupleExprContext(estate);
	}
	CommandCounterIncrement();

	ExecDropSingleTupleTableSlot(row);
	ExecDropSingleTupleTableSlot(slot);
	ExecCloseIndices(resultRelInfo);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
}

/*
 * Register the generation of this batch with the speed layer: its snapshot,
 * with this transaction recorded as in progress (see SnapshotText), and the
 * id of the (sub)transaction that publishes it: readers see the generation
 * exactly when they see that catalog row, so a batch run in a subtransaction
 * that rolls back is never resolved to.  A compaction registers its cut the
 * same way (compact.c).
 */
void
BatchRegisterCut(Oid viewid, Snapshot snap, bool fresh)
{
	TransactionId own = GetTopTransactionId();
	TransactionId publisher = GetCurrentTransactionId();
	TransactionId *xip = palloc(sizeof(TransactionId) * (snap->xcnt + 1));
	TransactionId xmin = snap->xmin;
	int			xcnt = snap->xcnt;

	memcpy(xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
	if (TransactionIdPrecedes(own, snap->xmax))
	{
		xip[xcnt++] = own;
		if (TransactionIdPrecedes(own, xmin))
			xmin = own;
	}
	SpeedRegisterBatch(viewid, xmin, snap->xmax, xip, xcnt, publisher, fresh);
}

/*
 * The snapshot as pg_snapshot text, "xmin:xmax:xip,...", with 64-bit
 * transaction ids so the recorded cut stays meaningful across wraparound.
 */
char *
BatchSnapshotText(Snapshot snap)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint64	   *xip = palloc(sizeof(uint64) * Max(snap->xcnt, 1));
	StringInfoData buf;
	int			i;

	TransactionId own = GetTopTransactionIdIfAny();
	TransactionId xmin = snap->xmin;
	int			nxip = snap->xcnt;

	for (i = 0; i < snap->xcnt; i++)
		xip[i] = WidenXid(snap->xip[i], next);

	/*
	 * A snapshot leaves the taker's own transaction out of xip, so whether it
	 * reads as visible would depend on xmax.  Record it as in progress: the
	 * rows it inserted before the batch are in the batch table, and those it
	 * inserts after belong to the speed layer, which drops what this
	 * transaction captured before the batch.
	 */
	if (TransactionIdIsValid(own) && TransactionIdPrecedes(own, snap->xmax))
	{
		xip = repalloc(xip, sizeof(uint64) * (nxip + 1));
		xip[nxip++] = WidenXid(own, next);
		if (TransactionIdPrecedes(own, xmin))
			xmin = own;
	}
	qsort(xip, nxip, sizeof(uint64), CompareUint64);

	initStringInfo(&buf);
	appendStringInfo(&buf, UINT64_FORMAT ":" UINT64_FORMAT ":",
					 WidenXid(xmin, next), WidenXid(snap->xmax, next));
	for (i = 0; i < nxip; i++)
		appendStringInfo(&buf, "%s" UINT64_FORMAT, i > 0 ? "," : "", xip[i]);
	return buf.data;
}

/*
 * A recent xid as a 64-bit one: an xid above next's low 32 bits was
 * assigned in the previous epoch.
 */
static uint64
WidenXid(TransactionId xid, FullTransactionId next)
{
	uint64		epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return (epoch << 32) | xid;
}

static int
CompareUint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}
