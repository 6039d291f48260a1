/* SPDX-License-Identifier: MIT */
/*
 * http_response: an upstream's response head and its framing. Layer 2.
 */
#include "parse/http_response.h"

#include <errno.h>
#include <string.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] (RFC 9112 4). The space
 * before an empty reason is required by the grammar but often missing;
 * either way the status line ends at the same CRLF, so accepting both
 * frames nothing differently. */
static int
parse_status_line(const char *line, size_t n, struct tw_http_response *res)
{
	size_t i;

	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ')
		return TW_PARSE_BAD;
	res->minor = line[7] - '0';
	if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]))
		return TW_PARSE_BAD;
	res->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
		      (line[11] - '0');
	if (res->status < 100 || res->status > 599)
		return TW_PARSE_BAD;
	res->reason = line + n;
	res->reason_len = 0;
	if (n == 12)
		return 0;
	if (line[12] != ' ')
		return TW_PARSE_BAD;
	for (i = 13; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		/* HTAB, SP, VCHAR, obs-text. */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return TW_PARSE_BAD;
	}
	res->reason = line + 13;
	res->reason_len = n - 13;
	return 0;
}

int
tw_http_parse_response(const char *buf, size_t len, size_t max_bytes,
		       struct tw_http_response *res)
{
	const char *lf;
	size_t p = 0, end, eol;
	bool first = true;
	int err;

	res->nheaders = 0;
	for (;;) {
		lf = p < len ? memchr(buf + p, '\n', len - p) : NULL;
		end = lf ? (size_t)(lf - buf) + 1 : len;
		/* The limit before the syntax, line by line, so a prefix's
		 * answer holds for every longer input. */
		if (end > max_bytes)
			return TW_PARSE_HEADERS_TOO_LARGE;
		if (lf == NULL)
			return TW_PARSE_AGAIN;
		eol = end - 1;
		if (eol == p || buf[eol - 1] != '\r')
			return TW_PARSE_BAD;	/* bare LF */
		eol--;
		if (first) {
			err = parse_status_line(buf + p, eol - p, res);
			if (err)
				return err;
			first = false;
		} else {
			if (eol == p)
				return (int)end;
			if (res->nheaders == TW_HTTP_MAX_HEADERS)
				return TW_PARSE_HEADERS_TOO_LARGE;
			err = tw_http_parse_field_line(buf + p, eol - p,
					&res->headers[res->nheaders]);
			if (err)
				return err;
			res->nheaders++;
		}
		p = end;
	}
}

enum tw_http_body
tw_http_response_body(const struct tw_http_response *res, bool head_request,
		      uint64_t *length)
{
	const struct tw_http_header *cl = NULL;
	enum tw_http_te te;
	uint64_t n = 0, v;
	size_t i;

	/* Every Content-Length field, not only the first: two that differ
	 * are two framings of one message. */
	for (i = 0; i < res->nheaders; i++) {
		const struct tw_http_header *h = &res->headers[i];

		if (!tw_http_token_eq(h->name, h->name_len, "Content-Length"))
			continue;
		if (tw_http_parse_content_length(h->value, h->value_len,
						 &v) < 0 ||
		    (cl != NULL && v != n))
			return TW_BODY_BAD;
		cl = h;
		n = v;
	}
	te = tw_http_te_of(res->headers, res->nheaders);
	if (te == TW_TE_BAD || (te != TW_TE_NONE && cl != NULL))
		return TW_BODY_BAD;
	if (head_request || res->status < 200 || res->status == 204 ||
	    res->status == 304)
		return TW_BODY_NONE;
	if (te == TW_TE_CHUNKED)
		return TW_BODY_CHUNKED;
	if (te == TW_TE_UNKNOWN || cl == NULL)
		return TW_BODY_CLOSE;
	*length = n;
	return TW_BODY_LENGTH;
}
