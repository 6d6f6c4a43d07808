/*-------------------------------------------------------------------------
 *
 * restore.h
 *	  Lambda views through pg_dump and a restore.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_RESTORE_H
#define LAMBDA_RESTORE_H

#include "postgres.h"

#include "nodes/parsenodes.h"

extern bool RestoreIsCaptureTrigger(CreateTrigStmt *stmt);
extern bool RestoreTriggerExists(CreateTrigStmt *stmt);
extern void RestoreAdoptTrigger(CreateTrigStmt *stmt);
extern bool RestoreCaptureInPlace(int64 id, Oid master);
extern Oid	RestoreViewTrigger(Oid relid, const char *name, int64 id, bool row,
							   bool *exists);

#endif							/* LAMBDA_RESTORE_H */
