/* SPDX-License-Identifier: MIT */
/*
 * cors: the Cross-Origin Resource Sharing fields of a response (fetch
 * standard, "CORS protocol"). A request whose Origin is allowed gets
 * Access-Control-Allow-Origin: its own origin echoed (with Vary:
 * Origin) or "*" where every origin is allowed without credentials; a
 * preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * also gets the methods, the request headers and the max age. An
 * origin that is not allowed gets no CORS field: the browser refuses.
 * No I/O, no allocation: fields go into the caller's buffer. Layer 3.
 */
#ifndef TW_CORS_H
#define TW_CORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "parse/http_parse.h"

struct tw_cors {
	const char *const *origins;	/* "https://a.example[:port]", as
					 * browsers send them */
	size_t norigins;
	bool any;			/* cors *: every origin */
	bool credentials;		/* Allow-Credentials (never with any) */
	const char *methods;		/* "GET, HEAD, OPTIONS" */
	const char *headers;		/* allowed request headers; NULL:
					 * those the preflight asks for */
	const char *expose;		/* Access-Control-Expose-Headers, or
					 * NULL */
	uint64_t max_age;		/* seconds a preflight is cached */
};

/* OPTIONS with Origin and Access-Control-Request-Method. */
bool tw_cors_is_preflight(const struct tw_http_request *r);

/*
 * Append to out ("Name: value\r\n" lines) the CORS fields of the
 * response to r under c; preflight adds the preflight's own. Returns
 * true if r's origin is allowed (false: no Origin, or another one; out
 * then holds at most Vary: Origin, which every answer of a list of
 * origins carries for caches).
 */
bool tw_cors_fields(const struct tw_cors *c, const struct tw_http_request *r,
		    bool preflight, struct tw_buf *out);

#endif /* TW_CORS_H */
