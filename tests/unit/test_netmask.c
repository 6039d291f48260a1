/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for netmask's matching (its parser's vectors are in
 * test_status, from before the module was split off): IPv4, IPv6,
 * IPv4-mapped peers on a dual-stack socket, prefixes, all, loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "parse/netmask.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A peer as the kernel gives it: AF_INET for "1.2.3.4", AF_INET6 for
 * anything with a colon (the mapped form too). */
static struct sockaddr_storage
peer(const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return ss;
}

struct mvec {
	const char *net;
	const char *peer;
	bool match;
};

static const struct mvec mvecs[] = {
	{ "10.0.0.0/8", "10.1.2.3", true },
	{ "10.0.0.0/8", "11.1.2.3", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },	/* dual stack */
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "192.168.1.7", "192.168.1.7", true },
	{ "192.168.1.7", "192.168.1.8", false },
	{ "192.168.1.0/25", "192.168.1.127", true },
	{ "192.168.1.0/25", "192.168.1.128", false },
	{ "0.0.0.0/0", "8.8.8.8", true },
	{ "0.0.0.0/0", "::1", false },			/* IPv4 rule, IPv6 peer */
	{ "::1", "::1", true },
	{ "::1", "127.0.0.1", false },
	{ "2001:db8::/32", "2001:db8:1::5", true },
	{ "2001:db8::/32", "2001:db9::5", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "1.2.3.4", false },			/* IPv6 rule, IPv4 peer */
	{ "::/0", "::ffff:1.2.3.4", false },		/* ... mapped too */
	{ "::ffff:1.2.3.4", "::ffff:1.2.3.4", false },	/* mapped is IPv4 */
	{ "all", "1.2.3.4", true },
	{ "all", "::1", true },
	{ "all", "::ffff:1.2.3.4", true },
};

static void
match_vectors(void **state)
{
	struct tw_net n;
	size_t i;

	(void)state;
	for (i = 0; i < N(mvecs); i++) {
		struct sockaddr_storage ss = peer(mvecs[i].peer);

		assert_int_equal(tw_net_parse(mvecs[i].net, &n), 0);
		if (tw_net_match(&n, (struct sockaddr *)&ss) != mvecs[i].match)
			fail_msg("%s ~ %s: want %d", mvecs[i].net,
				 mvecs[i].peer, mvecs[i].match);
	}
}

static void
other_families_never_match(void **state)
{
	struct sockaddr_storage ss;
	struct tw_net n;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(tw_net_parse("all", &n), 0);
	assert_false(tw_net_match(&n, (struct sockaddr *)&ss));
	assert_false(tw_net_is_loopback((struct sockaddr *)&ss));
}

static void
loopback(void **state)
{
	static const struct { const char *a; bool yes; } v[] = {
		{ "127.0.0.1", true }, { "127.9.9.9", true },
		{ "::1", true }, { "::ffff:127.0.0.1", true },
		{ "10.0.0.1", false }, { "::2", false },
		{ "::ffff:10.0.0.1", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(v); i++) {
		struct sockaddr_storage ss = peer(v[i].a);

		if (tw_net_is_loopback((struct sockaddr *)&ss) != v[i].yes)
			fail_msg("%s: want %d", v[i].a, v[i].yes);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_vectors),
		cmocka_unit_test(other_families_never_match),
		cmocka_unit_test(loopback),
	};

	return cmocka_run_group_tests_name("netmask", tests, NULL, NULL);
}
