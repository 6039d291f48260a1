/* SPDX-License-Identifier: MIT */
/*
 * upgrade: start this binary again (it may have been replaced on disk)
 * beside the running server, handing it the listening sockets, and wait
 * until it serves. The new process finds the sockets in
 * TINYWEB_LISTEN_FDS (run/sockets) and says it is ready with one byte on
 * the pipe named by TINYWEB_READY_FD. Used for USR2, and for a reload in
 * the modes that hold one configuration per process. Layer 4 (run).
 */
#ifndef TW_UPGRADE_H
#define TW_UPGRADE_H

#include <stdbool.h>
#include <sys/types.h>

#define TW_UPGRADE_ENV_READY	"TINYWEB_READY_FD"
#define TW_UPGRADE_ENV_STATE	"TINYWEB_STATE_FD"

struct tw_pidfile;
struct tw_sockets;

struct tw_upgrade {
	const char *self;		/* the binary to run */
	char **argv;			/* its command line: ours */
	const char *cwd;		/* where to start it, or "" */
	const struct tw_sockets *sockets;	/* handed over */
	struct tw_pidfile *pidfile;	/* moves aside for the new one */
	int state;			/* what the new one should know of
					 * ours (a file), or -1 */
	bool reload;			/* a HUP's new configuration, not
					 * USR2's new binary: said so in
					 * the log */
};

/*
 * Start u->self (posix_spawn) with the sockets, the pidfile moved to
 * FILE.oldbin so the new process can take FILE, and wait until it is
 * ready. Returns its pid once it serves (logged for an upgrade; a
 * reload's caller says it), or -1 if it failed (logged; the pidfile is
 * back and the failed process gone: we serve as before).
 */
pid_t tw_upgrade_start(const struct tw_upgrade *u);

/*
 * The ready pipe of the server that started us (an upgrade), or -1 if
 * we were started otherwise. Reads and unsets TINYWEB_READY_FD.
 */
int tw_upgrade_ready_fd(void);

/* In the new binary: the descriptor of the old one's state file, once
 * (the variable is removed), or -1. */
int tw_upgrade_state_fd(void);

#endif /* TW_UPGRADE_H */
