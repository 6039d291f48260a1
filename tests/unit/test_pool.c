/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for pool: every small size and some large ones, alignment,
 * blocks that never overlap (pattern-filled, checked across a seeded
 * random alloc/free model), LIFO reuse within a size class, chunk growth
 * only when a class runs dry, and teardown with blocks still out (ASan and
 * LSan judge that one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"

/* Fill p[0..n) with bytes derived from id, so two blocks that overlap
 * cannot both keep their pattern. */
static void
fill(void *p, size_t n, uint32_t id)
{
	unsigned char *q = p;
	size_t i;

	for (i = 0; i < n; i++)
		q[i] = (unsigned char)((id * 131u + i * 7u + (id >> 8)) ^ 0xa5);
}

static bool
check(const void *p, size_t n, uint32_t id)
{
	const unsigned char *q = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (q[i] != (unsigned char)((id * 131u + i * 7u + (id >> 8)) ^ 0xa5))
			return false;
	return true;
}

static size_t
align_of_ptr(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return (size_t)(a & -a);
}

static void
alloc_every_small_size(void **state)
{
	struct tw_pool *pool = tw_pool_create();
	void *p[TW_POOL_MAX_SMALL + 1];
	size_t n;

	(void)state;
	assert_non_null(pool);
	for (n = 1; n <= TW_POOL_MAX_SMALL; n++) {
		p[n] = tw_pool_alloc(pool, n);
		assert_non_null(p[n]);
		assert_true(align_of_ptr(p[n]) >= 8);
		fill(p[n], n, (uint32_t)n);
	}
	for (n = 1; n <= TW_POOL_MAX_SMALL; n++)
		assert_true(check(p[n], n, (uint32_t)n));
	for (n = 1; n <= TW_POOL_MAX_SMALL; n++)
		tw_pool_free(pool, p[n], n);
	tw_pool_destroy(pool);
}

static void
alloc_large_sizes(void **state)
{
	static const size_t sizes[] = {
		TW_POOL_MAX_SMALL + 1, 129, 200, 4096, 65536 + 3, 1 << 20,
	};
	struct tw_pool *pool = tw_pool_create();
	void *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i, before;

	(void)state;
	assert_non_null(pool);
	before = tw_pool_chunk_bytes(pool);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = tw_pool_alloc(pool, sizes[i]);
		assert_non_null(p[i]);
		assert_true(align_of_ptr(p[i]) >= 16);
		fill(p[i], sizes[i], (uint32_t)i);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_true(check(p[i], sizes[i], (uint32_t)i));
	/* Large blocks come from malloc, not from chunks. */
	assert_int_equal(tw_pool_chunk_bytes(pool), before);
	/* Freed by tw_pool_free: LSan reports a leak otherwise. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		tw_pool_free(pool, p[i], sizes[i]);
	tw_pool_destroy(pool);
}

static void
free_null_is_noop(void **state)
{
	struct tw_pool *pool = tw_pool_create();
	void *p;

	(void)state;
	tw_pool_free(pool, NULL, 8);
	tw_pool_free(pool, NULL, 4096);
	/* The free list is not disturbed by the NULLs. */
	p = tw_pool_alloc(pool, 8);
	tw_pool_free(pool, p, 8);
	assert_ptr_equal(tw_pool_alloc(pool, 8), p);
	tw_pool_destroy(pool);
}

static void
reuse_is_lifo_per_class(void **state)
{
	struct tw_pool *pool = tw_pool_create();
	void *a, *b, *c;
	size_t n;

	(void)state;
	for (n = 1; n <= TW_POOL_MAX_SMALL; n++) {
		a = tw_pool_alloc(pool, n);
		b = tw_pool_alloc(pool, n);
		assert_ptr_not_equal(a, b);
		tw_pool_free(pool, a, n);
		tw_pool_free(pool, b, n);
		/* Last freed, first handed out again. */
		assert_ptr_equal(tw_pool_alloc(pool, n), b);
		assert_ptr_equal(tw_pool_alloc(pool, n), a);
		tw_pool_free(pool, a, n);
		tw_pool_free(pool, b, n);
	}
	/* Sizes of one 8-byte class share a list: 17..24. */
	a = tw_pool_alloc(pool, 17);
	tw_pool_free(pool, a, 17);
	assert_ptr_equal(tw_pool_alloc(pool, 24), a);
	tw_pool_free(pool, a, 24);
	/* Other classes do not see the block. */
	c = tw_pool_alloc(pool, 16);
	assert_ptr_not_equal(c, a);
	b = tw_pool_alloc(pool, 25);
	assert_ptr_not_equal(b, a);
	assert_ptr_equal(tw_pool_alloc(pool, 20), a);
	tw_pool_free(pool, a, 20);
	tw_pool_free(pool, b, 25);
	tw_pool_free(pool, c, 16);
	tw_pool_destroy(pool);
}

/* Count blocks of size sz handed out until the pool takes a second chunk:
 * nearly the whole first chunk must have been used by then. */
static void
check_growth_for(size_t sz)
{
	struct tw_pool *pool = tw_pool_create();
	size_t first, count = 1;
	size_t r = (sz + 7) / 8 * 8;	/* the block size of sz's class */

	assert_int_equal(tw_pool_chunk_bytes(pool), 0);
	assert_non_null(tw_pool_alloc(pool, sz));
	first = tw_pool_chunk_bytes(pool);
	assert_true(first >= 20 * r);
	for (;;) {
		assert_non_null(tw_pool_alloc(pool, sz));
		if (tw_pool_chunk_bytes(pool) != first)
			break;
		count++;
		assert_true(count * r <= first);
	}
	/* The chunk was exhausted before growing (less than one block
	 * of waste), and it grew by exactly one chunk. */
	assert_true(count * r + r > first);
	assert_int_equal(tw_pool_chunk_bytes(pool), 2 * first);
	tw_pool_destroy(pool);
}

static void
chunks_grow_only_when_needed(void **state)
{
	static const size_t sizes[] = { 1, 8, 24, 40, 96, 128 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_growth_for(sizes[i]);
}

static void
free_and_realloc_does_not_grow(void **state)
{
	enum { N = 3000 };
	struct tw_pool *pool = tw_pool_create();
	void **p = calloc(N, sizeof(*p));
	size_t i, bytes;
	int round;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < N; i++)
		p[i] = tw_pool_alloc(pool, 48);
	bytes = tw_pool_chunk_bytes(pool);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < N; i++)
			tw_pool_free(pool, p[i], 48);
		for (i = 0; i < N; i++) {
			p[i] = tw_pool_alloc(pool, 48);
			assert_non_null(p[i]);
		}
		assert_int_equal(tw_pool_chunk_bytes(pool), bytes);
	}
	free(p);
	tw_pool_destroy(pool);
}

/* The leftover tail of a chunk is not lost: when a 24-byte class fills
 * the first chunk, its last few bytes (first % 24, if a block fits) go to
 * the list of their size and are handed out from there. */
static void
chunk_leftover_is_used(void **state)
{
	struct tw_pool *pool = tw_pool_create();
	uintptr_t lo = UINTPTR_MAX, hi = 0, q;
	size_t first, rest;
	void *p;

	(void)state;
	p = tw_pool_alloc(pool, 24);
	first = tw_pool_chunk_bytes(pool);
	while (tw_pool_chunk_bytes(pool) == first) {
		q = (uintptr_t)p;
		lo = q < lo ? q : lo;
		hi = q > hi ? q : hi;
		p = tw_pool_alloc(pool, 24);
		assert_non_null(p);
	}
	/* p came from the second chunk. */
	rest = first % 24;
	if (rest >= 8) {
		q = (uintptr_t)tw_pool_alloc(pool, rest);
		assert_true(q >= lo && q + rest <= hi + 24 + rest);
		assert_true(q > hi);
		assert_int_equal(tw_pool_chunk_bytes(pool), 2 * first);
	}
	tw_pool_destroy(pool);
}

struct slot {
	unsigned char *p;
	size_t n;
	uint32_t id;
};

/* A fixed-seed LCG, so a failure reproduces. */
static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*s >> 33);
}

static void
random_model_never_overlaps(void **state)
{
	enum { NSLOTS = 1500, STEPS = 200000 };
	struct tw_pool *pool = tw_pool_create();
	struct slot *s = calloc(NSLOTS, sizeof(*s));
	uint64_t seed = 0x7477656275ULL;
	uint32_t next_id = 1;
	size_t i, live = 0;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < STEPS; i++) {
		struct slot *e = &s[rnd(&seed) % NSLOTS];

		if (e->p != NULL) {
			if (!check(e->p, e->n, e->id))
				fail_msg("block %u (%zu bytes) was overwritten "
					 "at step %zu", e->id, e->n, i);
			tw_pool_free(pool, e->p, e->n);
			e->p = NULL;
			live--;
			continue;
		}
		/* Mostly small, some just over the limit, a few large. */
		switch (rnd(&seed) % 10) {
		case 0:
			e->n = TW_POOL_MAX_SMALL + 1 + rnd(&seed) % 64;
			break;
		case 1:
			e->n = 1000 + rnd(&seed) % 5000;
			break;
		default:
			e->n = 1 + rnd(&seed) % TW_POOL_MAX_SMALL;
			break;
		}
		e->p = tw_pool_alloc(pool, e->n);
		assert_non_null(e->p);
		assert_true(align_of_ptr(e->p) >= (e->n > TW_POOL_MAX_SMALL ? 16 : 8));
		e->id = next_id++;
		fill(e->p, e->n, e->id);
		live++;
	}
	for (i = 0; i < NSLOTS; i++) {
		if (s[i].p == NULL)
			continue;
		assert_true(check(s[i].p, s[i].n, s[i].id));
		tw_pool_free(pool, s[i].p, s[i].n);
		live--;
	}
	assert_int_equal(live, 0);
	free(s);
	tw_pool_destroy(pool);
}

static void
destroy_with_small_blocks_out(void **state)
{
	struct tw_pool *pool = tw_pool_create();
	size_t i;

	(void)state;
	/* Several chunks' worth, none given back: destroy frees them all
	 * (LSan would report the chunks otherwise). */
	for (i = 0; i < 5000; i++)
		fill(tw_pool_alloc(pool, 1 + i % TW_POOL_MAX_SMALL),
		     1 + i % TW_POOL_MAX_SMALL, (uint32_t)i);
	assert_true(tw_pool_chunk_bytes(pool) > 0);
	tw_pool_destroy(pool);
	tw_pool_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alloc_every_small_size),
		cmocka_unit_test(alloc_large_sizes),
		cmocka_unit_test(free_null_is_noop),
		cmocka_unit_test(reuse_is_lifo_per_class),
		cmocka_unit_test(chunks_grow_only_when_needed),
		cmocka_unit_test(free_and_realloc_does_not_grow),
		cmocka_unit_test(chunk_leftover_is_used),
		cmocka_unit_test(random_model_never_overlaps),
		cmocka_unit_test(destroy_with_small_blocks_out),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
