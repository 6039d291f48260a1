/* SPDX-License-Identifier: MIT */
/*
 * userfile: the users of an auth_basic_user_file, parsed from its text
 * (parse/htpasswd judges each line) into a table http/auth looks names
 * up in. Built once per configuration by front, before any worker
 * starts; read-only afterwards. Layer 3, beside auth; no I/O (front
 * reads the file).
 */
#ifndef TW_USERFILE_H
#define TW_USERFILE_H

#include <stddef.h>
#include <stdint.h>

struct tw_userfile_user {
	const char *name;	/* NUL-terminated, in the table's store */
	size_t name_len;
	const char *hash;	/* NUL-terminated crypt(3) string */
};

/* The users of a user file, parsed. */
struct tw_userfile {
	struct tw_userfile_user *users;
	size_t n;
	uint64_t id;		/* the file's identity (device, inode, size,
				 * mtime), part of every cache key */
	const char *dummy;	/* checked for unknown names: the first
				 * user's hash, so as much work is spent */
	char *store;
};

/*
 * Parse a user file's text[0..len) into *u (owned by the caller; free
 * with tw_userfile_free). Returns 0; -EINVAL with *line and *why
 * (a fixed string) for the first line that cannot be used (see
 * parse/htpasswd; also a user named twice; *line 0 for a file without
 * users);
 * -ENOMEM.
 */
int tw_userfile_parse(struct tw_userfile *u, const char *text, size_t len,
		      uint64_t id, unsigned *line, const char **why);
void tw_userfile_free(struct tw_userfile *u);

#endif /* TW_USERFILE_H */
