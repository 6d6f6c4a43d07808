/*-------------------------------------------------------------------------
 *
 * master.h
 *	  Append-only master tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_MASTER_H
#define LAMBDA_MASTER_H

#include "postgres.h"

extern void MasterCheckUsable(Oid relid);
extern void MasterCheckTruncate(Oid relid);

#endif							/* LAMBDA_MASTER_H */
