/* SPDX-License-Identifier: MIT */
/*
 * coding: content-coding negotiation (RFC 9110 12.5.3). Reads an
 * Accept-Encoding value into a q-value per coding tinyweb knows, and
 * picks the coding to send among those a response has: the highest q
 * wins, ties go to the server's preference (br, zstd, gzip, identity),
 * q=0 refuses a coding, and identity is refused only by "identity;q=0"
 * or a "*;q=0" that does not name identity. Layer 2: no I/O, no
 * allocation.
 */
#ifndef TW_CODING_H
#define TW_CODING_H

#include <stdbool.h>
#include <stddef.h>

enum tw_coding {
	TW_CODING_IDENTITY,
	TW_CODING_GZIP,
	TW_CODING_BR,
	TW_CODING_ZSTD,
	TW_CODING_COUNT
};

#define TW_CODING_NONE	(-1)	/* nothing offered is acceptable: 406 */
#define TW_CODING_BIT(c)	(1u << (c))

/* What one Accept-Encoding header asks for. */
struct tw_coding_accept {
	short q[TW_CODING_COUNT];	/* thousandths as named; -1: not named */
	short star;			/* "*"'s q; -1: no "*" */
	bool present;			/* the request had the header */
};

/*
 * Read the Accept-Encoding value v[0..len) into a; v NULL: the request
 * had none (identity is then the answer, as nginx and caddy give: a
 * client that names no coding is not trusted to decode one). The first
 * mention of a coding counts; "x-gzip" is gzip; malformed elements are
 * skipped.
 */
void tw_coding_parse(const char *v, size_t len, struct tw_coding_accept *a);

/* The q-value, in thousandths, a gives to coding c after "*" and the
 * implicit acceptability of identity are applied; 0: refused. */
int tw_coding_q(const struct tw_coding_accept *a, enum tw_coding c);

/*
 * The coding to send: among offered (TW_CODING_BIT()s; identity's bit
 * when the plain bytes can be sent) the one with the highest q above
 * 0, ties broken by the server's preference. TW_CODING_NONE when none
 * is acceptable.
 */
int tw_coding_choose(const struct tw_coding_accept *a, unsigned offered);

/* "gzip", "br", "zstd", "identity". */
const char *tw_coding_name(enum tw_coding c);

/* The entity-tag suffix of a coding's variant ("-gz"; "" for identity):
 * each variant has its own tag (RFC 9110 8.8.3). */
const char *tw_coding_etag_suffix(enum tw_coding c);

#endif /* TW_CODING_H */
