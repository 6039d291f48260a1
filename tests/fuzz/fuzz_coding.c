/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for coding: any Accept-Encoding value parses, every
 * q-value lies in 0..1000, and the choice is an offered coding with q
 * above 0 and no offered coding has more (identity not named by the
 * client is only a fallback), or NONE only when every offered one has
 * q 0. The first byte picks the offered set and whether the header is
 * there.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parse/coding.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_coding_accept a;
	unsigned offered, i;
	int c, best = 0;

	if (size == 0)
		return 0;
	offered = data[0] & ((1u << TW_CODING_COUNT) - 1);
	tw_coding_parse(data[0] & 0x80 ? NULL : (const char *)data + 1,
			size - 1, &a);
	for (i = 0; i < TW_CODING_COUNT; i++) {
		int q = tw_coding_q(&a, (enum tw_coding)i);

		CHECK(q >= 0 && q <= 1000);
		if ((offered & TW_CODING_BIT(i)) && q > best)
			best = q;
	}
	c = tw_coding_choose(&a, offered);
	if (best == 0) {
		CHECK(c == TW_CODING_NONE);
		return 0;
	}
	CHECK(c >= 0 && c < TW_CODING_COUNT);
	CHECK(offered & TW_CODING_BIT(c));
	CHECK(tw_coding_q(&a, (enum tw_coding)c) > 0);
	if (c != TW_CODING_IDENTITY)
		CHECK(tw_coding_q(&a, (enum tw_coding)c) == best ||
		      (offered & TW_CODING_BIT(TW_CODING_IDENTITY)));
	return 0;
}
