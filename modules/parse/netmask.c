/* SPDX-License-Identifier: MIT */
/*
 * netmask: address/prefix parsing and matching. A peer is reduced once
 * to four or sixteen bytes (a mapped IPv6 address to its IPv4 four), so
 * a rule written for IPv4 holds whichever socket the client came in on.
 * Layer 2.
 */
#include "parse/netmask.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int
tw_net_parse(const char *s, struct tw_net *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	char *end;
	long bits;

	memset(out, 0, sizeof(*out));
	if (strcmp(s, "all") == 0) {
		/* 0.0.0.0/0 and ::/0 in one: family 0 matches anything. */
		return 0;
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = max;
	if (slash != NULL) {
		/* strtol would also take " 8" or "+8". */
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || bits < 0 ||
		    bits > (long)max)
			return -EINVAL;
		out->prefix = (unsigned)bits;
	}
	return 0;
}

static bool
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* The peer's address bytes: 4 for IPv4 and mapped IPv6, else 16; 0 for
 * another family. */
static int
peer_bytes(const struct sockaddr *peer, const unsigned char **a)
{
	if (peer->sa_family == AF_INET) {
		*a = (const unsigned char *)&((const struct sockaddr_in *)
			(const void *)peer)->sin_addr;
		return 4;
	}
	if (peer->sa_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)
			(const void *)peer)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			*a = &in6->s6_addr[12];
			return 4;
		}
		*a = in6->s6_addr;
		return 16;
	}
	return 0;
}

bool
tw_net_match(const struct tw_net *n, const struct sockaddr *peer)
{
	const unsigned char *a;
	int len = peer_bytes(peer, &a);

	if (len == 0)
		return false;
	if (n->family == 0)
		return true;
	if ((n->family == AF_INET) != (len == 4))
		return false;
	return prefix_match(a, n->addr, n->prefix);
}

bool
tw_net_is_loopback(const struct sockaddr *peer)
{
	static const unsigned char v6_loop[16] = { [15] = 1 };
	const unsigned char *a;
	int len = peer_bytes(peer, &a);

	return len == 4 ? a[0] == 127 :
	       len == 16 && memcmp(a, v6_loop, 16) == 0;
}
