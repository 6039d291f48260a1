/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for throttle (the shared failure table) and siphash (its
 * callers' keyed hash): limits, decay, clearing, eviction when the
 * table is full, and SipHash-2-4's reference vectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"
#include "base/throttle.h"

static struct tw_throttle *
table(void)
{
	void *mem = calloc(1, tw_throttle_size());

	assert_non_null(mem);
	return tw_throttle_init(mem);
}

static void
limit_then_wait(void **state)
{
	struct tw_throttle *t = table();
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(tw_throttle_wait(t, 42, 1000 + i, 5, 60), 0);
		tw_throttle_fail(t, 42, 1000 + i, 60);
	}
	assert_int_equal(tw_throttle_wait(t, 42, 1004, 5, 60), 0);
	tw_throttle_fail(t, 42, 1004, 60);
	/* five failures: wait the period out from the last one */
	assert_int_equal(tw_throttle_wait(t, 42, 1004, 5, 60), 60);
	assert_int_equal(tw_throttle_wait(t, 42, 1034, 5, 60), 30);
	assert_int_equal(tw_throttle_wait(t, 42, 1064, 5, 60), 0);
	/* another key is not held back */
	assert_int_equal(tw_throttle_wait(t, 43, 1004, 5, 60), 0);
	/* limit 0: never */
	assert_int_equal(tw_throttle_wait(t, 42, 1004, 0, 60), 0);
	free(t);
}

static void
counts_decay(void **state)
{
	struct tw_throttle *t = table();
	int i;

	(void)state;
	/* failures further apart than the period never add up */
	for (i = 0; i < 10; i++)
		tw_throttle_fail(t, 7, 1000 + 61 * (uint64_t)i, 60);
	assert_int_equal(tw_throttle_wait(t, 7, 1000 + 61 * 9, 2, 60), 0);
	free(t);
}

static void
success_clears(void **state)
{
	struct tw_throttle *t = table();
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		tw_throttle_fail(t, 9, 100, 60);
	tw_throttle_clear(t, 9);
	tw_throttle_fail(t, 9, 100, 60);
	assert_int_equal(tw_throttle_wait(t, 9, 100, 2, 60), 0);
	tw_throttle_fail(t, 9, 100, 60);
	assert_int_equal(tw_throttle_wait(t, 9, 100, 2, 60), 60);
	free(t);
}

/* Keys that share a probe (same bits above 17) beyond its length: the
 * one idle longest gives way, the newest keeps its count. */
static void
full_probe_evicts_oldest(void **state)
{
	struct tw_throttle *t = table();
	uint64_t k;

	(void)state;
	for (k = 0; k < TW_THROTTLE_PROBE; k++) {
		uint64_t key = (5ull << 17) | (k << 1);

		tw_throttle_fail(t, key, 100 + k, 60);
		tw_throttle_fail(t, key, 100 + k, 60);
	}
	/* a key of the same probe: the first (oldest) key makes room */
	tw_throttle_fail(t, (5ull << 17) | 0x100, 200, 60);
	tw_throttle_fail(t, (5ull << 17) | 0x100, 200, 60);
	assert_int_equal(tw_throttle_wait(t, (5ull << 17) | 0x100, 200, 2,
					  60), 60);
	assert_int_equal(tw_throttle_wait(t, 5ull << 17, 200, 2, 60), 0);
	assert_int_not_equal(tw_throttle_wait(t, (5ull << 17) | (7 << 1),
					      150, 2, 60), 0);
	free(t);
}

/* The reference implementation's vectors: key 00..0f, messages 00..n-1
 * (vectors.h of github.com/veorq/SipHash, as little-endian words). */
static void
siphash_reference(void **state)
{
	static const uint64_t want[] = {
		0x726fdb47dd0e0e31ull,	/* "" */
		0x74f839c593dc67fdull,	/* 00 */
		0x0d6c8009d9a94f5aull,	/* 00 01 */
	};
	const uint64_t k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char m[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m); i++)
		m[i] = (unsigned char)i;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(tw_siphash(k, m, i), want[i]);
	/* 15 bytes: the last vector of the paper's appendix */
	assert_int_equal(tw_siphash(k, m, 15), 0xa129ca6149be45e5ull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limit_then_wait),
		cmocka_unit_test(counts_decay),
		cmocka_unit_test(success_clears),
		cmocka_unit_test(full_probe_evicts_oldest),
		cmocka_unit_test(siphash_reference),
	};

	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
