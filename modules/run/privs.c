/* SPDX-License-Identifier: MIT */
/*
 * privs: setgroups, setgid, setuid. Layer 4.
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
tw_privs_drop(const char *user, const char *group)
{
	struct passwd *pw;
	gid_t gid;

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
	gid = pw->pw_gid;
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			fprintf(stderr, "tinyweb: group %s: no such group\n",
				group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "tinyweb: user %s: %s\n", user,
			strerror(errno));
		return -1;
	}
	return 0;
}
