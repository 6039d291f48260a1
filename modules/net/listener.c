/* SPDX-License-Identifier: MIT */
/*
 * listener: bind, listen and accept. Layer 1: hands each connection to a
 * factory it does not know.
 */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
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

/* An IPv6 socket that takes IPv4 clients too. */
static bool
dual_stack(int fd)
{
	int v = 1;
	socklen_t len = sizeof(v);

	return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) == 0 &&
	       v == 0;
}

/* A listening socket on sa; v6only for an IPv6 address other than the
 * dual-stack one of every address. */
static int
bind_sockaddr(const struct sockaddr *sa, socklen_t len, int backlog,
	      bool reuseport, bool v6only)
{
	int fd, one = 1, v6 = v6only, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	/* Set either way: net.ipv6.bindv6only must not decide for us. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6)) < 0)
		goto fail;
	if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	(void)close(fd);
	return err;
}

/*
 * Every address: one [::] socket that takes IPv4 too (as ::ffff:a.b.c.d),
 * so a machine's IPv4 and IPv6 clients reach it through one descriptor;
 * 0.0.0.0 where the kernel has no IPv6 (built without it, ipv6.disable=1)
 * or refuses the unspecified address.
 */
static int
bind_every(uint16_t port, int backlog, bool reuseport)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(port),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd;

	fd = bind_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), backlog,
			   reuseport, false);
	if (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL &&
	    fd != -EPROTONOSUPPORT)
		return fd;
	return bind_sockaddr((struct sockaddr *)&sin, sizeof(sin), backlog,
			     reuseport, false);
}

int
tw_listener_bind(const char *addr, uint16_t port, int backlog, bool reuseport)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t len;

	memset(&u, 0, sizeof(u));
	if (addr == NULL)
		addr = "0.0.0.0";
	if (strcmp(addr, TW_LISTENER_EVERY) == 0)
		return bind_every(port, backlog, reuseport);
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
	/* A named IPv6 address, [::] included, is IPv6 only, so that
	 * "-b :: -b 0.0.0.0" binds both. */
	return bind_sockaddr(&u.sa, len, backlog, reuseport, true);
}

int
tw_listener_clone_reuseport(int fd, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int nfd, err;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	/* A sibling must take the same clients, the same way: dual-stack
	 * like fd, or not, and deferred like fd, or not. */
	nfd = bind_sockaddr((struct sockaddr *)&ss, len, backlog, true,
			    ss.ss_family == AF_INET6 && !dual_stack(fd));
	if (nfd >= 0 && (err = tw_listener_same_defer(fd, nfd)) < 0) {
		(void)close(nfd);
		return err;
	}
	return nfd;
}

static int
defer_secs(int fd)
{
	socklen_t len = sizeof(int);
	int secs;

	if (getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, &len) < 0)
		return -errno;
	return secs;
}

int
tw_listener_same_defer(int from, int to)
{
	int secs = defer_secs(from);

	return secs < 0 ? secs : tw_listener_set_defer(to, secs > 0);
}

bool
tw_listener_defers(const struct tw_listener *l)
{
	return defer_secs(l->fd) > 0;
}

int
tw_listener_set_defer(int fd, bool on)
{
	/* Seconds; the kernel waits one SYN-ACK timeout (1 s) for data. */
	int secs = on ? 1 : 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs,
		       sizeof(secs)) < 0)
		return -errno;
	return 0;
}

bool
tw_listener_same_addr(int fd, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned char want[16];
	bool every = strcmp(addr, TW_LISTENER_EVERY) == 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		/* every address on a machine without IPv6 is 0.0.0.0 */
		if (every)
			memset(want, 0, 4);
		else if (inet_pton(AF_INET, addr, want) != 1)
			return false;
		return memcmp(&sin->sin_addr, want, 4) == 0 &&
		       (port == 0 || ntohs(sin->sin_port) == port);
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		/* [::] taking IPv4 too is every address; an IPv6-only
		 * one is "::" */
		if (every)
			memset(want, 0, 16);
		else if (inet_pton(AF_INET6, addr, want) != 1)
			return false;
		return memcmp(&sin6->sin6_addr, want, 16) == 0 &&
		       (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ||
			dual_stack(fd) == every) &&
		       (port == 0 || ntohs(sin6->sin6_port) == port);
	}
	return false;
}

bool
tw_listener_is_every(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return ss.ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
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

/* "http://ADDR:PORT/" of an address of family af into buf (room for
 * INET6_ADDRSTRLEN + 20). */
static size_t
format_url(int af, const void *addr, uint16_t port, char *buf)
{
	char host[INET6_ADDRSTRLEN];
	bool v6 = af == AF_INET6;
	size_t n = 0;

	if (inet_ntop(af, addr, host, sizeof(host)) == NULL) {
		buf[0] = '\0';
		return 0;
	}
	memcpy(buf, "http://", 7);
	n += 7;
	if (v6)
		buf[n++] = '[';
	memcpy(buf + n, host, strlen(host));
	n += strlen(host);
	if (v6)
		buf[n++] = ']';
	buf[n++] = ':';
	put_port(buf + n, 6, port);
	n += strlen(buf + n);
	buf[n++] = '/';
	buf[n] = '\0';
	return n;
}

#define URL_MAX (INET6_ADDRSTRLEN + 20)

const char *
tw_listener_url(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	bool v6;

	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 || len < URL_MAX)
		return buf;
	v6 = ss.ss_family == AF_INET6;
	(void)format_url(ss.ss_family,
			 v6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
			      (void *)&((struct sockaddr_in *)&ss)->sin_addr,
			 tw_listener_port(fd), buf);
	return buf;
}

/* ::1 is on an interface that is up. */
static bool
has_loopback6(const struct ifaddrs *ifs)
{
	const struct ifaddrs *i;

	for (i = ifs; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET6 &&
		    (i->ifa_flags & IFF_UP) &&
		    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)
					   (const void *)i->ifa_addr)->sin6_addr))
			return true;
	return false;
}

/* Where the URLs go: a buffer filled by whole lines. */
struct url_list {
	char *buf;
	size_t len;
	size_t off;
	size_t n;
	uint16_t port;
};

static void
add_url(struct url_list *ul, int af, const void *addr)
{
	char url[URL_MAX];
	size_t n = format_url(af, addr, ul->port, url);

	if (n == 0 || ul->off + n + 2 > ul->len)
		return;
	memcpy(ul->buf + ul->off, url, n);
	ul->off += n;
	ul->buf[ul->off++] = '\n';
	ul->buf[ul->off] = '\0';
	ul->n++;
}

/* The machine's own addresses of family af, loopback ones left out
 * (the caller puts the loopback address first). */
static void
add_machine(struct url_list *ul, const struct ifaddrs *ifs, int af)
{
	const struct ifaddrs *i;

	for (i = ifs; i != NULL; i = i->ifa_next) {
		const void *a;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != af ||
		    !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (af == AF_INET) {
			a = &((const struct sockaddr_in *)(const void *)
			      i->ifa_addr)->sin_addr;
		} else {
			const struct in6_addr *a6 =
				&((const struct sockaddr_in6 *)(const void *)
				  i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6) ||
			    IN6_IS_ADDR_LOOPBACK(a6))
				continue;
			a = a6;
		}
		add_url(ul, af, a);
	}
}

size_t
tw_listener_urls(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct url_list ul = { buf, len, 0, 0, tw_listener_port(fd) };
	struct in_addr lo4 = { htonl(INADDR_LOOPBACK) };
	struct ifaddrs *ifs = NULL;
	bool v4, v6;

	if (len > 0)
		buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (!tw_listener_is_every(fd)) {
		char url[URL_MAX];

		tw_listener_url(fd, url, sizeof(url));
		if (url[0] != '\0' && strlen(url) + 2 <= len) {
			memcpy(buf, url, strlen(url));
			memcpy(buf + strlen(url), "\n", 2);
			return 1;
		}
		return 0;
	}
	v6 = ss.ss_family == AF_INET6;
	v4 = !v6 || dual_stack(fd);
	/* The loopback addresses first: they work on every machine. An
	 * IPv6 one only where lo has it (IPv6 may be turned off). */
	if (getifaddrs(&ifs) < 0)
		ifs = NULL;
	if (v4)
		add_url(&ul, AF_INET, &lo4);
	if (v6 && has_loopback6(ifs))
		add_url(&ul, AF_INET6, &in6addr_loopback);
	if (v4)
		add_machine(&ul, ifs, AF_INET);
	if (v6)
		add_machine(&ul, ifs, AF_INET6);
	if (ifs != NULL)
		freeifaddrs(ifs);
	return ul.n;
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
