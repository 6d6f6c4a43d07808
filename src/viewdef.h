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

/* The aggregates a view may use: those whose partial states merge exactly */
typedef enum LambdaAggKind
{
	LAMBDA_AGG_COUNT_STAR,
	LAMBDA_AGG_COUNT,
	LAMBDA_AGG_SUM,
	LAMBDA_AGG_AVG,
	LAMBDA_AGG_MIN,
	LAMBDA_AGG_MAX
} LambdaAggKind;

/* A group key: one GROUP BY expression */
typedef struct LambdaKey
{
	char	   *name;			/* its column in the batch table */
	Expr	   *expr;			/* the expression over the master */
	char	   *exprSql;		/* ... deparsed */
} LambdaKey;

/* An aggregate of the view's output */
typedef struct LambdaAgg
{
	LambdaAggKind kind;
	char	   *name;			/* output column; batch column(s) derive from it */
	Oid			argType;		/* InvalidOid for count(*) */
	char	   *argSql;			/* deparsed argument, NULL for count(*) */
	char	   *filterSql;		/* deparsed FILTER condition, or NULL */
} LambdaAgg;

/* A partial state, one column of the batch table after the group keys */
typedef enum LambdaStateKind
{
	LAMBDA_STATE_COUNT,			/* bigint, merged by addition */
	LAMBDA_STATE_SUM,			/* merged by the type's + */
	LAMBDA_STATE_MIN,			/* merged by the type's btree order */
	LAMBDA_STATE_MAX
} LambdaStateKind;

typedef struct LambdaViewDef
{
	Oid			master;			/* the one table the view reads */
	Query	   *query;			/* the analyzed definition */
	char	   *querySql;		/* ... deparsed, under the pinned search_path */
	char	   *whereSql;		/* deparsed WHERE, or NULL */
	List	   *keys;			/* LambdaKey, in GROUP BY order */
	List	   *aggs;			/* LambdaAgg, in output order */
} LambdaViewDef;

extern LambdaViewDef *ViewDefAnalyze(const char *queryString, bool restoring);
extern char *ViewDefQuerySql(LambdaViewDef *def);
extern char *ViewDefPartialSql(LambdaViewDef *def);
extern char *ViewDefKeyList(LambdaViewDef *def);
extern int	ViewDefPinSettings(void);
extern void ViewDefUnpinSettings(int nestLevel);

#endif							/* LAMBDA_VIEWDEF_H */
