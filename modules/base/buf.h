/* SPDX-License-Identifier: MIT */
/*
 * buf: a growable byte buffer and the appenders the response path needs
 * (strings, decimal numbers, HTML-escaped text) without printf. Layer 0:
 * knows nothing above libc.
 */
#ifndef TW_BUF_H
#define TW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tw_buf {
	char *data;		/* owned; malloc'd, NULL while cap == 0 */
	size_t len;
	size_t cap;
	bool failed;		/* an append ran out of memory */
};

/*
 * Appenders never fail loudly: on out of memory they set b->failed and
 * drop the bytes, so a caller can build a whole response and check once
 * (answering 503). A failed buffer stays failed until tw_buf_reset().
 */
void tw_buf_append_u64(struct tw_buf *b, uint64_t v);

/* The out-of-line half of tw_buf_append: grow, then copy. */
void tw_buf_append_grow(struct tw_buf *b, const void *p, size_t n);

/* Inline: a response head is a few dozen appends, mostly of literals
 * whose length the compiler then knows, into a buffer that has room. */
static inline void
tw_buf_append(struct tw_buf *b, const void *p, size_t n)
{
	if (!b->failed && b->data != NULL && b->cap - b->len >= n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		return;
	}
	tw_buf_append_grow(b, p, n);
}

static inline void
tw_buf_append_str(struct tw_buf *b, const char *s)
{
	tw_buf_append(b, s, strlen(s));
}

static inline void
tw_buf_append_char(struct tw_buf *b, char c)
{
	tw_buf_append(b, &c, 1);
}

/* Append s[0..n) with &, <, >, " and ' replaced by HTML entities. */
void tw_buf_append_html(struct tw_buf *b, const char *s, size_t n);

/* Append s[0..n) as the inside of a JSON string: '"', '\\' and the
 * control bytes (U+0000..U+001F, U+007F) escaped, every other byte as it
 * is (the caller passes valid UTF-8). */
void tw_buf_append_json(struct tw_buf *b, const char *s, size_t n);

/* Make room for n more bytes; returns a pointer to them or NULL (and
 * sets failed). The caller then adds what it wrote to b->len. */
char *tw_buf_reserve(struct tw_buf *b, size_t n);

/* Empty the buffer; keep the memory unless it is above keep bytes. */
void tw_buf_reset(struct tw_buf *b, size_t keep);

/* Free the memory. The buffer can be used again afterwards. */
void tw_buf_free(struct tw_buf *b);

/* Decimal digits of v into out (no NUL); returns the count (1..20). */
size_t tw_buf_fmt_u64(char out[20], uint64_t v);

#endif /* TW_BUF_H */
