/* SPDX-License-Identifier: MIT */
/*
 * server: the serving process around its configuration generations. It
 * owns what outlives a generation: the listening sockets (run/sockets),
 * the pidfile, the daemon's lifeline, the shared counters, the directory
 * we started in and our own binary. It answers the run modes' hooks:
 * a reload asks the front layer for the next generation (prefork) or for
 * a check and then starts a replacement process (epoll, threads); an
 * upgrade starts the new binary; a generation no worker uses any more is
 * freed, and with it the sockets only it listened on. Layer 4 (run): what
 * a generation is built from is the front layer's business, through ops.
 */
#ifndef TW_SERVER_H
#define TW_SERVER_H

#include <limits.h>
#include <stddef.h>

#include "run/keeper.h"
#include "run/pidfile.h"
#include "run/privs.h"
#include "run/run.h"
#include "run/sockets.h"

struct tw_stats;
struct tw_server;

/* The front layer's part: configuration generations. Each runs in the
 * directory we started in, so relative paths keep their meaning after
 * the daemon's chdir("/"). */
struct tw_server_ops {
	/* Epoll/threads reload: read the configuration again and check
	 * it. 0, or -1 if it is invalid (reported). */
	int (*check)(struct tw_server *s);
	/* Prefork reload: build the next generation into *next (its
	 * sockets from s->sockets, its owner set). 0, or -1 (reported;
	 * nothing left over). */
	int (*build)(struct tw_server *s, struct tw_run_opts *next);
	/* Free a generation's owner. */
	void (*free)(struct tw_server *s, void *owner);
	/* Optional, before an upgrade or an epoll/threads reload starts
	 * the new process: a descriptor of what it should carry on with
	 * (tw_upgrade_state_fd() there), closed here after; or -1. */
	int (*state)(struct tw_server *s);
};

struct tw_server {
	int argc;
	char **argv;
	char self[PATH_MAX];		/* this binary, for upgrades */
	char cwd[PATH_MAX];		/* where we started, or "" */
	struct tw_sockets sockets;
	struct tw_pidfile pidfile;
	int lifeline;			/* daemon: write end, or -1 */
	int ready;			/* upgrade: the old server's pipe, or -1 */
	struct tw_stats *stats;		/* shared by every generation */
	struct tw_run_opts cur;		/* the generation serving */
	struct tw_run_hooks hooks;
	const struct tw_server_ops *ops;
	struct tw_privs privs;		/* the user directive, looked up */
	struct tw_keeper keeper;	/* epoll, threads under privs */
};

/*
 * Start a server process: block the server signals until a run mode's
 * signalfd reads them, note the start directory and our binary, and take
 * the sockets and ready pipe an upgrading server handed over.
 */
void tw_server_init(struct tw_server *s, int argc, char **argv,
		    const struct tw_server_ops *ops);

/*
 * After the first generation is built: 0 if every socket the service
 * manager passed went to a listen line, else -1 with err naming the
 * first left over (its number, name and address).
 */
int tw_server_check_passed(const struct tw_server *s, char *err,
			   size_t len);

/* Detach (daemon), unless an old server started us: then we are
 * detached already and it waits on the ready pipe. 0 or -errno. */
int tw_server_detach(struct tw_server *s);

/* Create the shared counters and raise the descriptor limit. 0 or -errno. */
int tw_server_prepare(struct tw_server *s);

/* Run fn(s, arg) in the start directory. Returns what fn returns. */
int tw_server_in_start_dir(struct tw_server *s,
			   int (*fn)(struct tw_server *s, void *arg),
			   void *arg);

/*
 * Serve first (its hooks are s's) until the run mode returns: close the
 * handed-over sockets it did not take, give up root for s->privs (the
 * epoll and threads modes leave a keeper process root, run/keeper;
 * prefork's master stays root and its workers give it up), tell whoever
 * waits that we are up, and run. Returns 0, or -1 if the mode failed
 * (logged).
 */
int tw_server_run(struct tw_server *s, const struct tw_run_opts *first);

/*
 * Release everything: tell a waiting daemon parent status (if we never
 * got to serve), remove the pidfile (through the keeper if there is
 * one), close the sockets and the counters.
 * The last generation (s->cur.owner) is the caller's to free before.
 */
void tw_server_finish(struct tw_server *s, int status);

#endif /* TW_SERVER_H */
