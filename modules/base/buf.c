/* SPDX-License-Identifier: MIT */
/*
 * buf: growable byte buffers for response heads and generated bodies.
 * Layer 0: no knowledge of anything above libc.
 */
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

char *
tw_buf_reserve(struct tw_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return NULL;
	/* data is NULL until the first allocation: NULL + 0 is undefined. */
	if (b->data != NULL && b->cap - b->len >= n)
		return b->data + b->len;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return NULL;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->failed = true;
		return NULL;
	}
	b->data = p;
	b->cap = cap;
	return b->data + b->len;
}

void
tw_buf_append_grow(struct tw_buf *b, const void *p, size_t n)
{
	char *dst = tw_buf_reserve(b, n);

	if (dst == NULL)
		return;
	memcpy(dst, p, n);
	b->len += n;
}

size_t
tw_buf_fmt_u64(char out[20], uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void
tw_buf_append_u64(struct tw_buf *b, uint64_t v)
{
	char d[20];

	tw_buf_append(b, d, tw_buf_fmt_u64(d, v));
}

void
tw_buf_append_html(struct tw_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	const char *ent;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		tw_buf_append(b, s + run, i - run);
		tw_buf_append_str(b, ent);
		run = i + 1;
	}
	tw_buf_append(b, s + run, n - run);
}

void
tw_buf_append_json(struct tw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			continue;
		tw_buf_append(b, s + run, i - run);
		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			tw_buf_append(b, e, 2);
		} else {
			tw_buf_append(b, e, 6);
		}
		run = i + 1;
	}
	tw_buf_append(b, s + run, n - run);
}

void
tw_buf_reset(struct tw_buf *b, size_t keep)
{
	if (b->cap > keep)
		tw_buf_free(b);
	b->len = 0;
	b->failed = false;
}

void
tw_buf_free(struct tw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}
