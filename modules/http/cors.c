/* SPDX-License-Identifier: MIT */
/*
 * cors: CORS response fields from a request and the scope's settings.
 * Layer 3, no I/O.
 */
#include "http/cors.h"

#include <string.h>
#include <strings.h>

bool
tw_cors_is_preflight(const struct tw_http_request *r)
{
	return r->method_len == 7 && memcmp(r->method, "OPTIONS", 7) == 0 &&
	       tw_http_find_header(r, "Origin") != NULL &&
	       tw_http_find_header(r, "Access-Control-Request-Method") != NULL;
}

/* Origins are compared as serialized ("https://a.example:8443"); the
 * scheme and host are case-insensitive (RFC 6454 4). */
static bool
origin_listed(const struct tw_cors *c, const char *o, size_t len)
{
	size_t i;

	for (i = 0; i < c->norigins; i++)
		if (strlen(c->origins[i]) == len &&
		    strncasecmp(c->origins[i], o, len) == 0)
			return true;
	return false;
}

/* Only a list of field names is echoed back: tokens, commas, blanks. */
static bool
header_list_ok(const char *v, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~, \t";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') ||
		      (ch != '\0' && strchr(extra, ch) != NULL)))
			return false;
	}
	return true;
}

static void
field(struct tw_buf *out, const char *name, const char *v, size_t len)
{
	tw_buf_append_str(out, name);
	tw_buf_append_str(out, ": ");
	tw_buf_append(out, v, len);
	tw_buf_append_str(out, "\r\n");
}

static void
preflight_fields(const struct tw_cors *c, const struct tw_http_request *r,
		 struct tw_buf *out)
{
	const struct tw_http_header *h;

	field(out, "Access-Control-Allow-Methods", c->methods,
	      strlen(c->methods));
	if (c->headers != NULL) {
		field(out, "Access-Control-Allow-Headers", c->headers,
		      strlen(c->headers));
	} else {
		/* The answer depends on what was asked: caches keep the
		 * two apart. */
		tw_buf_append_str(out, "Vary: Access-Control-Request-Headers\r\n");
		h = tw_http_find_header(r, "Access-Control-Request-Headers");
		if (h != NULL && h->value_len > 0 &&
		    header_list_ok(h->value, h->value_len))
			field(out, "Access-Control-Allow-Headers", h->value,
			      h->value_len);
	}
	tw_buf_append_str(out, "Access-Control-Max-Age: ");
	tw_buf_append_u64(out, c->max_age);
	tw_buf_append_str(out, "\r\n");
}

bool
tw_cors_fields(const struct tw_cors *c, const struct tw_http_request *r,
	       bool preflight, struct tw_buf *out)
{
	const struct tw_http_header *o = tw_http_find_header(r, "Origin");
	bool star = c->any && !c->credentials;

	/* "*" is the same for everyone; an echoed origin is not. */
	if (!star)
		tw_buf_append_str(out, "Vary: Origin\r\n");
	if (o == NULL || (!c->any && !origin_listed(c, o->value, o->value_len)))
		return false;
	if (star)
		tw_buf_append_str(out, "Access-Control-Allow-Origin: *\r\n");
	else
		field(out, "Access-Control-Allow-Origin", o->value,
		      o->value_len);
	if (c->credentials)
		tw_buf_append_str(out,
				  "Access-Control-Allow-Credentials: true\r\n");
	if (preflight)
		preflight_fields(c, r, out);
	else if (c->expose != NULL)
		field(out, "Access-Control-Expose-Headers", c->expose,
		      strlen(c->expose));
	return true;
}
