/* SPDX-License-Identifier: MIT */
/*
 * http_response: the parser of an upstream's response head, and the
 * judgment of how its body is framed (RFC 9112 4, 6.3). As strict as
 * the request parser, for the same reason: the proxy must never frame a
 * message differently from the server behind it, or a response could
 * carry a second one to the client (response splitting). Layer 2: no I/O,
 * no allocation.
 */
#ifndef TW_HTTP_RESPONSE_H
#define TW_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/http_parse.h"

struct tw_http_response {
	int minor;		/* HTTP/1.minor: 0 or 1 */
	int status;		/* 100..599 */
	const char *reason;	/* may be empty */
	size_t reason_len;
	size_t nheaders;
	struct tw_http_header headers[TW_HTTP_MAX_HEADERS];
};

/*
 * Parse the response head at buf[0..len): the status line
 * ("HTTP/1.x SSS reason", the reason and the space before it optional)
 * and the field lines up to the empty line, every line ending in CRLF
 * (a bare LF or CR is TW_PARSE_BAD, as are obs-fold, whitespace before a
 * colon and control bytes). A status outside 100..599, a version other
 * than HTTP/1.0 or 1.1, or a head larger than max_bytes (or with more
 * than TW_HTTP_MAX_HEADERS fields: TW_PARSE_HEADERS_TOO_LARGE) is not
 * passed on. No empty lines are skipped before the status line.
 *
 * Returns the head's length (> 0) and fills *res with slices into buf,
 * TW_PARSE_AGAIN while incomplete, or TW_PARSE_BAD /
 * TW_PARSE_HEADERS_TOO_LARGE. The answer for a prefix other than AGAIN
 * is the answer for every longer input that starts with it.
 */
int tw_http_parse_response(const char *buf, size_t len, size_t max_bytes,
			   struct tw_http_response *res);

enum tw_http_body {
	TW_BODY_NONE,		/* 1xx, 204, 304, or the answer to HEAD */
	TW_BODY_LENGTH,		/* Content-Length bytes */
	TW_BODY_CHUNKED,	/* chunked, ends with its last chunk */
	TW_BODY_CLOSE,		/* until the upstream closes */
	TW_BODY_BAD,		/* cannot be framed safely: answer 502 */
};

/*
 * How the body of res is framed (RFC 9112 6.3), for a request that was
 * HEAD or not. Stricter than the RFC where it lets a recipient pick one
 * reading of an ambiguous message: Content-Length together with
 * Transfer-Encoding, Content-Length values that differ or do not parse,
 * and a Transfer-Encoding with chunked anywhere but last are all
 * TW_BODY_BAD. A Transfer-Encoding without chunked reads until close.
 * *length is set for TW_BODY_LENGTH.
 */
enum tw_http_body tw_http_response_body(const struct tw_http_response *res,
					bool head_request, uint64_t *length);

#endif /* TW_HTTP_RESPONSE_H */
