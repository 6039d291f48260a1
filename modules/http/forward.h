/* SPDX-License-Identifier: MIT */
/*
 * forward: the heads the proxy writes, rebuilt from what the parsers
 * took, never copied from the wire (RFC 9110 7.6): the request head it
 * sends upstream and the response head's fields it passes back.
 * Hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection, TE,
 * Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization,
 * Proxy-Authenticate) and every field a Connection header names are
 * dropped; Content-Length is left to the caller, which frames the body it
 * forwards. No I/O. Layer 3 (http).
 */
#ifndef TW_FORWARD_H
#define TW_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "parse/http_parse.h"

struct tw_forward_opts {
	const char *scheme;	/* the client's: "http" or "https" */
	const char *host;	/* Host to send, or NULL for the client's */
	bool pass_request_headers;	/* false: only the proxy's own */
	/* "Name: value\r\n"... set on the request, replacing any field of
	 * the same name (an empty value removes it), or NULL. */
	const char *set_headers;
	bool upgrade;		/* tunnel: keep Upgrade, Connection: upgrade */
};

/*
 * Append to out the head to send upstream for request r (the target as
 * given: the client's, or rewritten by a location): request line in
 * HTTP/1.1, the client's end-to-end fields (unless pass_request_headers
 * is off), Host, X-Forwarded-For (the client's list plus peer),
 * X-Forwarded-Proto, Forwarded (RFC 7239: the client's elements plus
 * for/proto/host), Via (plus "1.x tinyweb" with the client's version),
 * set_headers, then Content-Length: body_len when has_length, or
 * Transfer-Encoding: chunked when chunked, and the empty line.
 * Errors are in out->failed.
 */
void tw_forward_request_head(const struct tw_http_request *r,
			     const char *target, size_t target_len,
			     const struct sockaddr *peer,
			     const struct tw_forward_opts *o, bool has_length,
			     uint64_t body_len, bool chunked,
			     struct tw_buf *out);

/*
 * Append to out the fields of an upstream response to pass to the
 * client ("Name: value\r\n" lines): the end-to-end ones, without
 * Content-Length, Date and Server (http writes its own framing and
 * those), and without hop-by-hop fields. For an upgrade (101) Upgrade
 * is kept. fields[0..n) are the parsed response's.
 */
void tw_forward_response_fields(const struct tw_http_header *fields,
				size_t n, bool upgrade, struct tw_buf *out);

/* True if name is hop-by-hop, or listed in a Connection field among
 * fields[0..n). */
bool tw_forward_is_hop(const char *name, size_t len,
		       const struct tw_http_header *fields, size_t n);

#endif /* TW_FORWARD_H */
