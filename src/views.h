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

extern void ViewsGrantOnly(Oid relid, Oid reader);

#endif							/* LAMBDA_VIEWS_H */
