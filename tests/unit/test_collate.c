/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for collate: natural order, case folding, code point order,
 * invalid bytes, and that the order is total and consistent (every pair
 * of a list compares as its position says).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parse/collate.h"

static int
cmp(const char *a, const char *b)
{
	return tw_collate_natural(a, strlen(a), b, strlen(b));
}

static int
sign(int r)
{
	return (r > 0) - (r < 0);
}

/* Each row: a before b. */
static const struct {
	const char *a;
	const char *b;
} before[] = {
	{ "file2", "file10" },
	{ "file9.txt", "file10.txt" },
	{ "a1b2", "a1b10" },
	{ "x2y", "x10" },
	{ "2", "10" },
	{ "9", "10" },
	{ "99", "100" },
	{ "v1.9", "v1.10" },
	{ "img_0009", "img_10" },
	{ "18446744073709551615", "18446744073709551616" },	/* no overflow */
	{ "99999999999999999999999", "100000000000000000000000" },
	/* Leading zeros: equal values, bytes decide ('0' < '1'). */
	{ "01", "1" },
	{ "a01b", "a1b" },
	{ "a", "B" },
	{ "A", "b" },
	{ "apple", "Banana" },
	{ "Apple", "apple" },			/* tie: bytes ('A' < 'a') */
	{ "abc", "abcd" },
	{ "", "a" },
	{ "a", "a0" },
	{ "file", "file1" },
	{ "file-1", "file1" },			/* '-' < '1' */
	{ "file1", "file_1" },			/* '1' < '_' */
	{ "z", "\xc3\xa9" },			/* é after every ASCII letter */
	{ "\xc3\xa9" "a", "\xc3\x89" "b" },	/* é = É, then a < b */
	{ "\xc3\x89", "\xc3\xa9" },		/* É before é as a tie */
	{ "\xd0\x90" "2", "\xd0\xb0" "10" },	/* Cyrillic А = а, 2 < 10 */
	{ "\xce\x91" "a", "\xce\xb1" "b" },	/* Greek Α = α */
	{ "\xc4\x80" "1", "\xc4\x81" "2" },	/* Ā = ā */
	{ "\xe4\xb8\xad", "\xf0\x9f\x98\x80" },	/* 中 U+4E2D < 😀 */
	{ "\xf0\x9f\x98\x80", "\xff" },		/* invalid bytes last */
	{ "a\xef\xbf\xbf", "a\x80" },
	{ "\xee\x80\x80" "x", "\xed\xa0\x80" },	/* a surrogate is invalid */
	{ "long-common-prefix-0009", "long-common-prefix-0010" },
	{ "long-common-prefix-\xc3\xa9", "long-common-prefix-\xc3\xaa" },
	{ "long-common-prefix-19", "long-common-prefix-100" },
	{ "Long-Common-Prefix-2", "long-common-prefix-10" },
};

static void
natural_order_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		if (cmp(before[i].a, before[i].b) >= 0)
			fail_msg("row %zu: \"%s\" not before \"%s\"", i,
				 before[i].a, before[i].b);
		if (cmp(before[i].b, before[i].a) <= 0)
			fail_msg("row %zu: \"%s\" not after \"%s\"", i,
				 before[i].b, before[i].a);
	}
}

static void
equal_only_when_identical(void **state)
{
	static const char *const names[] = {
		"", "a", "A", "file10", "\xc3\xa9", "\xff", "01", "1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(cmp(names[i], names[i]), 0);
	assert_int_not_equal(cmp("a", "A"), 0);
	assert_int_not_equal(cmp("01", "1"), 0);
	assert_int_not_equal(cmp("x01y", "x1y"), 0);
	/* Lengths are given: bytes past them do not count. */
	assert_int_equal(tw_collate_natural("abc", 2, "abd", 2), 0);
	assert_true(tw_collate_natural("a\0b", 3, "a\0c", 3) < 0);
}

/* A list in the expected order: every pair compares as placed, so the
 * order is total and transitive over it. */
static void
sorted_list_is_consistent(void **state)
{
	static const char *const list[] = {
		"", "!", "-", "0", "00", "1", "01x", "1x", "2", "02a", "9",
		"10", "010b", "99", "100", "a", "A1", "a1", "a01b", "a1b",
		"a2", "A10", "a10", "aa", "Ab", "b", "file", "file-2",
		"file2", "file10", "file_1", "Z", "z0", "\xc3\x80", "\xc3\xa0",
		"\xc3\xa9", "\xce\x91", "\xce\xb1", "\xd0\x90", "\xe4\xb8\xad",
		"\xf0\x9f\x98\x80", "\x80", "\xff",
	};
	size_t n = sizeof(list) / sizeof(list[0]), i, j;

	(void)state;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int want = sign((int)i - (int)j);
			int got = sign(cmp(list[i], list[j]));

			if (got != want)
				fail_msg("\"%s\" vs \"%s\": %d, want %d",
					 list[i], list[j], got, want);
		}
	}
}

static void
fold_vectors(void **state)
{
	(void)state;
	assert_int_equal(tw_collate_fold('A'), 'a');
	assert_int_equal(tw_collate_fold('Z'), 'z');
	assert_int_equal(tw_collate_fold('a'), 'a');
	assert_int_equal(tw_collate_fold('@'), '@');
	assert_int_equal(tw_collate_fold('['), '[');
	assert_int_equal(tw_collate_fold(0xc9), 0xe9);		/* É */
	assert_int_equal(tw_collate_fold(0xd7), 0xd7);		/* × */
	assert_int_equal(tw_collate_fold(0xdf), 0xdf);		/* ß */
	assert_int_equal(tw_collate_fold(0x100), 0x101);	/* Ā */
	assert_int_equal(tw_collate_fold(0x101), 0x101);
	assert_int_equal(tw_collate_fold(0x141), 0x142);	/* Ł */
	assert_int_equal(tw_collate_fold(0x142), 0x142);
	assert_int_equal(tw_collate_fold(0x160), 0x161);	/* Š */
	assert_int_equal(tw_collate_fold(0x178), 0xff);		/* Ÿ */
	assert_int_equal(tw_collate_fold(0x17d), 0x17e);	/* Ž */
	assert_int_equal(tw_collate_fold(0x391), 0x3b1);	/* Α */
	assert_int_equal(tw_collate_fold(0x3a3), 0x3c3);	/* Σ */
	assert_int_equal(tw_collate_fold(0x3c2), 0x3c3);	/* ς */
	assert_int_equal(tw_collate_fold(0x410), 0x430);	/* А */
	assert_int_equal(tw_collate_fold(0x401), 0x451);	/* Ё */
	assert_int_equal(tw_collate_fold(0xff21), 0xff41);	/* Ａ */
	assert_int_equal(tw_collate_fold(0x4e2d), 0x4e2d);
}

static int
qsort_cmp(const void *a, const void *b)
{
	return cmp(*(const char *const *)a, *(const char *const *)b);
}

/* What a person expects of a directory of numbered files. */
static void
sorts_a_directory(void **state)
{
	const char *names[] = {
		"IMG_10.jpg", "img_2.jpg", "IMG_1.jpg", "notes.txt",
		"Notes (2).txt", "img_100.jpg", "IMG_20.jpg",
	};
	static const char *const want[] = {
		"IMG_1.jpg", "img_2.jpg", "IMG_10.jpg", "IMG_20.jpg",
		"img_100.jpg", "Notes (2).txt", "notes.txt",
	};
	size_t i, n = sizeof(names) / sizeof(names[0]);

	(void)state;
	qsort(names, n, sizeof(names[0]), qsort_cmp);
	for (i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(natural_order_vectors),
		cmocka_unit_test(equal_only_when_identical),
		cmocka_unit_test(sorted_list_is_consistent),
		cmocka_unit_test(fold_vectors),
		cmocka_unit_test(sorts_a_directory),
	};

	return cmocka_run_group_tests_name("collate", tests, NULL, NULL);
}
