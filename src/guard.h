/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  What DDL may do to lambda's objects.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_GUARD_H
#define LAMBDA_GUARD_H

#include "postgres.h"

extern void GuardInit(void);
extern void GuardInternalExec(const char *sql);

#endif							/* LAMBDA_GUARD_H */
