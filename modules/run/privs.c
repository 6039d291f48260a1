/* SPDX-License-Identifier: MIT */
/*
 * privs: getpwnam once, then setgroups, setgid, setuid. Layer 4.
 */
#include "run/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

int
tw_privs_resolve(struct tw_privs *p, const char *user, const char *group)
{
	struct passwd *pw;

	memset(p, 0, sizeof(*p));
	if (user == NULL)
		return 0;
	if (geteuid() != 0) {
		tw_log(TW_LOG_WARN, 0, "user %s: ignored, not running as root",
		       user);
		return 0;
	}
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "tinyweb: user %s: no such user\n", user);
		return -1;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			fprintf(stderr, "tinyweb: group %s: no such group\n",
				group);
			return -1;
		}
		p->gid = gr->gr_gid;
	}
	(void)snprintf(p->user, sizeof(p->user), "%s", user);
	p->active = true;
	return 0;
}

int
tw_privs_drop(const struct tw_privs *p)
{
	if (!p->active)
		return 0;
	/* The group first: without root, setgid is no longer allowed. */
	if (setgroups(0, NULL) < 0 || setgid(p->gid) < 0 ||
	    setuid(p->uid) < 0)
		return -errno;
	return 0;
}
