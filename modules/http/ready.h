/* SPDX-License-Identifier: MIT */
/*
 * ready: the `health PATH` answer for a load balancer's checks: 200
 * while the loop serves, 503 from the moment its graceful stop (QUIT)
 * begins until it exits, so a balancer takes the node out before its
 * connections are refused. Every response during the stop says
 * Connection: close already (http's drain); this one also tells a
 * check that keeps its connection open. It takes precedence over a
 * file at the same path, like the status page. Layer 3: a handler, told
 * of the drain through its drain() hook.
 */
#ifndef TW_READY_H
#define TW_READY_H

#include "http/http.h"

struct tw_ready_opts {
	const char *path;	/* e.g. "/health"; compared as sent, the
				 * query ignored */
};

extern const struct tw_handler tw_ready_handler;

#endif /* TW_READY_H */
