/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for listener's addresses: "*" (every address) is one [::]
 * socket with IPV6_V6ONLY off, and 0.0.0.0 when the kernel has no IPv6
 * (socket() or bind() of [::] refused with EAFNOSUPPORT or
 * EADDRNOTAVAIL, made to happen with --wrap); any other failure is
 * reported, not hidden behind IPv4; a named "::" stays IPv6 only; each
 * matches its own socket across a reload (same_addr) and a reuseport
 * sibling takes the same clients; the URLs for a person never show the
 * unspecified address. A deferred listener hands a connection to accept
 * only once bytes came (or the kernel's wait ran out), a sibling defers as
 * its socket does.
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

#include "net/listener.h"

int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol);
int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len);

static int socket6_errno;	/* socket(AF_INET6) fails with it, or 0 */
static int bind6_errno;		/* bind of an IPv6 address fails with it */

int
__wrap_socket(int domain, int type, int protocol)
{
	if (domain == AF_INET6 && socket6_errno != 0) {
		errno = socket6_errno;
		return -1;
	}
	return __real_socket(domain, type, protocol);
}

int
__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET6 && bind6_errno != 0) {
		errno = bind6_errno;
		return -1;
	}
	return __real_bind(fd, sa, len);
}

static int
reset(void **state)
{
	(void)state;
	socket6_errno = 0;
	bind6_errno = 0;
	return 0;
}

static bool
have_ipv6(void)
{
	int fd = __real_socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0)
		return false;
	(void)close(fd);
	return true;
}

static int
family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ss.ss_family;
}

static int
v6only(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len),
			 0);
	return v;
}

static void
every_is_one_dual_stack_socket(void **state)
{
	int fd;
	uint16_t port;

	(void)state;
	if (!have_ipv6())
		skip();
	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false);
	assert_true(fd >= 0);
	assert_int_equal(family(fd), AF_INET6);
	assert_int_equal(v6only(fd), 0);
	port = tw_listener_port(fd);
	assert_true(tw_listener_same_addr(fd, TW_LISTENER_EVERY, port));
	assert_true(tw_listener_same_addr(fd, TW_LISTENER_EVERY, 0));
	assert_false(tw_listener_same_addr(fd, "::", port));
	assert_false(tw_listener_same_addr(fd, "0.0.0.0", port));
	assert_false(tw_listener_same_addr(fd, TW_LISTENER_EVERY,
					   (uint16_t)(port + 1)));
	assert_true(tw_listener_is_every(fd));
	(void)close(fd);
}

static void
named_unspecified_is_ipv6_only(void **state)
{
	int fd, fd4 = -EADDRINUSE, try;
	uint16_t port;

	(void)state;
	if (!have_ipv6())
		skip();
	/* so 0.0.0.0 on the same port binds beside it; the machine is
	 * shared, so another process may hold the IPv4 side of a port:
	 * a few ports are tried, and a dual-stack socket fails them all */
	for (try = 0; try < 20 && fd4 == -EADDRINUSE; try++) {
		fd = tw_listener_bind("::", 0, 16, false);
		assert_true(fd >= 0);
		assert_int_equal(v6only(fd), 1);
		port = tw_listener_port(fd);
		assert_true(tw_listener_same_addr(fd, "::", port));
		assert_false(tw_listener_same_addr(fd, TW_LISTENER_EVERY,
						   port));
		fd4 = tw_listener_bind("0.0.0.0", port, 16, false);
		if (fd4 >= 0)
			(void)close(fd4);
		(void)close(fd);
	}
	assert_true(fd4 >= 0);
}

/* Without IPv6 in the kernel: 0.0.0.0, matched as every address. */
static void
no_ipv6_socket_falls_back(void **state)
{
	int fd;
	uint16_t port;

	(void)state;
	socket6_errno = EAFNOSUPPORT;
	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false);
	assert_true(fd >= 0);
	assert_int_equal(family(fd), AF_INET);
	port = tw_listener_port(fd);
	assert_true(tw_listener_same_addr(fd, TW_LISTENER_EVERY, port));
	assert_true(tw_listener_same_addr(fd, "0.0.0.0", port));
	assert_true(tw_listener_is_every(fd));
	(void)close(fd);
}

static void
refused_bind_falls_back(void **state)
{
	int fd;

	(void)state;
	bind6_errno = EADDRNOTAVAIL;
	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false);
	assert_true(fd >= 0);
	assert_int_equal(family(fd), AF_INET);
	(void)close(fd);
	bind6_errno = EAFNOSUPPORT;
	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false);
	assert_true(fd >= 0);
	assert_int_equal(family(fd), AF_INET);
	(void)close(fd);
}

/* A port in use is an error to report, not a reason to serve IPv4
 * alone. */
static void
other_errors_are_reported(void **state)
{
	(void)state;
	if (!have_ipv6())
		skip();
	bind6_errno = EADDRINUSE;
	assert_int_equal(tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false),
			 -EADDRINUSE);
	bind6_errno = EACCES;
	assert_int_equal(tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false),
			 -EACCES);
}

static void
sibling_takes_the_same_clients(void **state)
{
	int fd, sib;

	(void)state;
	if (!have_ipv6())
		skip();
	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, true);
	assert_true(fd >= 0);
	sib = tw_listener_clone_reuseport(fd, 16);
	assert_true(sib >= 0);
	assert_int_equal(v6only(sib), 0);
	assert_true(tw_listener_same_addr(sib, TW_LISTENER_EVERY,
					  tw_listener_port(fd)));
	(void)close(sib);
	(void)close(fd);
	fd = tw_listener_bind("::", 0, 16, true);
	assert_true(fd >= 0);
	sib = tw_listener_clone_reuseport(fd, 16);
	assert_true(sib >= 0);
	assert_int_equal(v6only(sib), 1);
	(void)close(sib);
	(void)close(fd);
}

/* A client connected to fd's port on 127.0.0.1 (the handshake done). */
static int
client_of(int fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(tw_listener_port(fd)),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = __real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return c;
}

/* Whether accept4 on fd has a connection within ms; closes it. */
static bool
taken(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int c;

	if (poll(&p, 1, ms) != 1)
		return false;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	(void)close(c);
	return true;
}

static int
deferred(int fd)
{
	int secs = -1;
	socklen_t len = sizeof(secs);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs,
				    &len), 0);
	return secs;
}

static void
deferred_listener_waits_for_bytes(void **state)
{
	int fd, c;

	(void)state;
	fd = tw_listener_bind("127.0.0.1", 0, 16, false);
	assert_true(fd >= 0);
	assert_int_equal(deferred(fd), 0);
	/* Not deferred: accept has the connection once connect returned. */
	c = client_of(fd);
	assert_true(taken(fd, 10000));
	(void)close(c);

	assert_int_equal(tw_listener_set_defer(fd, true), 0);
	assert_true(deferred(fd) > 0);
	c = client_of(fd);
	/* The handshake is done, but nothing came: nothing to accept yet
	 * (the kernel's wait is a second; this asks at once). */
	assert_false(taken(fd, 0));
	assert_int_equal(write(c, "G", 1), 1);
	assert_true(taken(fd, 10000));
	(void)close(c);
	/* A silent client is handed over once the wait ran out. */
	c = client_of(fd);
	assert_false(taken(fd, 0));
	assert_true(taken(fd, 10000));
	(void)close(c);

	assert_int_equal(tw_listener_set_defer(fd, false), 0);
	assert_int_equal(deferred(fd), 0);
	(void)close(fd);
}

static void
sibling_defers_as_its_socket(void **state)
{
	int fd, sib;

	(void)state;
	fd = tw_listener_bind("127.0.0.1", 0, 16, true);
	assert_true(fd >= 0);
	assert_int_equal(tw_listener_set_defer(fd, true), 0);
	sib = tw_listener_clone_reuseport(fd, 16);
	assert_true(sib >= 0);
	assert_true(deferred(sib) > 0);
	/* A reload turned it off: the kept sibling follows. */
	assert_int_equal(tw_listener_set_defer(fd, false), 0);
	assert_int_equal(tw_listener_same_defer(fd, sib), 0);
	assert_int_equal(deferred(sib), 0);
	(void)close(sib);
	sib = tw_listener_clone_reuseport(fd, 16);
	assert_true(sib >= 0);
	assert_int_equal(deferred(sib), 0);
	(void)close(sib);
	(void)close(fd);
}

static void
urls_name_addresses_to_open(void **state)
{
	char buf[4096], want[64];
	int fd;
	uint16_t port;

	(void)state;
	fd = tw_listener_bind("127.0.0.1", 0, 16, false);
	assert_true(fd >= 0);
	port = tw_listener_port(fd);
	assert_int_equal(tw_listener_urls(fd, buf, sizeof(buf)), 1);
	(void)snprintf(want, sizeof(want), "http://127.0.0.1:%u/\n", port);
	assert_string_equal(buf, want);
	(void)close(fd);

	fd = tw_listener_bind(TW_LISTENER_EVERY, 0, 16, false);
	assert_true(fd >= 0);
	port = tw_listener_port(fd);
	assert_true(tw_listener_urls(fd, buf, sizeof(buf)) >= 1);
	(void)snprintf(want, sizeof(want), "http://127.0.0.1:%u/\n", port);
	assert_memory_equal(buf, want, strlen(want));
	assert_null(strstr(buf, "0.0.0.0"));
	assert_null(strstr(buf, "[::]"));
	assert_null(strstr(buf, "[fe80"));
	/* a buffer too small for the second URL keeps the first whole */
	assert_int_equal(tw_listener_urls(fd, buf, strlen(want) + 1), 1);
	assert_string_equal(buf, want);
	(void)close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(every_is_one_dual_stack_socket, reset),
		cmocka_unit_test_setup(named_unspecified_is_ipv6_only, reset),
		cmocka_unit_test_setup(no_ipv6_socket_falls_back, reset),
		cmocka_unit_test_setup(refused_bind_falls_back, reset),
		cmocka_unit_test_setup(other_errors_are_reported, reset),
		cmocka_unit_test_setup(sibling_takes_the_same_clients, reset),
		cmocka_unit_test_setup(urls_name_addresses_to_open, reset),
		cmocka_unit_test_setup(deferred_listener_waits_for_bytes, reset),
		cmocka_unit_test_setup(sibling_defers_as_its_socket, reset),
	};

	return cmocka_run_group_tests_name("listener", tests, NULL, NULL);
}
