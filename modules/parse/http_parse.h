/* SPDX-License-Identifier: MIT */
/*
 * http_parse: the HTTP/1.x request parser and the parsers of header values
 * that tinyweb acts on (Content-Length, Transfer-Encoding, Range,
 * HTTP-date, entity-tag lists, token lists, Accept-Encoding). Layer 2
 * (parsing): takes bytes, returns slices into them; no I/O, no
 * allocation, knows nothing of sockets or files.
 */
#ifndef TW_HTTP_PARSE_H
#define TW_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TW_HTTP_MAX_LINE	8192	/* request line, CRLF included */
#define TW_HTTP_MAX_HEADER_BYTES 16384	/* header block after the line */
#define TW_HTTP_MAX_HEADERS	100

/* Results of tw_http_parse_request() other than a positive length. */
enum tw_http_parse_result {
	TW_PARSE_AGAIN = -2,		/* incomplete; call again with more */
	TW_PARSE_BAD = -400,		/* malformed: answer 400 */
	TW_PARSE_URI_TOO_LONG = -414,	/* request line over the limit */
	TW_PARSE_HEADERS_TOO_LARGE = -431, /* header bytes or count over */
	TW_PARSE_BAD_VERSION = -505,	/* HTTP/0.9, HTTP/2 and up */
};

struct tw_http_header {
	const char *name;
	size_t name_len;
	const char *value;	/* leading and trailing OWS stripped */
	size_t value_len;
};

struct tw_http_request {
	const char *method;
	size_t method_len;
	const char *target;	/* as sent, not decoded */
	size_t target_len;
	int minor;		/* 0 or 1: HTTP/1.minor */
	size_t nheaders;
	struct tw_http_header headers[TW_HTTP_MAX_HEADERS];
};

/*
 * Parse the request head at buf[0..len): request line and header fields up
 * to and including the empty line. Framing is strict, so that no proxy in
 * front of or behind us can see a different message in the same bytes:
 * every line, from any leading empty line through the empty line that
 * ends the head, must end in CRLF. A bare LF anywhere in the head is 400
 * (RFC 9112 2.2 allows a recipient to accept it; we don't), and so is a
 * bare CR. Up to 8 empty lines (CRLF) before the request line are
 * skipped, as RFC 9112 2.2 asks of a server; a 9th is 400. Obsolete line
 * folding (RFC 9112 5.2), whitespace before the colon, an empty field
 * name, control bytes other than HTAB in names or values, a method that
 * is not a token, or a request line whose parts are not separated by
 * exactly one SP are 400. The version must be "HTTP/1.0" or "HTTP/1.1"
 * (1.x above 1 reads as 1.1); "HTTP/0.9", "HTTP/2.0", "HTTP/3" and a
 * request line without a version give TW_PARSE_BAD_VERSION, anything
 * else not of the form HTTP/d.d (e.g. "http/1.1") is 400.
 * Content-Length and Transfer-Encoding are judged by the caller, with
 * tw_http_parse_content_length() and tw_http_transfer_encoding().
 *
 * A line is judged when its LF arrives, and the answer for a prefix of
 * the input other than TW_PARSE_AGAIN is the answer for every longer
 * input that starts with it: feeding the bytes one at a time gives what
 * feeding them whole gives.
 *
 * last_len is the length passed in the previous call for the same request
 * (0 the first time); it lets the parser answer AGAIN quickly when no new
 * line end arrived.
 *
 * Limits: a request line longer than TW_HTTP_MAX_LINE (also while still
 * incomplete) -> TW_PARSE_URI_TOO_LONG; header bytes beyond
 * TW_HTTP_MAX_HEADER_BYTES or more than TW_HTTP_MAX_HEADERS fields ->
 * TW_PARSE_HEADERS_TOO_LARGE (also while still incomplete).
 *
 * Returns the number of bytes of the head (> 0) and fills *req with slices
 * into buf, or one of enum tw_http_parse_result.
 */
int tw_http_parse_request(const char *buf, size_t len, size_t last_len,
			  struct tw_http_request *req);

/*
 * One field line line[0..n) (no CRLF): a token name, a colon, the value
 * with OWS around it stripped; whitespace before the colon, a leading
 * SP/HTAB (obs-fold) and control bytes other than HTAB are
 * TW_PARSE_BAD. For the heads of other messages (a response) parsed
 * with the request's rules. Returns 0 or TW_PARSE_BAD.
 */
int tw_http_parse_field_line(const char *line, size_t n,
			     struct tw_http_header *h);

/*
 * Find a header by case-insensitive name; returns the first match or NULL.
 */
const struct tw_http_header *
tw_http_find_header(const struct tw_http_request *req, const char *name);

/* Case-insensitive comparison of a slice with a NUL-terminated string. */
bool tw_http_token_eq(const char *s, size_t len, const char *lit);

/*
 * True if the comma-separated token list v[0..len) (Connection,
 * Transfer-Encoding) contains token, case-insensitively, ignoring OWS
 * and empty elements.
 */
bool tw_http_list_has(const char *v, size_t len, const char *token);

/* Results of tw_http_transfer_encoding(). */
enum tw_http_te {
	TW_TE_NONE,	/* no Transfer-Encoding field */
	TW_TE_CHUNKED,	/* chunked is the last coding, and the only chunked */
	TW_TE_UNKNOWN,	/* codings without chunked ("gzip", "identity") */
	TW_TE_BAD,	/* chunked not last or twice, or no coding at all */
};

/*
 * Judge the Transfer-Encoding fields of req, all of them taken as one
 * list in order (RFC 9110 5.3), codings compared case-insensitively,
 * empty elements ignored. The message framing is chunked only when
 * chunked is the final coding (RFC 9112 6.3); chunked anywhere else, or
 * applied twice (RFC 9112 6.1), means the body's end cannot be found:
 * TW_TE_BAD, as is a field with no coding in it. A coding with
 * parameters ("chunked;x=1") is not chunked. The codings before a final
 * chunked are not looked at.
 */
enum tw_http_te tw_http_transfer_encoding(const struct tw_http_request *req);

/* The same judgment over any message's fields (a response's). */
enum tw_http_te tw_http_te_of(const struct tw_http_header *fields, size_t n);

/*
 * True if v[0..len) is a valid Host value (RFC 9112 3.2, RFC 3986 3.2.2):
 * empty, or uri-host [":" port] where uri-host is a reg-name (unreserved,
 * pct-encoded, sub-delims), an IPv4 address, or a bracketed IP literal of
 * hex digits, ':' and '.', and port is digits.
 */
bool tw_http_host_valid(const char *v, size_t len);

/*
 * Parse a Content-Length value: 1*DIGIT, no sign, no spaces inside, at
 * most 2^63-1. A list of identical values ("5, 5") is accepted as RFC 9110
 * 8.6 allows. Returns 0 and sets *out, or -EINVAL.
 */
int tw_http_parse_content_length(const char *v, size_t len, uint64_t *out);

/*
 * Parse an HTTP-date in any of the three forms of RFC 9110 5.6.7
 * (IMF-fixdate, RFC 850, asctime). Returns 0 and sets *out (seconds since
 * the epoch, UTC), or -EINVAL for anything else, including out-of-range
 * fields (month 13, hour 24, day 32).
 */
int tw_http_parse_date(const char *v, size_t len, time_t *out);

#define TW_HTTP_MAX_RANGES 16

struct tw_http_range {
	uint64_t first;		/* inclusive */
	uint64_t last;		/* inclusive */
};

/* Results of tw_http_parse_range(). */
enum tw_http_range_result {
	TW_RANGE_NONE = 0,		/* ignore the header: send 200 */
	TW_RANGE_OK = 1,		/* *n ranges, sorted and merged */
	TW_RANGE_UNSATISFIABLE = 2,	/* answer 416 */
};

/*
 * Parse a Range header value against a representation of `size` bytes
 * (RFC 9110 14.1.2): "bytes=a-b", "a-", "-n", comma-separated. Numbers of
 * any length are handled without overflow (a first-byte-pos beyond 2^64
 * is simply past the end). An end past the end is clamped to size-1; a
 * suffix longer than the file means the whole file; "-0" is not
 * satisfiable. Ranges that start at or past the end are dropped; if none
 * remain the result is UNSATISFIABLE. Overlapping or adjacent ranges are
 * merged and the result sorted. A syntactically invalid value, a unit
 * other than "bytes", or more than TW_HTTP_MAX_RANGES ranges before
 * merging gives TW_RANGE_NONE (the header is ignored, as RFC 9110 allows).
 * For size 0 every valid range set is UNSATISFIABLE.
 */
enum tw_http_range_result
tw_http_parse_range(const char *v, size_t len, uint64_t size,
		    struct tw_http_range out[TW_HTTP_MAX_RANGES], size_t *n);

/*
 * True if the If-None-Match / If-Match style list v[0..len) matches etag
 * (a full quoted entity-tag such as "\"5f-1a2b\""). "*" matches anything.
 * weak: use weak comparison (W/ prefixes ignored on both sides, for
 * If-None-Match); otherwise strong comparison (a W/ tag never matches,
 * for If-Match and If-Range).
 */
bool tw_http_etag_match(const char *v, size_t len, const char *etag,
			size_t etag_len, bool weak);

/*
 * The q-value the Accept-Encoding value v[0..len) gives to coding
 * ("gzip", "br"), in thousandths: 0 if absent or q=0, 1000 if listed
 * without q. A "*" entry applies to codings not listed by name.
 */
int tw_http_accept_q(const char *v, size_t len, const char *coding);

/*
 * The q-value the Accept value v[0..len) gives to the media type type
 * ("application/json"), in thousandths: that of the most specific range
 * that matches it (the type itself, then its type with any subtype, then
 * any type; RFC 9110 12.5.1), 0 if none does. Parameters other than q
 * are not compared; malformed elements are skipped.
 */
int tw_http_accept_media_q(const char *v, size_t len, const char *type);

#endif /* TW_HTTP_PARSE_H */
