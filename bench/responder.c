/* SPDX-License-Identifier: MIT */
/*
 * responder: the ceiling of this machine for the benchmark's small-file
 * rows. It answers every request with the same fixed 1 KiB response and
 * does nothing else: no file, no stat, no Date, no parsing beyond finding
 * the "\r\n\r\n" that ends each request (and a "Connection: close" so the
 * new-connection-per-request row closes from the server side, as real
 * servers do). One epoll loop per process, level-triggered, keep-alive,
 * pipelining answered in order. It must not know anything of tinyweb.
 *
 * Usage: responder PORT [WORKERS]   (binds 127.0.0.1 only)
 * WORKERS > 1 forks after listen(); each process runs its own loop and
 * accepts through EPOLLEXCLUSIVE, for the every-core table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define BODY_BYTES	1024
#define RBUF		4096
#define MAX_EVENTS	256

struct client {
	int fd;
	int closing;		/* a request asked for Connection: close */
	unsigned int tail;	/* bytes of a "\r\n\r\n" seen so far */
	size_t pending;		/* responses not yet written */
	size_t offset;		/* bytes of the first pending one written */
	char hdr[512];		/* current request's headers, for close */
	size_t hdr_len;
};

/* The same response with "Connection: close" ends a connection whose
 * request asked for it, so clients do not see the close as an error. */
static char response[2][256 + BODY_BYTES];
static size_t response_len[2];

static void
build_response(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		int n = snprintf(response[i], sizeof(response[i]),
				 "HTTP/1.1 200 OK\r\n"
				 "Server: responder\r\n"
				 "Content-Type: text/plain\r\n"
				 "%s"
				 "Content-Length: %d\r\n\r\n",
				 i ? "Connection: close\r\n" : "", BODY_BYTES);

		memset(response[i] + n, 'x', BODY_BYTES);
		response_len[i] = (size_t)n + BODY_BYTES;
	}
}

static void
drop(int ep, struct client *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Scan new bytes for request ends; a request whose headers say
 * "Connection: close" makes the client close after its response. */
static void
scan(struct client *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !c->closing; i++) {
		char ch = p[i];

		if (c->hdr_len < sizeof(c->hdr) - 1)
			c->hdr[c->hdr_len++] = ch;
		if ((ch == '\r' && (c->tail == 0 || c->tail == 2)) ||
		    (ch == '\n' && (c->tail == 1 || c->tail == 3))) {
			c->tail++;
		} else {
			c->tail = ch == '\r' ? 1 : 0;
		}
		if (c->tail == 4) {
			c->hdr[c->hdr_len] = '\0';
			if (strcasestr(c->hdr, "\nconnection: close"))
				c->closing = 1;
			c->pending++;
			if (c->closing)
				return;
			c->tail = 0;
			c->hdr_len = 0;
		}
	}
}

/* Which response the k-th pending one is: the last one of a closing
 * connection says so. */
static int
variant(const struct client *c, size_t k)
{
	return c->closing && k == c->pending - 1;
}

/* Write what is pending; returns -1 to drop, 1 when blocked, 0 when done. */
static int
flush(struct client *c)
{
	struct iovec iov[16];

	while (c->pending > 0) {
		size_t k, cnt = c->pending < 16 ? c->pending : 16;
		ssize_t w;

		for (k = 0; k < cnt; k++) {
			int v = variant(c, k);

			iov[k].iov_base = response[v];
			iov[k].iov_len = response_len[v];
		}
		iov[0].iov_base = (char *)iov[0].iov_base + c->offset;
		iov[0].iov_len -= c->offset;
		w = writev(c->fd, iov, (int)cnt);
		if (w < 0) {
			if (errno == EAGAIN)
				return 1;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->offset += (size_t)w;
		while (c->pending > 0 &&
		       c->offset >= response_len[variant(c, 0)]) {
			c->offset -= response_len[variant(c, 0)];
			c->pending--;
		}
	}
	return 0;
}

static void
on_client(int ep, struct client *c, unsigned int events)
{
	char buf[RBUF];
	int r;

	if (events & EPOLLIN) {
		for (;;) {
			ssize_t n = read(c->fd, buf, sizeof(buf));

			if (n == 0) {
				drop(ep, c);
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				if (errno == EINTR)
					continue;
				drop(ep, c);
				return;
			}
			scan(c, buf, (size_t)n);
			if ((size_t)n < sizeof(buf))
				break;
		}
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		drop(ep, c);
		return;
	}
	r = flush(c);
	if (r < 0 || (r == 0 && c->closing)) {
		drop(ep, c);
		return;
	}
	{
		struct epoll_event ev = {
			.events = EPOLLIN | (r == 1 ? EPOLLOUT : 0),
			.data.ptr = c,
		};

		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void
run(int lfd)
{
	struct epoll_event evs[MAX_EVENTS];
	struct epoll_event lev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		perror("responder: epoll_create1");
		exit(1);
	}
	lev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		perror("responder: epoll_ctl");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1), i;

		if (n < 0 && errno != EINTR) {
			perror("responder: epoll_wait");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL) {
				on_client(ep, evs[i].data.ptr, evs[i].events);
				continue;
			}
			for (;;) {
				int fd = accept4(lfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct client *c;
				struct epoll_event ev = { .events = EPOLLIN };
				int one = 1;

				if (fd < 0)
					break;
				c = calloc(1, sizeof(*c));
				if (c == NULL) {
					close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				c->fd = fd;
				ev.data.ptr = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
					close(fd);
					free(c);
				}
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int lfd, one = 1, workers = 1, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: responder PORT [WORKERS]\n");
		return 2;
	}
	if (argc == 3)
		workers = atoi(argv[2]);
	if (workers < 1)
		workers = 1;
	build_response();
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4096) < 0) {
		perror("responder: listen");
		return 1;
	}
	/* Children die with the parent, which the benchmark stops by pid;
	 * the parent serves too, so WORKERS processes run in all. */
	for (i = 1; i < workers; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				return 0;
			break;
		}
	}
	run(lfd);
	return 0;
}
