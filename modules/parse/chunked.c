/* SPDX-License-Identifier: MIT */
#include "parse/chunked.h"

#include <string.h>

/*
 * One state per place in the grammar (RFC 9112 7.1, 7.1.1, 7.1.2):
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val      = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 *
 * Every byte but chunk data moves the machine one step, so where the
 * input is cut never changes the answer.
 */
enum {
	S_SIZE0,	/* first hex digit of a chunk-size */
	S_SIZE,		/* more hex digits */
	S_EXT_WS,	/* BWS before ";" */
	S_NAME_WS,	/* BWS after ";" */
	S_NAME,		/* ext-name */
	S_NAME_END,	/* BWS after ext-name: "=" or ";" next */
	S_VAL_WS,	/* BWS after "=" */
	S_VAL,		/* ext-val as a token */
	S_QUOTED,	/* inside a quoted-string */
	S_QUOTED_PAIR,	/* after a backslash in it */
	S_QUOTED_END,	/* after the closing quote */
	S_SIZE_LF,	/* CR of the size line seen */
	S_DATA,		/* chunk data, size bytes left */
	S_DATA_CR,	/* CRLF after the data */
	S_DATA_LF,
	S_TRAILER,	/* start of a field line, or the final CRLF */
	S_FIELD_NAME,
	S_FIELD_VALUE,
	S_FIELD_LF,
	S_END_LF,	/* the last LF of the body */
	S_DONE,
	S_BAD,		/* 400 */
	S_TOO_LARGE,	/* 413 */
};

static int
is_tchar(unsigned char c)
{
	/* RFC 9110 5.6.2 */
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Field-value bytes (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB. */
static int
is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

void
tw_chunked_init(struct tw_chunked *ck, uint64_t limit)
{
	memset(ck, 0, sizeof(*ck));
	ck->limit = limit;
	ck->state = S_SIZE0;
}

/* The size line ended: the chunk's data next, or the trailer section. */
static uint8_t
size_line_done(struct tw_chunked *ck)
{
	ck->meta = 0;
	if (ck->size == 0)
		return S_TRAILER;
	if (ck->size > ck->limit - ck->total)
		return S_TOO_LARGE;
	ck->total += ck->size;
	return S_DATA;
}

/* After an ext-name and any BWS: "=", ";" or more BWS. */
static uint8_t
after_name(unsigned char c)
{
	if (c == ' ' || c == '\t')
		return S_NAME_END;
	if (c == '=')
		return S_VAL_WS;
	return c == ';' ? S_NAME_WS : S_BAD;
}

/* After a whole extension: BWS and the next ";", or the line's end. */
static uint8_t
after_ext(unsigned char c)
{
	if (c == ' ' || c == '\t')
		return S_EXT_WS;
	if (c == ';')
		return S_NAME_WS;
	return c == '\r' ? S_SIZE_LF : S_BAD;
}

/* One byte that is not chunk data: the next state. */
static uint8_t
step(struct tw_chunked *ck, unsigned char c)
{
	int h;

	switch (ck->state) {
	case S_SIZE0:
		if ((h = hex_value(c)) < 0)
			return S_BAD;
		ck->size = (uint64_t)h;
		return S_SIZE;
	case S_SIZE:
		if ((h = hex_value(c)) >= 0) {
			/* Leading zeros are fine; a 17th digit that counts
			 * is not. */
			if (ck->size > UINT64_MAX >> 4)
				return S_BAD;
			ck->size = ck->size << 4 | (uint64_t)h;
			return S_SIZE;
		}
		if (c == ' ' || c == '\t')
			return S_EXT_WS;
		if (c == ';')
			return S_NAME_WS;
		return c == '\r' ? S_SIZE_LF : S_BAD;
	case S_EXT_WS:
		if (c == ' ' || c == '\t')
			return S_EXT_WS;
		return c == ';' ? S_NAME_WS : S_BAD;
	case S_NAME_WS:
		if (c == ' ' || c == '\t')
			return S_NAME_WS;
		return is_tchar(c) ? S_NAME : S_BAD;
	case S_NAME:
		if (is_tchar(c))
			return S_NAME;
		if (c == '\r')
			return S_SIZE_LF;
		return after_name(c);
	case S_NAME_END:
		/* BWS only ever comes before "=" or ";". */
		return after_name(c);
	case S_VAL_WS:
		if (c == ' ' || c == '\t')
			return S_VAL_WS;
		if (c == '"')
			return S_QUOTED;
		return is_tchar(c) ? S_VAL : S_BAD;
	case S_VAL:
		if (is_tchar(c))
			return S_VAL;
		return after_ext(c);
	case S_QUOTED_END:
		return after_ext(c);
	case S_QUOTED:
		/* qdtext: HTAB, SP, VCHAR but " and \, obs-text */
		if (c == '"')
			return S_QUOTED_END;
		if (c == '\\')
			return S_QUOTED_PAIR;
		return is_field_char(c) ? S_QUOTED : S_BAD;
	case S_QUOTED_PAIR:
		return is_field_char(c) ? S_QUOTED : S_BAD;
	case S_SIZE_LF:
		return c == '\n' ? size_line_done(ck) : S_BAD;
	case S_DATA_CR:
		return c == '\r' ? S_DATA_LF : S_BAD;
	case S_DATA_LF:
		return c == '\n' ? S_SIZE0 : S_BAD;
	case S_TRAILER:
		if (c == '\r')
			return S_END_LF;
		return is_tchar(c) ? S_FIELD_NAME : S_BAD;
	case S_FIELD_NAME:
		if (is_tchar(c))
			return S_FIELD_NAME;
		/* No whitespace before the colon (RFC 9112 5.1). */
		return c == ':' ? S_FIELD_VALUE : S_BAD;
	case S_FIELD_VALUE:
		if (c == '\r')
			return S_FIELD_LF;
		return is_field_char(c) ? S_FIELD_VALUE : S_BAD;
	case S_FIELD_LF:
		return c == '\n' ? S_TRAILER : S_BAD;
	case S_END_LF:
		return c == '\n' ? S_DONE : S_BAD;
	default:
		return ck->state;
	}
}

int
tw_chunked_feed(struct tw_chunked *ck, const char *buf, size_t len,
		size_t *consumed, size_t *body)
{
	size_t i = 0, data = 0;

	while (i < len && ck->state < S_DONE) {
		uint8_t next;

		if (ck->state == S_DATA) {
			size_t take = len - i;

			if (ck->size < take)
				take = (size_t)ck->size;
			i += take;
			data += take;
			ck->size -= take;
			if (ck->size == 0)
				ck->state = S_DATA_CR;
			continue;
		}
		/* A line of hex digits and extensions, or the trailers,
		 * cannot go on for ever. */
		if (++ck->meta > TW_CHUNKED_MAX_META) {
			ck->state = S_BAD;
			break;
		}
		next = step(ck, (unsigned char)buf[i]);
		if (next == S_BAD || next == S_TOO_LARGE) {
			ck->state = next;
			break;
		}
		ck->state = next;
		i++;
	}
	*consumed = i;
	*body = data;
	switch (ck->state) {
	case S_DONE:
		return TW_CHUNKED_DONE;
	case S_BAD:
		return -400;
	case S_TOO_LARGE:
		return -413;
	default:
		return TW_CHUNKED_AGAIN;
	}
}

uint64_t
tw_chunked_data_left(const struct tw_chunked *ck)
{
	return ck->state == S_DATA ? ck->size : 0;
}
