/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  Scheduling batch runs with pg_cron.
 *
 * pg_cron is optional: run_batch works without it, and only a schedule
 * needs it.  pg_cron runs jobs from the one database named by
 * cron.database_name and can only be installed there, so "installed in this
 * database" is exactly "can run this database's batches"; anything else is
 * refused with a hint.
 *
 * A view's job is named "lambda: <schema>.<view>" and runs
 * SELECT lambda.scheduled_batch(<view id>), as the user who scheduled it; the
 * id keeps the job working when the view is renamed, and when pg_dump and
 * a restore carry the job and the view to another database.  pg_cron writes its
 * jobs to an ordinary table, so scheduling is part of the caller's
 * transaction and undone with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "schedule.h"

static void CheckCronInstalled(void);
static void CheckCronUsable(void);
static char *JobCommand(Oid viewid);
static Datum CronCall(const char *sql, int nargs, Oid *argtypes, Datum *values,
					  const char *schedule);

/*
 * Refuse to schedule unless pg_cron is installed in this database.
 */
static void
CheckCronInstalled(void)
{
	const char *cronDatabase;

	if (OidIsValid(get_extension_oid("pg_cron", true)))
		return;

	cronDatabase = GetConfigOption("cron.database_name", true, false);
	if (cronDatabase != NULL &&
		strcmp(cronDatabase, get_database_name(MyDatabaseId)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot schedule batches: pg_cron runs jobs only in database \"%s\"",
						cronDatabase),
				 errhint("Create the view in database \"%s\", set cron.database_name to \"%s\", or call lambda.run_batch() from another scheduler.",
						 cronDatabase, get_database_name(MyDatabaseId))));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot schedule batches: extension \"pg_cron\" is not installed"),
			 errhint("Add pg_cron to \"shared_preload_libraries\" and run CREATE EXTENSION pg_cron, or leave the schedule NULL and call lambda.run_batch() yourself.")));
}

/*
 * Refuse to schedule for a role that may not use pg_cron: its schema is
 * not PUBLIC.  Said here, not as pg_cron's bare "permission denied".
 */
static void
CheckCronUsable(void)
{
	Oid			nsp = get_namespace_oid("cron", true);

	if (!OidIsValid(nsp) ||
		pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) == ACLCHECK_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to schedule batches of lambda views"),
			 errdetail("Scheduling takes USAGE on schema \"cron\", which pg_cron grants to nobody by default."),
			 errhint("Ask a superuser to GRANT USAGE ON SCHEMA cron TO %s, or leave the schedule NULL and call lambda.run_batch() from another scheduler.",
					 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * Run one pg_cron function call in a subtransaction and return its result.
 * pg_cron reports a bad schedule as an internal error; report it as the
 * caller's invalid parameter instead, naming the schedule.
 */
static Datum
CronCall(const char *sql, int nargs, Oid *argtypes, Datum *values,
		 const char *schedule)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Datum		result = (Datum) 0;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		bool		isnull;
		int			ret;

		ret = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "unexpected result from pg_cron: %s",
				 SPI_result_code_string(ret));
		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   1, &isnull);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;

		if (schedule != NULL && edata->message != NULL &&
			strncmp(edata->message, "invalid schedule", 16) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid cron schedule \"%s\"", schedule),
					 errhint("Use cron syntax: five fields, minute hour day-of-month month day-of-week, as in '*/10 * * * *'.")));
		ReThrowError(edata);
	}
	PG_END_TRY();

	return result;
}

/*
 * The command a view's job runs.
 */
static char *
JobCommand(Oid viewid)
{
	LambdaViewEntry entry;

	/* By id, which a restore keeps (0.1 knew only the OID: catalog.c) */
	if (!CatalogHasIds())
		return psprintf("SELECT lambda.run_batch(%u)", viewid);
	CatalogGetViewOrError(viewid, &entry);
	return psprintf("SELECT lambda.scheduled_batch(" INT64_FORMAT ")", entry.id);
}

/*
 * Schedule the batch of a view and return the pg_cron job id.
 */
int64
ScheduleCreate(Oid viewid, const char *schedule)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	CheckCronInstalled();
	CheckCronUsable();

	values[0] = CStringGetTextDatum(psprintf("lambda: %s.%s",
											 get_namespace_name(get_rel_namespace(viewid)),
											 get_rel_name(viewid)));
	values[1] = CStringGetTextDatum(schedule);
	values[2] = CStringGetTextDatum(JobCommand(viewid));

	return DatumGetInt64(CronCall("SELECT cron.schedule($1, $2, $3)",
								  3, argtypes, values, schedule));
}

/*
 * Change the schedule of an existing job.
 */
void
ScheduleAlter(int64 jobid, const char *schedule)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	CheckCronInstalled();
	CheckCronUsable();

	values[0] = Int64GetDatum(jobid);
	values[1] = CStringGetTextDatum(schedule);
	(void) CronCall("SELECT cron.alter_job($1, schedule => $2)",
					2, argtypes, values, schedule);
}

/*
 * Run an existing job as another role: the new owner of its view.  The job
 * is set back to lambda's own command in this database at the same time:
 * its old owner may have changed the command (pg_cron lets a job's owner
 * alter it), and it must never run as someone else.
 */
void
ScheduleSetOwner(int64 jobid, Oid viewid, const char *owner)
{
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];

	if (!ScheduleJobExists(jobid))
		return;
	values[0] = Int64GetDatum(jobid);
	values[1] = CStringGetTextDatum(JobCommand(viewid));
	values[2] = CStringGetTextDatum(get_database_name(MyDatabaseId));
	values[3] = CStringGetTextDatum(owner);
	(void) CronCall("SELECT cron.alter_job($1, command => $2, database => $3, username => $4)",
					4, argtypes, values, NULL);
}

/*
 * Does the pg_cron job still exist?  It does not when pg_cron was dropped
 * or someone unscheduled it by hand.
 */
bool
ScheduleJobExists(int64 jobid)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(jobid)};
	int			ret;

	if (!OidIsValid(get_extension_oid("pg_cron", true)))
		return false;
	ret = SPI_execute_with_args("SELECT 1 FROM cron.job WHERE jobid OPERATOR(pg_catalog.=) $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/*
 * Remove a job if it still exists.
 */
void
ScheduleRemove(int64 jobid)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(jobid)};

	if (!ScheduleJobExists(jobid))
		return;
	(void) CronCall("SELECT cron.unschedule($1)", 1, argtypes, values, NULL);
}
