/* SPDX-License-Identifier: MIT */
/*
 * sandbox: what a serving loop may still do once it serves. A thread
 * that enters the sandbox sets no_new_privs, restricts itself with
 * Landlock (read beneath the served roots, write and re-create the log
 * files, connect to the upstream ports, bind nothing) and installs a
 * seccomp filter of the system calls serving uses; threads it starts
 * later inherit all three. Everything else (reload, upgrade, the
 * pidfile, respawning) stays with a process or thread that never
 * enters it. Layer 4 (run): knows paths and ports, not what they serve.
 */
#ifndef TW_SANDBOX_H
#define TW_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* What the front layer allows a generation's loops (borrowed). */
struct tw_sandbox_opts {
	const char *const *read;	/* directories (or files) read beneath */
	size_t nread;
	const char *const *logs;	/* log files; "-", "off", NULL: none */
	size_t nlogs;
	const uint16_t *ports;		/* TCP ports connected to */
	size_t nports;
};

struct tw_sandbox;

/*
 * Build the rules once, in the process that starts the loops: the
 * Landlock ruleset (the paths are opened now, so a missing one is a
 * start-up error, not a worker's) and the seccomp program. What the
 * kernel lacks (Landlock, its network rules) is not an error; it is
 * left out and said by tw_sandbox_describe(). Returns NULL and sets
 * *err to -errno, with *what naming the path or step that failed.
 * Free with tw_sandbox_destroy().
 */
struct tw_sandbox *tw_sandbox_create(const struct tw_sandbox_opts *o,
				     const char **what, int *err);
void tw_sandbox_destroy(struct tw_sandbox *sb);

/* One line for the start-up log: what is applied and what the kernel
 * lacked. Owned by sb. */
const char *tw_sandbox_describe(const struct tw_sandbox *sb);

/*
 * Narrow the calling thread, and every thread it starts after, for
 * good. Only the calling thread: a threads-mode main thread, or an
 * epoll process's main thread, stays free to reload and upgrade.
 * Returns 0 or -errno (then the caller must not serve).
 */
int tw_sandbox_enter(const struct tw_sandbox *sb);

#endif /* TW_SANDBOX_H */
