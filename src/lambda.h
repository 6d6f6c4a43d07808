/*-------------------------------------------------------------------------
 *
 * lambda.h
 *	  Declarations shared by every module of the lambda extension.
 *
 * The extension keeps aggregate views over an append-only master table in
 * three layers: a batch table recomputed from the whole master (batch.c),
 * a speed layer holding what the batch does not cover, and a serving view
 * that merges them.  Each module has its own header; this one holds only
 * what all of them need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_H
#define LAMBDA_H

#include "fmgr.h"

/* Name of the extension, its schema and its library */
#define LAMBDA_EXTENSION_NAME	"lambda"
#define LAMBDA_SCHEMA_NAME		"lambda"

/* Where views' batch tables and partial views live, apart from the API */
#define LAMBDA_INTERNAL_SCHEMA_NAME	"pg_lambda"

/* Set by _PG_init when the library is loaded by shared_preload_libraries */
extern bool lambda_preloaded;

extern void LambdaCheckPreloaded(void);

/*
 * PG_FUNCTION_INFO_V1 for an SQL-callable function, which PostgreSQL looks
 * up by name: exported, where the Makefile hides every other symbol of this
 * library, which every backend loads.  (PostgreSQL 15's macro exports only
 * the info function; 16 exports both.)
 */
#define LAMBDA_FUNCTION(funcname) \
	PG_FUNCTION_INFO_V1(funcname); \
	extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS)

#endif							/* LAMBDA_H */
