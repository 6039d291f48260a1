/* SPDX-License-Identifier: MIT */
/*
 * notify: the sd_notify datagram, written by hand. Layer 4.
 */
#include "run/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static struct {
	struct sockaddr_un addr;
	socklen_t len;		/* 0: no manager, or handed over */
	int fd;			/* made at init: a sandboxed loop may not
				 * make sockets of this kind */
	unsigned long long watchdog_ms;
	bool said_error;	/* one failure is logged, not every one */
} nt;

void
tw_notify_init(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	const char *wpid = getenv("WATCHDOG_PID");
	const char *wusec = getenv("WATCHDOG_USEC");
	size_t n;

	nt.len = 0;
	nt.watchdog_ms = 0;
	if (p != NULL && (p[0] == '/' || p[0] == '@') &&
	    (n = strlen(p)) < sizeof(nt.addr.sun_path)) {
		memset(&nt.addr, 0, sizeof(nt.addr));
		nt.addr.sun_family = AF_UNIX;
		memcpy(nt.addr.sun_path, p, n);
		/* An abstract name: '@' stands for the leading NUL, and the
		 * length, not a terminator, ends the name. */
		if (p[0] == '@')
			nt.addr.sun_path[0] = '\0';
		nt.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     n + (p[0] == '/'));
	}
	if (nt.len != 0 && nt.fd <= 0) {
		nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (nt.fd < 0) {
			tw_log(TW_LOG_WARN, -errno, "telling the service "
			       "manager (NOTIFY_SOCKET)");
			nt.len = 0;
		}
	}
	if (nt.len != 0 && wusec != NULL &&
	    (wpid == NULL || strtol(wpid, NULL, 10) == (long)getpid())) {
		unsigned long long us = strtoull(wusec, NULL, 10);

		nt.watchdog_ms = us / 2000 ? us / 2000 : (us ? 1 : 0);
	}
	if (nt.watchdog_ms == 0)
		(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
}

bool
tw_notify_enabled(void)
{
	return nt.len != 0;
}

int
tw_notify_send(const char *msg)
{
	ssize_t r;
	int err = 0;

	if (nt.len == 0)
		return 0;
	r = sendto(nt.fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (const struct sockaddr *)&nt.addr, nt.len);
	if (r < 0)
		err = -errno;
	if (err < 0 && !nt.said_error) {
		nt.said_error = true;
		tw_log(TW_LOG_WARN, err, "telling the service manager "
		       "(NOTIFY_SOCKET)");
	}
	return err;
}

/* Send a message of up to a few lines, composed with printf's format. */
static void __attribute__((format(printf, 1, 2)))
sendf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (nt.len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)tw_notify_send(msg);
}

void
tw_notify_ready(const char *status)
{
	sendf("READY=1\nMAINPID=%d\nSTATUS=%s\n", (int)getpid(), status);
}

void
tw_notify_reloading(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	sendf("RELOADING=1\nMONOTONIC_USEC=%llu\n"
	      "STATUS=reloading the configuration\n",
	      (unsigned long long)ts.tv_sec * 1000000ull +
	      (unsigned long long)ts.tv_nsec / 1000ull);
}

void
tw_notify_handover(pid_t pid, const char *status)
{
	sendf("MAINPID=%d\nREADY=1\nSTATUS=%s\n", (int)pid, status);
	nt.len = 0;
	nt.watchdog_ms = 0;
}

void
tw_notify_stopping(bool graceful)
{
	sendf("STOPPING=1\nSTATUS=%s\n", graceful ?
	      "stopping: finishing the responses in flight" : "stopping");
}

unsigned long long
tw_notify_watchdog_ms(void)
{
	return nt.watchdog_ms;
}

static void
watchdog_due(struct tw_loop *loop, struct tw_timer *t)
{
	if (nt.watchdog_ms == 0)
		return;		/* handed over: the new process pings */
	(void)tw_notify_send("WATCHDOG=1\n");
	tw_loop_timer_set(loop, t, nt.watchdog_ms, watchdog_due);
}

void
tw_notify_watchdog(struct tw_loop *loop, struct tw_timer *t)
{
	if (nt.watchdog_ms != 0)
		tw_loop_timer_set(loop, t, nt.watchdog_ms, watchdog_due);
}
