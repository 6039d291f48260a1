/* SPDX-License-Identifier: MIT */
/*
 * basic_auth: a strict reader of "Basic <base64>". Strict because the
 * bytes decide who gets in: two spellings of one credential (stray bits
 * in the last character, missing padding) would make the cache of good
 * credentials and the failure counts disagree about what was tried.
 * Layer 2.
 */
#include "parse/basic_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* 0..63, or -1 for a byte outside the standard alphabet. */
static int
b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int
tw_basic_auth_b64decode(const char *in, size_t len, char *out, size_t cap,
			size_t *outlen)
{
	size_t i, n = 0, pad = 0;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -E2BIG;
	for (i = 0; i < len; i += 4) {
		int v[4], k, nv = i + 4 == len ? 4 - (int)pad : 4;
		unsigned long w = 0;

		for (k = 0; k < 4; k++) {
			v[k] = k < nv ? b64val((unsigned char)in[i + k]) : 0;
			if (v[k] < 0)
				return -EINVAL;	/* '=' inside, or junk */
			w = w << 6 | (unsigned long)v[k];
		}
		/* The bits under the padding must be zero (RFC 4648 3.5):
		 * one spelling per value. */
		if ((pad == 1 && nv == 3 && (v[2] & 3) != 0) ||
		    (pad == 2 && nv == 2 && (v[1] & 15) != 0))
			return -EINVAL;
		out[n++] = (char)(w >> 16);
		if (nv > 2)
			out[n++] = (char)(w >> 8 & 0xff);
		if (nv > 3)
			out[n++] = (char)(w & 0xff);
	}
	*outlen = n;
	return 0;
}

static bool
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

int
tw_basic_auth_parse(const char *v, size_t len, char *buf, size_t cap,
		    struct tw_basic_cred *out)
{
	const char *p = v, *end = v + len, *colon;
	size_t n;
	int err;

	/* auth-scheme is a token, compared without case (RFC 9110 11.1),
	 * and 1*SP separates it from the token68. */
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (p - v != 5 || strncasecmp(v, "Basic", 5) != 0)
		return TW_BASIC_AUTH_OTHER;
	while (p < end && *p == ' ')
		p++;
	if (p == end || p == v + 5)
		return -EINVAL;
	err = tw_basic_auth_b64decode(p, (size_t)(end - p), buf, cap, &n);
	if (err < 0)
		return err;
	colon = memchr(buf, ':', n);
	if (colon == NULL || has_control(buf, n))
		return -EINVAL;
	out->user = buf;
	out->user_len = (size_t)(colon - buf);
	out->pass = colon + 1;
	out->pass_len = n - out->user_len - 1;
	return 0;
}
