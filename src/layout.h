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

#include "viewdef.h"

typedef struct LambdaLayout
{
	Oid			viewid;			/* hash key */
	bool		valid;
	MemoryContext context;		/* everything below */
	Oid			master;
	Oid			batchTable;
	Oid			partialView;	/* the partial-state query */
	TupleDesc	desc;			/* partial state rows: keys, then states */
	int			nkeys;
	bool	   *isState;		/* per column: a state, not a key */
	LambdaStateKind *kinds;		/* per state column */
	FmgrInfo   *mergeFn;		/* per state column: + or btree compare */
	FmgrInfo   *hashFn;			/* per key column */
	bool	   *hasHash;
	FmgrInfo   *eqFn;			/* per key column */
	struct LambdaFold *fold;	/* capture's prepared expressions, or NULL */
} LambdaLayout;

extern LambdaLayout *LayoutGet(Oid viewid);
extern LambdaLayout *LayoutFind(Oid viewid);
extern void LayoutForget(Oid viewid);
extern uint32 LayoutHashKeys(LambdaLayout *layout, Datum *values, bool *isnull);
extern bool LayoutKeysEqual(LambdaLayout *layout, Datum *a, bool *anull,
							Datum *b, bool *bnull);
extern bool LayoutTupleHasKey(LambdaLayout *layout, HeapTuple tuple,
							  Datum *key, bool *keynull);
extern void LayoutMerge(LambdaLayout *layout, Datum *a, bool *anull,
						Datum *b, bool *bnull);

#endif							/* LAMBDA_LAYOUT_H */
