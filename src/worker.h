/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The speed layer's background workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_WORKER_H
#define LAMBDA_WORKER_H

extern void WorkerInit(void);
extern bool WorkerReleaseDatabase(Oid dbid);

#endif							/* LAMBDA_WORKER_H */
