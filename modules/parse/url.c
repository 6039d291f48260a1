/* SPDX-License-Identifier: MIT */
/*
 * url: request-target paths in and out. Strict percent-decoding with UTF-8
 * validation, RFC 3986 dot-segment removal, and percent-encoding of paths
 * for Location headers and listing hrefs. Layer 2 (parsing): it must not
 * know about connections, files or HTTP statuses; it does no I/O and no
 * allocation, and writes only into caller buffers of known size.
 */
#include "parse/url.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/*
 * Incremental UTF-8 validator following the Unicode "well-formed byte
 * sequences" table (Unicode 15, table 3-7). Rather than decoding code
 * points and range-checking them afterwards, the lead byte narrows the
 * range of the *next* byte: that one rule rejects overlongs (E0 80..9F,
 * F0 80..8F, C0, C1), surrogates (ED A0..BF) and code points over U+10FFFF
 * (F4 90..BF, F5..FF) at the byte where they go wrong.
 */
struct utf8_state {
	unsigned need;		/* continuation bytes still expected */
	unsigned char lo;	/* allowed range of the next one */
	unsigned char hi;
};

/* Returns false as soon as c cannot continue a well-formed sequence. */
static bool
utf8_step(struct utf8_state *s, unsigned char c)
{
	if (s->need > 0) {
		if (c < s->lo || c > s->hi)
			return false;
		s->need--;
		s->lo = 0x80;
		s->hi = 0xbf;
		return true;
	}
	if (c < 0x80)
		return true;
	s->lo = 0x80;
	s->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		s->need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		s->need = 2;
		if (c == 0xe0)
			s->lo = 0xa0;
		else if (c == 0xed)
			s->hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		s->need = 3;
		if (c == 0xf0)
			s->lo = 0x90;
		else if (c == 0xf4)
			s->hi = 0x8f;
	} else {
		/* 0x80..0xc1 (stray continuation, overlong lead), 0xf5.. */
		return false;
	}
	return true;
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

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

int
tw_url_decode_path(const char *in, size_t len, char *out, size_t cap,
		   size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	struct utf8_state u = { 0, 0x80, 0xbf };
	size_t i = 0, n = 0;
	int hi, lo;
	unsigned char c;

	if (cap > 0)
		out[0] = '\0';
	*outlen = 0;
	if (len == 0 || p[0] != '/')
		return -EINVAL;

	/*
	 * Validate the whole input before reporting that it does not fit:
	 * a malformed path is a 400 whatever its length, and callers should
	 * not see 414 for a request that was garbage anyway.
	 */
	while (i < len) {
		c = p[i];
		if (c == '%') {
			if (len - i < 3)
				return -EINVAL;
			hi = hex_value(p[i + 1]);
			lo = hex_value(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else {
			i++;
		}
		/* Checked after decoding: "%0a" and a raw LF are one case. */
		if (is_control(c) || !utf8_step(&u, c))
			return -EINVAL;
		if (n + 1 < cap)
			out[n] = (char)c;
		n++;
	}
	if (u.need != 0)
		return -EINVAL;	/* truncated sequence at the end */
	if (n + 1 > cap) {
		if (cap > 0)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

int
tw_url_remove_dots(char *path, size_t *len)
{
	size_t r = 0, w = 0, n = *len, seg, sl;
	bool trail = false;

	if (n == 0 || path[0] != '/')
		return -EINVAL;

	/*
	 * One pass over segments, writing "/seg" for each kept one at w. The
	 * output is never longer than the input read so far (each written
	 * '/' and segment comes from at least as many input bytes), so
	 * working in place with memmove is safe.
	 */
	while (r < n) {
		r++;			/* skip the '/' */
		seg = r;
		while (r < n && path[r] != '/')
			r++;
		sl = r - seg;
		trail = true;
		if (sl == 0 || (sl == 1 && path[seg] == '.'))
			continue;	/* "//" and "/." */
		if (sl == 2 && path[seg] == '.' && path[seg + 1] == '.') {
			if (w == 0)
				return -EINVAL;	/* would climb above root */
			while (path[w - 1] != '/')
				w--;
			w--;
			continue;
		}
		path[w++] = '/';
		memmove(path + w, path + seg, sl);
		w += sl;
		trail = false;
	}
	/*
	 * A directory reference ("/a/", "/a/.", "/a/b/..") keeps its trailing
	 * slash so the caller can still tell a directory from a file.
	 */
	if (w == 0 || trail)
		path[w++] = '/';
	path[w] = '\0';
	*len = w;
	return 0;
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

long
tw_url_encode_path(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)in;
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = p[i];
		/* "//host" would be a network-path reference: encode 2nd. */
		if (is_unreserved(c) ||
		    (c == '/' && !(i == 1 && p[0] == '/'))) {
			if (cap - n < 2)
				goto too_long;
			out[n++] = (char)c;
		} else {
			if (cap - n < 4)
				goto too_long;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	if (cap - n < 1)
		goto too_long;
	out[n] = '\0';
	return (long)n;

too_long:
	if (cap > 0)
		out[0] = '\0';
	return -ENAMETOOLONG;
}

bool
tw_url_is_utf8(const unsigned char *buf, size_t len,
	       bool allow_truncated_tail)
{
	struct utf8_state u = { 0, 0x80, 0xbf };
	size_t i;

	for (i = 0; i < len; i++) {
		/* Fast path over ASCII runs: most text is mostly ASCII. */
		if (u.need == 0 && buf[i] < 0x80)
			continue;
		if (!utf8_step(&u, buf[i]))
			return false;
	}
	return u.need == 0 || allow_truncated_tail;
}
