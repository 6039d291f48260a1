/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sockets, the listening sockets kept across generations:
 * the TINYWEB_LISTEN_FDS list formats and parses back; asking twice for
 * an address gives the socket already held; an inherited socket is
 * taken for its own address (not bound anew), numbers that are not open
 * descriptors above stderr are skipped and the variable is unset;
 * drop_inherited closes those nobody asked for; keep closes every held
 * socket not in the list; a full buffer is -ENOSPC; reuseport siblings
 * are held by rank, passed on and taken over, and kept per rank.
 * Socket activation: LISTEN_FDS descriptors are taken for our pid only,
 * named by LISTEN_FDNAMES, matched by address (made non-blocking and
 * close-on-exec), one left over is named by unclaimed, and a socket that
 * is not a listening TCP one is never taken for an address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listener.h"
#include "run/sockets.h"

static bool
is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void
format_and_parse(void **state)
{
	struct tw_sockets s;
	char buf[64], tiny[4];
	int fds[8];

	(void)state;
	tw_sockets_init(&s);
	assert_int_equal(tw_sockets_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(tw_sockets_parse(buf, fds, 8), 0);
	s.fds[0] = 3;
	s.fds[1] = 17;
	s.fds[2] = 1024;
	s.nfds = 3;
	assert_int_equal(tw_sockets_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "3,17,1024");
	assert_int_equal(tw_sockets_parse(buf, fds, 8), 3);
	assert_int_equal(fds[0], 3);
	assert_int_equal(fds[1], 17);
	assert_int_equal(fds[2], 1024);
	/* At most max; stops at what is not a number. */
	assert_int_equal(tw_sockets_parse(buf, fds, 2), 2);
	assert_int_equal(tw_sockets_parse("5,x,6", fds, 8), 1);
	assert_int_equal(fds[0], 5);
	assert_int_equal(tw_sockets_format(&s, tiny, sizeof(tiny)), -ENOSPC);
	assert_int_equal(tw_sockets_format(&s, buf, 9), -ENOSPC);
	assert_int_equal(tw_sockets_format(&s, buf, 10), 0);
}

static void
same_address_same_socket(void **state)
{
	struct tw_sockets s;
	uint16_t port;
	int a, b, c;

	(void)state;
	tw_sockets_init(&s);
	a = tw_sockets_get(&s, "127.0.0.1", 0, false);
	assert_true(a > STDERR_FILENO);
	port = tw_listener_port(a);
	assert_int_not_equal(port, 0);
	b = tw_sockets_get(&s, "127.0.0.1", port, false);
	assert_int_equal(b, a);
	assert_int_equal(s.nfds, 1);
	c = tw_sockets_get(&s, "127.0.0.1", 0, false);	/* any port: held */
	assert_int_equal(c, a);
	tw_sockets_close(&s);
	assert_int_equal(s.nfds, 0);
	assert_false(is_open(a));
}

static void
inherited_taken_for_its_address(void **state)
{
	struct tw_sockets s;
	char list[64];
	uint16_t port;
	int a, b, got;

	(void)state;
	a = tw_listener_bind("127.0.0.1", 0, 16, false);
	b = tw_listener_bind("127.0.0.1", 0, 16, false);
	assert_true(a > STDERR_FILENO && b > STDERR_FILENO);
	port = tw_listener_port(b);
	(void)fcntl(a, F_SETFD, 0);
	/* 2 is stderr, 9999 is not open, x ends the list. */
	(void)snprintf(list, sizeof(list), "2,%d,9999,%d,x,%d", a, b, a);
	assert_int_equal(setenv(TW_SOCKETS_ENV, list, 1), 0);
	tw_sockets_init(&s);
	tw_sockets_inherit(&s);
	assert_null(getenv(TW_SOCKETS_ENV));
	assert_int_equal(s.ninherited, 2);
	assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
	got = tw_sockets_get(&s, "127.0.0.1", port, false);
	assert_int_equal(got, b);
	assert_int_equal(s.nfds, 1);
	/* Asked for again: now held, not inherited twice. */
	assert_int_equal(tw_sockets_get(&s, "127.0.0.1", port, false), b);
	assert_int_equal(s.nfds, 1);
	tw_sockets_drop_inherited(&s);
	assert_false(is_open(a));
	assert_true(is_open(b));
	tw_sockets_close(&s);
	assert_false(is_open(b));
}

static void
keep_closes_the_rest(void **state)
{
	struct tw_sockets s;
	int a, b, c;

	(void)state;
	tw_sockets_init(&s);
	/* Three addresses: port 0 would match any socket on one. */
	a = tw_sockets_get(&s, "127.0.0.1", 0, false);
	b = tw_sockets_get(&s, "127.0.0.2", 0, false);
	c = tw_sockets_get(&s, "127.0.0.3", 0, false);
	assert_true(a >= 0 && b >= 0 && c >= 0);
	assert_int_equal(s.nfds, 3);
	tw_sockets_keep(&s, (int[]){ b }, 1, 0);
	assert_int_equal(s.nfds, 1);
	assert_int_equal(s.fds[0], b);
	assert_false(is_open(a));
	assert_false(is_open(c));
	assert_true(is_open(b));
	tw_sockets_close(&s);
	assert_false(is_open(b));
}

/* Reuseport siblings: held by rank and found again; the next binary's
 * set takes its predecessor's (inherited) siblings rather than new ones;
 * keep closes those beyond the ranks still in use. */
static void
siblings_held_inherited_and_kept(void **state)
{
	struct tw_sockets s, next;
	char list[64];
	uint16_t port;
	int a, s1, s2, got;

	(void)state;
	tw_sockets_init(&s);
	a = tw_sockets_get(&s, "127.0.0.1", 0, true);
	assert_true(a >= 0);
	port = tw_listener_port(a);
	s1 = tw_sockets_sibling(&s, a, 1);
	s2 = tw_sockets_sibling(&s, a, 2);
	assert_true(s1 >= 0 && s2 >= 0 && s1 != s2 && s1 != a);
	assert_int_equal(tw_listener_port(s2), port);
	assert_int_equal(tw_sockets_sibling(&s, a, 1), s1);
	assert_int_equal(tw_sockets_sibling(&s, a, 2), s2);
	assert_int_equal(s.nsib, 2);
	assert_int_equal(tw_sockets_format(&s, list, sizeof(list)), 0);

	/* The next binary: the same three sockets, none bound anew. */
	(void)fcntl(a, F_SETFD, 0);
	(void)fcntl(s1, F_SETFD, 0);
	(void)fcntl(s2, F_SETFD, 0);
	assert_int_equal(setenv(TW_SOCKETS_ENV, list, 1), 0);
	tw_sockets_init(&next);
	tw_sockets_inherit(&next);
	assert_int_equal(next.ninherited, 3);
	got = tw_sockets_get(&next, "127.0.0.1", port, true);
	assert_int_equal(got, a);
	assert_int_equal(tw_sockets_sibling(&next, got, 1), s1);
	assert_int_equal(tw_sockets_sibling(&next, got, 2), s2);
	tw_sockets_drop_inherited(&next);
	assert_true(is_open(a) && is_open(s1) && is_open(s2));

	/* Fewer workers: the last rank goes. */
	tw_sockets_keep(&next, (int[]){ a }, 1, 1);
	assert_int_equal(next.nsib, 1);
	assert_int_equal(next.sib[0], s1);
	assert_true(is_open(s1));
	assert_false(is_open(s2));
	tw_sockets_close(&next);
	assert_false(is_open(a));
	assert_false(is_open(s1));
}

/* What the process had at 3 and 4, kept aside while a test puts passed
 * sockets there (where systemd puts them). */
static int saved[5] = { -1, -1, -1, -1, -1 };

static int
place(int fd, int want)
{
	if (fd == want)
		return fd;
	if (is_open(want) && saved[want] < 0)
		saved[want] = fcntl(want, F_DUPFD_CLOEXEC, 100);
	assert_int_equal(dup2(fd, want), want);
	(void)close(fd);
	return want;
}

static int
restore(void **state)
{
	int i;

	(void)state;
	for (i = 3; i <= 4; i++) {
		if (saved[i] >= 0) {
			(void)dup2(saved[i], i);
			(void)close(saved[i]);
			saved[i] = -1;
		}
	}
	return 0;
}

static void
set_listen_env(const char *pid, const char *n, const char *names)
{
	char me[16];

	if (pid == NULL) {
		(void)snprintf(me, sizeof(me), "%d", (int)getpid());
		pid = me;
	}
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", n, 1);
	setenv("LISTEN_FDNAMES", names, 1);
}

static void
passed_taken_by_address(void **state)
{
	struct tw_sockets s;
	const struct tw_sockets_passed *left;
	int a, b, fl;
	uint16_t pa, pb;

	(void)state;
	a = place(tw_listener_bind("127.0.0.1", 0, 16, false), 3);
	b = place(tw_listener_bind("127.0.0.1", 0, 16, false), 4);
	pa = tw_listener_port(a);
	pb = tw_listener_port(b);
	/* As systemd passes them: blocking, inherited across exec. */
	fl = fcntl(a, F_GETFL);
	assert_int_equal(fcntl(a, F_SETFL, fl & ~O_NONBLOCK), 0);
	assert_int_equal(fcntl(a, F_SETFD, 0), 0);
	set_listen_env(NULL, "2", "web:extra");
	tw_sockets_init(&s);
	assert_int_equal(tw_sockets_activate(&s), 2);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
	assert_int_equal(tw_sockets_get(&s, "127.0.0.1", pa, false), a);
	assert_true(fcntl(a, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
	left = tw_sockets_unclaimed(&s);
	assert_non_null(left);
	assert_int_equal(left->fd, b);
	assert_string_equal(left->name, "extra");
	assert_int_equal(tw_sockets_get(&s, "127.0.0.1", pb, false), b);
	assert_null(tw_sockets_unclaimed(&s));
	tw_sockets_close(&s);
	assert_false(is_open(a));
	assert_false(is_open(b));
}

static void
passed_for_another_pid_ignored(void **state)
{
	struct tw_sockets s;
	int a;

	(void)state;
	a = place(tw_listener_bind("127.0.0.1", 0, 16, false), 3);
	assert_int_equal(fcntl(a, F_SETFD, 0), 0);
	set_listen_env("1", "1", "web");
	tw_sockets_init(&s);
	assert_int_equal(tw_sockets_activate(&s), 0);
	assert_null(getenv("LISTEN_FDS"));
	assert_null(tw_sockets_unclaimed(&s));
	assert_int_equal(fcntl(a, F_GETFD), 0);	/* not touched */
	(void)close(a);
}

static void
passed_beyond_the_max_counted(void **state)
{
	struct tw_sockets s;
	char n[16];

	(void)state;
	(void)snprintf(n, sizeof(n), "%d", TW_SOCKETS_MAX + 2);
	set_listen_env(NULL, n, "");
	tw_sockets_init(&s);
	(void)tw_sockets_activate(&s);
	assert_int_equal(s.passed_over, 2);
	tw_sockets_init(&s);	/* the open ones are the process's own */
}

static void
passed_non_listening_never_taken(void **state)
{
	struct tw_sockets s;
	const struct tw_sockets_passed *left;
	int a, u;
	uint16_t port;

	(void)state;
	a = tw_listener_bind("127.0.0.1", 0, 16, false);
	port = tw_listener_port(a);
	(void)close(a);
	/* A UDP socket on the port the listen line names. */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(u >= 0);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons(port),
					   .sin_addr.s_addr =
						htonl(INADDR_LOOPBACK) };

		assert_int_equal(bind(u, (struct sockaddr *)&sin,
				      sizeof(sin)), 0);
	}
	u = place(u, 3);
	set_listen_env(NULL, "1", "");
	tw_sockets_init(&s);
	assert_int_equal(tw_sockets_activate(&s), 1);
	a = tw_sockets_get(&s, "127.0.0.1", port, false);
	assert_true(a != u);
	left = tw_sockets_unclaimed(&s);
	assert_non_null(left);
	assert_int_equal(left->fd, u);
	assert_string_equal(left->name, "");
	tw_sockets_drop_inherited(&s);
	assert_false(is_open(u));
	tw_sockets_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_and_parse),
		cmocka_unit_test(same_address_same_socket),
		cmocka_unit_test(inherited_taken_for_its_address),
		cmocka_unit_test(keep_closes_the_rest),
		cmocka_unit_test(siblings_held_inherited_and_kept),
		cmocka_unit_test_teardown(passed_taken_by_address, restore),
		cmocka_unit_test_teardown(passed_for_another_pid_ignored, restore),
		cmocka_unit_test_teardown(passed_non_listening_never_taken, restore),
		cmocka_unit_test(passed_beyond_the_max_counted),
	};

	return cmocka_run_group_tests_name("sockets", tests, NULL, NULL);
}
