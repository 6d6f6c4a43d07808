/*-------------------------------------------------------------------------
 *
 * grouptable.h
 *	  A generation's settled partial states: a hash table of groups in the
 *	  speed layer's shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_GROUPTABLE_H
#define LAMBDA_GROUPTABLE_H

#include "postgres.h"

#include <stdio.h>

#include "access/htup.h"
#include "utils/dsa.h"

#include "layout.h"

/* Guarded by the lock of the view whose generation holds it (speed.c) */
typedef struct GroupTable
{
	dsa_pointer buckets;		/* array of nbuckets dsa_pointers to entries */
	uint32		nbuckets;
	int64		nentries;
	int64		bytes;			/* its bucket array and entries */
} GroupTable;

/* Where GroupTableRead puts the rows it reads (speed.h's SpeedEmit) */
typedef void (*GroupTableEmit) (HeapTuple tuple, void *arg);

extern bool GroupTableInit(dsa_area *dsa, GroupTable *table, uint32 nbuckets);
extern void GroupTableFree(dsa_area *dsa, GroupTable *table);
extern void GroupTableRead(dsa_area *dsa, GroupTable *table, LambdaLayout *layout,
						   int nprefix, Datum *key, bool *keynull,
						   GroupTableEmit emit, void *arg);
extern bool GroupTableMerge(dsa_area *dsa, GroupTable *table, LambdaLayout *layout,
							HeapTupleData *rows, int nrows, MemoryContext tmp);
extern int64 GroupTableSaveCount(dsa_area *dsa, GroupTable *table);
extern bool GroupTableSave(dsa_area *dsa, GroupTable *table, FILE *file);
extern bool GroupTableLoad(dsa_area *dsa, GroupTable *table, FILE *file,
						   int64 nentries);

#endif							/* LAMBDA_GROUPTABLE_H */
