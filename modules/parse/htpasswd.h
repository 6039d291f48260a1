/* SPDX-License-Identifier: MIT */
/*
 * htpasswd: the lines of a user file made by Apache's htpasswd
 * ("user:hash"), each judged by whether tinyweb can check its hash:
 * bcrypt ($2y$, $2b$, $2a$; htpasswd -B), SHA-512 and SHA-256 crypt
 * ($6$, $5$; htpasswd -5 and -2) and yescrypt ($y$; mkpasswd) are
 * checked through libcrypt. Apache's MD5 ($apr1$, htpasswd's default),
 * {SHA}, MD5-crypt, DES crypt and plain text are refused with a reason:
 * libcrypt cannot check the first, and the others are too weak to
 * guard anything. Layer 2 (parsing): no I/O, no allocation.
 */
#ifndef TW_HTPASSWD_H
#define TW_HTPASSWD_H

#include <stddef.h>

/* A user name or hash longer than this is refused (a line, not a
 * buffer, limit: crypt's output is at most 384 bytes). */
#define TW_HTPASSWD_MAX_USER	255
#define TW_HTPASSWD_MAX_HASH	383

/* One user line: slices of the caller's text. */
struct tw_htpasswd_entry {
	const char *user;
	size_t user_len;
	const char *hash;
	size_t hash_len;
};

/*
 * The next line of text[0..len) from *pos on (a file's whole text;
 * lines end in \n or \r\n). Blank lines and lines starting with '#' are
 * skipped. *line counts the lines read (the number of the one returned
 * or refused). Returns 1 with *out filled, 0 at the end, or -EINVAL
 * with *why saying what is wrong with line *line (a fixed string).
 */
int tw_htpasswd_next(const char *text, size_t len, size_t *pos,
		     unsigned *line, struct tw_htpasswd_entry *out,
		     const char **why);

/* Whether the hash of one line can be checked: NULL if so, else the
 * reason (a fixed string). */
const char *tw_htpasswd_check_hash(const char *hash, size_t len);

#endif /* TW_HTPASSWD_H */
