/* SPDX-License-Identifier: MIT */
/*
 * notify: what the service manager (systemd, Type=notify) is told of the
 * server's state: READY=1 once it listens, RELOADING=1 (with
 * MONOTONIC_USEC) on a reload and READY=1 after it, STOPPING=1, STATUS=
 * lines, WATCHDOG=1 at half of WATCHDOG_USEC. The protocol is one
 * datagram of "KEY=VALUE\n" lines to the AF_UNIX socket NOTIFY_SOCKET
 * names (a path, or an abstract name written "@name"): written here
 * rather than linked from libsystemd, as it is one sendto() and the
 * library would be one more run-time dependency of every install,
 * systemd or not. Without NOTIFY_SOCKET every call does nothing.
 *
 * Only the process the manager watches (its MAINPID) speaks. When a
 * reload in epoll or threads mode, or an upgrade (USR2), starts a new
 * process, the old one names it as MAINPID once it serves and says
 * nothing more: its later STOPPING=1 would stop the whole service. The
 * new process, started by an old one, leaves READY=1 to it. Layer 4.
 */
#ifndef TW_NOTIFY_H
#define TW_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "net/loop.h"

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (a watchdog meant
 * for another pid is off). NOTIFY_SOCKET stays in the environment for a
 * process that takes over from us; WATCHDOG_PID is removed, as the one
 * that takes over is the watched process from then on.
 */
void tw_notify_init(void);

/* True while this process speaks to a service manager. */
bool tw_notify_enabled(void);

/* Send msg ("KEY=VALUE\n..."). Returns 0 (also when there is no
 * manager, or after a hand-over) or -errno. */
int tw_notify_send(const char *msg);

/* READY=1, MAINPID= (ours: right for a --daemon child too) and
 * STATUS=status. */
void tw_notify_ready(const char *status);

/* RELOADING=1 with MONOTONIC_USEC= now, and a STATUS= line. */
void tw_notify_reloading(void);

/*
 * The process pid serves in our place (a reload or an upgrade started
 * it): MAINPID=pid, READY=1, STATUS=status, then nothing more from us.
 */
void tw_notify_handover(pid_t pid, const char *status);

/* STOPPING=1 and a STATUS= saying how (graceful: finishing responses). */
void tw_notify_stopping(bool graceful);

/*
 * Send WATCHDOG=1 from loop every half of WATCHDOG_USEC, t embedded in
 * the caller (the loop of the process the manager watches: so a stuck
 * loop stops the pings). Nothing if no watchdog is asked for.
 */
void tw_notify_watchdog(struct tw_loop *loop, struct tw_timer *t);

/* Half of WATCHDOG_USEC in ms (at least 1), or 0 when off. */
unsigned long long tw_notify_watchdog_ms(void);

#endif /* TW_NOTIFY_H */
