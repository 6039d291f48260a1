/* SPDX-License-Identifier: MIT */
/*
 * ready: 200 while serving, 503 while draining. Layer 3.
 */
#include "http/ready.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

struct ready {
	const struct tw_ready_opts *o;
	size_t len;		/* of o->path */
	bool draining;		/* this loop's graceful stop began */
};

static int
ready_handle(const struct tw_http_req *req, struct tw_http_res *res,
	     void *inst)
{
	struct ready *r = inst;
	const char *text = r->draining ? "draining\n" : "ok\n";

	if (req->path_len != r->len || memcmp(req->path, r->o->path, r->len))
		return TW_DECLINED;
	res->status = r->draining ? 503 : 200;
	/* A cached "ok" would hide the drain from the next check. */
	tw_buf_append_str(res->headers, "Content-Type: text/plain; "
			  "charset=utf-8\r\nCache-Control: no-store\r\n");
	tw_buf_append_str(res->body, text);
	res->segs[0] = (struct tw_http_seg){
		.kind = TW_HTTP_SEG_BODY, .off = 0, .len = res->body->len,
	};
	res->nseg = 1;
	return 0;
}

static void *
ready_create(const void *opts, int *err)
{
	struct ready *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	r->o = opts;
	r->len = strlen(r->o->path);
	return r;
}

static void
ready_destroy(void *inst)
{
	free(inst);
}

static void
ready_drain(void *inst)
{
	struct ready *r = inst;

	r->draining = true;
}

const struct tw_handler tw_ready_handler = {
	.name = "health",
	.handle = ready_handle,
	.create = ready_create,
	.destroy = ready_destroy,
	.drain = ready_drain,
};
