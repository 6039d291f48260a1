/* SPDX-License-Identifier: MIT */
/*
 * listener: bind, listen and accept. Layer 1: hands each connection to a
 * factory it does not know.
 */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "net/conn.h"
#include "net/loop.h"

#define ACCEPTS_PER_EVENT 64
#define REST_MS		100	/* out of descriptors, with no spare left */
/* Asked of the loop's caches per accept that ran out of descriptors: a
 * few, so that the next accepts of the burst find some too. */
#define RECLAIM_WANT	16

struct tw_listener {
	struct tw_loop *loop;
	int fd;
	int spare_fd;		/* released to accept-and-drop under EMFILE */
	tw_accept_fn *accept_fn;
	void *arg;
	unsigned events;	/* as registered */
	bool paused;		/* by the run layer */
	bool resting;		/* by itself, out of descriptors */
	bool short_said;	/* the shortage is on the error log */
	struct tw_timer rest;
};

int
tw_listener_bind(const char *addr, uint16_t port, int backlog, bool reuseport)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t len;
	int fd, one = 1, err;

	memset(&u, 0, sizeof(u));
	if (addr == NULL)
		addr = "0.0.0.0";
	if (inet_pton(AF_INET, addr, &u.sin.sin_addr) == 1) {
		u.sin.sin_family = AF_INET;
		u.sin.sin_port = htons(port);
		len = sizeof(u.sin);
	} else if (inet_pton(AF_INET6, addr, &u.sin6.sin6_addr) == 1) {
		u.sin6.sin6_family = AF_INET6;
		u.sin6.sin6_port = htons(port);
		len = sizeof(u.sin6);
	} else {
		return -EINVAL;
	}
	fd = socket(u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	/* Each family gets its own socket so "-b :: -b 0.0.0.0" works. */
	if (u.sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, &u.sa, len) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	(void)close(fd);
	return err;
}

int
tw_listener_clone_reuseport(int fd, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int nfd, one = 1, err;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	nfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (nfd < 0)
		return -errno;
	if (setsockopt(nfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(nfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(nfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(nfd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(nfd, backlog) < 0) {
		err = -errno;
		(void)close(nfd);
		return err;
	}
	return nfd;
}

bool
tw_listener_same_addr(int fd, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned char want[16];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		return inet_pton(AF_INET, addr, want) == 1 &&
		       memcmp(&sin->sin_addr, want, 4) == 0 &&
		       (port == 0 || ntohs(sin->sin_port) == port);
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		return inet_pton(AF_INET6, addr, want) == 1 &&
		       memcmp(&sin6->sin6_addr, want, 16) == 0 &&
		       (port == 0 || ntohs(sin6->sin6_port) == port);
	}
	return false;
}

uint16_t
tw_listener_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static void
put_port(char *p, size_t room, uint16_t port)
{
	char d[6];
	size_t n = 0, i;

	do {
		d[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port != 0);
	for (i = 0; i < n && i + 1 < room; i++)
		p[i] = d[n - 1 - i];
	p[i] = '\0';
}

const char *
tw_listener_url(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	size_t n;
	bool v6;

	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return buf;
	v6 = ss.ss_family == AF_INET6;
	if (inet_ntop(ss.ss_family,
		      v6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
			   (void *)&((struct sockaddr_in *)&ss)->sin_addr,
		      host, sizeof(host)) == NULL)
		return buf;
	if (len < sizeof(host) + 20)
		return buf;
	n = 0;
	memcpy(buf, "http://", 7);
	n += 7;
	if (v6)
		buf[n++] = '[';
	memcpy(buf + n, host, strlen(host));
	n += strlen(host);
	if (v6)
		buf[n++] = ']';
	buf[n++] = ':';
	put_port(buf + n, len - n, tw_listener_port(fd));
	n += strlen(buf + n);
	buf[n++] = '/';
	buf[n] = '\0';
	return buf;
}

/* Out of descriptors: the kernel keeps reporting the pending connection,
 * and leaving it would spin the loop. Give up the spare descriptor,
 * accept the connection and close it at once (the peer sees a reset
 * rather than a hang), then take the spare back. */
static bool
drop_one(struct tw_listener *l)
{
	int fd;

	if (l->spare_fd < 0)
		return false;
	(void)close(l->spare_fd);
	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		(void)close(fd);
	l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return true;
}

static void on_accept(struct tw_loop *loop, int lfd, unsigned events,
		      void *ctx);

/* An accepted socket becomes a connection of the factory's. */
static void
hand_over(struct tw_listener *l, int fd, const struct sockaddr *peer,
	  socklen_t plen)
{
	struct tw_conn *c;
	int err;

	c = tw_conn_create(l->loop, fd, peer, plen, &err);
	if (c == NULL) {
		(void)close(fd);
		return;
	}
	if (l->accept_fn(c, l->arg) == 0)
		tw_conn_start(c);
}

size_t
tw_listener_take_backlog(struct tw_listener *l, size_t max)
{
	size_t n = 0;

	while (n < max) {
		union {
			struct sockaddr sa;
			struct sockaddr_in6 sin6;
		} peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, &peer.sa, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			break;		/* EAGAIN: all taken; or no room */
		}
		hand_over(l, fd, &peer.sa, plen);
		n++;
	}
	return n;
}

static void
rest_over(struct tw_loop *loop, struct tw_timer *t)
{
	struct tw_listener *l = (struct tw_listener *)(void *)((char *)t -
					offsetof(struct tw_listener, rest));

	l->resting = false;
	if (l->spare_fd < 0)
		l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!l->paused)
		(void)tw_loop_add(loop, l->fd, l->events, on_accept, l);
}

/*
 * Out of descriptors with no spare to drop a connection with: threads
 * share one descriptor table, so another thread's accept can take the
 * number a spare just gave up. Stop watching the socket for REST_MS
 * instead of letting its level-triggered report spin the loop.
 */
static void
rest(struct tw_listener *l)
{
	if (l->resting)
		return;
	l->resting = true;
	if (!l->paused)
		tw_loop_del(l->loop, l->fd);
	tw_loop_timer_set(l->loop, &l->rest, REST_MS, rest_over);
}

static void
on_accept(struct tw_loop *loop, int lfd, unsigned events, void *ctx)
{
	struct tw_listener *l = ctx;
	int i;

	(void)events;
	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		union {
			struct sockaddr sa;
			struct sockaddr_in6 sin6;
		} peer;
		socklen_t plen = sizeof(peer);
		int fd, err;

		fd = accept4(lfd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    tw_loop_reclaim(loop, RECLAIM_WANT) > 0) {
			/* Descriptors kept for speed came back: serve the
			 * connection rather than drop it. */
			plen = sizeof(peer);
			fd = accept4(lfd, &peer.sa, &plen,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		}
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    !l->short_said) {
			/* Once per shortage, not once per client. */
			err = errno;
			tw_log(TW_LOG_ERROR, -err, "out of descriptors; "
			       "new connections are refused until some close");
			l->short_said = true;
			errno = err;
		}
		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    !drop_one(l)) {
				rest(l);
				return;
			}
			/* EAGAIN ends the burst; ECONNABORTED and the like
			 * concern one peer only. */
			if (errno == EAGAIN || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				return;
			continue;
		}
		if (l->short_said) {
			tw_log(TW_LOG_INFO, 0, "descriptors available "
			       "again");
			l->short_said = false;
		}
		hand_over(l, fd, &peer.sa, plen);
	}
}

struct tw_listener *
tw_listener_create(struct tw_loop *loop, int fd, tw_accept_fn *accept_fn,
		   void *arg, bool exclusive, int *err)
{
	struct tw_listener *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	l->loop = loop;
	l->fd = fd;
	l->accept_fn = accept_fn;
	l->arg = arg;
	l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Several workers wait on one shared socket: EPOLLEXCLUSIVE wakes
	 * one of them per connection instead of all (no thundering herd). */
	l->events = TW_LOOP_READ | (exclusive ? TW_LOOP_EXCLUSIVE : 0);
	*err = tw_loop_add(loop, fd, l->events, on_accept, l);
	if (*err < 0) {
		if (l->spare_fd >= 0)
			(void)close(l->spare_fd);
		free(l);
		return NULL;
	}
	return l;
}

int
tw_listener_pause(struct tw_listener *l)
{
	if (l->paused)
		return 0;
	l->paused = true;
	if (!l->resting)
		tw_loop_del(l->loop, l->fd);
	return 0;
}

int
tw_listener_resume(struct tw_listener *l)
{
	if (!l->paused)
		return 0;
	l->paused = false;
	if (l->resting)
		return 0;	/* rest_over watches it again */
	return tw_loop_add(l->loop, l->fd, l->events, on_accept, l);
}

void
tw_listener_destroy(struct tw_listener *l)
{
	if (l == NULL)
		return;
	if (!l->paused && !l->resting)
		tw_loop_del(l->loop, l->fd);
	tw_loop_timer_cancel(l->loop, &l->rest);
	if (l->spare_fd >= 0)
		(void)close(l->spare_fd);
	free(l);
}
