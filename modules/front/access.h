/* SPDX-License-Identifier: MIT */
/*
 * access: the access control directives, the same at the top level, in
 * server and in location blocks: auth_basic REALM|off,
 * auth_basic_user_file FILE (read and checked when the configuration
 * is loaded, so a HUP with a broken file keeps the running
 * configuration), allow and deny ADDR[/BITS]|all. Parses them into a
 * struct tw_config_auth, prints them back, inherits them from level to
 * level and checks the result. Layer 5, beside opts and scope.
 */
#ifndef TW_ACCESS_H
#define TW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "front/config.h"
#include "front/opts.h"

/* The user file's size at most: a user a line, it is small. */
#define TW_ACCESS_MAX_FILE	(16u << 20)

/* True if name is one of the directives of this module. */
bool tw_access_is_directive(const char *name);

/*
 * One directive (name, its words) for the level a. file: the file the
 * directive came from (relative paths are its), or NULL (a flag).
 * Returns 0 or the tw_opts_failf() error (FILE:LINE of the directive,
 * and for the user file's own faults its FILE:LINE too).
 */
int tw_access_set(struct tw_opt_ctx *px, const struct tw_opt_origin *org,
		  const char *file, const char *name,
		  const char *const *args, size_t nargs,
		  struct tw_config_auth *a);

/* --auth-file FILE: the user file, and the realm "tinyweb" unless one
 * is given (before or after). */
int tw_access_set_file_flag(struct tw_opt_ctx *px,
			    const struct tw_opt_origin *org, const char *path,
			    struct tw_config_auth *a);

/* The level's own directives in the file syntax, depth levels in. */
void tw_access_print(const struct tw_config_auth *a, int depth, FILE *out);

/* Overlay what level b set on out (tw_scope_effective). */
void tw_access_inherit(struct tw_config_auth *out,
		       const struct tw_config_auth *b);

/*
 * After the whole file and the flags: every level where auth_basic is
 * on has a user file in force. 0 or TW_CONFIG_EFILE with err set.
 */
int tw_access_finish(const struct tw_config *c, char *err, size_t errlen);

#endif /* TW_ACCESS_H */
