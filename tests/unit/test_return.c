/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for return: a redirect carries its Location and no body; a
 * code with text answers the text as text/plain; an error code without
 * text is left to http's own page; a 2xx without text is empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redirect_has_location),
		cmocka_unit_test(text_is_the_body),
		cmocka_unit_test(error_without_text_is_http_page),
		cmocka_unit_test(success_without_text_is_empty),
	};

	return cmocka_run_group_tests_name("return", tests, NULL, NULL);
}
