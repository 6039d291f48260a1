/* SPDX-License-Identifier: MIT */
/*
 * basic_auth: the Authorization field of HTTP Basic authentication
 * (RFC 7617), parsed strictly: the scheme "Basic" in any case, one or
 * more spaces, then canonical base64 (RFC 4648 4: standard alphabet,
 * padded, no stray bits) of "user-id:password" without control
 * characters. Layer 2 (parsing): no I/O, no allocation; decodes into a
 * caller buffer.
 */
#ifndef TW_BASIC_AUTH_H
#define TW_BASIC_AUTH_H

#include <stddef.h>

/* Decoded "user:password" bytes tinyweb takes at most (a browser sends
 * tens): a longer one is refused, not cut. */
#define TW_BASIC_AUTH_MAX	1024

#define TW_BASIC_AUTH_OTHER	1	/* another scheme (Bearer, Digest) */

/* Slices of the caller's buffer. */
struct tw_basic_cred {
	const char *user;
	size_t user_len;
	const char *pass;
	size_t pass_len;
};

/*
 * Parse the field value v[0..len) (surrounding white space already
 * trimmed, as http_parse gives it). The credentials are decoded into
 * buf[0..cap) and out points into it. The user-id ends at the first
 * colon (RFC 7617 2: a user-id cannot hold one); the password may.
 * Returns 0; TW_BASIC_AUTH_OTHER for a scheme other than Basic; -EINVAL
 * for a malformed value (no credentials, a character outside base64,
 * bad padding or non-zero padding bits, no colon, a control character);
 * -E2BIG when the decoded bytes would not fit in cap.
 */
int tw_basic_auth_parse(const char *v, size_t len, char *buf, size_t cap,
			struct tw_basic_cred *out);

/*
 * Base64-decode in[0..len) strictly (as above) into out[0..cap); the
 * length decoded goes to *outlen. Returns 0, -EINVAL or -E2BIG.
 */
int tw_basic_auth_b64decode(const char *in, size_t len, char *out,
			    size_t cap, size_t *outlen);

#endif /* TW_BASIC_AUTH_H */
