/* SPDX-License-Identifier: MIT */
/*
 * sockets: listening sockets kept across generations. Layer 4.
 */
#include "run/sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listener.h"

#define BACKLOG 4096

void
tw_sockets_init(struct tw_sockets *s)
{
	s->nfds = 0;
	s->ninherited = 0;
	s->nsib = 0;
	s->npassed = 0;
	s->passed_over = 0;
}

size_t
tw_sockets_parse(const char *list, int *fds, size_t max)
{
	const char *v = list;
	size_t n = 0;
	char *end;

	while (*v && n < max) {
		long fd = strtol(v, &end, 10);

		if (end == v)
			break;
		fds[n++] = fd < 0 || fd > INT32_MAX ? -1 : (int)fd;
		v = *end == ',' ? end + 1 : end;
	}
	return n;
}

void
tw_sockets_inherit(struct tw_sockets *s)
{
	const char *v = getenv(TW_SOCKETS_ENV);
	int fds[TW_SOCKETS_INHERIT_MAX];
	size_t i, n;

	if (v == NULL)
		return;
	n = tw_sockets_parse(v, fds, TW_SOCKETS_INHERIT_MAX);
	for (i = 0; i < n; i++) {
		if (fds[i] > STDERR_FILENO && fcntl(fds[i], F_GETFD) >= 0) {
			(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
			s->inherited[s->ninherited++] = fds[i];
		}
	}
	(void)unsetenv(TW_SOCKETS_ENV);
}

/* Entry i of a LISTEN_FDNAMES list ("a:b:c") into name. */
static void
fdname(const char *names, size_t i, char *name, size_t len)
{
	size_t n;

	name[0] = '\0';
	while (names != NULL && i > 0) {
		names = strchr(names, ':');
		if (names != NULL)
			names++;
		i--;
	}
	if (names == NULL)
		return;
	n = strcspn(names, ":");
	if (n >= len)
		n = len - 1;
	memcpy(name, names, n);
	name[n] = '\0';
}

size_t
tw_sockets_activate(struct tw_sockets *s)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	long n = 0, i;

	/* For us, not a parent that left them in the environment. */
	if (pid != NULL && fds != NULL &&
	    strtol(pid, NULL, 10) == (long)getpid())
		n = strtol(fds, NULL, 10);
	if (n < 0)
		n = 0;
	if (n > TW_SOCKETS_MAX) {
		s->passed_over = (size_t)(n - TW_SOCKETS_MAX);	/* an error */
		n = TW_SOCKETS_MAX;
	}
	for (i = 0; i < n; i++) {
		struct tw_sockets_passed *p = &s->passed[s->npassed];
		int fd = STDERR_FILENO + 1 + (int)i;

		if (fcntl(fd, F_GETFD) < 0)
			continue;
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		p->fd = fd;
		fdname(names, (size_t)i, p->name, sizeof(p->name));
		s->npassed++;
	}
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return s->npassed;
}

const struct tw_sockets_passed *
tw_sockets_unclaimed(const struct tw_sockets *s)
{
	size_t i;

	for (i = 0; i < s->npassed; i++)
		if (s->passed[i].fd >= 0)
			return &s->passed[i];
	return NULL;
}

/* A passed socket on addr:port, if it is a listening TCP one (made
 * non-blocking, as the loops accept until EAGAIN); else -1. */
static int
claim_passed(struct tw_sockets *s, const char *addr, uint16_t port)
{
	size_t i;
	int fd, type = 0, listening = 0, fl;
	socklen_t len = sizeof(int);

	for (i = 0; i < s->npassed; i++) {
		fd = s->passed[i].fd;
		if (fd < 0 || !tw_listener_same_addr(fd, addr, port))
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM)
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &len) < 0 || !listening)
			continue;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			continue;
		s->passed[i].fd = -1;
		return fd;
	}
	return -1;
}

int
tw_sockets_get(struct tw_sockets *s, const char *addr, uint16_t port,
	       bool reuseport)
{
	size_t i;
	int fd;

	for (i = 0; i < s->nfds; i++)
		if (tw_listener_same_addr(s->fds[i], addr, port))
			return s->fds[i];
	fd = claim_passed(s, addr, port);
	if (fd >= 0)
		goto keep;
	for (i = 0; i < s->ninherited; i++) {
		if (s->inherited[i] >= 0 &&
		    tw_listener_same_addr(s->inherited[i], addr, port)) {
			fd = s->inherited[i];
			s->inherited[i] = -1;
			goto keep;
		}
	}
	fd = tw_listener_bind(addr, port, BACKLOG, reuseport);
	if (fd < 0)
		return fd;
keep:
	if (s->nfds == TW_SOCKETS_MAX) {
		(void)close(fd);
		return -ENOSPC;
	}
	s->fds[s->nfds++] = fd;
	return fd;
}

/* Bound to the same address (a SO_REUSEPORT group shares one). */
static bool
same_sockname(int a, int b)
{
	struct sockaddr_storage sa, sb;
	socklen_t la = sizeof(sa), lb = sizeof(sb);

	if (getsockname(a, (struct sockaddr *)&sa, &la) < 0 ||
	    getsockname(b, (struct sockaddr *)&sb, &lb) < 0)
		return false;
	return la == lb && memcmp(&sa, &sb, la) == 0;
}

/* One more sibling of fd: an inherited socket of its group, else a new
 * one. */
static int
new_sibling(struct tw_sockets *s, int fd)
{
	size_t i;

	for (i = 0; i < s->ninherited; i++) {
		int in = s->inherited[i];

		if (in >= 0 && same_sockname(in, fd)) {
			s->inherited[i] = -1;
			(void)tw_listener_same_defer(fd, in);
			return in;
		}
	}
	return tw_listener_clone_reuseport(fd, BACKLOG);
}

int
tw_sockets_sibling(struct tw_sockets *s, int fd, unsigned k)
{
	unsigned have = 0;
	size_t i;
	int nfd;

	for (i = 0; i < s->nsib; i++)
		if (s->sib_base[i] == fd && ++have == k) {
			/* A reload may have changed fd's deferral. */
			(void)tw_listener_same_defer(fd, s->sib[i]);
			return s->sib[i];
		}
	while (have < k) {
		if (s->nsib == TW_SOCKETS_MAX_SIB)
			return -ENOSPC;
		nfd = new_sibling(s, fd);
		if (nfd < 0)
			return nfd;
		s->sib[s->nsib] = nfd;
		s->sib_base[s->nsib++] = fd;
		have++;
	}
	return s->sib[s->nsib - 1];
}

void
tw_sockets_drop_inherited(struct tw_sockets *s)
{
	size_t i;

	for (i = 0; i < s->ninherited; i++)
		if (s->inherited[i] >= 0)
			(void)close(s->inherited[i]);
	s->ninherited = 0;
	for (i = 0; i < s->npassed; i++)
		if (s->passed[i].fd >= 0)
			(void)close(s->passed[i].fd);
	s->npassed = 0;
}

static bool
listed(const int *fds, size_t n, int fd)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (fds[j] == fd)
			return true;
	return false;
}

void
tw_sockets_keep(struct tw_sockets *s, const int *fds, size_t n,
		unsigned nsib)
{
	size_t i, k = 0;

	/* Siblings first: each counts its rank among its base's. */
	for (i = 0; i < s->nsib; i++) {
		unsigned rank = 0;
		size_t j;

		for (j = 0; j < k; j++)
			rank += s->sib_base[j] == s->sib_base[i];
		if (listed(fds, n, s->sib_base[i]) && rank < nsib) {
			s->sib_base[k] = s->sib_base[i];
			s->sib[k++] = s->sib[i];
		} else {
			(void)close(s->sib[i]);
		}
	}
	s->nsib = k;
	k = 0;
	for (i = 0; i < s->nfds; i++) {
		if (listed(fds, n, s->fds[i]))
			s->fds[k++] = s->fds[i];
		else
			(void)close(s->fds[i]);
	}
	s->nfds = k;
}

void
tw_sockets_close(struct tw_sockets *s)
{
	tw_sockets_keep(s, NULL, 0, 0);
}

int
tw_sockets_format(const struct tw_sockets *s, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < s->nfds + s->nsib; i++) {
		n = snprintf(buf + off, len - off, "%s%d", i ? "," : "",
			     i < s->nfds ? s->fds[i] : s->sib[i - s->nfds]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}
