/* SPDX-License-Identifier: MIT */
/*
 * hammer: a light HTTP/1.1 load client for the benchmark's small-file rows,
 * where wrk's own core is the limit. One thread, one epoll set
 * (edge-triggered, each socket added once), N connections with one GET in
 * flight each, no allocation after start. It parses the status line, the
 * Content-Length and Connection headers and the end of the head: a
 * response counts when its head and all its Content-Length bytes arrived.
 * A status other than 200, a head without Content-Length (or with
 * Transfer-Encoding), a byte past the response, or a close or reset before
 * the last byte is an error: the connection starts again, the first 10
 * are printed, the run exits 1, and at 1,000 errors it stops at once. A
 * response with "Connection: close" (nginx after keepalive_requests) makes
 * the connection start again, not an error.
 *
 * Usage: hammer [-c CONNS] [-d SECONDS] [-x] http://IPV4:PORT/PATH
 *   -c  connections (default 50)         -d  duration (default 5)
 *   -x  a new connection per request, the request saying Connection: close
 * Prints one line: requests=N errors=N duration_us=N rps=R p50_us=N
 * p99_us=N reconnects=N. Latency runs from the request's write (with -x,
 * from the connect) to its last byte, read once per epoll_wait: its
 * resolution is one event-loop turn. Requests in flight at the end are
 * not counted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX	8192
#define BUCKETS		1280	/* latency histogram: see bucket() */
#define MAX_ERRORS	1000	/* then the run stops */

struct conn {
	int fd;
	int in_body;		/* head parsed, body bytes to come */
	int closes;		/* the response said Connection: close */
	size_t sent;		/* request bytes written */
	size_t len;		/* head bytes in buf */
	uint64_t left;		/* body bytes to come */
	uint64_t start;		/* ns */
	char buf[HEAD_MAX];
};

static struct sockaddr_in addr;
static char req[1024];
static size_t req_len;
static int fresh;		/* -x */
static int ep;
static uint64_t now, done, errors, reconnects;
static uint64_t hist[BUCKETS];

static uint64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Microseconds: one bucket each below 64, then 32 per power of two
 * (each at most 1/32 wide), up to 2^44 us. */
static unsigned
bucket(uint64_t us)
{
	unsigned e, b;

	if (us < 64)
		return (unsigned)us;
	e = 63u - (unsigned)__builtin_clzll(us) - 5u;	/* us >> e in [32,64) */
	b = 32 * e + (unsigned)(us >> e);
	return b < BUCKETS ? b : BUCKETS - 1;
}

/* The lower bound of bucket b. */
static uint64_t
bucket_us(unsigned b)
{
	unsigned e = b / 32 - 1;

	return b < 64 ? b : (uint64_t)(b - 32 * e) << e;
}

static uint64_t
percentile(double p)
{
	uint64_t want = (uint64_t)(p / 100.0 * (double)done + 0.5), seen = 0;
	unsigned b;

	for (b = 0; b < BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want && seen > 0)
			return bucket_us(b);
	}
	return 0;
}

static int
fail(const char *what)
{
	if (++errors <= 10)
		fprintf(stderr, "hammer: %s\n", what);
	if (errors >= MAX_ERRORS) {
		fprintf(stderr, "hammer: %d errors, stopping\n", MAX_ERRORS);
		exit(1);
	}
	return -1;
}

static void send_request(struct conn *c);

/* A new socket for c, its request written at once if the (loopback)
 * handshake is already done, else on EPOLLOUT. */
static void
open_conn(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("hammer: socket");
		exit(2);
	}
	if (!fresh)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS) {
		perror("hammer: connect");
		exit(2);
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("hammer: epoll_ctl");
		exit(2);
	}
	c->sent = c->len = 0;
	c->in_body = 0;
	c->start = now;
	send_request(c);
}

static void
restart(struct conn *c)
{
	close(c->fd);
	open_conn(c);
}

static void
send_request(struct conn *c)
{
	while (c->sent < req_len) {
		ssize_t n = send(c->fd, req + c->sent, req_len - c->sent,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				return;		/* EPOLLOUT will come */
			if (errno == EINTR)
				continue;
			fail(strerror(errno));
			restart(c);
			return;
		}
		c->sent += (size_t)n;
	}
}

static void
next(struct conn *c)
{
	uint64_t us = (now - c->start) / 1000;

	hist[bucket(us)]++;
	done++;
	if (fresh || c->closes) {
		reconnects += !fresh;
		restart(c);
		return;
	}
	c->sent = c->len = 0;
	c->in_body = 0;
	c->start = now;
	send_request(c);
}

/* The head is buf[0, end): status 200, Content-Length, Connection. */
static int
parse_head(struct conn *c, size_t end)
{
	const char *p = c->buf, *lim = c->buf + end, *eol;
	int have_len = 0;

	if (end < 13 ||
	    (memcmp(p, "HTTP/1.1 ", 9) && memcmp(p, "HTTP/1.0 ", 9)))
		return fail("malformed status line");
	if (memcmp(p + 9, "200", 3) || (p[12] != ' ' && p[12] != '\r'))
		return fail("status not 200");
	c->closes = p[7] == '0';
	/* Each line ends in '\n' (the head ends in "\r\n\r\n"); the empty
	 * line at lim - 2 ends the loop. */
	p = (const char *)memchr(p, '\n', end) + 1;
	for (; p < lim - 2; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(lim - p));
		if (!strncasecmp(p, "content-length:", 15)) {
			uint64_t v = 0;
			const char *q = p + 15;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q < '0' || *q > '9')
				return fail("malformed Content-Length");
			while (*q >= '0' && *q <= '9' && v < (1ull << 60))
				v = v * 10 + (uint64_t)(*q++ - '0');
			if (have_len && v != c->left)
				return fail("two Content-Lengths");
			have_len = 1;
			c->left = v;
		} else if (!strncasecmp(p, "transfer-encoding:", 18)) {
			return fail("Transfer-Encoding not supported");
		} else if (!strncasecmp(p, "connection:", 11)) {
			const char *q = memmem(p + 11, (size_t)(eol - p - 11),
					       "close", 5);

			c->closes = q != NULL;
		}
	}
	if (!have_len)
		return fail("no Content-Length");
	return 0;
}

static void
on_readable(struct conn *c)
{
	for (;;) {
		char *to = c->in_body ? c->buf : c->buf + c->len;
		size_t room = sizeof(c->buf) - (c->in_body ? 0 : c->len);
		ssize_t n = read(c->fd, to, room);

		if (n <= 0) {
			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				fail(strerror(errno));
			else if (c->in_body || c->len > 0)
				fail("closed before the response's end");
			else
				fail("closed before a response");
			restart(c);
			return;
		}
		if (c->in_body) {
			if ((uint64_t)n > c->left) {
				fail("bytes past the response");
				restart(c);
				return;
			}
			c->left -= (uint64_t)n;
		} else {
			size_t from = c->len > 3 ? c->len - 3 : 0, got;
			char *e;

			c->len += (size_t)n;
			e = memmem(c->buf + from, c->len - from, "\r\n\r\n", 4);
			if (e == NULL) {
				if (c->len == sizeof(c->buf)) {
					fail("head longer than 8 KiB");
					restart(c);
					return;
				}
				continue;
			}
			if (parse_head(c, (size_t)(e + 4 - c->buf)) < 0) {
				restart(c);
				return;
			}
			got = c->len - (size_t)(e + 4 - c->buf);
			if (got > c->left) {
				fail("bytes past the response");
				restart(c);
				return;
			}
			c->left -= got;
			c->in_body = 1;
		}
		if (c->left == 0) {
			/* Nothing more is due on this socket until the next
			 * request: no read to EAGAIN (a new byte is a new
			 * edge). */
			next(c);
			return;
		}
	}
}

_Noreturn static void
usage(void)
{
	fprintf(stderr, "usage: hammer [-c CONNS] [-d SECONDS] [-x] "
			"http://IPV4:PORT/PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	struct conn *conns;
	char host[64];
	const char *url, *path;
	long nconn = 50, port;
	double secs = 5;
	uint64_t t0, end;
	int opt, i;

	while ((opt = getopt(argc, argv, "c:d:x")) != -1) {
		if (opt == 'c')
			nconn = strtol(optarg, NULL, 10);
		else if (opt == 'd')
			secs = strtod(optarg, NULL);
		else if (opt == 'x')
			fresh = 1;
		else
			usage();
	}
	if (optind != argc - 1 || nconn < 1 || nconn > 100000 || secs <= 0)
		usage();
	url = argv[optind];
	if (strncmp(url, "http://", 7) ||
	    (path = strchr(url + 7, '/')) == NULL ||
	    memchr(url + 7, ':', (size_t)(path - url - 7)) == NULL ||
	    (size_t)(path - url - 7) >= sizeof(host))
		usage();
	memcpy(host, url + 7, (size_t)(path - url - 7));
	host[path - url - 7] = '\0';
	*strchr(host, ':') = '\0';
	port = strtol(host + strlen(host) + 1, NULL, 10);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		usage();
	i = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s:%ld\r\n%s\r\n", path, host,
		     port, fresh ? "Connection: close\r\n" : "");
	if (i < 0 || (size_t)i >= sizeof(req))
		usage();
	req_len = (size_t)i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	conns = calloc((size_t)nconn, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ep < 0) {
		perror("hammer");
		return 2;
	}
	t0 = now = clock_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < nconn; i++)
		open_conn(&conns[i]);
	while (now < end) {
		int ms = (int)((end - now) / 1000000) + 1;
		int n = epoll_wait(ep, evs, 256, ms);

		if (n < 0 && errno != EINTR) {
			perror("hammer: epoll_wait");
			return 2;
		}
		now = clock_ns();
		for (i = 0; i < n && now < end; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->sent < req_len &&
			    (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
				send_request(c);
			if (c->sent == req_len &&
			    (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP |
					      EPOLLRDHUP)))
				on_readable(c);
		}
	}
	printf("requests=%llu errors=%llu duration_us=%llu rps=%.0f "
	       "p50_us=%llu p99_us=%llu reconnects=%llu\n",
	       (unsigned long long)done, (unsigned long long)errors,
	       (unsigned long long)((now - t0) / 1000),
	       (double)done / ((double)(now - t0) / 1e9),
	       (unsigned long long)percentile(50),
	       (unsigned long long)percentile(99),
	       (unsigned long long)reconnects);
	free(conns);
	return errors > 0 || done == 0;
}
