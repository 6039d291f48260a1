/* SPDX-License-Identifier: MIT */
/*
 * return: the handler of a location's "return CODE [URL|TEXT]": a
 * redirect (301, 302, 303, 307, 308) with its Location, another code
 * with TEXT as a text/plain body, or without TEXT http's own page for
 * that code. Takes every request it is asked. Layer 3.
 *
 * URL and TEXT may name nginx's variables, expanded per request into
 * the response's own buffers (no allocation): $host (the request's host
 * without its port, lowercase: the absolute target's, else Host's, else
 * the server's default_host), $request_uri (path and query as sent),
 * $scheme (http or https). ${name} is the same as $name. A '$' not
 * followed by a name (a letter or '_', then letters, digits, '_') is
 * itself ("$5", "a $ b"); an unknown name is refused when the
 * configuration is read (tw_return_check).
 */
#ifndef TW_RETURN_H
#define TW_RETURN_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

struct tw_return_opts {
	int code;		/* 200..599 */
	const char *arg;	/* URL of a redirect, body text, or NULL */
	/* $host for a request that names none (HTTP/1.0 without Host):
	 * the server's first name; NULL: such a request gets 400 where
	 * arg uses $host. */
	const char *default_host;
};

extern const struct tw_handler tw_return_handler;

/*
 * Check arg's variables: true if every $name is known. Else false with
 * *bad pointing at the first unknown "$name" (or "${name"...) in arg
 * and *badlen its length, for the error line.
 */
bool tw_return_check(const char *arg, const char **bad, size_t *badlen);

#endif /* TW_RETURN_H */
