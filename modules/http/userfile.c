/* SPDX-License-Identifier: MIT */
/*
 * userfile: two passes over the text, one to count and check the lines,
 * one to copy names and hashes into a single store, so the table is
 * two allocations whatever its size. Layer 3.
 */
#include "http/userfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse/htpasswd.h"

void
tw_userfile_free(struct tw_userfile *u)
{
	free(u->users);
	free(u->store);
	memset(u, 0, sizeof(*u));
}

int
tw_userfile_parse(struct tw_userfile *u, const char *text, size_t len,
		  uint64_t id, unsigned *line, const char **why)
{
	struct tw_htpasswd_entry e;
	size_t pos = 0, n = 0, i;
	char *p;
	int r;

	memset(u, 0, sizeof(*u));
	*line = 0;
	while ((r = tw_htpasswd_next(text, len, &pos, line, &e, why)) > 0)
		n++;
	if (r < 0)
		return r;
	if (n == 0) {
		*why = "no user in the file";
		*line = 0;	/* the file's fault, no line's */
		return -EINVAL;
	}
	/* Names and hashes are shorter than the text they came from. */
	u->users = calloc(n, sizeof(*u->users));
	u->store = malloc(len + n * 2 + 1);
	if (u->users == NULL || u->store == NULL) {
		tw_userfile_free(u);
		return -ENOMEM;
	}
	u->id = id;
	pos = 0;
	*line = 0;
	p = u->store;
	while (tw_htpasswd_next(text, len, &pos, line, &e, why) > 0) {
		struct tw_userfile_user *a = &u->users[u->n];

		for (i = 0; i < u->n; i++)
			if (u->users[i].name_len == e.user_len &&
			    memcmp(u->users[i].name, e.user, e.user_len) == 0) {
				*why = "a user named twice";
				tw_userfile_free(u);
				return -EINVAL;
			}
		a->name = p;
		a->name_len = e.user_len;
		memcpy(p, e.user, e.user_len);
		p += e.user_len;
		*p++ = '\0';
		a->hash = p;
		memcpy(p, e.hash, e.hash_len);
		p += e.hash_len;
		*p++ = '\0';
		u->n++;
	}
	u->dummy = u->users[0].hash;
	return 0;
}
