/* SPDX-License-Identifier: MIT */
/*
 * redirect: 301 to https. Layer 3.
 */
#include "http/redirect.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse/http_parse.h"

/* A DNS name, an IPv4 literal, or an IPv6 literal in brackets: what a
 * Location may carry without a client steering it elsewhere. */
static bool
valid_host(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 255)
		return false;
	if (h[0] == '[')
		return n > 2 && h[n - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF:.") >= n - 2;
	for (i = 0; i < n; i++) {
		char ch = h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

long
tw_redirect_host(const char *host, size_t host_len)
{
	const char *colon = memrchr(host, ':', host_len);

	/* The port the client used is the plain one: drop it. */
	if (colon != NULL && (host[0] != '[' ||
			      memchr(colon, ']', host_len -
				     (size_t)(colon - host)) == NULL))
		host_len = (size_t)(colon - host);
	return valid_host(host, host_len) ? (long)host_len : -1;
}

long
tw_redirect_location(const char *host, size_t host_len, const char *path,
		     size_t path_len, const char *query, size_t query_len,
		     uint16_t port, char *buf, size_t len)
{
	char portbuf[8] = "";
	long hn = tw_redirect_host(host, host_len);
	int n;

	if (hn < 0)
		return -1;
	host_len = (size_t)hn;
	if (port != 443)
		(void)snprintf(portbuf, sizeof(portbuf), ":%u", port);
	n = snprintf(buf, len, "https://%.*s%s%.*s%s%.*s", (int)host_len,
		     host, portbuf, (int)path_len, path,
		     query != NULL ? "?" : "", query != NULL ? (int)query_len : 0,
		     query != NULL ? query : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

static void *
redirect_create(const void *opts, int *err)
{
	*err = 0;
	return (void *)(uintptr_t)opts;
}

static int
redirect_handle(const struct tw_http_req *req, struct tw_http_res *res,
		void *inst)
{
	const struct tw_redirect_opts *o = inst;
	const struct tw_http_header *h = tw_http_find_header(req->raw, "Host");
	char loc[8192 + 512];
	long n;

	if (req->secure)
		return TW_DECLINED;	/* already https: the files answer */
	if (h == NULL)
		return 400;	/* HTTP/1.0 without Host: nowhere to go */
	/* Path and query as sent, percent-encoding kept: the parser let
	 * only visible ASCII through, nothing that could split the head. */
	n = tw_redirect_location(h->value, h->value_len, req->path,
				 req->path_len, req->query, req->query_len,
				 o->port, loc, sizeof(loc));
	if (n < 0)
		return 400;
	res->status = 301;
	tw_buf_append_str(res->headers, "Location: ");
	tw_buf_append(res->headers, loc, (size_t)n);
	tw_buf_append_str(res->headers, "\r\nContent-Type: text/html; "
			  "charset=utf-8\r\n");
	tw_buf_append_str(res->body, "<!DOCTYPE html>\n<html><head><title>"
			  "301 Moved Permanently</title></head>\n<body><h1>"
			  "301 Moved Permanently</h1></body></html>\n");
	res->segs[0] = (struct tw_http_seg){ .kind = TW_HTTP_SEG_BODY,
					     .off = 0, .len = res->body->len };
	res->nseg = 1;
	return 0;
}

const struct tw_handler tw_redirect_handler = {
	.name = "redirect",
	.handle = redirect_handle,
	.create = redirect_create,
};
