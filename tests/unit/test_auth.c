/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for auth's tables: a user file's text parsed into users
 * (the line and reason of a bad one), allow/deny evaluated in order with
 * the first match deciding. The
 * handler itself runs in tests/integration/test_auth.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http/auth.h"

#define BCRYPT "$2y$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw."
#define SHA256 "$5$nxWHQMZTNg7Q6RYX$UlnhKJZJUd9HMEVnhy84SimOfvsZRlZ8w0F7d5MWyM/"

static void
users_parsed(void **state)
{
	static const char text[] = "# team\nalice:" BCRYPT "\r\n\nbob:" SHA256;
	struct tw_userfile u;
	const char *why = NULL;
	unsigned line;

	(void)state;
	assert_int_equal(tw_userfile_parse(&u, text, sizeof(text) - 1, 77,
					   &line, &why), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.users[0].name, "alice");
	assert_string_equal(u.users[0].hash, BCRYPT);
	assert_string_equal(u.users[1].name, "bob");
	assert_string_equal(u.users[1].hash, SHA256);
	assert_int_equal(u.id, 77);
	/* the dummy for unknown names costs what a real check costs */
	assert_string_equal(u.dummy, BCRYPT);
	tw_userfile_free(&u);
}

static void
users_refused(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *why;
	} v[] = {
		{ "alice:" BCRYPT "\nalice:" SHA256 "\n", 2, "twice" },
		{ "alice:" BCRYPT "\nbob:$apr1$9b9pEDL4$aERx/TH7QLRMnrmJTNH4.1",
		  2, "$apr1$" },
		{ "# nobody\n", 0, "no user" },
		{ "", 0, "no user" },
	};
	struct tw_userfile u;
	const char *why;
	unsigned line;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		why = NULL;
		assert_int_equal(tw_userfile_parse(&u, v[i].text,
						   strlen(v[i].text), 0,
						   &line, &why), -EINVAL);
		assert_non_null(why);
		if (line != v[i].line || strstr(why, v[i].why) == NULL)
			fail_msg("text %zu: line %u \"%s\"", i, line, why);
		assert_null(u.users);
	}
}

static struct sockaddr_in6
mapped(const char *v4)
{
	struct sockaddr_in6 s6;
	char a[64];

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	(void)snprintf(a, sizeof(a), "::ffff:%s", v4);
	assert_int_equal(inet_pton(AF_INET6, a, &s6.sin6_addr), 1);
	return s6;
}

static void
first_match_wins(void **state)
{
	struct tw_auth_rule r[3];
	struct sockaddr_in6 p;

	(void)state;
	/* deny 10.0.0.1; allow 10.0.0.0/8; deny all */
	r[0].allow = false;
	assert_int_equal(tw_net_parse("10.0.0.1", &r[0].net), 0);
	r[1].allow = true;
	assert_int_equal(tw_net_parse("10.0.0.0/8", &r[1].net), 0);
	r[2].allow = false;
	assert_int_equal(tw_net_parse("all", &r[2].net), 0);
	p = mapped("10.0.0.1");
	assert_false(tw_auth_allowed(r, 3, (struct sockaddr *)&p));
	p = mapped("10.0.0.2");
	assert_true(tw_auth_allowed(r, 3, (struct sockaddr *)&p));
	p = mapped("11.0.0.2");
	assert_false(tw_auth_allowed(r, 3, (struct sockaddr *)&p));
	/* the same rules the other way round: allow first lets it in */
	r[0].allow = true;
	r[1].allow = false;
	p = mapped("10.0.0.1");
	assert_true(tw_auth_allowed(r, 3, (struct sockaddr *)&p));
	/* no rule matches: in */
	p = mapped("11.0.0.2");
	assert_true(tw_auth_allowed(r, 2, (struct sockaddr *)&p));
	assert_true(tw_auth_allowed(r, 0, (struct sockaddr *)&p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(users_parsed),
		cmocka_unit_test(users_refused),
		cmocka_unit_test(first_match_wins),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
