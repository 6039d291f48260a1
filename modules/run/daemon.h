/* SPDX-License-Identifier: MIT */
/*
 * daemon: detaching from the terminal and the pidfile. Detaching uses
 * darkhttpd's lifeline pipe: the parent waits until the detached child
 * says it is listening (exit 0) or failed (exit with its status), so a
 * failed start is never reported as success. The pidfile is locked for
 * the server's life, so a second instance refuses to start while a stale
 * file (no lock holder) is simply replaced. Layer 4 (run).
 */
#ifndef TW_DAEMON_H
#define TW_DAEMON_H

#include <sys/types.h>

/*
 * Fork twice, setsid, umask 022. Returns in the detached grandchild with
 * the write end of the lifeline in *lifeline; the original process
 * never returns: it exits with the status the child reports through
 * tw_daemon_ready() or tw_daemon_failed() (1 if the child died first).
 * Returns -errno if a fork failed (still in the original process).
 */
int tw_daemon_start(int *lifeline);

/*
 * The child is serving: point stdin, stdout and stderr at /dev/null,
 * chdir to /, and release the waiting parent with status 0.
 */
void tw_daemon_ready(int lifeline);

/* The child failed to start: release the parent with status. */
void tw_daemon_failed(int lifeline, int status);

/* Write status (0: ready) to a waiting process's pipe and close it. */
void tw_daemon_notify(int fd, int status);

/*
 * Wait up to ms for the status byte on fd (then closed). Returns the
 * status (0: ready), 1 if the writer went away silently, or -ETIMEDOUT.
 */
int tw_daemon_wait(int fd, int ms);

/*
 * Create or take over the pidfile at path, lock it and write our pid.
 * Returns the descriptor (keep it open: it holds the lock), -EEXIST if
 * another live process holds the lock (*holder set to its pid, or 0 if
 * unreadable), or -errno.
 */
int tw_daemon_pidfile_create(const char *path, pid_t *holder);

/* Rewrite the pid (after a fork) in the pidfile open as fd. */
int tw_daemon_pidfile_write(int fd);

/* Remove the pidfile (if it is still ours) and close fd. */
void tw_daemon_pidfile_remove(const char *path, int fd);

/*
 * The pid recorded in the pidfile at path if a live process holds its
 * lock. Returns the pid, -ENOENT (no file), -ESRCH (stale: nobody holds
 * it) or -errno.
 */
pid_t tw_daemon_pidfile_read(const char *path);

#endif /* TW_DAEMON_H */
