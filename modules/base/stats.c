/* SPDX-License-Identifier: MIT */
/*
 * stats: counters in a shared mapping. Layer 0.
 */
#include "base/stats.h"

#include "base/shm.h"

struct tw_stats *
tw_stats_create(int *err)
{
	struct tw_shm_header *h = tw_shm_create(sizeof(struct tw_stats), err);

	return h ? tw_shm_data(h) : NULL;
}

void
tw_stats_destroy(struct tw_stats *st)
{
	if (st != NULL)
		tw_shm_destroy(tw_shm_of(st));
}

/* Per thread, not per loop: a thread serves one worker's slot whatever
 * loops it runs, and layer 0 knows no loop. */
static _Thread_local struct tw_stats *bound;
static _Thread_local struct tw_stats_worker *bound_slot;

void
tw_stats_bind(struct tw_stats *st, struct tw_stats_worker *slot)
{
	bound = st;
	bound_slot = slot;
}

struct tw_stats *
tw_stats_current(void)
{
	return bound;
}

struct tw_stats_worker *
tw_stats_self(void)
{
	return bound_slot;
}
