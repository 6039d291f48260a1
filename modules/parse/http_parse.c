/* SPDX-License-Identifier: MIT */
/*
 * http_parse: the HTTP/1.x request-head parser (picohttpparser's contract:
 * caller buffer, caller array of headers, slices, AGAIN for "need more")
 * and the parsers of the header values tinyweb acts on: Content-Length,
 * Transfer-Encoding, HTTP-date, Range, entity-tag lists, token lists and
 * Accept-Encoding.
 * Layer 2 (parsing): no I/O, no allocation, no locale, no clock. It must
 * not know about connections, files or responses; callers map its results
 * to statuses.
 */
#include "parse/http_parse.h"

#include <errno.h>
#include <string.h>

/*
 * More empty lines than this before the request line is not a client.
 * They must be CRLF like every other line of the head: RFC 9112 2.2 asks
 * a server to ignore at least one empty line (CRLF) there, which old
 * clients send after a POST body, and says nothing for a lone LF.
 */
#define MAX_LEADING_BLANK_LINES 8

/*
 * Below this many bytes neither size limit can be reached, so a call that
 * brings no new line end can answer AGAIN without looking further.
 */
#define FAST_AGAIN_MAX							\
	(TW_HTTP_MAX_LINE < TW_HTTP_MAX_HEADER_BYTES ?			\
	 TW_HTTP_MAX_LINE : TW_HTTP_MAX_HEADER_BYTES)

/* tchar of RFC 9110 5.6.2: the bytes allowed in a token. */
static const unsigned char tchar_map[256] = {
	/* 0x00 - 0x1f: controls */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/*    !  "  #  $  %  &  '  (  )  *  +  ,  -  .  / */
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
	/* 0  1  2  3  4  5  6  7  8  9  :  ;  <  =  >  ? */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	/* @  A  B  C  D  E  F  G  H  I  J  K  L  M  N  O */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* P  Q  R  S  T  U  V  W  X  Y  Z  [  \  ]  ^  _ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	/* `  a  b  c  d  e  f  g  h  i  j  k  l  m  n  o */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* p  q  r  s  t  u  v  w  x  y  z  {  |  }  ~ DEL */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
	/* 0x80 - 0xff: obs-text is never part of a token */
};

static bool
is_tchar(char c)
{
	return tchar_map[(unsigned char)c];
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char
to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Number of leading bytes of s[0..len) that are tchar. */
static size_t
token_span(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_tchar(s[i]))
		i++;
	return i;
}

/* Strip OWS from both ends of *s[0..*len). */
static void
trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1]))
		(*len)--;
}

/*
 * Cut the next comma-separated element off the list *v[0..*len) into
 * *elem (OWS-trimmed) and advance the list past the comma. Returns false
 * when the list is used up. None of the lists split this way carries
 * quoted strings, so a plain search for ',' is exact.
 */
static bool
next_element(const char **v, size_t *len, const char **elem,
	     size_t *elem_len, bool *more)
{
	const char *comma;
	size_t n;

	if (!*more)
		return false;
	comma = *len ? memchr(*v, ',', *len) : NULL;
	n = comma ? (size_t)(comma - *v) : *len;
	*elem = *v;
	*elem_len = n;
	trim_ows(elem, elem_len);
	*more = comma != NULL;
	if (comma) {
		*v = comma + 1;
		*len -= n + 1;
	}
	return true;
}

/* ---- request head ---------------------------------------------------- */

/*
 * The version is HTTP/d.d (RFC 9112 2.3). Minor versions above 1 are
 * answered as 1.1, the highest we speak. Other single-digit major
 * versions, also in the one-number form later versions use ("HTTP/2"),
 * are 505; anything else ("HTTP/1", "HTTP/11.1", "HTTP/1.1x") does not
 * match the grammar and is 400.
 */
static int
parse_version(const char *v, size_t n, int *minor)
{
	if (n < 6 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]))
		return TW_PARSE_BAD;
	if (n == 8 && v[6] == '.' && is_digit(v[7])) {
		if (v[5] != '1')
			return TW_PARSE_BAD_VERSION;
		*minor = v[7] == '0' ? 0 : 1;
		return 0;
	}
	if (n == 6 && v[5] != '1')
		return TW_PARSE_BAD_VERSION;
	return TW_PARSE_BAD;
}

/* method SP request-target SP HTTP-version, exactly one SP each. */
static int
parse_request_line(const char *line, size_t n, struct tw_http_request *req)
{
	size_t i, t;

	i = token_span(line, n);
	if (i == 0 || i == n || line[i] != ' ')
		return TW_PARSE_BAD;
	req->method = line;
	req->method_len = i;
	t = ++i;
	while (i < n && line[i] >= 0x21 && line[i] <= 0x7e)
		i++;
	if (i == t)
		return TW_PARSE_BAD;
	req->target = line + t;
	req->target_len = i - t;
	/* "GET /" is an HTTP/0.9 simple request: the version we refuse. */
	if (i == n)
		return TW_PARSE_BAD_VERSION;
	if (line[i] != ' ')
		return TW_PARSE_BAD;
	i++;
	return parse_version(line + i, n - i, &req->minor);
}

int
tw_http_parse_field_line(const char *line, size_t n, struct tw_http_header *h)
{
	const char *v;
	size_t i, vlen;

	/*
	 * A leading SP/HTAB is obs-fold, or whitespace between the request
	 * line and the first field; RFC 9112 5.2 and 2.2 let us reject both.
	 */
	i = token_span(line, n);
	if (i == 0 || i == n || line[i] != ':')
		return TW_PARSE_BAD;
	h->name = line;
	h->name_len = i;
	v = line + i + 1;
	vlen = n - i - 1;
	trim_ows(&v, &vlen);
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		/* A CR here is a bare CR: the line end took only CRLF. */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return TW_PARSE_BAD;
	}
	h->value = v;
	h->value_len = vlen;
	return 0;
}

/*
 * Answer for a call that brought no new LF: the complete lines are those
 * the previous call accepted, so only the size limits on the unfinished
 * line can change the answer. That needs the request line's end, found
 * with one memchr over at most TW_HTTP_MAX_LINE bytes. The leading empty
 * lines the previous call accepted are CRLF ones (a bare LF was 400).
 */
static int
limits_only(const char *buf, size_t len)
{
	const char *lf;
	size_t p = 0, end;

	if (len <= FAST_AGAIN_MAX)
		return TW_PARSE_AGAIN;
	while (p + 1 < len && buf[p] == '\r' && buf[p + 1] == '\n')
		p += 2;
	end = len < TW_HTTP_MAX_LINE ? len : TW_HTTP_MAX_LINE;
	lf = p < end ? memchr(buf + p, '\n', end - p) : NULL;
	if (lf == NULL)
		return len > TW_HTTP_MAX_LINE ? TW_PARSE_URI_TOO_LONG
					      : TW_PARSE_AGAIN;
	end = (size_t)(lf - buf) + 1;
	if (len - end > TW_HTTP_MAX_HEADER_BYTES)
		return TW_PARSE_HEADERS_TOO_LARGE;
	return TW_PARSE_AGAIN;
}

/*
 * Lines are taken strictly in order, and for each one the size limit is
 * checked before its syntax. That makes the answer for a prefix of the
 * input the answer for every longer input that got that far, so feeding
 * the bytes one at a time gives what feeding them whole gives.
 *
 * Every line ends at an LF, and that LF must follow a CR: a bare LF is
 * 400 wherever it is, so the head ends at the same byte for us as for
 * any strict parser in front of or behind us (RFC 9112 2.2 lets a
 * recipient take a bare LF as a line end; one that frames messages
 * differently from its neighbour is how requests get smuggled). A CR not
 * followed by LF stays inside its line, where no rule of the request
 * line or of a field line admits it, so it is 400 once the line ends.
 */
static int
parse_head(const char *buf, size_t len, struct tw_http_request *req)
{
	const char *lf;
	size_t p = 0, end, eol, limit, rl_end = 0;
	unsigned nblank = 0;
	int err;

	req->nheaders = 0;
	for (;;) {
		/* Request line counted from 0, so leading blanks count too. */
		limit = rl_end ? rl_end + TW_HTTP_MAX_HEADER_BYTES
			       : TW_HTTP_MAX_LINE;
		lf = p < len ? memchr(buf + p, '\n', len - p) : NULL;
		end = lf ? (size_t)(lf - buf) + 1 : len;
		if (end > limit)
			return rl_end ? TW_PARSE_HEADERS_TOO_LARGE
				      : TW_PARSE_URI_TOO_LONG;
		if (lf == NULL)
			return TW_PARSE_AGAIN;
		eol = end - 1;
		if (eol == p || buf[eol - 1] != '\r')
			return TW_PARSE_BAD;	/* bare LF */
		eol--;
		if (rl_end == 0) {
			if (eol == p) {
				if (++nblank > MAX_LEADING_BLANK_LINES)
					return TW_PARSE_BAD;
			} else {
				err = parse_request_line(buf + p, eol - p,
							 req);
				if (err)
					return err;
				rl_end = end;
			}
		} else {
			if (eol == p)
				return (int)end;
			if (req->nheaders == TW_HTTP_MAX_HEADERS)
				return TW_PARSE_HEADERS_TOO_LARGE;
			err = tw_http_parse_field_line(buf + p, eol - p,
						&req->headers[req->nheaders]);
			if (err)
				return err;
			req->nheaders++;
		}
		p = end;
	}
}

int
tw_http_parse_request(const char *buf, size_t len, size_t last_len,
		      struct tw_http_request *req)
{
	/*
	 * Nothing is decided inside an unfinished line except the limits,
	 * so without a new LF the previous AGAIN stands (picohttpparser's
	 * last_len shortcut).
	 */
	if (last_len != 0 && last_len <= len &&
	    memchr(buf + last_len, '\n', len - last_len) == NULL)
		return limits_only(buf, len);
	return parse_head(buf, len, req);
}

/* ---- small helpers on header values ---------------------------------- */

bool
tw_http_token_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (lit[i] == '\0' || to_lower(s[i]) != to_lower(lit[i]))
			return false;
	}
	return lit[len] == '\0';
}

const struct tw_http_header *
tw_http_find_header(const struct tw_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		const struct tw_http_header *h = &req->headers[i];

		if (tw_http_token_eq(h->name, h->name_len, name))
			return h;
	}
	return NULL;
}

bool
tw_http_list_has(const char *v, size_t len, const char *token)
{
	const char *e;
	size_t elen;
	bool more = true;

	while (next_element(&v, &len, &e, &elen, &more)) {
		if (elen != 0 && tw_http_token_eq(e, elen, token))
			return true;
	}
	return false;
}

/* ---- Transfer-Encoding ---------------------------------------------- */

enum tw_http_te
tw_http_transfer_encoding(const struct tw_http_request *req)
{
	return tw_http_te_of(req->headers, req->nheaders);
}

enum tw_http_te
tw_http_te_of(const struct tw_http_header *fields, size_t n)
{
	const char *v, *e;
	size_t i, len, elen, ncodings = 0;
	bool more, present = false, chunked_last = false;

	/* All the fields in order are one list (RFC 9110 5.3). */
	for (i = 0; i < n; i++) {
		const struct tw_http_header *h = &fields[i];

		if (!tw_http_token_eq(h->name, h->name_len,
				      "Transfer-Encoding"))
			continue;
		present = true;
		v = h->value;
		len = h->value_len;
		more = true;
		while (next_element(&v, &len, &e, &elen, &more)) {
			/* Empty elements are ignored (RFC 9110 5.6.1.2). */
			if (elen == 0)
				continue;
			/* Anything after chunked, or chunked twice. */
			if (chunked_last)
				return TW_TE_BAD;
			chunked_last = tw_http_token_eq(e, elen, "chunked");
			ncodings++;
		}
	}
	if (!present)
		return TW_TE_NONE;
	if (ncodings == 0)
		return TW_TE_BAD;
	return chunked_last ? TW_TE_CHUNKED : TW_TE_UNKNOWN;
}

/* ---- Content-Length -------------------------------------------------- */

int
tw_http_parse_content_length(const char *v, size_t len, uint64_t *out)
{
	const char *e;
	size_t elen, i;
	uint64_t n, first = 0;
	bool more = true, seen = false;

	/*
	 * Empty elements are refused: a list here only ever comes from
	 * duplicated fields, and leniency in framing is how requests get
	 * smuggled.
	 */
	while (next_element(&v, &len, &e, &elen, &more)) {
		if (elen == 0)
			return -EINVAL;
		n = 0;
		for (i = 0; i < elen; i++) {
			uint64_t d = (uint64_t)(e[i] - '0');

			if (!is_digit(e[i]))
				return -EINVAL;
			if (n > ((uint64_t)INT64_MAX - d) / 10)
				return -EINVAL;
			n = n * 10 + d;
		}
		if (seen && n != first)
			return -EINVAL;
		first = n;
		seen = true;
	}
	*out = first;
	return 0;
}

/* ---- HTTP-date ------------------------------------------------------- */

static const char *const day_short[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
};

static const char *const day_long[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday",
};

static const char *const month_name[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Day and month names are case-sensitive (RFC 9110 5.6.7: %s"..."). */
static bool
is_day_name(const char *s, size_t n, const char *const names[7])
{
	int i;

	for (i = 0; i < 7; i++) {
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return true;
	}
	return false;
}

/* Month "Jan".."Dec" at s[0..3) as 1..12, or 0. */
static int
month_of(const char *s)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (memcmp(s, month_name[i], 3) == 0)
			return i + 1;
	}
	return 0;
}

/* Exactly n digits; -1 otherwise. */
static int
digits_n(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

struct date_fields {
	int year;
	int mon;	/* 1..12 */
	int mday;
	int hour;
	int min;
	int sec;
};

/* "HH:MM:SS" at s[0..8). */
static bool
parse_clock(const char *s, struct date_fields *f)
{
	if (s[2] != ':' || s[5] != ':')
		return false;
	f->hour = digits_n(s, 2);
	f->min = digits_n(s + 3, 2);
	f->sec = digits_n(s + 6, 2);
	return f->hour >= 0 && f->min >= 0 && f->sec >= 0;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so no timegm() and no TZ.
 */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
fields_to_time(const struct date_fields *f, time_t *out)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int64_t t;
	int dim;

	if (f->year < 1900 || f->year > 9999 || f->mon < 1 || f->mon > 12)
		return -EINVAL;
	dim = mdays[f->mon - 1] + (f->mon == 2 && is_leap(f->year));
	if (f->mday < 1 || f->mday > dim)
		return -EINVAL;
	/* sec 60 is a leap second; it reads as the next minute's :00. */
	if (f->hour > 23 || f->min > 59 || f->sec > 60)
		return -EINVAL;
	t = days_from_civil(f->year, f->mon, f->mday) * 86400 +
	    f->hour * 3600 + f->min * 60 + f->sec;
	if ((int64_t)(time_t)t != t)
		return -EINVAL;
	*out = (time_t)t;
	return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
static int
parse_imf_fixdate(const char *v, size_t len, struct date_fields *f)
{
	if (len != 29 || !is_day_name(v, 3, day_short) || v[3] != ',' ||
	    v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
	    v[25] != ' ' || memcmp(v + 26, "GMT", 3) != 0)
		return -EINVAL;
	f->mday = digits_n(v + 5, 2);
	f->mon = month_of(v + 8);
	f->year = digits_n(v + 12, 4);
	if (f->mday < 0 || f->year < 0 || !parse_clock(v + 17, f))
		return -EINVAL;
	return 0;
}

/*
 * rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT". RFC 9110 wants a year
 * "more than 50 years in the future" read as the past century, which
 * needs the clock; a parser has none, so use the fixed pivot of POSIX
 * strptime %y: 70-99 are 19xx, 00-69 are 20xx.
 */
static int
parse_rfc850(const char *v, size_t len, struct date_fields *f)
{
	const char *comma, *d;
	size_t wlen;
	int yy;

	comma = len ? memchr(v, ',', len < 10 ? len : 10) : NULL;
	if (comma == NULL)
		return -EINVAL;
	wlen = (size_t)(comma - v);
	if (!is_day_name(v, wlen, day_long) || len != wlen + 24)
		return -EINVAL;
	d = comma + 1;
	if (d[0] != ' ' || d[3] != '-' || d[7] != '-' || d[10] != ' ' ||
	    d[19] != ' ' || memcmp(d + 20, "GMT", 3) != 0)
		return -EINVAL;
	f->mday = digits_n(d + 1, 2);
	f->mon = month_of(d + 4);
	yy = digits_n(d + 8, 2);
	if (f->mday < 0 || yy < 0 || !parse_clock(d + 11, f))
		return -EINVAL;
	f->year = yy + (yy >= 70 ? 1900 : 2000);
	return 0;
}

/* asctime-date: "Sun Nov  6 08:49:37 1994" (day is SP DIGIT or 2DIGIT). */
static int
parse_asctime(const char *v, size_t len, struct date_fields *f)
{
	if (len != 24 || !is_day_name(v, 3, day_short) || v[3] != ' ' ||
	    v[7] != ' ' || v[10] != ' ' || v[19] != ' ')
		return -EINVAL;
	f->mon = month_of(v + 4);
	f->mday = v[8] == ' ' ? digits_n(v + 9, 1) : digits_n(v + 8, 2);
	f->year = digits_n(v + 20, 4);
	if (f->mday < 0 || f->year < 0 || !parse_clock(v + 11, f))
		return -EINVAL;
	return 0;
}

int
tw_http_parse_date(const char *v, size_t len, time_t *out)
{
	struct date_fields f;
	int err;

	if (len < 4)
		return -EINVAL;
	if (v[3] == ',')
		err = parse_imf_fixdate(v, len, &f);
	else if (v[3] == ' ')
		err = parse_asctime(v, len, &f);
	else
		err = parse_rfc850(v, len, &f);
	if (err)
		return err;
	return fields_to_time(&f, out);
}

/* ---- Range ----------------------------------------------------------- */

/* Value of a digit string, saturating at UINT64_MAX. */
static uint64_t
digits_sat(const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v;
}

/*
 * Compare two digit strings as numbers of any length, so "first > last"
 * is judged exactly even where both would saturate.
 */
static int
digits_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	while (an > 1 && *a == '0') {
		a++;
		an--;
	}
	while (bn > 1 && *b == '0') {
		b++;
		bn--;
	}
	if (an != bn)
		return an < bn ? -1 : 1;
	c = memcmp(a, b, an);
	return (c > 0) - (c < 0);
}

/*
 * One range-spec against size. Returns -1 if its syntax is invalid,
 * 0 if it is valid but selects nothing, 1 with *r set otherwise.
 */
static int
parse_range_spec(const char *s, size_t n, uint64_t size,
		 struct tw_http_range *r)
{
	size_t a, dash, b;
	uint64_t first, last;

	if (s[0] == '-') {
		b = 1;
		while (b < n && is_digit(s[b]))
			b++;
		if (b == 1 || b != n)
			return -1;
		/* A suffix too long for uint64 is the whole file. */
		last = digits_sat(s + 1, n - 1);
		if (last == 0 || size == 0)
			return 0;
		r->first = last >= size ? 0 : size - last;
		r->last = size - 1;
		return 1;
	}
	for (a = 0; a < n && is_digit(s[a]); a++)
		;
	if (a == 0 || a == n || s[a] != '-')
		return -1;
	dash = a;
	for (b = dash + 1; b < n && is_digit(s[b]); b++)
		;
	if (b != n)
		return -1;
	if (b > dash + 1 && digits_cmp(s, a, s + dash + 1, b - dash - 1) > 0)
		return -1;
	/* Saturation puts an overlong first-byte-pos past any end. */
	first = digits_sat(s, a);
	if (first >= size)
		return 0;
	last = b > dash + 1 ? digits_sat(s + dash + 1, b - dash - 1)
			    : UINT64_MAX;
	r->first = first;
	r->last = last < size - 1 ? last : size - 1;
	return 1;
}

enum tw_http_range_result
tw_http_parse_range(const char *v, size_t len, uint64_t size,
		    struct tw_http_range out[TW_HTTP_MAX_RANGES], size_t *n)
{
	struct tw_http_range r;
	const char *e;
	size_t elen, nspec = 0, nout = 0, i, j;
	bool more = true;
	int ret;

	*n = 0;
	/* Range units compare case-insensitively (RFC 9110 14.1). */
	if (len < 6 || !tw_http_token_eq(v, 5, "bytes") || v[5] != '=')
		return TW_RANGE_NONE;
	v += 6;
	len -= 6;
	while (next_element(&v, &len, &e, &elen, &more)) {
		/* Empty list elements are ignored (RFC 9110 5.6.1.2). */
		if (elen == 0)
			continue;
		if (++nspec > TW_HTTP_MAX_RANGES)
			return TW_RANGE_NONE;
		ret = parse_range_spec(e, elen, size, &r);
		if (ret < 0)
			return TW_RANGE_NONE;
		if (ret == 0)
			continue;
		/* Insertion sort by first; there are at most 16. */
		for (i = nout; i > 0 && out[i - 1].first > r.first; i--)
			out[i] = out[i - 1];
		out[i] = r;
		nout++;
	}
	if (nspec == 0)
		return TW_RANGE_NONE;
	if (nout == 0)
		return TW_RANGE_UNSATISFIABLE;
	/* last <= size - 1 < UINT64_MAX, so last + 1 cannot wrap. */
	for (i = 0, j = 1; j < nout; j++) {
		if (out[j].first <= out[i].last + 1) {
			if (out[j].last > out[i].last)
				out[i].last = out[j].last;
		} else {
			out[++i] = out[j];
		}
	}
	*n = i + 1;
	return TW_RANGE_OK;
}

/* ---- entity-tags ----------------------------------------------------- */

struct etag {
	const char *opaque;	/* between the quotes */
	size_t len;
	bool weak;
};

/* etagc: %x21 / %x23-7E / obs-text */
static bool
is_etagc(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

/* entity-tag at the start of s; returns its length, or 0 if malformed. */
static size_t
parse_etag(const char *s, size_t n, struct etag *t)
{
	size_t i = 0, j;

	t->weak = false;
	if (n >= 2 && s[0] == 'W' && s[1] == '/') {
		t->weak = true;
		i = 2;
	}
	if (i >= n || s[i] != '"')
		return 0;
	for (j = i + 1; j < n && is_etagc(s[j]); j++)
		;
	if (j >= n || s[j] != '"')
		return 0;
	t->opaque = s + i + 1;
	t->len = j - i - 1;
	return j + 1;
}

bool
tw_http_etag_match(const char *v, size_t len, const char *etag,
		   size_t etag_len, bool weak)
{
	struct etag mine, t;
	const char *comma;
	size_t p = 0, k;

	if (parse_etag(etag, etag_len, &mine) != etag_len)
		return false;
	trim_ows(&v, &len);
	if (len == 1 && v[0] == '*')
		return true;
	/*
	 * Walk the list tag by tag: opaque tags may hold commas, so the
	 * list cannot be split on ',' first. A malformed element is skipped
	 * up to the next comma and matches nothing.
	 */
	while (p < len) {
		if (is_ows(v[p]) || v[p] == ',') {
			p++;
			continue;
		}
		k = parse_etag(v + p, len - p, &t);
		if (k != 0) {
			p += k;
			while (p < len && is_ows(v[p]))
				p++;
			if (p == len || v[p] == ',') {
				if (t.len == mine.len &&
				    memcmp(t.opaque, mine.opaque, t.len) == 0 &&
				    (weak || (!t.weak && !mine.weak)))
					return true;
				continue;
			}
		}
		comma = memchr(v + p, ',', len - p);
		if (comma == NULL)
			break;
		p = (size_t)(comma - v) + 1;
	}
	return false;
}

/* ---- Accept-Encoding ------------------------------------------------- */

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths. Anything else is -1; the caller reads it as q=0, the safe
 * answer (do not use the coding).
 */
static int
parse_qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q <= 1000 ? q : -1;
}

/*
 * One element: coding *( OWS ";" OWS name "=" value ). Returns the coding
 * length and sets *q, or 0 if the element is malformed.
 */
static size_t
parse_coding(const char *s, size_t n, int *q)
{
	size_t clen, i, pn, vs;

	clen = token_span(s, n);
	if (clen == 0)
		return 0;
	*q = 1000;
	i = clen;
	for (;;) {
		while (i < n && is_ows(s[i]))
			i++;
		if (i == n)
			return clen;
		if (s[i] != ';')
			return 0;
		i++;
		while (i < n && is_ows(s[i]))
			i++;
		pn = i;
		i += token_span(s + i, n - i);
		if (i == pn || i == n || s[i] != '=')
			return 0;
		vs = ++i;
		i += token_span(s + i, n - i);
		if (tw_http_token_eq(s + pn, vs - 1 - pn, "q")) {
			*q = parse_qvalue(s + vs, i - vs);
			if (*q < 0)
				*q = 0;
		}
	}
}

int
tw_http_accept_q(const char *v, size_t len, const char *coding)
{
	const char *e;
	size_t elen, clen;
	bool more = true;
	bool gzip = tw_http_token_eq(coding, strlen(coding), "gzip");
	int q, named = -1, star = -1;

	while (next_element(&v, &len, &e, &elen, &more)) {
		clen = parse_coding(e, elen, &q);
		if (clen == 0)
			continue;
		/* The first mention of a coding is the one that counts. */
		if (tw_http_token_eq(e, clen, coding) ||
		    (gzip && tw_http_token_eq(e, clen, "x-gzip"))) {
			if (named < 0)
				named = q;
		} else if (clen == 1 && e[0] == '*') {
			if (star < 0)
				star = q;
		}
	}
	if (named >= 0)
		return named;
	return star >= 0 ? star : 0;
}

/* ---- Accept (media ranges) ------------------------------------------- */

int
tw_http_accept_media_q(const char *v, size_t len, const char *type)
{
	const char *slash = strchr(type, '/'), *e, *sub;
	char main_type[64];
	size_t tlen, slen, elen, mlen;
	bool more = true;
	int q, rank, best = 0, best_rank = 0;

	if (slash == NULL || (size_t)(slash - type) >= sizeof(main_type))
		return 0;
	mlen = (size_t)(slash - type);
	memcpy(main_type, type, mlen);
	main_type[mlen] = '\0';
	while (next_element(&v, &len, &e, &elen, &more)) {
		tlen = token_span(e, elen);
		if (tlen == 0 || tlen + 1 >= elen || e[tlen] != '/')
			continue;
		/* subtype *( ";" parameter ) has a coding's grammar. */
		sub = e + tlen + 1;
		slen = parse_coding(sub, elen - tlen - 1, &q);
		if (slen == 0)
			continue;
		if (tlen == 1 && e[0] == '*' && slen == 1 && sub[0] == '*')
			rank = 1;
		else if (!tw_http_token_eq(e, tlen, main_type))
			continue;
		else if (slen == 1 && sub[0] == '*')
			rank = 2;
		else if (tw_http_token_eq(sub, slen, slash + 1))
			rank = 3;
		else
			continue;
		/* The most specific range wins (RFC 9110 12.5.1), the first
		 * of equal ones. */
		if (rank > best_rank) {
			best_rank = rank;
			best = q;
		}
	}
	return best;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool
is_regname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=", c) != NULL;
}

bool
tw_http_host_valid(const char *v, size_t len)
{
	size_t i = 0;

	if (len > 0 && v[0] == '[') {
		for (i = 1; i < len && v[i] != ']'; i++)
			if (!is_hex(v[i]) && v[i] != ':' && v[i] != '.')
				return false;
		if (i == len || i == 1)
			return false;
		i++;
	} else {
		for (; i < len && v[i] != ':'; i++) {
			if (v[i] == '%') {
				if (i + 2 >= len || !is_hex(v[i + 1]) ||
				    !is_hex(v[i + 2]))
					return false;
				i += 2;
			} else if (v[i] == '\0' || !is_regname_char(v[i])) {
				return false;
			}
		}
	}
	if (i == len)
		return true;
	if (v[i] != ':')
		return false;
	for (i++; i < len; i++)
		if (!is_digit(v[i]))
			return false;
	return true;
}
