/*-------------------------------------------------------------------------
 *
 * ddl.h
 *	  Keeping the catalog and the cron jobs in step with DDL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_DDL_H
#define LAMBDA_DDL_H

/* Set while the extension itself creates or replaces a lambda view */
extern bool lambda_internal_ddl;

#endif							/* LAMBDA_DDL_H */
