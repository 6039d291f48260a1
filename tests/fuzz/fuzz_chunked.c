/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for chunked: the decoder fed the input whole, one
 * byte at a time, in pieces of growing sizes and in pieces cut where the
 * input's own bytes say must agree on the result, the bytes taken and the
 * data bytes, and the results keep their documented invariants. The first byte picks the size limit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parse/chunked.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int ret;
	size_t consumed;
	size_t body;
};

/* Feed buf in pieces of at most step bytes (0: whole; the step grows
 * with the piece count so cuts fall everywhere; SIZE_MAX: each piece as
 * long as the low bits of its own first byte say, so the fuzzer picks
 * the cuts). */
static struct outcome
feed(const char *buf, size_t len, uint64_t limit, size_t step)
{
	struct tw_chunked ck;
	struct outcome o = { TW_CHUNKED_AGAIN, 0, 0 };
	size_t off = 0, n = 0;

	tw_chunked_init(&ck, limit);
	do {
		size_t piece = step == 0 ? len - off :
			       step == SIZE_MAX && off < len ?
			       1 + (size_t)((unsigned char)buf[off] % 16) :
			       step + n++ % 7;
		size_t consumed, body;

		if (piece > len - off)
			piece = len - off;
		o.ret = tw_chunked_feed(&ck, buf + off, piece, &consumed,
					&body);
		CHECK(consumed <= piece && body <= consumed);
		if (o.ret == TW_CHUNKED_AGAIN)
			CHECK(consumed == piece);
		off += consumed;
		o.consumed += consumed;
		o.body += body;
	} while (o.ret == TW_CHUNKED_AGAIN && off < len);
	CHECK(ck.total <= limit);
	CHECK(o.body <= ck.total);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	struct outcome whole, bytes, pieces, chosen;
	uint64_t limit;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* 0 .. 2^62 and no limit at all */
	limit = data[0] == 0xff ? UINT64_MAX : (uint64_t)1 << (data[0] % 63);
	whole = feed(buf, len, limit, 0);
	bytes = feed(buf, len, limit, 1);
	pieces = feed(buf, len, limit, 1 + data[0] % 5);
	chosen = feed(buf, len, limit, SIZE_MAX);
	CHECK(whole.ret == bytes.ret && whole.ret == pieces.ret &&
	      whole.ret == chosen.ret);
	CHECK(whole.consumed == bytes.consumed &&
	      whole.consumed == pieces.consumed &&
	      whole.consumed == chosen.consumed);
	CHECK(whole.body == bytes.body && whole.body == pieces.body &&
	      whole.body == chosen.body);
	switch (whole.ret) {
	case TW_CHUNKED_AGAIN:
		CHECK(whole.consumed == len);
		break;
	case TW_CHUNKED_DONE:
		/* ends in the CRLF CRLF of the last chunk or a trailer */
		CHECK(whole.consumed >= 5);
		CHECK(buf[whole.consumed - 1] == '\n' &&
		      buf[whole.consumed - 2] == '\r' &&
		      buf[whole.consumed - 3] == '\n' &&
		      buf[whole.consumed - 4] == '\r');
		break;
	case -400:
	case -413:
		/* the refused byte is in the input */
		CHECK(whole.consumed < len);
		break;
	default:
		CHECK(0);
	}
	return 0;
}
