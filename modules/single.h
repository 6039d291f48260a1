/* SPDX-License-Identifier: MIT */
/*
 * single: the epoll mode. One event loop in the calling process serves
 * every listening socket; signals arrive through the loop's signalfd.
 * Layer 4 (run): wires listeners to an opaque protocol; knows nothing of
 * HTTP.
 */
#ifndef TW_SINGLE_H
#define TW_SINGLE_H

#include <stddef.h>

struct tw_proto;

/*
 * Serve on the listening sockets fds[0..n) (borrowed) until SIGINT,
 * SIGTERM or SIGQUIT. SIGUSR1 re-opens the logs; SIGPIPE is ignored.
 * Returns 0 after a clean stop, or -errno if the loop could not start.
 */
int tw_single_run(const struct tw_proto *proto, const int *fds, size_t n);

#endif /* TW_SINGLE_H */
