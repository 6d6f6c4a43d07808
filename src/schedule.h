/*-------------------------------------------------------------------------
 *
 * schedule.h
 *	  Scheduling batch runs with pg_cron.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_SCHEDULE_H
#define LAMBDA_SCHEDULE_H

#include "postgres.h"

extern int64 ScheduleCreate(Oid viewid, const char *schedule);
extern void ScheduleAlter(int64 jobid, const char *schedule);
extern void ScheduleRemove(int64 jobid);
extern void ScheduleSetOwner(int64 jobid, Oid viewid, const char *owner);
extern bool ScheduleJobExists(int64 jobid);

#endif							/* LAMBDA_SCHEDULE_H */
