/*-------------------------------------------------------------------------
 *
 * ddl.h
 *	  Keeping lambda's catalog and cron jobs in step with DDL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_DDL_H
#define LAMBDA_DDL_H

#include "postgres.h"

extern void DdlSyncOwner(Oid viewid);
extern void DdlSyncAllOwners(void);

#endif							/* LAMBDA_DDL_H */
