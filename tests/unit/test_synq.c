/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for synq over real loopback sockets and the kernel's own
 * sock_diag: a deferring listener's silent clients are counted until
 * they speak; clients of another port, or of another address on the
 * same port, are not; a dual-stack [::] counts its IPv4 clients and an
 * IPv6-only one does not; a descriptor that is no socket is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/synq.h"

/* A hang's limit for a connection the kernel should queue at once. */
#define QUEUE_WAIT_MS	10000

static int nl = -1;
static bool unanswered;

static int deferring(int family, const char *addr, uint16_t port,
		     int v6only);

static int
open_nl(void **state)
{
	int l;

	(void)state;
	nl = tw_synq_open();
	assert_true(nl >= 0);
	/* A kernel whose tcp_diag is a module it may not load (in some
	 * containers) answers ENOENT to every question: the server then
	 * waits out the grace, and there is nothing here to test. */
	l = deferring(AF_INET, "127.0.0.1", 0, 0);
	if (tw_synq_waiting(nl, l) == -ENOENT) {
		print_message("sock_diag knows no TCP here (tcp_diag not "
			      "loaded): skipped\n");
		unanswered = true;
	}
	(void)close(l);
	return 0;
}

static int
close_nl(void **state)
{
	(void)state;
	(void)close(nl);
	return 0;
}

static void
set_addr(struct sockaddr_storage *ss, socklen_t *len, int family,
	 const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		*len = sizeof(*a);
	}
}

/* A deferring listener on addr:port (0: a free one); v6only for an
 * IPv6 one. -1 when the family is not there (no IPv6). */
static int
deferring(int family, const char *addr, uint16_t port, int v6only)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 && family == AF_INET6)
		return -1;
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	if (family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					    &v6only, sizeof(v6only)), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
				    sizeof(one)), 0);
	set_addr(&ss, &len, family, addr, port);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 && family == AF_INET6) {
		(void)close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static uint16_t
port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A client that connects and sends nothing: with the listener deferring,
 * the server's end stays in SYN_RECV. */
static int
silent(int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	set_addr(&ss, &len, family, addr, port);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void
counts_silent_clients_until_they_speak(void **state)
{
	int l = deferring(AF_INET, "127.0.0.1", 0, 0), a, b;
	struct pollfd p = { .fd = l, .events = POLLIN };
	uint16_t port = port_of(l);

	(void)state;
	if (unanswered)
		skip();
	assert_int_equal(tw_synq_waiting(nl, l), 0);
	a = silent(AF_INET, "127.0.0.1", port);
	assert_int_equal(tw_synq_waiting(nl, l), 1);
	b = silent(AF_INET, "127.0.0.1", port);
	assert_int_equal(tw_synq_waiting(nl, l), 2);
	/* Its first bytes put a in the accept queue: the kernel no longer
	 * holds it where the listener cannot see it. */
	assert_int_equal(write(a, "GET", 3), 3);
	assert_int_equal(poll(&p, 1, QUEUE_WAIT_MS), 1);
	assert_int_equal(tw_synq_waiting(nl, l), 1);
	(void)close(a);
	(void)close(b);
	(void)close(l);
}

static void
other_ports_and_addresses_are_not_counted(void **state)
{
	int l1 = deferring(AF_INET, "127.0.0.1", 0, 0), l2, other, c, d;
	uint16_t port = port_of(l1);

	(void)state;
	if (unanswered)
		skip();
	/* The same port on another loopback address, and another port. */
	l2 = deferring(AF_INET, "127.0.0.2", port, 0);
	other = deferring(AF_INET, "127.0.0.1", 0, 0);
	c = silent(AF_INET, "127.0.0.2", port);
	d = silent(AF_INET, "127.0.0.1", port_of(other));
	assert_int_equal(tw_synq_waiting(nl, l1), 0);
	assert_int_equal(tw_synq_waiting(nl, l2), 1);
	assert_int_equal(tw_synq_waiting(nl, other), 1);
	(void)close(c);
	(void)close(d);
	(void)close(other);
	(void)close(l2);
	(void)close(l1);
}

static void
dual_stack_counts_its_ipv4_clients(void **state)
{
	int dual = deferring(AF_INET6, "::", 0, 0), c4, c6;
	uint16_t port;

	(void)state;
	if (unanswered)
		skip();
	if (dual < 0)
		skip();		/* no IPv6 here */
	port = port_of(dual);
	c4 = silent(AF_INET, "127.0.0.1", port);
	assert_int_equal(tw_synq_waiting(nl, dual), 1);
	c6 = silent(AF_INET6, "::1", port);
	assert_int_equal(tw_synq_waiting(nl, dual), 2);
	(void)close(c6);
	(void)close(c4);
	(void)close(dual);
}

static void
ipv6_only_leaves_ipv4_clients_to_their_socket(void **state)
{
	int v6 = deferring(AF_INET6, "::", 0, 1), v4, c;
	uint16_t port;

	(void)state;
	if (unanswered)
		skip();
	if (v6 < 0)
		skip();
	port = port_of(v6);
	v4 = deferring(AF_INET, "0.0.0.0", port, 0);
	c = silent(AF_INET, "127.0.0.1", port);
	assert_int_equal(tw_synq_waiting(nl, v6), 0);
	assert_int_equal(tw_synq_waiting(nl, v4), 1);
	(void)close(c);
	(void)close(v4);
	(void)close(v6);
}

static void
no_socket_is_an_error(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(tw_synq_waiting(nl, p[0]), -ENOTSOCK);
	(void)close(p[0]);
	(void)close(p[1]);
	assert_int_equal(tw_synq_waiting(nl, -1), -EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_silent_clients_until_they_speak),
		cmocka_unit_test(other_ports_and_addresses_are_not_counted),
		cmocka_unit_test(dual_stack_counts_its_ipv4_clients),
		cmocka_unit_test(ipv6_only_leaves_ipv4_clients_to_their_socket),
		cmocka_unit_test(no_socket_is_an_error),
	};

	return cmocka_run_group_tests(tests, open_nl, close_nl);
}
