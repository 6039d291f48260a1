/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for return: a redirect carries its Location and no body; a
 * code with text answers the text as text/plain; an error code without
 * text is left to http's own page; a 2xx without text is empty. URL and
 * text expand $host, $request_uri and $scheme per request; an unknown
 * variable is found by tw_return_check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "http/return.h"

struct answer {
	struct tw_buf headers;
	struct tw_buf body;
	struct tw_http_res res;
	int rc;
};

static void
ask(struct answer *a, int code, const char *arg)
{
	struct tw_return_opts o = { .code = code, .arg = arg };
	struct tw_http_req req = { .path = "/x", .path_len = 2 };
	int err = 0;
	void *inst = tw_return_handler.create(&o, &err);

	memset(a, 0, sizeof(*a));
	a->res.headers = &a->headers;
	a->res.body = &a->body;
	a->res.fd = -1;
	assert_non_null(inst);
	a->rc = tw_return_handler.handle(&req, &a->res, inst);
	tw_buf_append_char(&a->headers, '\0');
	tw_buf_append_char(&a->body, '\0');
}

/* The request of a variable test: target as sent (split into path and
 * query as http does), Host (NULL: none), TLS or not. */
struct vreq {
	const char *target;
	const char *host;
	bool secure;
};

static void
ask_vars(struct answer *a, int code, const char *arg,
	 const char *default_host, const struct vreq *v)
{
	struct tw_return_opts o = { .code = code, .arg = arg,
				    .default_host = default_host };
	struct tw_http_request raw = { .method = "GET", .method_len = 3,
				       .target = v->target,
				       .target_len = strlen(v->target),
				       .minor = 1 };
	struct tw_http_req req = { .raw = &raw, .secure = v->secure };
	const char *p = strstr(v->target, "://");
	const char *q;
	int err = 0;
	void *inst = tw_return_handler.create(&o, &err);

	p = p != NULL ? strchr(p + 3, '/') : v->target;
	q = strchr(p, '?');
	req.path = p;
	req.path_len = q != NULL ? (size_t)(q - p) : strlen(p);
	req.query = q != NULL ? q + 1 : NULL;
	req.query_len = q != NULL ? strlen(q + 1) : 0;
	if (v->host != NULL) {
		raw.headers[0] = (struct tw_http_header){
			.name = "Host", .name_len = 4, .value = v->host,
			.value_len = strlen(v->host) };
		raw.nheaders = 1;
	}
	memset(a, 0, sizeof(*a));
	a->res.headers = &a->headers;
	a->res.body = &a->body;
	a->res.fd = -1;
	a->rc = tw_return_handler.handle(&req, &a->res, inst);
	tw_buf_append_char(&a->headers, '\0');
	tw_buf_append_char(&a->body, '\0');
}

static void
done(struct answer *a)
{
	tw_buf_free(&a->headers);
	tw_buf_free(&a->body);
}

static void
redirect_has_location(void **state)
{
	static const int codes[] = { 301, 302, 303, 307, 308 };
	struct answer a;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		ask(&a, codes[i], "https://b.example/new?q=1");
		assert_int_equal(a.rc, 0);
		assert_int_equal(a.res.status, codes[i]);
		assert_string_equal(a.headers.data,
				    "Location: https://b.example/new?q=1\r\n");
		assert_int_equal(a.res.nseg, 0);
		done(&a);
	}
}

static void
text_is_the_body(void **state)
{
	struct answer a;

	(void)state;
	ask(&a, 404, "gone away\n");
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.res.status, 404);
	assert_non_null(strstr(a.headers.data, "Content-Type: text/plain; "
			       "charset=utf-8\r\n"));
	assert_int_equal(a.res.nseg, 1);
	assert_int_equal(a.res.segs[0].kind, TW_HTTP_SEG_BODY);
	assert_int_equal(a.res.segs[0].len, 10);
	assert_memory_equal(a.body.data, "gone away\n", 10);
	done(&a);

	ask(&a, 200, "ok");
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.res.status, 200);
	assert_int_equal(a.res.segs[0].len, 2);
	done(&a);
}

static void
error_without_text_is_http_page(void **state)
{
	struct answer a;

	(void)state;
	ask(&a, 403, NULL);
	assert_int_equal(a.rc, 403);
	assert_string_equal(a.headers.data, "");
	done(&a);
	ask(&a, 503, NULL);
	assert_int_equal(a.rc, 503);
	done(&a);
}

static void
success_without_text_is_empty(void **state)
{
	struct answer a;

	(void)state;
	ask(&a, 204, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.res.status, 204);
	assert_int_equal(a.res.nseg, 0);
	done(&a);
}

static void
variables_expand_in_location(void **state)
{
	static const struct {
		const char *arg;
		struct vreq v;
		const char *location;
	} rows[] = {
		/* port dropped, name lowercased, target kept as sent */
		{ "https://$host$request_uri",
		  { "/a%20b/c.txt?x=1&y", "Example.COM:8080", false },
		  "https://example.com/a%20b/c.txt?x=1&y" },
		{ "https://$host:8443$request_uri",
		  { "/", "[::1]:80", false }, "https://[::1]:8443/" },
		{ "https://${host}x$request_uri",
		  { "/p", "a.example", false }, "https://a.examplex/p" },
		{ "$scheme://$host/", { "/", "a", false }, "http://a/" },
		{ "$scheme://$host/", { "/", "a", true }, "https://a/" },
		/* the absolute target names the host, not Host */
		{ "https://$host$request_uri",
		  { "http://B.example:81/q?z", "a.example", false },
		  "https://b.example/q?z" },
		/* a '$' that starts no name is itself */
		{ "https://h/$/$5/a$-$", { "/", "a", false },
		  "https://h/$/$5/a$-$" },
		/* no variable at all: as written */
		{ "https://b.example/new?q=1", { "/", NULL, false },
		  "https://b.example/new?q=1" },
	};
	struct answer a;
	char want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ask_vars(&a, 301, rows[i].arg, NULL, &rows[i].v);
		assert_int_equal(a.rc, 0);
		assert_int_equal(a.res.status, 301);
		snprintf(want, sizeof(want), "Location: %s\r\n",
			 rows[i].location);
		assert_string_equal(a.headers.data, want);
		done(&a);
	}
}

static void
variables_expand_in_text(void **state)
{
	struct vreq v = { "/x?y", "Host.example", true };
	struct answer a;

	(void)state;
	ask_vars(&a, 200, "$scheme $host $request_uri costs $5\n", NULL, &v);
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.body.data,
			    "https host.example /x?y costs $5\n");
	assert_int_equal(a.res.segs[0].len, strlen(a.body.data));
	done(&a);
}

static void
host_without_host_header(void **state)
{
	struct vreq v = { "/p", NULL, false };
	struct answer a;

	(void)state;
	/* HTTP/1.0 without Host: the server's name ... */
	ask_vars(&a, 301, "https://$host$request_uri", "www.example", &v);
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.headers.data,
			    "Location: https://www.example/p\r\n");
	done(&a);
	/* ... or, with none, 400 and no half-written Location. */
	ask_vars(&a, 301, "https://$host$request_uri", NULL, &v);
	assert_int_equal(a.rc, 400);
	assert_string_equal(a.headers.data, "");
	done(&a);
	/* A variable-free URL needs no host. */
	ask_vars(&a, 302, "https://b.example/", NULL, &v);
	assert_int_equal(a.rc, 0);
	done(&a);
}

static void
host_that_would_steer_is_400(void **state)
{
	static const char *const bad[] = { "evil.com/x", "a@b", "a b",
					   "[zz]", "" };
	struct answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vreq v = { "/", bad[i], false };

		ask_vars(&a, 301, "https://$host/", NULL, &v);
		assert_int_equal(a.rc, 400);
		assert_string_equal(a.headers.data, "");
		done(&a);
	}
}

static void
check_finds_unknown_variables(void **state)
{
	static const struct {
		const char *arg;
		const char *bad;	/* NULL: accepted */
	} rows[] = {
		{ "https://$host$request_uri", NULL },
		{ "$scheme://${host}${request_uri}", NULL },
		{ "a $ b $5 $$ $-x $", NULL },
		{ "https://$hots/", "$hots" },
		{ "https://$host$request_url", "$request_url" },
		{ "https://${host/", "${host" },
		{ "${}", "${" },
		{ "$server_port", "$server_port" },
	};
	const char *bad;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok = tw_return_check(rows[i].arg, &bad, &n);

		assert_int_equal(ok, rows[i].bad == NULL);
		if (!ok) {
			assert_int_equal(n, strlen(rows[i].bad));
			assert_memory_equal(bad, rows[i].bad, n);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redirect_has_location),
		cmocka_unit_test(text_is_the_body),
		cmocka_unit_test(error_without_text_is_http_page),
		cmocka_unit_test(success_without_text_is_empty),
		cmocka_unit_test(variables_expand_in_location),
		cmocka_unit_test(variables_expand_in_text),
		cmocka_unit_test(host_without_host_header),
		cmocka_unit_test(host_that_would_steer_is_400),
		cmocka_unit_test(check_finds_unknown_variables),
	};

	return cmocka_run_group_tests_name("return", tests, NULL, NULL);
}
