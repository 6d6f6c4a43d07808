/*-------------------------------------------------------------------------
 *
 * viewdef.h
 *	  The one SQL definition of a lambda view, and what is derived from it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_VIEWDEF_H
#define LAMBDA_VIEWDEF_H

#include "postgres.h"

#include "nodes/parsenodes.h"

#include "aggregate.h"

/* A group key: one GROUP BY expression */
typedef struct LambdaKey
{
	char	   *name;			/* its column in the batch table */
	Expr	   *expr;			/* the expression over the master */
	char	   *exprSql;		/* ... deparsed */
} LambdaKey;

/* An aggregate call of the select list or HAVING (equal calls are one) */
typedef struct LambdaAgg
{
	LambdaAggKind kind;
	Aggref	   *aggref;			/* the call */
	char	   *name;			/* batch column(s) derive from it */
	int			column;			/* its (first) batch column, from 0 */
	Oid			argType;		/* of the first argument; InvalidOid for
								 * count(*) */
	char	   *argSql;			/* deparsed first argument, NULL for count(*) */
	char	   *argsSql;		/* generic: every argument, casts shown */
	char	   *filterSql;		/* deparsed FILTER condition, or NULL */
} LambdaAgg;

typedef struct LambdaViewDef
{
	Oid			master;			/* the one table the view reads */
	Query	   *query;			/* the analyzed definition */
	char	   *querySql;		/* ... deparsed, under the pinned search_path */
	char	   *whereSql;		/* deparsed WHERE, or NULL */
	List	   *keys;			/* LambdaKey, in GROUP BY order */
	List	   *aggs;			/* LambdaAgg, in the order of their first call */
	bool		plain;			/* every output a group key or an aggregate
								 * call, and no HAVING */
} LambdaViewDef;

extern LambdaViewDef *ViewDefAnalyze(const char *queryString, bool restoring);
extern char *ViewDefQuerySql(LambdaViewDef *def);
extern char *ViewDefQueryTree(LambdaViewDef *def);
extern char *ViewDefDeparseTree(const char *tree);
extern char *ViewDefPartialSql(LambdaViewDef *def);
extern char *ViewDefKeyList(LambdaViewDef *def);
extern int	ViewDefPinSettings(void);
extern void ViewDefUnpinSettings(int nestLevel);

#endif							/* LAMBDA_VIEWDEF_H */
