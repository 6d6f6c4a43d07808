/*-------------------------------------------------------------------------
 *
 * persist.h
 *	  Keeping the speed layer across a clean restart.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_PERSIST_H
#define LAMBDA_PERSIST_H

#include "postgres.h"

extern void PersistCheckAtStart(void);
extern void PersistWaitLoaded(void);
extern void PersistLoad(void);
extern void PersistSave(void);

#endif							/* LAMBDA_PERSIST_H */
