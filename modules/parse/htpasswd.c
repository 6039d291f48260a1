/* SPDX-License-Identifier: MIT */
/*
 * htpasswd: user file lines. A hash is judged by its prefix, its shape
 * (length, alphabet) and then libcrypt's own crypt_checksalt(), so a
 * line that could never verify (cut short by an editor, a method this
 * libcrypt was built without) is an error when the file is read, not a
 * user who can never log in. Layer 2.
 */
#include "parse/htpasswd.h"

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* crypt's base64 alphabet: ./0-9A-Za-z */
static bool
crypt64(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!(c == '.' || c == '/' || (c >= '0' && c <= '9') ||
		      (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

static bool
starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

/* $2y$NN$ + 22 salt + 31 hash characters. */
static bool
bcrypt_shape(const char *h, size_t n)
{
	return n == 60 && h[3] == '$' && h[4] >= '0' && h[4] <= '3' &&
	       h[5] >= '0' && h[5] <= '9' && h[6] == '$' &&
	       crypt64(h + 7, 53);
}

/* $5$ or $6$ [rounds=N$] salt (1..16) $ hash (43 or 86). */
static bool
sha_crypt_shape(const char *h, size_t n, size_t hash_chars)
{
	const char *p = h + 3, *end = h + n, *d;

	if (end - p > 7 && memcmp(p, "rounds=", 7) == 0) {
		p += 7;
		if (p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == end || *p++ != '$')
			return false;
	}
	d = memchr(p, '$', (size_t)(end - p));
	if (d == NULL || d == p || d - p > 16 || memchr(p, ':', (size_t)(d - p)))
		return false;
	return (size_t)(end - d - 1) == hash_chars &&
	       crypt64(d + 1, hash_chars);
}

const char *
tw_htpasswd_check_hash(const char *h, size_t n)
{
	char setting[TW_HTPASSWD_MAX_HASH + 1];
	bool shape;

	if (starts(h, n, "$apr1$"))
		return "Apache MD5 ($apr1$, htpasswd's default) cannot be "
		       "checked: make the line with htpasswd -B (bcrypt) or "
		       "-5 (SHA-512)";
	if (starts(h, n, "{SHA}"))
		return "{SHA} is unsalted SHA-1, too weak: make the line "
		       "with htpasswd -B (bcrypt) or -5 (SHA-512)";
	if (starts(h, n, "$1$"))
		return "MD5-crypt ($1$) is too weak: make the line with "
		       "htpasswd -B (bcrypt) or -5 (SHA-512)";
	if (starts(h, n, "$2y$") || starts(h, n, "$2b$") ||
	    starts(h, n, "$2a$"))
		shape = bcrypt_shape(h, n);
	else if (starts(h, n, "$6$"))
		shape = sha_crypt_shape(h, n, 86);
	else if (starts(h, n, "$5$"))
		shape = sha_crypt_shape(h, n, 43);
	else if (starts(h, n, "$y$"))
		shape = n > 3 && n <= TW_HTPASSWD_MAX_HASH && !memchr(h, ':', n);
	else
		return "not a hash tinyweb can check (plain text or DES "
		       "crypt?): make the line with htpasswd -B (bcrypt) or "
		       "-5 (SHA-512)";
	if (!shape)
		return "the hash is cut short or malformed";
	memcpy(setting, h, n);
	setting[n] = '\0';
	if (crypt_checksalt(setting) == CRYPT_SALT_METHOD_DISABLED)
		return "this system's libcrypt cannot check this kind of hash";
	if (crypt_checksalt(setting) == CRYPT_SALT_INVALID)
		return "the hash is malformed";
	return NULL;
}

/* One line without its end: 1, 0 (blank, comment) or -EINVAL. */
static int
one_line(const char *s, size_t n, struct tw_htpasswd_entry *out,
	 const char **why)
{
	const char *colon;
	size_t i;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*why = "a control character in the line";
			return -EINVAL;
		}
	colon = memchr(s, ':', n);
	if (colon == NULL || colon == s) {
		*why = "expected USER:HASH";
		return -EINVAL;
	}
	out->user = s;
	out->user_len = (size_t)(colon - s);
	out->hash = colon + 1;
	out->hash_len = n - out->user_len - 1;
	if (out->user_len > TW_HTPASSWD_MAX_USER ||
	    out->hash_len > TW_HTPASSWD_MAX_HASH) {
		*why = "the user name or the hash is too long";
		return -EINVAL;
	}
	*why = tw_htpasswd_check_hash(out->hash, out->hash_len);
	return *why == NULL ? 1 : -EINVAL;
}

int
tw_htpasswd_next(const char *text, size_t len, size_t *pos, unsigned *line,
		 struct tw_htpasswd_entry *out, const char **why)
{
	while (*pos < len) {
		const char *s = text + *pos;
		const char *nl = memchr(s, '\n', len - *pos);
		size_t n = nl ? (size_t)(nl - s) : len - *pos;
		int r;

		*pos += nl ? n + 1 : n;
		(*line)++;
		r = one_line(s, n, out, why);
		if (r != 0)
			return r;
	}
	return 0;
}
