/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the mime.types parser and the extension table:
 * every (type, ext) pair handed to the callback must be well-formed and
 * inside the input; after a successful tw_mime_table_load_buf, looking an
 * extension up must give the type of its last mapping (case-insensitive).
 * The input is also used as a file name for tw_mime_table_lookup.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAIRS_MAX 4096

struct pair {
	const char *type;
	size_t type_len;
	const char *ext;
	size_t ext_len;
};

struct seen {
	const char *buf;
	size_t len;
	struct pair pairs[PAIRS_MAX];
	size_t n;
	bool overflow;
};

/* A token: non-empty, no blank, line end or NUL, not a comment. */
static bool
token_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '#')
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
		    s[i] == '\r' || s[i] == '\0')
			return false;
	return true;
}

static int
check_entry(const char *type, size_t type_len, const char *ext,
	    size_t ext_len, void *arg)
{
	struct seen *s = arg;
	const char *slash;

	assert(type >= s->buf && type + type_len <= s->buf + s->len);
	assert(ext >= s->buf && ext + ext_len <= s->buf + s->len);
	assert(ext_len >= 1 && ext_len <= 31);
	assert(token_ok(type, type_len) && token_ok(ext, ext_len));
	slash = memchr(type, '/', type_len);
	assert(slash != NULL && slash > type && slash < type + type_len - 1);
	if (s->n < PAIRS_MAX)
		s->pairs[s->n++] =
			(struct pair){ type, type_len, ext, ext_len };
	else
		s->overflow = true;
	return 0;
}

/* The type the last mapping of ext gave, or NULL. */
static const struct pair *
last_mapping(const struct seen *s, const char *ext, size_t len)
{
	size_t i = s->n;

	while (i-- > 0)
		if (s->pairs[i].ext_len == len &&
		    strncasecmp(s->pairs[i].ext, ext, len) == 0)
			return &s->pairs[i];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen s;
	struct tw_mime_table *t;
	const struct pair *want;
	const char *buf = (const char *)data, *got;
	char name[64];
	size_t errline = 0, errline2 = 0, i, nl = 0;
	int ret, ret2, n;

	if (size > 16384)
		return 0;
	for (i = 0; i < size; i++)
		nl += data[i] == '\n';

	memset(&s, 0, sizeof(s));
	s.buf = buf;
	s.len = size;
	ret = tw_mime_parse_types(buf, size, check_entry, &s, &errline);
	assert(ret == 0 || ret == -EINVAL);
	if (ret != 0)
		assert(errline >= 1 && errline <= nl + 1);

	t = tw_mime_table_create();
	if (t == NULL)
		return 0;
	ret2 = tw_mime_table_load_buf(t, buf, size, &errline2);
	/* The table refuses more (long types), never less, and no earlier. */
	if (ret != 0)
		assert(ret2 == -EINVAL && errline2 <= errline);
	if (ret2 != 0)
		assert(ret2 == -EINVAL || ret2 == -ENOMEM);

	if (ret == 0 && ret2 == 0 && !s.overflow) {
		for (i = 0; i < s.n && i < 256; i++) {
			const struct pair *p = &s.pairs[i];

			if (memchr(p->ext, '.', p->ext_len) != NULL)
				continue;	/* never a last extension */
			n = snprintf(name, sizeof(name), "f.%.*s",
				     (int)p->ext_len, p->ext);
			assert(n > 0 && (size_t)n < sizeof(name));
			got = tw_mime_table_lookup(t, name, (size_t)n);
			want = last_mapping(&s, p->ext, p->ext_len);
			assert(got != NULL && want != NULL);
			assert(strlen(got) == want->type_len &&
			       memcmp(got, want->type, want->type_len) == 0);
		}
	}

	/* Any bytes as a file name: NULL or a well-formed type. */
	got = tw_mime_table_lookup(t, buf, size);
	if (got != NULL) {
		assert(strchr(got, '/') != NULL);
		assert(strlen(got) < TW_MIME_TYPE_MAX);
		(void)tw_mime_is_text(got);
	}
	tw_mime_table_destroy(t);
	return 0;
}
