/* SPDX-License-Identifier: MIT */
/*
 * synq: connections the kernel holds for a listening socket, asked of
 * sock_diag. Layer 1.
 */
#include "net/synq.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* A connection whose handshake is under way is a request socket in the
 * kernel, state TCP_NEW_SYN_RECV (include/net/tcp_states.h, not in the
 * uapi headers); TCP_SYN_RECV is the full socket the same state had
 * before Linux 4.4 and still has for TCP Fast Open. */
#define STATE_NEW_SYN_RECV	12
#define WANTED_STATES	((1u << TCP_SYN_RECV) | (1u << STATE_NEW_SYN_RECV))

union addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

int
tw_synq_open(void)
{
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);

	return nl < 0 ? -errno : nl;
}

static bool
is_every(const union addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
}

/* Whether a connection the kernel reports belongs to listening address
 * a (its port was matched by the kernel and again by the caller). */
static bool
same_local(const union addr *a, const struct inet_diag_msg *m)
{
	if (is_every(a))
		return true;
	if (m->idiag_family != a->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return m->id.idiag_src[0] == a->sin.sin_addr.s_addr;
	return memcmp(m->id.idiag_src, &a->sin6.sin6_addr, 16) == 0;
}

/* One dump of family's connections on a's port. Returns how many match,
 * or -errno. */
static int
count_family(int nl, int family, const union addr *a, uint16_t port)
{
	static __thread uint32_t seq;
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++seq,
		},
		.r = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = WANTED_STATES,
			.id.idiag_sport = port,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	/* nlmsghdr-aligned; a dump arrives in messages of up to a page. */
	uint32_t buf[8192 / sizeof(uint32_t)];
	int n = 0;

	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		size_t len = (size_t)got;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			return -EPROTO;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			/* A reply to an earlier question that was cut off
			 * (an error return below) is not this one's. */
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error < 0 ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			if (m->id.idiag_sport == port && same_local(a, m))
				n++;
		}
	}
}

int
tw_synq_waiting(int nl, int fd)
{
	union addr a;
	socklen_t len = sizeof(a);
	int v6only = 1, n4 = 0, n6;
	socklen_t olen = sizeof(v6only);
	uint16_t port;

	if (getsockname(fd, &a.sa, &len) < 0)
		return -errno;
	if (a.sa.sa_family == AF_INET)
		return count_family(nl, AF_INET, &a, a.sin.sin_port);
	if (a.sa.sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	port = a.sin6.sin6_port;
	/* A dual-stack [::] takes IPv4 clients too, whose connections the
	 * kernel files under AF_INET. */
	if (is_every(&a) &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen) == 0 &&
	    !v6only) {
		n4 = count_family(nl, AF_INET, &a, port);
		if (n4 < 0)
			return n4;
	}
	n6 = count_family(nl, AF_INET6, &a, port);
	return n6 < 0 ? n6 : n4 + n6;
}
