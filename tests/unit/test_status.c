/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for status: the allow-list parser (table of good and bad
 * nets, each input right before a PROT_NONE page), the allow check at
 * prefix boundaries and for IPv4-mapped peers, the four renderings of a
 * hand-filled struct tw_stats (stub_status byte for byte, JSON checked by
 * a small validator, Prometheus by a line-by-line format check, HTML for
 * the figures) and the handler: path match, 403, format choice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/stats.h"
#include "http/http.h"
#include "http/status.h"
#include "parse/http_parse.h"
#include "support/guard.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ parse_net */

struct net_vec {
	const char *in;
	int ret;
	int family;		/* expected when ret == 0 */
	const char *addr;	/* expected address, presentation form */
	unsigned prefix;
};

static const struct net_vec net_vecs[] = {
	{ "127.0.0.1", 0, AF_INET, "127.0.0.1", 32 },
	{ "127.0.0.1/32", 0, AF_INET, "127.0.0.1", 32 },
	{ "10.0.0.0/8", 0, AF_INET, "10.0.0.0", 8 },
	{ "10.1.2.3/8", 0, AF_INET, "10.1.2.3", 8 },
	{ "192.168.1.0/24", 0, AF_INET, "192.168.1.0", 24 },
	{ "192.168.1.0/08", 0, AF_INET, "192.168.1.0", 8 },
	{ "0.0.0.0/0", 0, AF_INET, "0.0.0.0", 0 },
	{ "255.255.255.255", 0, AF_INET, "255.255.255.255", 32 },
	{ "::1", 0, AF_INET6, "::1", 128 },
	{ "::1/128", 0, AF_INET6, "::1", 128 },
	{ "::/0", 0, AF_INET6, "::", 0 },
	{ "fe80::/10", 0, AF_INET6, "fe80::", 10 },
	{ "2001:db8::/64", 0, AF_INET6, "2001:db8::", 64 },
	{ "2001:DB8:0:0:0:0:0:1/127", 0, AF_INET6, "2001:db8::1", 127 },
	{ "::ffff:10.0.0.1", 0, AF_INET6, "::ffff:10.0.0.1", 128 },
	{ "all", 0, 0, NULL, 0 },
	/* bad bits */
	{ "10.0.0.0/33", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/-1", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/8x", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/x", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/8/8", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/8 ", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/ 8", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/+8", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.0/99999999999999999999", -EINVAL, 0, NULL, 0 },
	{ "::1/129", -EINVAL, 0, NULL, 0 },
	{ "::/1000", -EINVAL, 0, NULL, 0 },
	/* garbage */
	{ "", -EINVAL, 0, NULL, 0 },
	{ "/8", -EINVAL, 0, NULL, 0 },
	{ "/", -EINVAL, 0, NULL, 0 },
	{ "10.0.0", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.256", -EINVAL, 0, NULL, 0 },
	{ "1.2.3.4.5", -EINVAL, 0, NULL, 0 },
	{ " 10.0.0.1", -EINVAL, 0, NULL, 0 },
	{ "10.0.0.1 ", -EINVAL, 0, NULL, 0 },
	{ "[::1]", -EINVAL, 0, NULL, 0 },
	{ "[::1]/128", -EINVAL, 0, NULL, 0 },
	{ ":::1", -EINVAL, 0, NULL, 0 },
	{ "localhost", -EINVAL, 0, NULL, 0 },
	{ "ALL", -EINVAL, 0, NULL, 0 },
	{ "all/0", -EINVAL, 0, NULL, 0 },
	{ "all ", -EINVAL, 0, NULL, 0 },
	{ "0x7f000001", -EINVAL, 0, NULL, 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", -EINVAL, 0, NULL, 0 },
	/* longer than any address: must not overflow the copy */
	{ "1111:2222:3333:4444:5555:6666:7777:8888:1111:2222:3333:4444:5555:"
	  "6666:7777:8888/64", -EINVAL, 0, NULL, 0 },
};

static void
parse_net_vectors(void **state)
{
	struct tw_net n;
	unsigned char want[16];
	struct guard g;
	const char *in;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N(net_vecs); i++) {
		const struct net_vec *v = &net_vecs[i];

		/* The NUL is the last byte before the guard page. */
		in = guard_copy(&g, v->in, strlen(v->in) + 1);
		memset(&n, 0xa5, sizeof(n));
		ret = tw_net_parse(in, &n);
		guard_free(&g);
		if (ret != v->ret)
			fail_msg("\"%s\": ret %d, want %d", v->in, ret, v->ret);
		if (ret != 0)
			continue;
		if (n.family != v->family || n.prefix != v->prefix)
			fail_msg("\"%s\": family %d prefix %u, want %d %u", v->in,
				 n.family, n.prefix, v->family, v->prefix);
		memset(want, 0, sizeof(want));
		if (v->addr != NULL)
			assert_int_equal(inet_pton(v->family, v->addr, want), 1);
		if (memcmp(n.addr, want, v->family == AF_INET ? 4 : 16) != 0)
			fail_msg("\"%s\": wrong address bytes", v->in);
	}
}

/* -------------------------------------------------------------- allowed */

static struct sockaddr_storage
peer_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

struct allow_vec {
	const char *nets;	/* space separated; "" for the default */
	const char *peer;
	bool allowed;
};

static const struct allow_vec allow_vecs[] = {
	/* no list: loopback only, v4 127/8, v6 ::1, mapped 127/8 */
	{ "", "127.0.0.1", true },
	{ "", "127.5.5.5", true },
	{ "", "127.255.255.255", true },
	{ "", "126.255.255.255", false },
	{ "", "128.0.0.0", false },
	{ "", "10.0.0.1", false },
	{ "", "0.0.0.0", false },
	{ "", "::1", true },
	{ "", "::ffff:127.0.0.1", true },
	{ "", "::ffff:127.9.8.7", true },
	{ "", "::ffff:10.0.0.1", false },
	{ "", "::2", false },
	{ "", "::", false },
	{ "", "::127.0.0.1", false },	/* v4-compatible is not loopback */
	{ "", "fe80::1", false },
	{ "", "1::1", false },
	/* /0 */
	{ "0.0.0.0/0", "10.0.0.1", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "::ffff:8.8.8.8", true },
	{ "0.0.0.0/0", "::1", false },		/* a v4 net: no v6 peer */
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "::1", true },
	{ "::/0", "10.0.0.1", false },		/* a v6 net: no v4 peer */
	{ "::/0", "::ffff:10.0.0.1", false },	/* mapped peers are v4 */
	/* /8 */
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "127.0.0.1", false },	/* a list replaces loopback */
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "10.0.0.0/8", "::1", false },
	{ "10.9.9.9/8", "10.0.0.1", true },	/* host bits ignored */
	/* /24 */
	{ "192.168.1.0/24", "192.168.1.0", true },
	{ "192.168.1.0/24", "192.168.1.255", true },
	{ "192.168.1.0/24", "192.168.0.255", false },
	{ "192.168.1.0/24", "192.168.2.0", false },
	{ "192.168.1.0/24", "193.168.1.1", false },
	/* /31 */
	{ "192.168.1.2/31", "192.168.1.2", true },
	{ "192.168.1.2/31", "192.168.1.3", true },
	{ "192.168.1.2/31", "192.168.1.1", false },
	{ "192.168.1.2/31", "192.168.1.4", false },
	/* /32 and a bare address */
	{ "192.168.1.7/32", "192.168.1.7", true },
	{ "192.168.1.7/32", "192.168.1.6", false },
	{ "192.168.1.7/32", "192.168.1.8", false },
	{ "192.168.1.7", "192.168.1.7", true },
	{ "192.168.1.7", "192.168.1.15", false },
	/* odd prefixes: the partial byte */
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "172.16.0.0/12", "172.15.255.255", false },
	{ "128.0.0.0/1", "200.1.1.1", true },
	{ "128.0.0.0/1", "127.1.1.1", false },
	/* v6 */
	{ "::1", "::1", true },
	{ "::1", "::2", false },
	{ "::1", "127.0.0.1", false },
	{ "2001:db8:1:2::/64", "2001:db8:1:2::1", true },
	{ "2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff", true },
	{ "2001:db8:1:2::/64", "2001:db8:1:3::", false },
	{ "2001:db8:1:2::/64", "2001:db8:1:1:ffff:ffff:ffff:ffff", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1/128", "2001:db8::", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	/* several nets: any one will do */
	{ "10.0.0.0/8 ::1", "::1", true },
	{ "10.0.0.0/8 ::1", "10.2.3.4", true },
	{ "10.0.0.0/8 ::1", "127.0.0.1", false },
	{ "::1 192.168.0.0/16 10.0.0.0/8", "10.2.3.4", true },
	/* all */
	{ "all", "10.0.0.1", true },
	{ "all", "8.8.8.8", true },
	{ "all", "2001:db8::1", true },
	{ "all", "::ffff:1.2.3.4", true },
	{ "10.0.0.0/8 all", "::2", true },
};

static void
opts_of(struct tw_status_opts *o, const char *nets)
{
	char copy[256], *save = NULL, *tok;

	memset(o, 0, sizeof(*o));
	o->path = "/status";
	assert_true(strlen(nets) < sizeof(copy));
	strcpy(copy, nets);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		assert_true(o->nallow < TW_STATUS_MAX_ALLOW);
		assert_int_equal(tw_net_parse(tok, &o->allow[o->nallow]),
				 0);
		o->nallow++;
	}
}

static void
allowed_vectors(void **state)
{
	struct tw_status_opts o;
	struct sockaddr_storage ss;
	size_t i;
	bool got;

	(void)state;
	for (i = 0; i < N(allow_vecs); i++) {
		const struct allow_vec *v = &allow_vecs[i];

		opts_of(&o, v->nets);
		ss = peer_of(v->peer);
		got = tw_status_allowed(&o, (const struct sockaddr *)&ss);
		if (got != v->allowed)
			fail_msg("nets \"%s\" peer %s: %s, want %s", v->nets,
				 v->peer, got ? "allowed" : "denied",
				 v->allowed ? "allowed" : "denied");
	}
}

static void
allowed_other_family(void **state)
{
	struct tw_status_opts o;
	struct sockaddr_storage ss;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	opts_of(&o, "");
	assert_false(tw_status_allowed(&o, (const struct sockaddr *)&ss));
	/* "all" means every IPv4 and IPv6 address, not other families. */
	opts_of(&o, "all");
	assert_false(tw_status_allowed(&o, (const struct sockaddr *)&ss));
}

/* --------------------------------------------------------------- render */

static struct tw_stats *
sample_stats(void)
{
	struct tw_stats *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	st->active = 3;
	st->accepted = 10;
	st->handled = 9;
	st->shed = 31;
	st->requests = 20;
	st->reading = 1;
	st->writing = 1;
	st->waiting = 1;
	st->status[1] = 1;
	st->status[2] = 12;
	st->status[3] = 3;
	st->status[4] = 2;
	st->status[5] = 2;
	st->bytes_sent = 123456789012ULL;
	st->start_time = 1700000000;
	st->reload_time = 1700000500;
	st->reloads = 4;
	st->cache_hits = 77;
	st->cache_misses = 5;
	st->file_cache_hits = 6061;
	st->file_cache_misses = 62;
	st->aio_reads = 9;
	st->aio_bytes = 4718592;
	st->tls_handshakes = 31;
	st->tls_resumed = 11;
	st->tls_failed = 3;
	st->tls_plain = 2;
	st->tls_v12 = 5;
	st->tls_v13 = 25;
	st->tls_vold = 1;
	st->workers[0].pid = 4242;
	st->workers[0].started = 1700000001;
	st->workers[0].requests = 13;
	st->workers[0].restarts = 0;
	st->workers[7].pid = 4343;
	st->workers[7].started = 1700000002;
	st->workers[7].requests = 7;
	st->workers[7].restarts = 2;
	/* A free slot with stale numbers: not to be shown. */
	st->workers[3].pid = 0;
	st->workers[3].requests = 999;
	return st;
}

static char *
render(const struct tw_stats *st, enum tw_status_format f)
{
	struct tw_buf b = { 0 };
	char *s;

	tw_status_render(st, "1.2.3", f, 1700001000, &b);
	assert_false(b.failed);
	s = malloc(b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	/* No NUL inside the output. */
	assert_int_equal(strlen(s), b.len);
	tw_buf_free(&b);
	return s;
}

static void
render_text_exact(void **state)
{
	struct tw_stats *st = sample_stats();
	char *s = render(st, TW_STATUS_TEXT);

	(void)state;
	assert_string_equal(s, "Active connections: 3 \n"
			    "server accepts handled requests\n"
			    " 10 9 20 \n"
			    "Reading: 1 Writing: 1 Waiting: 1 \n");
	free(s);
	free(st);
}

static void
render_text_zero_and_negative_gauges(void **state)
{
	struct tw_stats *st = calloc(1, sizeof(*st));
	char *s;

	(void)state;
	assert_non_null(st);
	s = render(st, TW_STATUS_TEXT);
	assert_string_equal(s, "Active connections: 0 \n"
			    "server accepts handled requests\n"
			    " 0 0 0 \n"
			    "Reading: 0 Writing: 0 Waiting: 0 \n");
	free(s);
	/* Gauges updated without a lock may dip below zero for a moment;
	 * the page never shows that. */
	st->active = -1;
	st->reading = -2;
	st->writing = -3;
	st->waiting = -4;
	st->accepted = UINT64_MAX;
	st->handled = 18446744073709551614ULL;
	st->requests = 1;
	s = render(st, TW_STATUS_TEXT);
	assert_string_equal(s, "Active connections: 0 \n"
			    "server accepts handled requests\n"
			    " 18446744073709551615 18446744073709551614 1 \n"
			    "Reading: 0 Writing: 0 Waiting: 0 \n");
	free(s);
	free(st);
}

/*
 * A small JSON validator: returns the position after one value at p, or
 * NULL. Enough for the status document: objects, arrays, strings with
 * simple escapes, integers, true/false/null.
 */
static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *
json_value(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (p == NULL)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p, depth + 1);
			if (p == NULL)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (*p == '-' || isdigit((unsigned char)*p)) {
		if (*p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		if (*p == '0' && isdigit((unsigned char)p[1]))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
		return p;
	}
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	return NULL;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
render_json_structure(void **state)
{
	static const char *const want[] = {
		"\"version\":\"1.2.3\"",
		"\"start_time\":1700000000",
		"\"uptime\":1000",
		"\"last_reload\":1700000500",
		"\"reloads\":4",
		"\"accepted\":10",
		"\"handled\":9",
		"\"shed\":31",
		"\"active\":3",
		"\"reading\":1",
		"\"writing\":1",
		"\"waiting\":1",
		"\"total\":20",
		"\"1xx\":1",
		"\"2xx\":12",
		"\"3xx\":3",
		"\"4xx\":2",
		"\"5xx\":2",
		"\"bytes_sent\":123456789012",
		"\"hits\":77",
		"\"misses\":5",
		"\"aio\":{\"reads\":9,\"bytes\":4718592}",
		"\"tls\":{\"handshakes\":31,\"resumed\":11,\"failed\":3,"
		"\"plain_http\":2,\"tls1_3\":25,\"tls1_2\":5,\"older\":1}",
		"\"slot\":0,\"pid\":4242,\"started\":1700000001,"
		"\"requests\":13,\"restarts\":0",
		"\"slot\":7,\"pid\":4343,\"started\":1700000002,"
		"\"requests\":7,\"restarts\":2",
	};
	struct tw_stats *st = sample_stats();
	char *s = render(st, TW_STATUS_JSON);
	const char *end;
	size_t i;

	(void)state;
	end = json_value(s, 0);
	if (end == NULL)
		fail_msg("not JSON: %s", s);
	assert_string_equal(json_ws(end), "");
	assert_int_equal(s[0], '{');
	for (i = 0; i < N(want); i++)
		if (strstr(s, want[i]) == NULL)
			fail_msg("JSON lacks %s: %s", want[i], s);
	/* Only the two live slots; the stale one is left out. */
	assert_int_equal(count(s, "\"slot\":"), 2);
	assert_null(strstr(s, "999"));
	assert_non_null(strstr(s, "\"workers\":[{"));
	/* Sections nest where the documentation says. */
	assert_non_null(strstr(s, "\"connections\":{\"accepted\":10,"));
	assert_non_null(strstr(s, "\"requests\":{\"total\":20,"));
	assert_non_null(strstr(s, "\"cache\":{\"hits\":77,"));
	free(s);
	free(st);
}

static void
render_json_empty(void **state)
{
	struct tw_stats *st = calloc(1, sizeof(*st));
	char *s;

	(void)state;
	assert_non_null(st);
	s = render(st, TW_STATUS_JSON);
	if (json_value(s, 0) == NULL)
		fail_msg("not JSON: %s", s);
	assert_non_null(strstr(s, "\"workers\":[]"));
	/* No start time known: no nonsense uptime. */
	assert_non_null(strstr(s, "\"uptime\":0"));
	free(s);
	free(st);
}

/* Prometheus text exposition, line by line. */
#define PROM_MAX_SERIES 1024

struct prom_series {
	char key[160];		/* name{labels} */
};

static bool
prom_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n <= 8 || strncmp(s, "tinyweb_", 8) != 0)
		return false;
	for (i = 8; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && s[i] != '_')
			return false;
	return true;
}

/* name="value"(,name="value")* with no escapes needed here. */
static bool
prom_labels_ok(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			i++;
		if (i == start || i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
			return false;
		i += 2;
		while (i < n && s[i] != '"' && s[i] != '\\' && s[i] != '\n')
			i++;
		if (i >= n || s[i] != '"')
			return false;
		i++;
		if (i == n)
			return true;
		if (s[i++] != ',')
			return false;
	}
}

static void
check_prometheus(const char *text, size_t *nsamples)
{
	char help[64] = "", type_name[64] = "", type[16] = "";
	struct prom_series *seen = calloc(PROM_MAX_SERIES, sizeof(*seen));
	size_t nseen = 0, i;
	const char *line = text;

	assert_non_null(seen);
	assert_true(strlen(text) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line), nlen;
		char buf[256];

		assert_non_null(nl);
		assert_true(len > 0 && len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		if (strncmp(buf, "# HELP ", 7) == 0) {
			nlen = strcspn(buf + 7, " ");
			assert_true(prom_name_ok(buf + 7, nlen));
			assert_true(buf[7 + nlen] == ' ' && buf[8 + nlen] != '\0');
			assert_true(nlen < sizeof(help));
			memcpy(help, buf + 7, nlen);
			help[nlen] = '\0';
			type_name[0] = '\0';
			continue;
		}
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			nlen = strcspn(buf + 7, " ");
			if (nlen != strlen(help) ||
			    memcmp(buf + 7, help, nlen) != 0)
				fail_msg("TYPE without its HELP: %s", buf);
			memcpy(type_name, help, nlen + 1);
			assert_true(strlen(buf + 8 + nlen) < sizeof(type));
			strcpy(type, buf + 8 + nlen);
			if (strcmp(type, "counter") != 0 &&
			    strcmp(type, "gauge") != 0)
				fail_msg("type %s", buf);
			if (strcmp(type, "counter") == 0) {
				nlen = strlen(type_name);
				if (nlen < 6 ||
				    strcmp(type_name + nlen - 6, "_total") != 0)
					fail_msg("counter not *_total: %s", buf);
			}
			continue;
		}
		assert_int_not_equal(buf[0], '#');
		/* A sample: name[{labels}] value */
		nlen = strcspn(buf, "{ ");
		if (type_name[0] == '\0' || nlen != strlen(type_name) ||
		    memcmp(buf, type_name, nlen) != 0)
			fail_msg("sample without HELP and TYPE: %s", buf);
		{
			const char *rest = buf + nlen, *v;
			char *end;

			if (*rest == '{') {
				const char *close = strchr(rest, '}');

				assert_non_null(close);
				if (!prom_labels_ok(rest + 1,
						    (size_t)(close - rest - 1)))
					fail_msg("labels: %s", buf);
				rest = close + 1;
			}
			assert_int_equal(*rest, ' ');
			v = rest + 1;
			assert_true(*v == '-' || isdigit((unsigned char)*v));
			(void)strtoll(v, &end, 10);
			assert_int_equal(*end, '\0');
			assert_true(strcmp(type, "gauge") == 0 || *v != '-');
			assert_true((size_t)(rest - buf) < sizeof(seen->key));
			for (i = 0; i < nseen; i++)
				if (strlen(seen[i].key) == (size_t)(rest - buf) &&
				    memcmp(seen[i].key, buf,
					   (size_t)(rest - buf)) == 0)
					fail_msg("duplicate series %s", buf);
			assert_true(nseen < PROM_MAX_SERIES);
			memcpy(seen[nseen].key, buf, (size_t)(rest - buf));
			seen[nseen++].key[rest - buf] = '\0';
		}
	}
	*nsamples = nseen;
	free(seen);
}

static void
render_prometheus_format(void **state)
{
	static const char *const want[] = {
		"\ntinyweb_connections_accepted_total 10\n",
		"\ntinyweb_connections_handled_total 9\n",
		"\ntinyweb_connections_shed_total 31\n",
		"\ntinyweb_connections_active 3\n",
		"\ntinyweb_connections{state=\"reading\"} 1\n",
		"\ntinyweb_connections{state=\"writing\"} 1\n",
		"\ntinyweb_connections{state=\"waiting\"} 1\n",
		"\ntinyweb_requests_total 20\n",
		"\ntinyweb_responses_total{class=\"1xx\"} 1\n",
		"\ntinyweb_responses_total{class=\"2xx\"} 12\n",
		"\ntinyweb_responses_total{class=\"3xx\"} 3\n",
		"\ntinyweb_responses_total{class=\"4xx\"} 2\n",
		"\ntinyweb_responses_total{class=\"5xx\"} 2\n",
		"\ntinyweb_sent_bytes_total 123456789012\n",
		"\ntinyweb_cache_hits_total 77\n",
		"\ntinyweb_cache_misses_total 5\n",
		"\ntinyweb_file_cache_hits_total 6061\n",
		"\ntinyweb_file_cache_misses_total 62\n",
		"\ntinyweb_aio_reads_total 9\n",
		"\ntinyweb_aio_read_bytes_total 4718592\n",
		"\ntinyweb_tls_handshakes_total{version=\"TLSv1.2\"} 5\n",
		"\ntinyweb_tls_handshakes_total{version=\"TLSv1.3\"} 25\n",
		"\ntinyweb_tls_handshakes_total{version=\"older\"} 1\n",
		"\ntinyweb_tls_resumed_total 11\n",
		"\ntinyweb_tls_handshake_failures_total 3\n",
		"\ntinyweb_tls_plain_http_total 2\n",
		"\ntinyweb_auth_passed_total 0\n",
		"\ntinyweb_auth_cached_total 0\n",
		"\ntinyweb_auth_failed_total 0\n",
		"\ntinyweb_auth_throttled_total 0\n",
		"\ntinyweb_access_denied_total 0\n",
		"\ntinyweb_start_time_seconds 1700000000\n",
		"\ntinyweb_last_reload_time_seconds 1700000500\n",
		"\ntinyweb_worker_requests_total{slot=\"0\"} 13\n",
		"\ntinyweb_worker_requests_total{slot=\"7\"} 7\n",
		"\ntinyweb_worker_restarts_total{slot=\"0\"} 0\n",
		"\ntinyweb_worker_restarts_total{slot=\"7\"} 2\n",
	};
	struct tw_stats *st = sample_stats();
	char *s = render(st, TW_STATUS_PROMETHEUS);
	size_t i, nsamples = 0;

	(void)state;
	check_prometheus(s, &nsamples);
	for (i = 0; i < N(want); i++)
		if (strstr(s, want[i]) == NULL)
			fail_msg("no sample %s in:\n%s", want[i] + 1, s);
	assert_int_equal(nsamples, N(want));
	assert_null(strstr(s, "slot=\"3\""));
	free(s);
	free(st);
}

static void
render_prometheus_many_workers(void **state)
{
	struct tw_stats *st = calloc(1, sizeof(*st));
	size_t i, nsamples = 0;
	char *s;

	(void)state;
	assert_non_null(st);
	/* Every slot live: the label buffer holds three-digit slots. */
	for (i = 0; i < TW_STATS_MAX_WORKERS; i++) {
		st->workers[i].pid = (int64_t)(1000 + i);
		st->workers[i].requests = i;
	}
	s = render(st, TW_STATUS_PROMETHEUS);
	check_prometheus(s, &nsamples);
	assert_non_null(strstr(s, "\ntinyweb_worker_requests_total{slot=\"255\"} 255\n"));
	assert_int_equal(nsamples, 33 + 2 * TW_STATS_MAX_WORKERS);
	free(s);
	free(st);
}

static void
render_html_figures(void **state)
{
	static const char *const want[] = {
		"<td>3</td>", "<td>10</td>", "<td>9</td>", "<td>20</td>",
		"<td>12</td>", "<td>123456789012</td>", "<td>77</td>",
		"<td>4242</td>", "<td>4343</td>", "<td>1000</td>",
		"<td>9</td>", "<th>Idle shed at the cap</th><td>31</td>",
		"<th>TLS handshakes</th><td>31</td>",
		"<th>TLS sessions resumed</th><td>11</td>",
		"<th>TLS handshakes failed</th><td>3</td>",
		"<th>Plain HTTP to a TLS port</th><td>2</td>",
		"<th>TLSv1.3 handshakes</th><td>25</td>",
		"<th>TLSv1.2 handshakes</th><td>5</td>",
	};
	struct tw_stats *st = sample_stats();
	char *s;
	size_t i;

	(void)state;
	s = render(st, TW_STATUS_HTML);
	assert_int_equal(strncmp(s, "<!DOCTYPE html>", 15), 0);
	assert_non_null(strstr(s, "1.2.3"));
	for (i = 0; i < N(want); i++)
		if (strstr(s, want[i]) == NULL)
			fail_msg("HTML lacks %s", want[i]);
	assert_null(strstr(s, "<td>999</td>"));
	assert_non_null(strstr(s, "</html>"));
	free(s);
	/* The version is text, not markup. */
	{
		struct tw_buf b = { 0 };

		tw_status_render(st, "<b>&", TW_STATUS_HTML, 1700001000, &b);
		tw_buf_append_char(&b, '\0');
		assert_false(b.failed);
		assert_null(strstr(b.data, "<b>&"));
		assert_non_null(strstr(b.data, "&lt;b&gt;&amp;"));
		tw_buf_free(&b);
	}
	free(st);
}

/* -------------------------------------------------------------- handler */

struct call {
	int ret;
	char *headers;
	char *body;
	struct tw_http_res res;
};

static void
call_handler(const char *path, const char *query, const char *accept,
	     const char *peer, const char *nets, struct call *out,
	     struct tw_stats *st)
{
	struct tw_buf hdrs = { 0 }, body = { 0 };
	struct tw_http_request raw;
	struct tw_status_opts o;
	struct sockaddr_storage ss = peer_of(peer);
	struct tw_http_req req;
	char head[512];
	int n, err = 0;
	void *inst;

	if (accept != NULL)
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\n"
			     "Accept: %s\r\n\r\n", accept);
	else
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(n > 0 && (size_t)n < sizeof(head));
	assert_int_equal(tw_http_parse_request(head, (size_t)n, 0, &raw), n);
	opts_of(&o, nets);
	o.stats = st;
	o.version = "1.2.3";
	memset(&req, 0, sizeof(req));
	req.raw = &raw;
	req.method = TW_HTTP_GET;
	req.path = path;
	req.path_len = strlen(path);
	req.query = query;
	req.query_len = query ? strlen(query) : 0;
	req.peer = (const struct sockaddr *)&ss;
	memset(&out->res, 0, sizeof(out->res));
	out->res.status = 200;
	out->res.fd = -1;
	out->res.headers = &hdrs;
	out->res.body = &body;
	inst = tw_status_handler.create(&o, &err);
	assert_int_equal(err, 0);
	out->ret = tw_status_handler.handle(&req, &out->res, inst);
	if (tw_status_handler.destroy != NULL)
		tw_status_handler.destroy(inst);
	tw_buf_append_char(&hdrs, '\0');
	tw_buf_append_char(&body, '\0');
	out->headers = strdup(hdrs.data);
	out->body = strdup(body.data);
	assert_non_null(out->headers);
	assert_non_null(out->body);
	tw_buf_free(&hdrs);
	tw_buf_free(&body);
	out->res.headers = NULL;
	out->res.body = NULL;
}

static void
call_free(struct call *c)
{
	free(c->headers);
	free(c->body);
}

static void
handler_path_match(void **state)
{
	static const char *const other[] = {
		"/", "/statu", "/status/", "/statusx", "/Status", "/status%20",
		"/status/x", "//status", "/x/status",
	};
	struct tw_stats *st = sample_stats();
	struct call c;
	size_t i;

	(void)state;
	for (i = 0; i < N(other); i++) {
		call_handler(other[i], NULL, NULL, "127.0.0.1", "", &c, st);
		if (c.ret != TW_DECLINED)
			fail_msg("%s: %d, want declined", other[i], c.ret);
		call_free(&c);
	}
	call_handler("/status", NULL, NULL, "127.0.0.1", "", &c, st);
	assert_int_equal(c.ret, 0);
	assert_int_equal(c.res.status, 200);
	call_free(&c);
	free(st);
}

static void
handler_denied(void **state)
{
	struct tw_stats *st = sample_stats();
	struct call c;

	(void)state;
	call_handler("/status", NULL, NULL, "10.0.0.1", "", &c, st);
	assert_int_equal(c.ret, 403);
	assert_string_equal(c.body, "");
	call_free(&c);
	call_handler("/status", NULL, NULL, "127.0.0.1", "::1", &c, st);
	assert_int_equal(c.ret, 403);
	call_free(&c);
	call_handler("/status", "format=json", NULL, "10.0.0.1",
		     "10.0.0.0/8", &c, st);
	assert_int_equal(c.ret, 0);
	call_free(&c);
	/* A path that is not the status page is declined, not refused. */
	call_handler("/other", NULL, NULL, "10.0.0.1", "", &c, st);
	assert_int_equal(c.ret, TW_DECLINED);
	call_free(&c);
	free(st);
}

struct format_vec {
	const char *query;
	const char *accept;
	const char *type;	/* Content-Type value */
	const char *starts;	/* the body's first bytes */
};

static const struct format_vec format_vecs[] = {
	{ NULL, NULL, "text/plain; charset=utf-8", "Active connections: 3 \n" },
	{ "format=text", NULL, "text/plain; charset=utf-8", "Active connections: " },
	{ "format=json", NULL, "application/json", "{\"version\":" },
	{ "format=prometheus", NULL, "text/plain; version=0.0.4; charset=utf-8",
	  "# HELP tinyweb_" },
	{ "format=html", NULL, "text/html; charset=utf-8", "<!DOCTYPE html>" },
	{ NULL, "application/json", "application/json", "{" },
	{ NULL, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	  "text/html; charset=utf-8", "<!DOCTYPE html>" },
	{ NULL, "text/plain", "text/plain; charset=utf-8", "Active connections: " },
	{ NULL, "*/*", "text/plain; charset=utf-8", "Active connections: " },
	/* the query wins over Accept */
	{ "format=text", "application/json", "text/plain; charset=utf-8",
	  "Active connections: " },
	{ "format=prometheus", "text/html", "text/plain; version=0.0.4; "
	  "charset=utf-8", "# HELP" },
	{ "a=1&format=json&b=2", NULL, "application/json", "{" },
	{ "x=1&format=html", NULL, "text/html; charset=utf-8", "<!DOCTYPE" },
	/* not the format parameter: fall back */
	{ "format=jsonx", NULL, "text/plain; charset=utf-8", "Active" },
	{ "xformat=json", NULL, "text/plain; charset=utf-8", "Active" },
	{ "format=", NULL, "text/plain; charset=utf-8", "Active" },
	{ "format=xml", "application/json", "application/json", "{" },
	{ "", NULL, "text/plain; charset=utf-8", "Active" },
};

static void
handler_formats(void **state)
{
	struct tw_stats *st = sample_stats();
	char want[128];
	struct call c;
	size_t i;

	(void)state;
	for (i = 0; i < N(format_vecs); i++) {
		const struct format_vec *v = &format_vecs[i];

		call_handler("/status", v->query, v->accept, "127.0.0.1", "",
			     &c, st);
		assert_int_equal(c.ret, 0);
		assert_int_equal(c.res.status, 200);
		(void)snprintf(want, sizeof(want), "Content-Type: %s\r\n",
			       v->type);
		if (strstr(c.headers, want) == NULL)
			fail_msg("query %s accept %s: headers %s", v->query,
				 v->accept, c.headers);
		assert_non_null(strstr(c.headers, "Cache-Control: no-store\r\n"));
		if (strncmp(c.body, v->starts, strlen(v->starts)) != 0)
			fail_msg("query %s accept %s: body %.40s", v->query,
				 v->accept, c.body);
		/* One body segment covering all of it. */
		assert_int_equal(c.res.nseg, 1);
		assert_int_equal(c.res.segs[0].kind, TW_HTTP_SEG_BODY);
		assert_int_equal(c.res.segs[0].off, 0);
		assert_int_equal(c.res.segs[0].len, strlen(c.body));
		assert_int_equal(c.res.fd, -1);
		call_free(&c);
	}
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_net_vectors),
		cmocka_unit_test(allowed_vectors),
		cmocka_unit_test(allowed_other_family),
		cmocka_unit_test(render_text_exact),
		cmocka_unit_test(render_text_zero_and_negative_gauges),
		cmocka_unit_test(render_json_structure),
		cmocka_unit_test(render_json_empty),
		cmocka_unit_test(render_prometheus_format),
		cmocka_unit_test(render_prometheus_many_workers),
		cmocka_unit_test(render_html_figures),
		cmocka_unit_test(handler_path_match),
		cmocka_unit_test(handler_denied),
		cmocka_unit_test(handler_formats),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
