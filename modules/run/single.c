/* SPDX-License-Identifier: MIT */
/*
 * single: one process, one loop, signals handled in that loop. Layer 4.
 */
#include "run/single.h"

#include <unistd.h>

#include "base/stats.h"
#include "run/worker.h"

int
tw_single_run(const struct tw_proto *proto, const int *fds, size_t n,
	      const struct tw_worker_hooks *hooks, struct tw_stats *stats,
	      const struct tw_conn_opts *conn)
{
	struct tw_worker_opts o = {
		.proto = proto,
		.fds = fds,
		.nfds = n,
		.channel = -1,
		.signals = hooks,
		.stats = stats,
		.slot = stats ? &stats->workers[0] : NULL,
		.id = getpid(),
		.conn = *conn,
	};

	return tw_worker_run(&o);
}
