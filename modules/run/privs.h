/* SPDX-License-Identifier: MIT */
/*
 * privs: give up root once the listening sockets are bound (the user
 * directive). Layer 4 (run).
 */
#ifndef TW_PRIVS_H
#define TW_PRIVS_H

/*
 * Become user (NULL: nothing to do), with group if not NULL, else the
 * user's own group, and no supplementary groups. Without root this only
 * logs a warning. Returns 0, or -1 (said on stderr: we are starting).
 */
int tw_privs_drop(const char *user, const char *group);

#endif /* TW_PRIVS_H */
