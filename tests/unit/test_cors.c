/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for cors: an allowed origin is echoed with Vary: Origin
 * (a list) or answered "*" (any, without credentials); another origin,
 * or none, gets no Access-Control-Allow-Origin; a preflight adds the
 * methods, the configured or the asked-for headers (only a list of
 * names is echoed) and the max age; credentials and exposed fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "base/buf.h"
#include "http/cors.h"

static const char *const origins[] = { "https://a.example",
				       "http://b.example:8080" };

static const struct tw_cors list = {
	.origins = origins, .norigins = 2, .credentials = true,
	.methods = "GET, PUT", .headers = NULL, .max_age = 600,
};

static const struct tw_cors star = {
	.any = true, .methods = "GET, HEAD, OPTIONS", .headers = "X-A, X-B",
	.expose = "ETag", .max_age = 3600,
};

/* The fields of c for a request of method with headers given as
 * name, value, ..., NULL; *allowed set. The text is in out. */
static const char *
fields(struct tw_buf *out, const struct tw_cors *c, bool preflight,
       bool *allowed, const char *method, ...)
{
	static struct tw_http_request r;
	va_list ap;
	const char *name;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = strlen(method);
	r.target = "/";
	r.target_len = 1;
	r.minor = 1;
	va_start(ap, method);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		r.headers[r.nheaders++] = (struct tw_http_header){
			name, strlen(name), value, strlen(value) };
	}
	va_end(ap);
	tw_buf_reset(out, 0);
	*allowed = tw_cors_fields(c, &r, preflight, out);
	tw_buf_append_char(out, '\0');
	return out->data;
}

static void
listed_origin_is_echoed_with_vary(void **state)
{
	struct tw_buf b = { 0 };
	bool ok;
	const char *f = fields(&b, &list, false, &ok, "GET", "Origin",
			       "http://B.example:8080", NULL);

	(void)state;
	assert_true(ok);
	assert_string_equal(f, "Vary: Origin\r\n"
			    "Access-Control-Allow-Origin: http://B.example:8080\r\n"
			    "Access-Control-Allow-Credentials: true\r\n");
	tw_buf_free(&b);
}

static void
other_origin_gets_only_vary(void **state)
{
	struct tw_buf b = { 0 };
	bool ok;
	const char *f = fields(&b, &list, false, &ok, "GET", "Origin",
			       "https://a.example.evil", NULL);

	(void)state;
	assert_false(ok);
	assert_string_equal(f, "Vary: Origin\r\n");
	f = fields(&b, &list, false, &ok, "GET", NULL);
	assert_false(ok);
	assert_string_equal(f, "Vary: Origin\r\n");
	tw_buf_free(&b);
}

static void
any_origin_is_star_without_vary(void **state)
{
	struct tw_buf b = { 0 };
	bool ok;
	const char *f = fields(&b, &star, false, &ok, "GET", "Origin",
			       "https://x.example", NULL);

	(void)state;
	assert_true(ok);
	assert_string_equal(f, "Access-Control-Allow-Origin: *\r\n"
			    "Access-Control-Expose-Headers: ETag\r\n");
	f = fields(&b, &star, false, &ok, "GET", NULL);
	assert_false(ok);
	assert_string_equal(f, "");
	tw_buf_free(&b);
}

static void
preflight_echoes_asked_headers(void **state)
{
	struct tw_buf b = { 0 };
	bool ok;
	const char *f = fields(&b, &list, true, &ok, "OPTIONS", "Origin",
			       "https://a.example",
			       "Access-Control-Request-Method", "PUT",
			       "Access-Control-Request-Headers",
			       "x-token, content-type", NULL);

	(void)state;
	assert_true(ok);
	assert_string_equal(f, "Vary: Origin\r\n"
			    "Access-Control-Allow-Origin: https://a.example\r\n"
			    "Access-Control-Allow-Credentials: true\r\n"
			    "Access-Control-Allow-Methods: GET, PUT\r\n"
			    "Vary: Access-Control-Request-Headers\r\n"
			    "Access-Control-Allow-Headers: x-token, content-type\r\n"
			    "Access-Control-Max-Age: 600\r\n");
	/* Not a list of names: not echoed. */
	f = fields(&b, &list, true, &ok, "OPTIONS", "Origin",
		   "https://a.example", "Access-Control-Request-Method", "PUT",
		   "Access-Control-Request-Headers", "x-a: b", NULL);
	assert_null(strstr(f, "Allow-Headers"));
	tw_buf_free(&b);
}

static void
preflight_gives_configured_headers(void **state)
{
	struct tw_buf b = { 0 };
	bool ok;
	const char *f = fields(&b, &star, true, &ok, "OPTIONS", "Origin",
			       "https://x.example",
			       "Access-Control-Request-Method", "GET",
			       "Access-Control-Request-Headers", "x-c", NULL);

	(void)state;
	assert_true(ok);
	assert_string_equal(f, "Access-Control-Allow-Origin: *\r\n"
			    "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
			    "Access-Control-Allow-Headers: X-A, X-B\r\n"
			    "Access-Control-Max-Age: 3600\r\n");
	tw_buf_free(&b);
}

static void
preflight_needs_origin_and_method(void **state)
{
	static struct tw_http_request r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.method = "OPTIONS";
	r.method_len = 7;
	r.headers[r.nheaders++] = (struct tw_http_header){
		"origin", 6, "https://a.example", 17 };
	assert_false(tw_cors_is_preflight(&r));
	r.headers[r.nheaders++] = (struct tw_http_header){
		"Access-Control-Request-Method", 29, "PUT", 3 };
	assert_true(tw_cors_is_preflight(&r));
	r.method = "GET";
	r.method_len = 3;
	assert_false(tw_cors_is_preflight(&r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed_origin_is_echoed_with_vary),
		cmocka_unit_test(other_origin_gets_only_vary),
		cmocka_unit_test(any_origin_is_star_without_vary),
		cmocka_unit_test(preflight_echoes_asked_headers),
		cmocka_unit_test(preflight_gives_configured_headers),
		cmocka_unit_test(preflight_needs_origin_and_method),
	};

	return cmocka_run_group_tests_name("cors", tests, NULL, NULL);
}
