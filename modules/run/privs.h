/* SPDX-License-Identifier: MIT */
/*
 * privs: the user and group a server started as root serves as (the
 * user directive), looked up at start and taken on by the processes
 * that serve: prefork's workers, the epoll or threads process (its
 * keeper stays root, run/keeper). Layer 4 (run).
 */
#ifndef TW_PRIVS_H
#define TW_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

struct tw_privs {
	bool active;		/* root with a user directive */
	uid_t uid;
	gid_t gid;
	char user[64];		/* for messages */
};

/*
 * Look user (NULL: nothing to do) up, with group if not NULL, else the
 * user's own group. Without root this only logs a warning and leaves p
 * inactive. Returns 0, or -1 (said on stderr: we are starting).
 */
int tw_privs_resolve(struct tw_privs *p, const char *user,
		     const char *group);

/*
 * Become p's user and group with no supplementary groups (nothing if p
 * is inactive). Returns 0 or -errno.
 */
int tw_privs_drop(const struct tw_privs *p);

#endif /* TW_PRIVS_H */
