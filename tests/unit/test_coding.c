/* SPDX-License-Identifier: MIT */
/* Unit tests for coding: Accept-Encoding negotiation, as a table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parse/coding.h"

#define ID	TW_CODING_BIT(TW_CODING_IDENTITY)
#define GZ	TW_CODING_BIT(TW_CODING_GZIP)
#define BR	TW_CODING_BIT(TW_CODING_BR)
#define ZS	TW_CODING_BIT(TW_CODING_ZSTD)
#define ALL	(ID | GZ | BR | ZS)

static const struct {
	const char *ae;		/* NULL: no header */
	unsigned offered;
	int want;
} vecs[] = {
	/* No header: identity, though any coding is offered. */
	{ NULL, ALL, TW_CODING_IDENTITY },
	{ NULL, GZ, TW_CODING_NONE },
	/* Empty value: identity only (RFC 9110 12.5.3). */
	{ "", ALL, TW_CODING_IDENTITY },
	{ "gzip", ALL, TW_CODING_GZIP },
	{ "gzip", ID, TW_CODING_IDENTITY },
	{ "x-gzip", ALL, TW_CODING_GZIP },
	{ "GZip", ALL, TW_CODING_GZIP },
	/* Ties: the server's preference, br before zstd before gzip. */
	{ "gzip, deflate, br", ALL, TW_CODING_BR },
	{ "gzip, deflate, br, zstd", ALL, TW_CODING_BR },
	{ "gzip, zstd", ALL, TW_CODING_ZSTD },
	{ "gzip, zstd", ID | GZ, TW_CODING_GZIP },
	/* The client's q beats the server's preference. */
	{ "br;q=0.5, gzip", ALL, TW_CODING_GZIP },
	{ "br;q=0.5, gzip;q=0.6", ALL, TW_CODING_GZIP },
	{ "br;q=0.5, gzip;q=0.5", ALL, TW_CODING_BR },
	/* Identity not named is a fallback, not a rival at q=1. */
	{ "gzip;q=0.2", ALL, TW_CODING_GZIP },
	{ "gzip;q=0.2, *;q=0.5", ID | GZ, TW_CODING_IDENTITY },
	{ "zstd;q=0.001, identity;q=0.0009", ALL, TW_CODING_ZSTD },
	/* Identity without q outranks a coding the client gave less. */
	{ "gzip;q=0.5, identity", ALL, TW_CODING_IDENTITY },
	/* q=0 refuses. */
	{ "gzip;q=0", ALL, TW_CODING_IDENTITY },
	{ "gzip; q=0.000", ALL, TW_CODING_IDENTITY },
	{ "br;q=0, gzip", ALL, TW_CODING_GZIP },
	/* "*" covers what is not named, identity included. */
	{ "*", ALL, TW_CODING_BR },
	{ "*;q=0.5, gzip", ALL, TW_CODING_GZIP },
	{ "*, br;q=0", ALL, TW_CODING_ZSTD },
	/* Identity refused: a coding, or nothing (406). */
	{ "identity;q=0", ALL, TW_CODING_NONE },
	{ "gzip, identity;q=0", ALL, TW_CODING_GZIP },
	{ "gzip, identity;q=0", ID | BR, TW_CODING_NONE },
	{ "*;q=0", ALL, TW_CODING_NONE },
	{ "*;q=0, identity", ALL, TW_CODING_IDENTITY },
	{ "*;q=0, gzip", ID | GZ, TW_CODING_GZIP },
	{ "gzip;q=0, identity;q=0", ID | GZ, TW_CODING_NONE },
	/* The first mention counts. */
	{ "gzip;q=0, gzip", ALL, TW_CODING_IDENTITY },
	{ "gzip, x-gzip;q=0", ALL, TW_CODING_GZIP },
	/* Malformed elements are skipped, the rest still count. */
	{ "gzip;q=2", ALL, TW_CODING_IDENTITY },
	{ "gzip;q=abc, br", ALL, TW_CODING_BR },
	{ ";q=1, zstd", ALL, TW_CODING_ZSTD },
	{ "br;;, gzip", ALL, TW_CODING_GZIP },
	{ "deflate, compress", ALL, TW_CODING_IDENTITY },
	{ "brotli, gz, zst", ALL, TW_CODING_IDENTITY },
	{ " , ,gzip , ", ALL, TW_CODING_GZIP },
	/* Nothing offered. */
	{ "gzip", 0, TW_CODING_NONE },
};

static void
choose_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct tw_coding_accept a;
		int got;

		tw_coding_parse(vecs[i].ae,
				vecs[i].ae ? strlen(vecs[i].ae) : 0, &a);
		got = tw_coding_choose(&a, vecs[i].offered);
		if (got != vecs[i].want)
			fail_msg("'%s' offered %#x: got %d, want %d",
				 vecs[i].ae ? vecs[i].ae : "(none)",
				 vecs[i].offered, got, vecs[i].want);
	}
}

static void
q_values(void **state)
{
	struct tw_coding_accept a;
	const char *v = "br;q=0.25, *;q=0.5";

	(void)state;
	tw_coding_parse(v, strlen(v), &a);
	assert_int_equal(tw_coding_q(&a, TW_CODING_BR), 250);
	assert_int_equal(tw_coding_q(&a, TW_CODING_GZIP), 500);
	assert_int_equal(tw_coding_q(&a, TW_CODING_IDENTITY), 500);
	tw_coding_parse(NULL, 0, &a);
	assert_int_equal(tw_coding_q(&a, TW_CODING_GZIP), 0);
	assert_int_equal(tw_coding_q(&a, TW_CODING_IDENTITY), 1000);
}

static void
names_and_suffixes(void **state)
{
	(void)state;
	assert_string_equal(tw_coding_name(TW_CODING_GZIP), "gzip");
	assert_string_equal(tw_coding_name(TW_CODING_ZSTD), "zstd");
	assert_string_equal(tw_coding_etag_suffix(TW_CODING_GZIP), "-gz");
	assert_string_equal(tw_coding_etag_suffix(TW_CODING_BR), "-br");
	assert_string_equal(tw_coding_etag_suffix(TW_CODING_IDENTITY), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(choose_vectors),
		cmocka_unit_test(q_values),
		cmocka_unit_test(names_and_suffixes),
	};

	return cmocka_run_group_tests_name("coding", tests, NULL, NULL);
}
