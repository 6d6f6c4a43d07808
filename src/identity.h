/*-------------------------------------------------------------------------
 *
 * identity.h
 *	  Whose rights lambda's code runs with: the one place that switches.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_IDENTITY_H
#define LAMBDA_IDENTITY_H

#include "postgres.h"

/* What IdentityRestore puts back */
typedef struct LambdaIdentity
{
	Oid			userid;
	int			secContext;
	int			gucNestLevel;
} LambdaIdentity;

/* The search_path everything lambda runs itself is resolved under */
#define LAMBDA_SEARCH_PATH	"pg_catalog, pg_temp"

extern Oid	IdentityCatalogOwner(void);
extern Oid	IdentityRelationOwner(Oid relid);
extern void IdentityBecomeViewOwner(Oid viewid, LambdaIdentity *save);
extern void IdentityBecomeCatalogOwner(LambdaIdentity *save);
extern void IdentityRestore(LambdaIdentity *save);
extern void IdentityPinSearchPath(void);

#endif							/* LAMBDA_IDENTITY_H */
