/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Access to the extension's catalog tables lambda.master and lambda.view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_CATALOG_H
#define LAMBDA_CATALOG_H

#include "postgres.h"

/* One row of lambda.view, as far as the C code needs it */
typedef struct LambdaViewEntry
{
	Oid			view;			/* the user-facing merged view */
	int64		id;				/* its id, which a restore keeps */
	Oid			master;			/* its master table */
	Oid			batchTable;		/* the published batch */
	Oid			partialView;	/* the partial-state query over the master */
	char	   *schedule;		/* cron schedule, or NULL */
	int64		cronJobId;		/* pg_cron job, or 0 */
	int64		batchVersion;	/* 0 until the first batch is published */
} LambdaViewEntry;

extern void SpiExec(const char *sql);
extern char *QualifiedRelationName(Oid relid);
extern uint64 CatalogExec(const char *sql, int nargs, Oid *argtypes,
						  Datum *values, const char *nulls);
extern char *RelationDisplayName(Oid relid);
extern void CheckViewOwner(Oid viewid);
extern bool CatalogIsMaster(Oid relid);
extern Oid	CatalogInternalNamespace(void);
extern bool CatalogHasIds(void);
extern bool CatalogHasQueryTrees(void);
extern bool CatalogHasCompactions(void);
extern bool CatalogTypeOrPartIs(Oid type, bool (*test) (Oid type, char typtype));
extern bool CatalogFunctionIsC(Oid funcid);
extern char *CatalogIdColumn(const char *alias);
extern int64 CatalogNextViewId(Oid viewid);
extern Oid	CatalogViewById(int64 id);
extern char *CatalogInternalName(const char *kind, int64 id);

/* views.c */
extern void CaptureTriggerOn(Oid viewid, int64 id, Oid relid, bool wait);
extern bool CatalogGetView(Oid viewid, LambdaViewEntry *entry);
extern void CatalogGetViewOrError(Oid viewid, LambdaViewEntry *entry);

#endif							/* LAMBDA_CATALOG_H */
