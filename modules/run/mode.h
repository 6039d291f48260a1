/* SPDX-License-Identifier: MIT */
/*
 * mode: the run modes and the accept strategies, and their one table of
 * names, checked against the enums at compile time. The option table
 * (config), check-config, the startup line and the master's log all read
 * the names here. Layer 4 (run).
 */
#ifndef TW_MODE_H
#define TW_MODE_H

enum tw_run_mode {
	TW_MODE_EPOLL,		/* one loop in one process (single) */
	TW_MODE_PREFORK,	/* a master and worker processes */
	TW_MODE_THREADS,	/* worker threads in one process */
	TW_MODE_COUNT
};

enum tw_accept_strategy {
	TW_ACCEPT_EXCLUSIVE,	/* shared sockets, EPOLLEXCLUSIVE */
	TW_ACCEPT_REUSEPORT,	/* a SO_REUSEPORT socket per worker */
	TW_ACCEPT_MUTEX,	/* shared sockets, atomic accept mutex */
	TW_ACCEPT_MUTEX_FILE,	/* shared sockets, fcntl accept mutex */
	TW_ACCEPT_MUTEX_SEM,	/* atomic mutex, idle workers sleep */
	TW_ACCEPT_COUNT
};

/* The names, index = value, NULL after the last: the shape of an option
 * table's list of enum values, so config parses and prints them from
 * here. */
extern const char *const tw_mode_names[];
extern const char *const tw_mode_accept_names[];

/* The name of m (a), or "?" if out of range. */
const char *tw_mode_name(enum tw_run_mode m);
const char *tw_mode_accept_name(enum tw_accept_strategy a);

#endif /* TW_MODE_H */
