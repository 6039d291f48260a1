/* SPDX-License-Identifier: MIT */
/*
 * netmask: client address lists. Parses "ADDR", "ADDR/BITS" (IPv4 or
 * IPv6) and "all", and matches a peer's address against one, an
 * IPv4-mapped IPv6 peer (::ffff:1.2.3.4 on a dual-stack socket) as the
 * IPv4 address it is. Used by the status page's allow list and by the
 * allow/deny rules of http/auth. Layer 2: no I/O, no allocation.
 */
#ifndef TW_NETMASK_H
#define TW_NETMASK_H

#include <stdbool.h>
#include <sys/socket.h>

struct tw_net {
	int family;		/* AF_INET, AF_INET6, or 0: all */
	unsigned char addr[16];
	unsigned prefix;	/* bits */
};

/*
 * Parse "ADDR", "ADDR/BITS" or "all" into *out. The address is taken as
 * written: bits beyond the prefix are ignored when matching. Returns 0
 * or -EINVAL.
 */
int tw_net_parse(const char *s, struct tw_net *out);

/* True if peer (AF_INET or AF_INET6; anything else never matches) is in
 * n. IPv4 nets match IPv4-mapped IPv6 peers. */
bool tw_net_match(const struct tw_net *n, const struct sockaddr *peer);

/* True if peer is a loopback address (127/8, ::1, or mapped 127/8). */
bool tw_net_is_loopback(const struct sockaddr *peer);

#endif /* TW_NETMASK_H */
