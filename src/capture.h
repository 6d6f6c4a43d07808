/*-------------------------------------------------------------------------
 *
 * capture.h
 *	  Capturing inserted rows in the writing transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_CAPTURE_H
#define LAMBDA_CAPTURE_H

#include "postgres.h"

#include "utils/tuplestore.h"

extern void CaptureInit(void);
extern void CaptureCover(Oid viewid);
extern void CaptureRead(Oid viewid, Tuplestorestate *tupstore);

#endif							/* LAMBDA_CAPTURE_H */
