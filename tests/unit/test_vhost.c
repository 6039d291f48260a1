/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for vhost: a Host header picks its server by exact name
 * (any case, port and trailing dot ignored), then the longest leading
 * wildcard, then the default server of the connection's address; a
 * path picks an exact location before any prefix, and the longest
 * prefix before shorter ones, else the server's fallback. Tables as
 * data: each row a request and the server or location it must reach.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "http/vhost.h"

static const char *const names_a[] = { "a.example", "www.a.example" };
static const char *const names_b[] = { "*.example.org", "b.example" };
static const char *const names_c[] = { "*.deep.example.org" };
static const char *const names_d[] = { "d.example" };

/* Servers 0..2 on listen 0 (127.0.0.1:80, default 1), server 3 alone on
 * listen 1 (any:81). */
static struct tw_vhost_server servers[] = {
	{ .names = names_a, .nnames = 2, .listens = 1 },
	{ .names = names_b, .nnames = 2, .listens = 1 },
	{ .names = names_c, .nnames = 1, .listens = 1 },
	{ .names = names_d, .nnames = 1, .listens = 2 },
};

static struct tw_vhost_listen listens[2];

static struct tw_vhosts vh = {
	.servers = servers, .nservers = 4,
	.listens = listens, .nlistens = 2, .by_listen = true,
};

static void
set_addr(struct tw_vhost_listen *l, const char *ip, uint16_t port, bool any)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;

	memset(l, 0, sizeof(*l));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	(void)inet_pton(AF_INET, ip, &sin->sin_addr);
	l->any = any;
}

static int
setup(void **state)
{
	(void)state;
	set_addr(&listens[0], "127.0.0.1", 80, false);
	listens[0].default_server = 1;
	set_addr(&listens[1], "0.0.0.0", 81, true);
	listens[1].default_server = 3;
	return 0;
}

struct host_row {
	const char *host;	/* NULL: no Host header */
	int listen;
	int server;		/* index expected */
};

static const struct host_row host_rows[] = {
	{ "a.example", 0, 0 },
	{ "A.Example", 0, 0 },			/* case */
	{ "a.example:8080", 0, 0 },		/* port */
	{ "a.example.", 0, 0 },			/* trailing dot */
	{ "www.a.example", 0, 0 },
	{ "b.example", 0, 1 },
	{ "x.example.org", 0, 1 },		/* wildcard */
	{ "x.y.example.org", 0, 1 },		/* any depth */
	{ "example.org", 0, 1 },		/* not the wildcard: default */
	{ "z.deep.example.org", 0, 2 },		/* longest wildcard wins */
	{ "deep.example.org", 0, 1 },
	{ "unknown.example", 0, 1 },		/* default of listen 0 */
	{ NULL, 0, 1 },				/* HTTP/1.0, no Host */
	{ "", 0, 1 },
	{ "[::1]:80", 0, 1 },
	{ "d.example", 0, 1 },			/* not on this address */
	{ "d.example", 1, 3 },
	{ "a.example", 1, 3 },			/* a is not on listen 1 */
	{ "a.examplex", 0, 1 },
	{ "xa.example", 0, 1 },
};

static void
server_by_host(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(host_rows) / sizeof(host_rows[0]); i++) {
		const struct host_row *r = &host_rows[i];
		const struct tw_vhost_server *s = tw_vhost_server(&vh, r->host,
			r->host ? strlen(r->host) : 0, r->listen);

		if (s != &servers[r->server])
			fail_msg("row %zu: %s on listen %d: server %d, want %d",
				 i, r->host ? r->host : "(none)", r->listen,
				 (int)(s - servers), r->server);
	}
}

/* A connection whose address vhost cannot place still gets a server. */
static void
server_on_unknown_listen(void **state)
{
	(void)state;
	assert_ptr_equal(tw_vhost_server(&vh, "a.example", 9, -1), &servers[0]);
	assert_ptr_equal(tw_vhost_server(&vh, "nope", 4, -1), &servers[1]);
}

static void
listen_of_address(void **state)
{
	struct tw_vhost_listen l;

	(void)state;
	set_addr(&l, "127.0.0.1", 80, false);
	assert_int_equal(tw_vhost_listen_of(&vh, (struct sockaddr *)&l.addr), 0);
	set_addr(&l, "127.0.0.2", 81, false);	/* any:81 */
	assert_int_equal(tw_vhost_listen_of(&vh, (struct sockaddr *)&l.addr), 1);
	set_addr(&l, "127.0.0.2", 80, false);	/* not 127.0.0.1 */
	assert_int_equal(tw_vhost_listen_of(&vh, (struct sockaddr *)&l.addr), -1);
	set_addr(&l, "127.0.0.1", 82, false);
	assert_int_equal(tw_vhost_listen_of(&vh, (struct sockaddr *)&l.addr), -1);
}

/* The exact address wins over a wildcard on the same port. */
static void
listen_exact_before_any(void **state)
{
	struct tw_vhost_listen ls[2], l;
	struct tw_vhosts v = { .listens = ls, .nlistens = 2 };

	(void)state;
	set_addr(&ls[0], "0.0.0.0", 80, true);
	set_addr(&ls[1], "127.0.0.1", 80, false);
	set_addr(&l, "127.0.0.1", 80, false);
	assert_int_equal(tw_vhost_listen_of(&v, (struct sockaddr *)&l.addr), 1);
	set_addr(&l, "10.0.0.1", 80, false);
	assert_int_equal(tw_vhost_listen_of(&v, (struct sockaddr *)&l.addr), 0);
}

#define LOC(p, ex) { .path = p, .len = sizeof(p) - 1, .exact = ex }

struct path_row {
	const char *path;
	const char *want;	/* the location's path; NULL: fallback */
	bool exact;
};

static const struct path_row path_rows[] = {
	{ "/", "/", false },
	{ "/a", "/", false },
	{ "/img", "/img", true },		/* exact beats prefix */
	{ "/img/", "/img/", false },
	{ "/img/x.png", "/img/", false },
	{ "/img/big/x.png", "/img/big/", false },	/* longest prefix */
	{ "/img/bigger", "/img/big", false },
	{ "/img/bi", "/img/", false },
	{ "/imgx", "/img", false },		/* plain prefix, as nginx */
	{ "/api", "/api", true },
	{ "/api/", "/", false },		/* exact is only exact */
};

static void
location_by_path(void **state)
{
	struct tw_vhost_loc locs[] = {
		LOC("/", false), LOC("/img/", false), LOC("/img", true),
		LOC("/img/big/", false), LOC("/api", true), LOC("/img", false),
		LOC("/img/big", false),
	};
	struct tw_vhost_server s = { .locs = locs, .nlocs = 7 };
	size_t i;

	(void)state;
	tw_vhost_sort(locs, 7);
	for (i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct path_row *r = &path_rows[i];
		const struct tw_vhost_loc *l = tw_vhost_location(&s, r->path,
							       strlen(r->path));

		if (strcmp(l->path, r->want) != 0 || l->exact != r->exact)
			fail_msg("row %zu: %s: location %s%s, want %s%s", i,
				 r->path, l->exact ? "= " : "", l->path,
				 r->exact ? "= " : "", r->want);
	}
}

/* Without "location /", a path no location takes goes to the server. */
static void
location_fallback(void **state)
{
	struct tw_vhost_loc locs[] = { LOC("/a/", false), LOC("/b", true) };
	struct tw_vhost_server s = { .locs = locs, .nlocs = 2,
				     .fallback = LOC("/", false) };

	(void)state;
	tw_vhost_sort(locs, 2);
	assert_ptr_equal(tw_vhost_location(&s, "/c", 2), &s.fallback);
	assert_ptr_equal(tw_vhost_location(&s, "/b/", 3), &s.fallback);
	assert_ptr_equal(tw_vhost_location(&s, "/a", 2), &s.fallback);
	assert_ptr_equal(tw_vhost_location(&s, "/a/x", 4), &locs[1]);
	assert_ptr_equal(tw_vhost_location(&s, "/b", 2), &locs[0]);
}

/* Servers that all share their addresses: no lookup of the connection's,
 * and the first default stands. */
static void
server_without_addresses(void **state)
{
	struct tw_vhosts v = { .servers = servers, .nservers = 2,
			       .listens = listens, .nlistens = 1 };

	(void)state;
	assert_ptr_equal(tw_vhost_server(&v, "zzz", 3, -1), &servers[1]);
	assert_ptr_equal(tw_vhost_server(&v, "a.example", 9, -1), &servers[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(server_by_host, setup),
		cmocka_unit_test_setup(server_on_unknown_listen, setup),
		cmocka_unit_test_setup(listen_of_address, setup),
		cmocka_unit_test(listen_exact_before_any),
		cmocka_unit_test(location_by_path),
		cmocka_unit_test(location_fallback),
		cmocka_unit_test_setup(server_without_addresses, setup),
	};

	return cmocka_run_group_tests_name("vhost", tests, NULL, NULL);
}
