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

#include "access/tupdesc.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "viewdef.h"

/* Name under which the capture query sees the rows a statement inserted */
#define LAMBDA_CAPTURE_TABLE	"lambda_new_rows"

typedef struct LambdaLayout
{
	Oid			viewid;			/* hash key */
	bool		valid;
	Oid			master;
	Oid			batchTable;
	TupleDesc	desc;			/* partial state rows: keys, then states */
	int			nkeys;
	bool	   *isState;		/* per column: a state, not a key */
	LambdaStateKind *kinds;		/* per state column */
	FmgrInfo   *mergeFn;		/* per state column: + or btree compare */
	FmgrInfo   *hashFn;			/* per key column */
	bool	   *hasHash;
	FmgrInfo   *eqFn;			/* per key column */
	char	   *captureSql;		/* partial-state query over the new rows */
	SPIPlanPtr	capturePlan;	/* ... prepared, once per process */
} LambdaLayout;

extern LambdaLayout *LayoutGet(Oid viewid);
extern void LayoutForget(Oid viewid);
extern uint32 LayoutHashKeys(LambdaLayout *layout, Datum *values, bool *isnull);
extern bool LayoutKeysEqual(LambdaLayout *layout, Datum *a, bool *anull,
							Datum *b, bool *bnull);
extern void LayoutMerge(LambdaLayout *layout, Datum *a, bool *anull,
						Datum *b, bool *bnull);

#endif							/* LAMBDA_LAYOUT_H */
