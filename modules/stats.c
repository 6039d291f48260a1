/* SPDX-License-Identifier: MIT */
/*
 * stats: counters in a shared mapping. Layer 0.
 */
#include "stats.h"

#include "shm.h"

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
