/* SPDX-License-Identifier: MIT */
/*
 * redirect: a handler that answers every request with 301 to the same
 * path and query on https://HOST:PORT, HOST from the request's Host
 * header (nginx's `return 301 https://$host$request_uri`). Layer 3: it
 * knows requests, not the listeners they came by; front/setup routes to
 * it before the files and it declines requests that came over TLS, so
 * plain and TLS listeners of one server each get their answer.
 */
#ifndef TW_REDIRECT_H
#define TW_REDIRECT_H

#include <stdint.h>

#include "http/http.h"

struct tw_redirect_opts {
	uint16_t port;		/* https port; 443 is left out of the URL */
};

extern const struct tw_handler tw_redirect_handler;

/*
 * The Location of a request for host (the Host header's value, its port
 * dropped here), path and query (NULL: none), as sent:
 * "https://HOST[:PORT]PATH[?QUERY]" into buf.
 * Returns its length, or -1 if host is not a name or an IP literal (no
 * redirect to whatever a client puts there) or buf is too small.
 */
/*
 * The name of a Host value (host, host_len as sent, its port dropped):
 * its length, or -1 if it is not a DNS name or an IP literal (no
 * redirect to whatever a client puts there).
 */
long tw_redirect_host(const char *host, size_t host_len);

long tw_redirect_location(const char *host, size_t host_len,
			  const char *path, size_t path_len,
			  const char *query, size_t query_len,
			  uint16_t port, char *buf, size_t len);

#endif /* TW_REDIRECT_H */
