/* SPDX-License-Identifier: MIT */
/*
 * url: request-target paths in and out. Strict percent-decoding with UTF-8
 * validation, removal of dot segments, and percent-encoding of paths for
 * Location headers and listing hrefs. Layer 2 (parsing): no I/O, no
 * allocation; every function writes into a caller buffer of known size.
 */
#ifndef TW_URL_H
#define TW_URL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Percent-decode the path part of a request target (everything before '?',
 * the caller splits it off) into out[0..cap). The result is NUL-terminated
 * and its length stored in *outlen.
 *
 * Returns 0, or:
 *   -EINVAL        a bad escape ("%", "%4", "%zz"), an encoded or raw NUL,
 *                  any control byte (0x00-0x1f, 0x7f) raw or decoded, or
 *                  decoded bytes that are not valid UTF-8 (overlong forms,
 *                  surrogates, code points over U+10FFFF, truncated or
 *                  stray continuation bytes); also a path not starting '/'
 *   -ENAMETOOLONG  the decoded path does not fit in cap (with its NUL)
 * Decoding happens exactly once: "%252e" becomes the literal "%2e".
 */
int tw_url_decode_path(const char *in, size_t len, char *out, size_t cap,
		       size_t *outlen);

/*
 * Remove dot segments from a decoded absolute path in place (RFC 3986
 * 5.2.4) and collapse runs of '/' into one. "/a/./b/../c" -> "/a/c". A
 * trailing "/." or "/.." leaves a trailing slash ("/a/b/.." -> "/a/").
 * *len is updated and path stays NUL-terminated.
 *
 * Returns 0, or -EINVAL if a ".." would climb above the root ("/../x"),
 * which callers answer with 400.
 */
int tw_url_remove_dots(char *path, size_t *len);

/*
 * Percent-encode a decoded path for use in a Location header or an href:
 * bytes outside RFC 3986 unreserved and "/" are written as %XX (uppercase),
 * so '%', '#', '?', '+', ' ', quotes, '<', '>', CR, LF and every non-ASCII
 * byte are encoded. A leading "//" is written as "/%2F" so the result can
 * never be read as a network-path reference ("//host"). Writes a
 * NUL-terminated string into out[0..cap).
 *
 * Returns the encoded length, or -ENAMETOOLONG if it does not fit.
 */
long tw_url_encode_path(const char *in, size_t len, char *out, size_t cap);

/*
 * True if buf[0..len) is valid UTF-8 (no overlongs, no surrogates, nothing
 * over U+10FFFF). If allow_truncated_tail is set, an incomplete but so far
 * valid sequence at the very end is accepted (for checking a file prefix).
 */
bool tw_url_is_utf8(const unsigned char *buf, size_t len,
		    bool allow_truncated_tail);

#endif /* TW_URL_H */
