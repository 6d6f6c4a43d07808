/*-------------------------------------------------------------------------
 *
 * layout.h
 *	  The row type of a view's partial states and how they merge.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_LAYOUT_H
#define LAMBDA_LAYOUT_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

#include "partial.h"
#include "viewdef.h"

typedef struct LambdaLayout LambdaLayout;

struct LambdaLayout
{
	Oid			viewid;			/* hash key */
	int64		id;				/* the view's id (catalog.c) */
	bool		valid;
	MemoryContext context;		/* everything below */
	Oid			master;
	Oid			batchTable;
	Oid			partialView;	/* the partial-state query */
	struct RangeTblEntry *masterRte;	/* its reference to the master */
	List	   *rels;			/* the master and its partitions */
	bool		fallible;		/* a state's merge can fail where the query
								 * does not: a float, money or interval sum,
								 * a combine function */
	TupleDesc	desc;			/* partial state rows: keys, then states */
	int			nkeys;
	bool	   *isState;		/* per column: a state, not a key */
	LambdaStateKind *kinds;		/* per state column */
	FmgrInfo   *mergeFn;		/* per state column: + or btree compare */
	LambdaAggregate **aggs;		/* per generic state column: its aggregate */
	FmgrInfo   *hashFn;			/* per key column */
	bool	   *hasHash;
	FmgrInfo   *eqFn;			/* per key column */
	struct LambdaFold *fold;	/* capture's prepared expressions, or NULL */
	int			pins;			/* callers using it (LayoutPin) */
	List	   *retired;		/* memory of older builds they may still use */
};

/*
 * A backend-local table of partial state rows by group, each group the
 * merge of the rows added for it.  Callers may embed LayoutGroup as the
 * first member of a larger struct (see LayoutGroupsCreate).
 */
typedef struct LayoutGroup
{
	uint32		hash;
	Datum	   *values;
	bool	   *isnull;
	struct LayoutGroup *next;	/* in its bucket */
} LayoutGroup;

typedef struct LayoutGroups
{
	struct LambdaLayout *layout;
	Size		groupSize;		/* of the caller's struct */
	uint32		nbuckets;
	LayoutGroup **buckets;
	List	   *groups;			/* in the order they were made */
} LayoutGroups;

extern LambdaLayout *LayoutGet(Oid viewid);
extern LambdaLayout *LayoutFind(Oid viewid);
extern bool LayoutHasId(Oid viewid, int64 id);
extern void LayoutForget(Oid viewid);
extern void LayoutPin(LambdaLayout *layout);
extern void LayoutUnpin(LambdaLayout *layout);
#include "utils/relcache.h"

extern void LayoutCheckBatchTable(LambdaLayout *layout, Relation batch);
extern uint32 LayoutHashKeys(LambdaLayout *layout, Datum *values, bool *isnull);
extern bool LayoutKeysEqual(LambdaLayout *layout, Datum *a, bool *anull,
							Datum *b, bool *bnull);
extern bool LayoutPrefixEqual(LambdaLayout *layout, int nprefix, Datum *a,
							  bool *anull, Datum *b, bool *bnull);
extern bool LayoutTupleHasKey(LambdaLayout *layout, HeapTuple tuple, int nprefix,
							  Datum *key, bool *keynull);
extern LayoutGroups *LayoutGroupsCreate(LambdaLayout *layout, uint32 nbuckets,
										Size groupSize);
extern LayoutGroup *LayoutGroupsFind(LayoutGroups *groups, uint32 hash,
									 Datum *values, bool *isnull);
extern LayoutGroup *LayoutGroupsAdd(LayoutGroups *groups, HeapTuple tuple);
extern void LayoutMerge(LambdaLayout *layout, Datum *a, bool *anull,
						Datum *b, bool *bnull);

#endif							/* LAMBDA_LAYOUT_H */
