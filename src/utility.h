/*-------------------------------------------------------------------------
 *
 * utility.h
 *	  Hooking utility commands.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_UTILITY_H
#define LAMBDA_UTILITY_H

extern void UtilityInit(void);

#endif							/* LAMBDA_UTILITY_H */
