/* SPDX-License-Identifier: MIT */
/*
 * page: reference-counted immutable bytes shared by the connections
 * sending them. Layer 0: no knowledge of anything above libc.
 */
#include "base/page.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"

/* glibc's own starting threshold: blocks from this size up are mapped. */
#define MMAP_THRESHOLD	(128 * 1024)

struct tw_page *
tw_page_from_buf(struct tw_buf *b)
{
	struct tw_page *p;
	char *data;

	if (b->failed || b->len == 0)
		return NULL;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return NULL;
	data = b->data;
	/* The buffer grew by doubling; give back the slack (a mapped block
	 * shrinks by mremap, no copy). Failing to shrink costs only that. */
	if (b->cap > b->len) {
		char *fit = realloc(data, b->len);

		if (fit != NULL)
			data = fit;
	}
	p->data = data;
	p->len = b->len;
	p->refs = 1;
	p->on_free = NULL;
	p->free_ctx = NULL;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

struct tw_page *
tw_page_ref(struct tw_page *p)
{
	p->refs++;
	return p;
}

void
tw_page_unref(struct tw_page *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	if (p->on_free != NULL)
		p->on_free(p, p->free_ctx);
	free((void *)(uintptr_t)p->data);
	free(p);
}

void
tw_page_malloc_setup(void)
{
	/* Setting it at all is what stops glibc's dynamic adjustment (of
	 * the trim threshold too, which then stays at its 128 KiB default,
	 * so a heap whose top is free shrinks as well). */
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
}
