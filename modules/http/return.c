/* SPDX-License-Identifier: MIT */
/*
 * return: a fixed answer for a location. The options are checked when
 * the configuration is read (front/scope): a redirect has a URL without
 * control characters, so it cannot split the response head. Layer 3.
 */
#include "http/return.h"

#include <string.h>

#include "base/buf.h"

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

	(void)req;
	if (o->arg == NULL && o->code >= 400)
		return o->code;	/* http's page for the code, as nginx does */
	res->status = o->code;
	res->no_length = o->code == 204;	/* RFC 9110 8.6 */
	if (is_redirect(o->code)) {
		tw_buf_append_str(res->headers, "Location: ");
		tw_buf_append_str(res->headers, o->arg);
		tw_buf_append_str(res->headers, "\r\n");
		return 0;
	}
	if (o->arg == NULL)
		return 0;
	tw_buf_append_str(res->headers,
			  "Content-Type: text/plain; charset=utf-8\r\n");
	tw_buf_append_str(res->body, o->arg);
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
