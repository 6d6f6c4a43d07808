/*-------------------------------------------------------------------------
 *
 * views.h
 *	  The SQL API of lambda views.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_VIEWS_H
#define LAMBDA_VIEWS_H

#include "postgres.h"

struct LambdaViewDef;

extern void ViewsCreateInternalObjects(Oid viewid, int64 id,
									   struct LambdaViewDef *def, Oid owner);
extern void ViewsRecordInternal(Oid classId, Oid objectId, Oid viewid);
extern void ViewsGrantOnly(Oid relid, Oid reader);
extern Oid	ViewsPartialReader(Oid partialView);
extern void ViewsCheckNewOwner(Oid viewid, Oid partialView, Oid owner);

#endif							/* LAMBDA_VIEWS_H */
