/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for page: a page takes a buffer's bytes without a copy and
 * leaves the buffer empty and usable; references count up and down; the
 * last one frees the page after its on_free hook, called exactly once;
 * a failed or empty buffer makes no page and is left as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/page.h"

static unsigned freed;
static struct tw_page *freed_page;

static void
on_free(struct tw_page *p, void *ctx)
{
	assert_ptr_equal(ctx, &freed);
	assert_int_equal(p->refs, 0);
	freed++;
	freed_page = p;
}

static void
from_buf_takes_the_bytes(void **state)
{
	struct tw_buf b = { 0 };
	struct tw_page *p;
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		tw_buf_append_str(&b, "0123456789");
	p = tw_page_from_buf(&b);
	assert_non_null(p);
	assert_int_equal(p->len, 10000);
	assert_int_equal(p->refs, 1);
	for (i = 0; i < 1000; i++)
		assert_memory_equal(p->data + 10 * i, "0123456789", 10);
	/* The buffer is empty and works again, on memory of its own. */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	tw_buf_append_str(&b, "again");
	assert_int_equal(b.len, 5);
	assert_memory_equal(p->data, "0123456789", 10);
	tw_buf_free(&b);
	tw_page_unref(p);
}

static void
last_unref_frees_once(void **state)
{
	struct tw_buf b = { 0 };
	struct tw_page *p;

	(void)state;
	freed = 0;
	tw_buf_append_str(&b, "page");
	p = tw_page_from_buf(&b);
	assert_non_null(p);
	p->on_free = on_free;
	p->free_ctx = &freed;
	assert_ptr_equal(tw_page_ref(p), p);
	assert_ptr_equal(tw_page_ref(p), p);
	assert_int_equal(p->refs, 3);
	tw_page_unref(p);
	tw_page_unref(p);
	assert_int_equal(freed, 0);
	assert_int_equal(p->refs, 1);
	tw_page_unref(p);	/* ASan: freed here, exactly once */
	assert_int_equal(freed, 1);
	assert_ptr_equal(freed_page, p);
	tw_page_unref(NULL);	/* harmless */
}

static void
failed_or_empty_buffer_makes_no_page(void **state)
{
	struct tw_buf b = { 0 };

	(void)state;
	assert_null(tw_page_from_buf(&b));
	tw_buf_append_str(&b, "kept");
	b.failed = true;
	assert_null(tw_page_from_buf(&b));
	assert_non_null(b.data);
	assert_int_equal(b.len, 4);
	tw_buf_free(&b);
}

/* Harmless to call again (http's create runs once per generation). */
static void
malloc_setup_is_idempotent(void **state)
{
	void *big;

	(void)state;
	tw_page_malloc_setup();
	tw_page_malloc_setup();
	big = malloc(4 << 20);
	assert_non_null(big);
	memset(big, 1, 4 << 20);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_buf_takes_the_bytes),
		cmocka_unit_test(last_unref_frees_once),
		cmocka_unit_test(failed_or_empty_buffer_makes_no_page),
		cmocka_unit_test(malloc_setup_is_idempotent),
	};

	return cmocka_run_group_tests_name("page", tests, NULL, NULL);
}
