/* SPDX-License-Identifier: MIT */
/*
 * return: a fixed answer for a location. The options are checked when
 * the configuration is read (front/scope): a redirect has a URL without
 * control characters, so it cannot split the response head, and names
 * no unknown variable. Layer 3.
 */
#include "http/return.h"

#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "http/redirect.h"

enum ret_var {
	VAR_HOST,
	VAR_REQUEST_URI,
	VAR_SCHEME,
	VAR_NONE,	/* a literal '$' */
	VAR_UNKNOWN,
};

static const struct {
	const char *name;
	size_t len;
} vars[] = {
	[VAR_HOST] = { "host", 4 },
	[VAR_REQUEST_URI] = { "request_uri", 11 },
	[VAR_SCHEME] = { "scheme", 6 },
};

static bool
is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/*
 * The variable whose '$' is at p (end: the string's end): which one,
 * and in *used the bytes it spans with its '$' ("${host}" is 7).
 */
static enum ret_var
var_at(const char *p, const char *end, size_t *used)
{
	const char *name = p + 1, *e;
	bool brace = name < end && *name == '{';
	size_t i;

	if (brace)
		name++;
	/* "$5" is text (a price), not a variable: nginx's would be a
	 * regex capture, which a return has none of. */
	e = name;
	if (e < end && !isdigit((unsigned char)*e))
		for (; e < end && is_name_char(*e); e++)
			;
	if (e == name || (brace && (e == end || *e != '}'))) {
		*used = brace ? (size_t)(e - p) : 1;
		return brace ? VAR_UNKNOWN : VAR_NONE;
	}
	*used = (size_t)(e - p) + brace;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((size_t)(e - name) == vars[i].len &&
		    memcmp(name, vars[i].name, vars[i].len) == 0)
			return (enum ret_var)i;
	return VAR_UNKNOWN;
}

bool
tw_return_check(const char *arg, const char **bad, size_t *badlen)
{
	const char *p = arg, *end = arg + strlen(arg);
	size_t used;

	while ((p = memchr(p, '$', (size_t)(end - p))) != NULL) {
		if (var_at(p, end, &used) == VAR_UNKNOWN) {
			*bad = p;
			*badlen = used;
			return false;
		}
		p += used;
	}
	return true;
}

/* The host a request names: its absolute target's authority (RFC 9112
 * 3.2.2), else Host; port included. NULL if neither. */
static const char *
request_host(const struct tw_http_request *r, size_t *len)
{
	const struct tw_http_header *h;
	const char *t = r->target, *end = t + r->target_len, *a, *e;

	if (r->target_len > 0 && t[0] != '/' &&
	    (a = memchr(t, ':', r->target_len)) != NULL && end - a > 3 &&
	    a[1] == '/' && a[2] == '/') {
		a += 3;
		for (e = a; e < end && *e != '/' && *e != '?'; e++)
			;
		*len = (size_t)(e - a);
		return a;
	}
	h = tw_http_find_header(r, "Host");
	if (h == NULL)
		return NULL;
	*len = h->value_len;
	return h->value;
}

/* $host into b, lowercase (as nginx). -1 if the request names no host
 * we would put in a URL (a client must not steer a redirect). */
static int
append_host(struct tw_buf *b, const struct tw_http_req *req,
	    const struct tw_return_opts *o)
{
	const char *h = NULL;
	size_t len = 0, start = b->len, i;
	long n;

	if (req->raw != NULL)
		h = request_host(req->raw, &len);
	if (h == NULL || len == 0) {
		if (o->default_host == NULL)
			return -1;
		tw_buf_append_str(b, o->default_host);
		return 0;
	}
	n = tw_redirect_host(h, len);
	if (n < 0)
		return -1;
	tw_buf_append(b, h, (size_t)n);
	if (b->failed)
		return 0;
	for (i = start; i < b->len; i++)
		b->data[i] = (char)tolower((unsigned char)b->data[i]);
	return 0;
}

/* arg with its variables expanded, appended to b. -1: no host for
 * $host (400). */
static int
expand(struct tw_buf *b, const char *arg, const struct tw_http_req *req,
       const struct tw_return_opts *o)
{
	const char *p = arg, *end = arg + strlen(arg), *d;
	size_t used;

	while ((d = memchr(p, '$', (size_t)(end - p))) != NULL) {
		tw_buf_append(b, p, (size_t)(d - p));
		switch (var_at(d, end, &used)) {
		case VAR_HOST:
			if (append_host(b, req, o) < 0)
				return -1;
			break;
		case VAR_REQUEST_URI:
			/* As sent, percent-encoding kept: the parser let
			 * only visible ASCII through. */
			tw_buf_append(b, req->path, req->path_len);
			if (req->query != NULL) {
				tw_buf_append_char(b, '?');
				tw_buf_append(b, req->query, req->query_len);
			}
			break;
		case VAR_SCHEME:
			tw_buf_append_str(b, req->secure ? "https" : "http");
			break;
		case VAR_NONE:
		case VAR_UNKNOWN:	/* refused at load: never here */
			tw_buf_append(b, d, used);
			break;
		}
		p = d + used;
	}
	tw_buf_append(b, p, (size_t)(end - p));
	return 0;
}

static bool
is_redirect(int code)
{
	return code >= 300 && code < 400;
}

static int
return_handle(const struct tw_http_req *req, struct tw_http_res *res,
	      void *inst)
{
	const struct tw_return_opts *o = inst;
	size_t mark = res->headers->len;

	if (o->arg == NULL && o->code >= 400)
		return o->code;	/* http's page for the code, as nginx does */
	res->status = o->code;
	res->no_length = o->code == 204;	/* RFC 9110 8.6 */
	if (is_redirect(o->code)) {
		tw_buf_append_str(res->headers, "Location: ");
		if (expand(res->headers, o->arg, req, o) < 0) {
			res->headers->len = mark;	/* http keeps the rest */
			return 400;
		}
		tw_buf_append_str(res->headers, "\r\n");
		return 0;
	}
	if (o->arg == NULL)
		return 0;
	if (expand(res->body, o->arg, req, o) < 0)
		return 400;
	tw_buf_append_str(res->headers,
			  "Content-Type: text/plain; charset=utf-8\r\n");
	res->segs[0] = (struct tw_http_seg){
		.kind = TW_HTTP_SEG_BODY, .off = 0, .len = res->body->len,
	};
	res->nseg = 1;
	return 0;
}

/* The options are all the instance needs: nothing per loop. */
static void *
return_create(const void *opts, int *err)
{
	(void)err;
	return (void *)(uintptr_t)opts;
}

const struct tw_handler tw_return_handler = {
	.name = "return",
	.handle = return_handle,
	.create = return_create,
};
