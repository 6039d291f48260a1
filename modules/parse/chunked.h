/* SPDX-License-Identifier: MIT */
/*
 * chunked: an incremental decoder of the chunked transfer coding of a
 * request body (RFC 9112 7.1). Layer 2 (parsing): no I/O, no allocation;
 * the caller keeps a small state and feeds bytes as they arrive. It
 * finds where the body ends and counts its data bytes; it keeps none of
 * them (tinyweb reads request bodies only to discard them).
 */
#ifndef TW_CHUNKED_H
#define TW_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one chunk-size line (extensions included) or of the whole
 * trailer section: bounds the work spent on bytes that are not data. */
#define TW_CHUNKED_MAX_META	8192

/* Results of tw_chunked_feed() besides a negated HTTP status. */
enum tw_chunked_result {
	TW_CHUNKED_AGAIN = 0,	/* all bytes taken; the body goes on */
	TW_CHUNKED_DONE = 1,	/* the body ended inside these bytes */
};

struct tw_chunked {
	uint64_t size;		/* chunk-size being read, then data left */
	uint64_t total;		/* data bytes of the chunks so far */
	uint64_t limit;		/* more data than this: 413 */
	uint32_t meta;		/* bytes of this size line or trailer section */
	uint8_t state;
};

/* Start decoding a body whose chunk data may total limit bytes. */
void tw_chunked_init(struct tw_chunked *ck, uint64_t limit);

/*
 * Feed buf[0..len). Sets *consumed to the bytes taken and *body to the
 * chunk-data bytes among them. Returns TW_CHUNKED_DONE when the body ended
 * (its last CRLF is the last byte taken; bytes after it are the next
 * message's), TW_CHUNKED_AGAIN when all len bytes were taken and more are
 * needed, or a negated status: -400 for a malformed body (a chunk-size
 * that is not hex or does not fit 64 bits, a bad chunk extension, chunk
 * data not followed by CRLF, a bad trailer field line, a bare LF or CR
 * anywhere, a size line or trailer section over TW_CHUNKED_MAX_META),
 * -413 as soon as a chunk-size line would take the data past the limit.
 * Once DONE or an error, it stays so. Each byte is judged alone, so
 * feeding the bytes one at a time gives what feeding them whole gives.
 */
int tw_chunked_feed(struct tw_chunked *ck, const char *buf, size_t len,
		    size_t *consumed, size_t *body);

/* Chunk-data bytes that directly follow what was fed: the rest of the
 * chunk being read, or 0 when a size line, a CRLF or trailers come next
 * (a caller that forwards the data slices it out in place). */
uint64_t tw_chunked_data_left(const struct tw_chunked *ck);

#endif
