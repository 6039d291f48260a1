/* SPDX-License-Identifier: MIT */
/*
 * daemon: detaching from the terminal. Detaching uses darkhttpd's
 * lifeline pipe: the parent waits until the detached child says it is
 * listening (exit 0) or failed (exit with its status), so a failed start
 * is never reported as success. The same one-byte status serves an
 * upgrade's ready pipe (run/upgrade). Layer 4 (run).
 */
#ifndef TW_DAEMON_H
#define TW_DAEMON_H

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

#endif /* TW_DAEMON_H */
