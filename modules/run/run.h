/* SPDX-License-Identifier: MIT */
/*
 * run: one entry for every run mode. The front layer fills one options
 * struct (a configuration "generation": mode, workers, accept strategy,
 * listening sockets, the protocol as an opaque value, transport settings)
 * and calls tw_run(), which hands it to single (epoll), master (prefork)
 * or threads. A new run mode takes the same struct. Layer 4 (run).
 */
#ifndef TW_RUN_H
#define TW_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"
#include "net/listener.h"
#include "run/mode.h"

struct tw_sandbox;
struct tw_stats;
struct tw_run_opts;

/* What the run layer asks of whoever built the options. */
struct tw_run_hooks {
	/*
	 * SIGHUP. Prefork (next != NULL): fill *next with the next
	 * generation, borrowed until release. Epoll and threads (next ==
	 * NULL) hold one generation per process: check the configuration
	 * and start the process that replaces this one. Returns 0 (epoll
	 * and threads then drain and exit), or -1 if the configuration is
	 * invalid (reported; we keep serving as before).
	 */
	int (*reload)(void *arg, struct tw_run_opts *next);
	/* Prefork: no worker uses gen any more. */
	void (*release)(void *arg, const struct tw_run_opts *gen);
	/* SIGUSR2: start the new binary on the same sockets. */
	int (*upgrade)(void *arg);
	/*
	 * SIGUSR1: re-open this process's log files (as root where the
	 * server started as root, so a log directory only root may write
	 * still works). Prefork's master then hands the descriptors to its
	 * workers (tw_log_files()). 0, or -1 (logged with the file's name
	 * and the reason).
	 */
	int (*reopen)(void *arg);
	/* Prefork: in a worker process just forked, before it serves: give
	 * up root (the user directive). 0, or -errno (the worker exits). */
	int (*child)(void *arg);
	/*
	 * Reuseport: the k-th (k >= 1) SO_REUSEPORT sibling of the listening
	 * socket fd, for worker k (worker 0 takes fd). The server holds it
	 * across generations and binaries, so the worker that replaces
	 * worker k takes over its socket and the connections queued there.
	 * Returns the descriptor (not the caller's to close) or -errno.
	 */
	int (*sibling)(void *arg, int fd, unsigned k);
	/* Prefork, after reload(next) returned 0: the new generation's
	 * workers run (ok), or could not be started (the old ones serve
	 * on). */
	void (*reloaded)(void *arg, bool ok);
	void *arg;
};

/* One configuration's worth of serving. */
struct tw_run_opts {
	enum tw_run_mode mode;
	unsigned workers;		/* >= 1; epoll: 1 */
	enum tw_accept_strategy accept;	/* threads: not MUTEX_FILE */
	const int *fds;			/* listening sockets (borrowed) */
	size_t nfds;
	struct tw_proto proto;
	struct tw_conn_opts conn;	/* transport settings of each loop */
	struct tw_stats *stats;		/* shared counters (same every
					 * generation), or NULL */
	const struct tw_run_hooks *hooks;
	void *owner;			/* the front layer's object */
	/* What each serving loop narrows itself to (run/sandbox), or
	 * NULL to serve unrestricted. */
	const struct tw_sandbox *sandbox;
};

/*
 * Serve o until SIGINT/SIGTERM (stop now) or SIGQUIT (finish what is in
 * flight), or, in epoll and threads modes, after a reload started a
 * replacement process. Returns 0 after a clean stop, or -errno if the
 * mode could not start.
 */
int tw_run(const struct tw_run_opts *o);

#endif /* TW_RUN_H */
