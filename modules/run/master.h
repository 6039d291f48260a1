/* SPDX-License-Identifier: MIT */
/*
 * master: the prefork mode's supervisor, after nginx's master cycle. It
 * forks the workers, each with a channel, handles every signal (workers
 * get none), respawns a worker that dies (with back-off when one keeps
 * dying), reloads by starting workers of a new generation before retiring
 * the old ones, and never touches client traffic. Layer 4 (run): the
 * protocol is an opaque tw_proto; configuration comes through callbacks
 * from the front layer.
 */
#ifndef TW_MASTER_H
#define TW_MASTER_H

#include <stddef.h>

struct tw_stats;

#include "net/listener.h"
#include "run/worker.h"

/* One configuration's worth of workers. */
struct tw_master_gen {
	struct tw_proto proto;
	const int *fds;			/* shared listening sockets */
	size_t nfds;
	unsigned workers;		/* >= 1 */
	enum tw_accept_strategy accept;
	struct tw_stats *stats;		/* shared counters (same every gen) */
	struct tw_conn_opts conn;	/* transport settings of each loop */
	void *owner;			/* the front layer's object */
};

struct tw_master_ops {
	/* SIGHUP: build the next generation from the config file; 0, or
	 * -1 when the new configuration is invalid (already reported). */
	int (*reload)(void *arg, struct tw_master_gen *out);
	/* A generation no worker uses any more. */
	void (*release)(void *arg, struct tw_master_gen *gen);
	/* SIGUSR2: start the new binary on the same sockets. */
	int (*upgrade)(void *arg);
	void *arg;
};

/*
 * Run the master until INT/TERM (workers terminated) or QUIT (workers
 * finish what they serve). gen is the first generation (borrowed until
 * ops->release). Returns 0, or -errno if the master could not start.
 */
int tw_master_run(const struct tw_master_gen *gen,
		  const struct tw_master_ops *ops);

#endif /* TW_MASTER_H */
