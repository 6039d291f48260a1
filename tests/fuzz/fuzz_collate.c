/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for collate: the input split at its first NUL (or in
 * half) gives two names; the order must be antisymmetric, zero exactly
 * for identical names, and the same whatever follows each name's length
 * (no reads past it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/collate.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
sign(int r)
{
	return (r > 0) - (r < 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t an = nul ? (size_t)(nul - data) : size / 2;
	const char *a = (const char *)data;
	const char *b = (const char *)data + an + (nul != NULL);
	size_t bn = size - an - (nul != NULL);
	char *ca, *cb;
	int ab, ba;

	/* Exact-size copies: ASan sees any read past a name. */
	ca = malloc(an ? an : 1);
	cb = malloc(bn ? bn : 1);
	if (ca == NULL || cb == NULL) {
		free(ca);
		free(cb);
		return 0;
	}
	memcpy(ca, a, an);
	memcpy(cb, b, bn);
	ab = tw_collate_natural(ca, an, cb, bn);
	ba = tw_collate_natural(cb, bn, ca, an);
	CHECK(sign(ab) == -sign(ba));
	CHECK((ab == 0) == (an == bn && memcmp(ca, cb, an) == 0));
	CHECK(tw_collate_natural(ca, an, ca, an) == 0);
	/* The whole input against its first name: a prefix comes first. */
	if (size > an)
		CHECK(tw_collate_natural(ca, an, a, size) != 0);
	free(ca);
	free(cb);
	return 0;
}
