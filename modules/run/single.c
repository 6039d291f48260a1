/* SPDX-License-Identifier: MIT */
/*
 * single: one process, one loop, signals handled in that loop. Layer 4.
 */
#include "run/single.h"

#include <unistd.h>

#include "base/stats.h"
#include "run/run.h"
#include "run/worker.h"

int
tw_single_run(const struct tw_run_opts *o)
{
	struct tw_worker_opts w = {
		.proto = &o->proto,
		.fds = o->fds,
		.nfds = o->nfds,
		.channel = -1,
		.signals = o->hooks,
		.stats = o->stats,
		.slot = o->stats ? &o->stats->workers[0] : NULL,
		.id = getpid(),
		.conn = o->conn,
	};

	return tw_worker_run(&w);
}
