/*-------------------------------------------------------------------------
 *
 * lookup.h
 *	  Point look-ups in the speed layer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_LOOKUP_H
#define LAMBDA_LOOKUP_H

extern void LookupInit(void);

#endif							/* LAMBDA_LOOKUP_H */
