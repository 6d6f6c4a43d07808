/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The extension's shared memory: the registry of views whose speed layer
 *	  is kept, and the dynamic shared memory area that holds their state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_SHMEM_H
#define LAMBDA_SHMEM_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/dsa.h"
#include "utils/timestamp.h"

/* Room for the reason a view is on the slow path */
#define LAMBDA_REASON_LEN	160

/*
 * Where a view slot is in its life cycle (shmem.c says who moves it, under
 * which locks)
 */
typedef enum LambdaSlotState
{
	LAMBDA_SLOT_FREE = 0,		/* no view's: dbid and viewid are invalid */
	LAMBDA_SLOT_CREATING,		/* taken by the transaction creating its view
								 * (creatorXid), which may yet roll back */
	LAMBDA_SLOT_LIVE			/* its view's, which exists or existed */
} LambdaSlotState;

/* Speed state of one view; see speed.c for what the fields mean */
typedef struct LambdaSharedView
{
	/*
	 * The slot's identity: state, dbid, viewid and taken change only under
	 * both the registry lock and lock, exclusively; creatorXid with them.
	 */
	LambdaSlotState state;
	Oid			dbid;
	Oid			viewid;
	uint64		taken;			/* times the slot was taken, which tells one
								 * view's use of it from the next's */
	TransactionId creatorXid;	/* transaction that took the slot, if any */
	LWLock		lock;			/* guards the fields below and their DSA data */
	dsa_pointer pending;		/* unsettled deltas, LambdaDelta list */
	dsa_pointer generations;	/* LambdaGeneration list, newest first */
	TransactionId lossyMaxXid;	/* newest transaction whose delta was lost */
	bool		lost;			/* a delta was lost since the newest generation */
	bool		overflowed;		/* ... for want of memory */
	int64		pendingBytes;	/* DSA bytes of pending deltas */
	uint64		nextGenerationId;
	uint64		settleRounds;	/* SpeedSettle calls, for tests to wait on */
	char		slowReason[LAMBDA_REASON_LEN];	/* why no generation is
												 * complete, or "" */
	TimestampTz slowSince;		/* since when */
} LambdaSharedView;

/*
 * A database whose speed layers a worker keeps: every field is read under
 * the registry lock, and changed under it, exclusively
 */
typedef struct LambdaDatabaseSlot
{
	Oid			dbid;			/* InvalidOid: free */
	pid_t		workerPid;		/* 0 when no worker runs; set and cleared by
								 * the worker alone (WorkerExit), also when
								 * the slot went to another database */
	bool		wanted;			/* a worker should run for it */
	bool		failed;			/* its last worker exited with an error, or
								 * before it could register (worker.c) */
} LambdaDatabaseSlot;

typedef struct LambdaShared
{
	LWLock	   *lock;			/* guards the registry: slot allocation */
	int			dsaTrancheId;
	int			viewTrancheId;
	Latch	   *launcherLatch;
	int			nviews;
	int			ndatabases;
	LambdaDatabaseSlot *databases;
	int			nwaiting;
	Oid		   *waiting;		/* databases waiting for a database slot, in
								 * turn: room for lambda.max_views, which is
								 * never too little (SharedWantDatabase) */
	int			nprobing;		/* databases the launcher has yet to probe
								 * after a start (worker.c) */
	LambdaSharedView *views;
	char	   *rawDsaArea;
	bool		loading;		/* the launcher has yet to load the state saved
								 * at the last shutdown (persist.c) */
	bool		loaderActive;	/* ... and has begun to */
	ConditionVariable loadedCV;	/* broadcast when it has */
	pg_atomic_uint64 speedChunks;	/* DSA chunks the speed layer holds
									 * (SharedAllocate), over all views:
									 * none once every view is gone */
} LambdaShared;

extern LambdaShared *lambda_shared;

extern void ShmemInit(void);
extern dsa_area *LambdaDsa(void);
extern dsa_pointer SharedAllocate(dsa_area *dsa, Size size, int flags);
extern void SharedFree(dsa_area *dsa, dsa_pointer dp);
extern LambdaSharedView *SharedViewFind(Oid dbid, Oid viewid, bool create);
extern LambdaSharedView *SharedViewFindExtended(Oid dbid, Oid viewid,
												 bool create, bool fresh);
extern LambdaSharedView *SharedViewLock(Oid dbid, Oid viewid, bool create,
										LWLockMode mode);
extern List *SharedViewsOf(Oid dbid);
extern bool SharedViewLockIfStill(LambdaSharedView *view, Oid viewid,
								  LWLockMode mode);
extern void SharedViewForget(Oid dbid, Oid viewid, uint64 taken,
							 void (*drop) (LambdaSharedView *view));
extern void SharedViewCommitted(LambdaSharedView *view, Oid viewid);
extern bool SharedWantDatabase(Oid dbid);
extern List *SharedServeWaiting(List *probe);
extern bool SharedReleaseDatabase(Oid dbid, pid_t *pid);
extern void SharedYieldDatabase(LambdaDatabaseSlot *slot);
extern bool SharedOthersWaiting(void);

#endif							/* LAMBDA_SHMEM_H */
