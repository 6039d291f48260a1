/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for htpasswd: any user file. Every line returned
 * lies inside the text, has a user without a colon and a hash the
 * checker accepts on its own; line numbers only grow; the walk ends.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/htpasswd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	struct tw_htpasswd_entry e;
	const char *why;
	size_t pos = 0, before;
	unsigned line = 0, last = 0;
	int r;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	for (;;) {
		before = pos;
		r = tw_htpasswd_next(text, size, &pos, &line, &e, &why);
		assert(r == 1 || r == 0 || r == -EINVAL);
		assert(pos <= size);
		if (r != 0)
			assert(line > last && pos > before);
		if (r <= 0) {
			assert(r == 0 || why != NULL);
			break;
		}
		last = line;
		assert(e.user >= text && e.hash + e.hash_len <= text + size);
		assert(e.user_len > 0 && !memchr(e.user, ':', e.user_len));
		assert(tw_htpasswd_check_hash(e.hash, e.hash_len) == NULL);
	}
	free(text);
	return 0;
}
