/* SPDX-License-Identifier: MIT */
/*
 * single: the epoll mode. One event loop in the calling process serves
 * every listening socket and handles the signals itself. Layer 4 (run):
 * wires listeners to an opaque protocol; knows nothing of HTTP.
 */
#ifndef TW_SINGLE_H
#define TW_SINGLE_H

#include <stddef.h>

struct tw_proto;
struct tw_worker_hooks;
struct tw_stats;
struct tw_conn_opts;

/*
 * Serve on the listening sockets fds[0..n) (borrowed) until SIGINT or
 * SIGTERM (stop now) or SIGQUIT (finish what is in flight). SIGHUP and
 * SIGUSR2 go to hooks; SIGUSR1 re-opens the logs; SIGPIPE is ignored.
 * conn: how the loop's connections move file bytes.
 * Returns 0 after a clean stop, or -errno if the loop could not start.
 */
int tw_single_run(const struct tw_proto *proto, const int *fds, size_t n,
		  const struct tw_worker_hooks *hooks, struct tw_stats *stats,
		  const struct tw_conn_opts *conn);

#endif /* TW_SINGLE_H */
