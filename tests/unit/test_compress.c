/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for compress: gzip and zstd variants decode to the input;
 * a file's variant is made once and shared (the same page); another
 * coding is another variant; a rewritten file (same size, in place) or
 * a stale stat never gets the old variant; the cache stays within its
 * bytes, least recently used out first; a variant larger than the cache
 * and an incompressible file go plain; a large file is made by the aio
 * pool and is there once the job is back; destroying the cache with a
 * job out frees both; type matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/page.h"
#include "http/compress.h"
#include "net/aio.h"
#include "net/loop.h"

/* Files changed less than this ago are not compressed (compress.c's
 * SETTLE_MS, with room): the tests wait it out once per file. */
#define SETTLE_US	150000

struct fx {
	char dir[64];
	int n;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_compress.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Text that compresses: numbered lines of a seed. */
static char *
text(size_t n, int seed)
{
	char *p = malloc(n);
	size_t i = 0;

	assert_non_null(p);
	while (i < n) {
		char line[64];
		int k = snprintf(line, sizeof(line), "var x%d = %zu; // %d\n",
				 seed, i % 977, seed);

		memcpy(p + i, line, (size_t)k < n - i ? (size_t)k : n - i);
		i += (size_t)k;
	}
	return p;
}

/* Write data to a new file of the fixture; returns it open for reading. */
static int
put_file(struct fx *f, const char *data, size_t n, char *path, size_t cap)
{
	int fd;

	snprintf(path, cap, "%s/f%d", f->dir, f->n++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	return fd;
}

static void
gunzip_equals(const struct tw_page *p, const char *want, size_t n)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	char *out = malloc(n + 1);
	size_t got = 0;

	assert_non_null(d);
	assert_int_equal(libdeflate_gzip_decompress(d, p->data, p->len, out,
						    n + 1, &got),
			 LIBDEFLATE_SUCCESS);
	assert_int_equal(got, n);
	assert_memory_equal(out, want, n);
	libdeflate_free_decompressor(d);
	free(out);
}

static void
bytes_round_trip(void **state)
{
	size_t n = 50000;
	char *in = text(n, 1), *out = malloc(n);
	struct tw_page *gz, *zs;

	(void)state;
	gz = tw_compress_bytes(in, n, TW_CODING_GZIP, 9);
	assert_non_null(gz);
	assert_true(gz->len < n / 4);
	gunzip_equals(gz, in, n);
	zs = tw_compress_bytes(in, n, TW_CODING_ZSTD, 9);
	assert_non_null(zs);
	assert_int_equal(ZSTD_decompress(out, n, zs->data, zs->len), n);
	assert_memory_equal(out, in, n);
	/* Nothing to gain from 4 random-looking bytes: plain. */
	assert_null(tw_compress_bytes("\x8f\x13\xa7\x01", 4, TW_CODING_GZIP, 9));
	assert_null(tw_compress_bytes(in, n, TW_CODING_IDENTITY, 9));
	tw_page_unref(gz);
	tw_page_unref(zs);
	free(in);
	free(out);
}

static void
file_compressed_once(void **state)
{
	struct fx *f = *state;
	struct tw_compress *z = tw_compress_create(1 << 20, NULL);
	struct tw_compress_stats s;
	size_t n = 20000;
	char *in = text(n, 2), path[128];
	int fd = put_file(f, in, n, path, sizeof(path));
	struct tw_page *a, *b, *c;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	/* Just written: plain until it settles. */
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9));
	usleep(SETTLE_US);
	a = tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9);
	b = tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9);
	assert_non_null(a);
	assert_ptr_equal(a, b);		/* one variant, by reference */
	gunzip_equals(a, in, n);
	c = tw_compress_file(z, fd, &st, TW_CODING_ZSTD, 9);
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	tw_compress_stats(z, &s);
	assert_int_equal(s.made, 2);
	assert_int_equal(s.encoded, 2);	/* b came from the cache */
	assert_int_equal(s.entries, 2);
	assert_true(s.bytes >= a->len + c->len && s.bytes <= 1 << 20);
	tw_page_unref(a);
	tw_page_unref(b);
	tw_page_unref(c);
	close(fd);
	tw_compress_destroy(z);
	free(in);
}

static void
rewritten_file_never_stale(void **state)
{
	struct fx *f = *state;
	struct tw_compress *z = tw_compress_create(1 << 20, NULL);
	size_t n = 20000;
	char *v1 = text(n, 3), *v2 = text(n, 4), path[128];
	int fd = put_file(f, v1, n, path, sizeof(path)), w;
	struct tw_page *a, *b;
	struct stat st1, st2;

	assert_int_equal(fstat(fd, &st1), 0);
	usleep(SETTLE_US);
	a = tw_compress_file(z, fd, &st1, TW_CODING_GZIP, 9);
	assert_non_null(a);
	gunzip_equals(a, v1, n);
	/* In place, same size: only the timestamps tell. */
	w = open(path, O_WRONLY);
	assert_true(w >= 0);
	assert_int_equal(pwrite(w, v2, n, 0), (ssize_t)n);
	close(w);
	/* The headers' stat is the old one: nothing rather than v1. */
	assert_null(tw_compress_file(z, fd, &st1, TW_CODING_GZIP, 9));
	assert_int_equal(fstat(fd, &st2), 0);
	usleep(SETTLE_US);
	b = tw_compress_file(z, fd, &st2, TW_CODING_GZIP, 9);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	gunzip_equals(b, v2, n);
	/* The old version's entry went when the new one was looked up. */
	{
		struct tw_compress_stats s;

		tw_compress_stats(z, &s);
		assert_int_equal(s.entries, 1);
	}
	tw_page_unref(a);
	tw_page_unref(b);
	close(fd);
	tw_compress_destroy(z);
	free(v1);
	free(v2);
}

static void
cache_bounded_lru(void **state)
{
	struct fx *f = *state;
	size_t n = 60000, one, max, i;
	char *in[4], path[128];
	int fd[4];
	struct stat st[4];
	struct tw_page *p;
	struct tw_compress_stats s;
	struct tw_compress *z;

	for (i = 0; i < 4; i++) {
		in[i] = text(n, 10 + (int)i);
		fd[i] = put_file(f, in[i], n, path, sizeof(path));
		assert_int_equal(fstat(fd[i], &st[i]), 0);
	}
	usleep(SETTLE_US);
	/* The size of one variant with its bookkeeping, measured. */
	z = tw_compress_create(1 << 20, NULL);
	tw_page_unref(tw_compress_file(z, fd[0], &st[0], TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	one = s.bytes;
	tw_compress_destroy(z);
	/* Room for two and a half. */
	max = one * 5 / 2;
	z = tw_compress_create(max, NULL);
	for (i = 0; i < 3; i++) {
		p = tw_compress_file(z, fd[i], &st[i], TW_CODING_GZIP, 9);
		assert_non_null(p);
		gunzip_equals(p, in[i], n);
		tw_page_unref(p);
		/* Use file 0 again: file 1 is the least recent. */
		if (i == 1)
			tw_page_unref(tw_compress_file(z, fd[0], &st[0],
						       TW_CODING_GZIP, 9));
		tw_compress_stats(z, &s);
		assert_true(s.bytes <= max);
	}
	tw_compress_stats(z, &s);
	assert_int_equal(s.made, 3);
	assert_int_equal(s.evicted, 1);
	/* File 0 is still there (no new compression); file 1 is made
	 * again. */
	tw_page_unref(tw_compress_file(z, fd[0], &st[0], TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_int_equal(s.made, 3);
	tw_page_unref(tw_compress_file(z, fd[1], &st[1], TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_int_equal(s.made, 4);
	assert_true(s.bytes <= max);
	tw_compress_destroy(z);
	/* A variant larger than the whole cache is never kept: plain. */
	z = tw_compress_create(one / 2, NULL);
	assert_null(tw_compress_file(z, fd[3], &st[3], TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_true(s.bytes <= one / 2);
	tw_compress_destroy(z);
	/* No room at all: nothing is compressed, not once per request. */
	z = tw_compress_create(0, NULL);
	assert_null(tw_compress_file(z, fd[2], &st[2], TW_CODING_GZIP, 9));
	assert_null(tw_compress_file(z, fd[2], &st[2], TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_int_equal(s.encoded, 0);
	assert_int_equal(s.bytes, 0);
	tw_compress_destroy(z);
	for (i = 0; i < 4; i++) {
		close(fd[i]);
		free(in[i]);
	}
}

static void
incompressible_goes_plain(void **state)
{
	struct fx *f = *state;
	struct tw_compress *z = tw_compress_create(1 << 20, NULL);
	size_t n = 4096, i;
	char *in = malloc(n), path[128];
	uint32_t x = 2463534242u;
	struct stat st;
	int fd;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		in[i] = (char)x;
	}
	fd = put_file(f, in, n, path, sizeof(path));
	assert_int_equal(fstat(fd, &st), 0);
	usleep(SETTLE_US);
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9));
	/* Remembered: not tried again. */
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9));
	{
		struct tw_compress_stats s;

		tw_compress_stats(z, &s);
		assert_int_equal(s.made, 0);
		assert_int_equal(s.encoded, 1);
		assert_int_equal(s.entries, 1);
	}
	close(fd);
	tw_compress_destroy(z);
	free(in);
}

static void
large_file_by_the_pool(void **state)
{
	struct fx *f = *state;
	size_t n = TW_COMPRESS_INLINE_MAX + 100000;
	char *in = text(n, 5), path[128];
	int fd = put_file(f, in, n, path, sizeof(path)), err;
	struct tw_loop *loop = tw_loop_create(64, &err);
	struct tw_aio *aio;
	struct tw_compress *z;
	struct tw_compress_stats s;
	struct tw_page *p;
	struct stat st;

	assert_non_null(loop);
	aio = tw_aio_create(loop, 1, &err);
	assert_non_null(aio);
	z = tw_compress_create(4 << 20, aio);
	assert_int_equal(fstat(fd, &st), 0);
	usleep(SETTLE_US);
	/* Not on the loop: plain now, the pool makes it. */
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_int_equal(s.pending, 1);
	/* A second request does not start a second job. */
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9));
	tw_compress_stats(z, &s);
	assert_int_equal(s.pending, 1);
	/* Runs the job and its completion here. */
	tw_aio_destroy(aio);
	tw_compress_stats(z, &s);
	assert_int_equal(s.pending, 0);
	assert_int_equal(s.made, 1);
	p = tw_compress_file(z, fd, &st, TW_CODING_GZIP, 9);
	assert_non_null(p);
	gunzip_equals(p, in, n);
	tw_page_unref(p);
	tw_compress_destroy(z);
	tw_loop_destroy(loop);
	close(fd);
	free(in);
}

static void
destroyed_with_a_job_out(void **state)
{
	struct fx *f = *state;
	size_t n = TW_COMPRESS_INLINE_MAX + 1000;
	char *in = text(n, 6), path[128];
	int fd = put_file(f, in, n, path, sizeof(path)), err;
	struct tw_loop *loop = tw_loop_create(64, &err);
	struct tw_aio *aio = tw_aio_create(loop, 1, &err);
	struct tw_compress *z = tw_compress_create(4 << 20, aio);
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	usleep(SETTLE_US);
	assert_null(tw_compress_file(z, fd, &st, TW_CODING_ZSTD, 3));
	tw_compress_destroy(z);
	/* The completion frees the job, its entry and the cache (ASan's
	 * leak check would say otherwise). */
	tw_aio_destroy(aio);
	tw_loop_destroy(loop);
	close(fd);
	free(in);
}

static void
types_match(void **state)
{
	struct tw_compress_opts o;
	const char *const mine[] = { "text/css", "application/*" };

	(void)state;
	tw_compress_opts_default(&o);
	assert_true(tw_compress_type_ok(&o, "text/html; charset=utf-8"));
	assert_true(tw_compress_type_ok(&o, "TEXT/Plain"));
	assert_true(tw_compress_type_ok(&o, "application/json"));
	assert_true(tw_compress_type_ok(&o, "image/svg+xml"));
	assert_true(tw_compress_type_ok(&o, "application/wasm"));
	assert_false(tw_compress_type_ok(&o, "image/png"));
	assert_false(tw_compress_type_ok(&o, "application/jsonx"));
	assert_false(tw_compress_type_ok(&o, "application/octet-stream"));
	assert_false(tw_compress_type_ok(&o, "text"));
	o.types = mine;
	o.ntypes = 2;
	assert_true(tw_compress_type_ok(&o, "text/css"));
	assert_false(tw_compress_type_ok(&o, "text/html"));
	assert_true(tw_compress_type_ok(&o, "application/pdf"));
	assert_int_equal(tw_compress_codings(&o),
			 TW_CODING_BIT(TW_CODING_GZIP) |
			 TW_CODING_BIT(TW_CODING_BR) |
			 TW_CODING_BIT(TW_CODING_ZSTD));
	o.level[TW_CODING_BR] = 0;
	assert_int_equal(tw_compress_codings(&o),
			 TW_CODING_BIT(TW_CODING_GZIP) |
			 TW_CODING_BIT(TW_CODING_ZSTD));
	assert_true(tw_compress_level_ok(TW_CODING_GZIP, 12));
	assert_false(tw_compress_level_ok(TW_CODING_GZIP, 13));
	assert_false(tw_compress_level_ok(TW_CODING_BR, 12));
	assert_true(tw_compress_level_ok(TW_CODING_ZSTD, 19));
	assert_false(tw_compress_level_ok(TW_CODING_ZSTD, 20));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_round_trip),
		cmocka_unit_test_setup_teardown(file_compressed_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rewritten_file_never_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(cache_bounded_lru, setup,
						teardown),
		cmocka_unit_test_setup_teardown(incompressible_goes_plain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(large_file_by_the_pool, setup,
						teardown),
		cmocka_unit_test_setup_teardown(destroyed_with_a_job_out,
						setup, teardown),
		cmocka_unit_test(types_match),
	};

	return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
