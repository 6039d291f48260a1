/* SPDX-License-Identifier: MIT */
/*
 * worker: one event loop serving listening sockets for an opaque
 * protocol. The same loop runs in a prefork worker process, in each
 * thread of threads mode, and in the single process of epoll mode. It
 * takes orders from a channel (quit, terminate, reopen) or, in epoll
 * mode, from signals. Layer 4 (run): never names HTTP.
 */
#ifndef TW_WORKER_H
#define TW_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"
#include "run/run.h"

struct tw_proto;
struct tw_sandbox;
struct tw_shmtx;
struct tw_stats;
struct tw_stats_worker;

struct tw_worker_opts {
	const struct tw_proto *proto;
	const int *fds;			/* listening sockets (borrowed) */
	size_t nfds;
	bool exclusive;			/* register them EPOLLEXCLUSIVE */
	struct tw_shmtx *mutex;		/* accept mutex, or NULL */
	int32_t owner;			/* this worker's id for the mutex */
	int channel;			/* worker end of a channel, or -1 */
	const struct tw_run_hooks *signals;	/* epoll mode, or NULL */
	struct tw_stats *stats;		/* shared counters, or NULL */
	struct tw_stats_worker *slot;	/* this worker's row in them */
	int64_t id;			/* pid or thread id shown for it */
	struct tw_conn_opts conn;	/* transport settings of each loop */
	const struct tw_sandbox *sandbox;	/* entered first, or NULL */
};

/*
 * Set the loop up, enter the sandbox (if any: the calling thread and
 * those it starts stay in it), then run until told to stop: TERMINATE (or SIGINT/SIGTERM, or the channel's
 * peer gone) stops at once; QUIT (SIGQUIT) stops accepting, lets the
 * protocol drain and returns when the last connection has closed.
 * Returns 0, or -errno if the loop could not be set up.
 */
int tw_worker_run(const struct tw_worker_opts *o);

/* Descriptors the event loop may need, from RLIMIT_NOFILE. */
size_t tw_worker_max_fds(void);

#endif /* TW_WORKER_H */
