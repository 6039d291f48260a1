/* SPDX-License-Identifier: MIT */
/*
 * scope: the block directives of the config file. server { } holds
 * listen, server_name, location { } blocks and the directives a server
 * may set for itself (root, index, listing, return, ...); location { }
 * the same and alias and proxy_pass (upstream blocks are front/
 * upstreams'). Parses them into struct tw_config's servers, prints them
 * back, and merges a location's settings with those it inherits.
 * Layer 5 (front), beside opts, whose "server" row is here.
 */
#ifndef TW_SCOPE_H
#define TW_SCOPE_H

#include <stdbool.h>
#include <stdio.h>

#include "front/config.h"
#include "front/opts.h"

/* The row of "server { }" (front/opts). */
tw_opt_parse_fn tw_scope_parse_server;

/* The blocks of c in the file syntax, upstreams first (check-config
 * prints them after the top level's directives). */
void tw_scope_print(const struct tw_config *c, FILE *out);

/*
 * A directive that belongs in a block (location, alias, ...) met at the
 * top level: the error that says where it goes, or 0 if name is no
 * such directive.
 */
int tw_scope_misplaced(struct tw_opt_ctx *px, const struct tw_opt_origin *o,
		       const char *name);

/*
 * After the file and the flags: -p/-b make every server listen on the
 * command line's addresses. Checks what needs the whole file (a
 * server_name twice on one address). 0 or TW_CONFIG_EFILE with err set.
 */
int tw_scope_finish(struct tw_config *c, char *err, size_t errlen);

/*
 * The settings in force in loc of srv (loc NULL: the server's own, for
 * requests no location takes), inherited as in nginx: a directive not
 * given in a block comes from the enclosing one, add_header lines as a
 * whole. srv NULL: the implicit server of the top level.
 */
void tw_scope_effective(const struct tw_config *c,
			const struct tw_config_server *srv,
			const struct tw_config_location *loc,
			struct tw_config_scope *out);

/* Free the blocks of c (tw_config_free). */
void tw_scope_free(struct tw_config *c);

#endif /* TW_SCOPE_H */
