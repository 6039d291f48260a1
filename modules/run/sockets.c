/* SPDX-License-Identifier: MIT */
/*
 * sockets: listening sockets kept across generations. Layer 4.
 */
#include "run/sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/listener.h"

#define BACKLOG 4096

void
tw_sockets_init(struct tw_sockets *s)
{
	s->nfds = 0;
	s->ninherited = 0;
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
	int fds[TW_SOCKETS_MAX];
	size_t i, n;

	if (v == NULL)
		return;
	n = tw_sockets_parse(v, fds, TW_SOCKETS_MAX);
	for (i = 0; i < n; i++) {
		if (fds[i] > STDERR_FILENO && fcntl(fds[i], F_GETFD) >= 0) {
			(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
			s->inherited[s->ninherited++] = fds[i];
		}
	}
	(void)unsetenv(TW_SOCKETS_ENV);
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

void
tw_sockets_drop_inherited(struct tw_sockets *s)
{
	size_t i;

	for (i = 0; i < s->ninherited; i++)
		if (s->inherited[i] >= 0)
			(void)close(s->inherited[i]);
	s->ninherited = 0;
}

void
tw_sockets_keep(struct tw_sockets *s, const int *fds, size_t n)
{
	size_t i, j, k = 0;

	for (i = 0; i < s->nfds; i++) {
		bool used = false;

		for (j = 0; j < n; j++)
			used |= fds[j] == s->fds[i];
		if (used)
			s->fds[k++] = s->fds[i];
		else
			(void)close(s->fds[i]);
	}
	s->nfds = k;
}

void
tw_sockets_close(struct tw_sockets *s)
{
	tw_sockets_keep(s, NULL, 0);
}

int
tw_sockets_format(const struct tw_sockets *s, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < s->nfds; i++) {
		n = snprintf(buf + off, len - off, "%s%d", i ? "," : "",
			     s->fds[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}
