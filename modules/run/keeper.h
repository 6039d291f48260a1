/* SPDX-License-Identifier: MIT */
/*
 * keeper: the small process that stays root beside an epoll or threads
 * server that gave root up (the user directive), for what only root may
 * do once the server runs: re-open the log files on USR1 and hand their
 * descriptors over, start the process that replaces the server on a
 * reload or an upgrade (which binds new ports and reads keys readable
 * only by root), and remove the pidfile at the end. Prefork needs none:
 * its master keeps root and its workers give it up (nginx's design);
 * these two modes have no master, so the keeper is the part of one that
 * they lack. It never touches client traffic and answers only its
 * server, over a channel (base/channel), one request at a time.
 * Layer 4 (run).
 */
#ifndef TW_KEEPER_H
#define TW_KEEPER_H

#include <stdbool.h>
#include <sys/types.h>

/* What the keeper does, run in the keeper (as root). */
struct tw_keeper_ops {
	/* Just forked: let go of what the keeper must not hold. */
	void (*enter)(void *arg);
	/* Re-open the log files (errors logged). 0 or -1. */
	int (*reopen)(void *arg);
	/* Start the process that replaces the server: check the
	 * configuration first (reload) or not (upgrade); state is the
	 * server's state descriptor for it, or -1. 0 once it serves, or
	 * -1 (logged). */
	int (*upgrade)(void *arg, bool reload, int state);	/* pid, or -1 */
	/* The server (pid) is ending or gone: remove its pidfile. */
	void (*finish)(void *arg, pid_t server);
	void *arg;
};

struct tw_keeper {
	pid_t pid;		/* 0: no keeper */
	int chan;		/* the server's end, or -1 */
};

/* No keeper (what every call below then accepts). */
void tw_keeper_init(struct tw_keeper *k);

/*
 * Fork the keeper, which serves ops until the server ends; returns in
 * the server only: 0, or -errno (no keeper).
 */
int tw_keeper_start(struct tw_keeper *k, const struct tw_keeper_ops *ops);

/* Ask the keeper to re-open the logs and take the descriptors it sends
 * back. 0, or -1 (logged). */
int tw_keeper_reopen(struct tw_keeper *k);

/* Ask the keeper for the next process (see ops->upgrade), handing it
 * state (still ours to close). The new process's pid, or -1 (logged). */
pid_t tw_keeper_upgrade(struct tw_keeper *k, bool reload, int state);

/* The server ends: the keeper removes the pidfile and exits; reaped
 * here. */
void tw_keeper_stop(struct tw_keeper *k);

#endif /* TW_KEEPER_H */
