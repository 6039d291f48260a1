/* SPDX-License-Identifier: MIT */
/*
 * threads: N worker threads in one process, each running its own event
 * loop (tw_worker_run) with its own per-thread protocol state (libmagic
 * handle, caches, buffers). The main thread only handles signals and
 * tells the workers over channels what to do; shutdown joins every
 * thread. Layer 4 (run): the protocol is an opaque tw_proto.
 */
#ifndef TW_THREADS_H
#define TW_THREADS_H

#include <stddef.h>

struct tw_stats;

#include "net/listener.h"
#include "run/worker.h"

struct tw_threads_opts {
	const struct tw_proto *proto;
	const int *fds;			/* shared listening sockets */
	size_t nfds;
	unsigned workers;		/* >= 1 */
	enum tw_accept_strategy accept;	/* not TW_ACCEPT_MUTEX_FILE */
	const struct tw_worker_hooks *hooks;	/* HUP and USR2 */
	struct tw_stats *stats;			/* shared counters, or NULL */
	struct tw_conn_opts conn;	/* transport settings of each loop */
};

/*
 * Serve until INT/TERM (threads stop now) or QUIT (threads drain), or
 * after a HUP whose hooks->reload started a replacement process.
 * Returns 0 or -errno.
 */
int tw_threads_run(const struct tw_threads_opts *o);

#endif /* TW_THREADS_H */
