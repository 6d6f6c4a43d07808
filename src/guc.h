/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The extension's configuration parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LAMBDA_GUC_H
#define LAMBDA_GUC_H

extern int	lambda_speed_memory;
extern int	lambda_workers;
extern int	lambda_max_views;
extern int	lambda_naptime;
extern int	lambda_recovery_timeout;
extern int	lambda_max_handoff;
extern double lambda_compact_threshold;

extern void GucInit(void);

#endif							/* LAMBDA_GUC_H */
