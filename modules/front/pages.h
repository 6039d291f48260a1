/* SPDX-License-Identifier: MIT */
/*
 * pages: the directives error_page, try_files and cors, cors_methods,
 * cors_headers, cors_expose_headers, cors_max_age, cors_credentials, at
 * the top level (front/opts' rows, --cors..., --spa) and in server and
 * location blocks (front/scope's rows): one parser, printer and
 * inheritance for both, and what http and static are handed of them.
 * Layer 5 (front).
 */
#ifndef TW_PAGES_H
#define TW_PAGES_H

#include <stdbool.h>
#include <stdio.h>

#include "front/config.h"
#include "front/opts.h"
#include "http/cors.h"
#include "http/http.h"
#include "http/static.h"

/* True if name is one of the directives above. */
bool tw_pages_directive(const char *name);

/*
 * Directive name with v's words into p. block: in a server or location
 * block, where each but error_page and cors is given once. Returns 0
 * or the tw_opts_failf() error.
 */
int tw_pages_parse(const struct tw_opt_val *v, const char *name,
		   struct tw_config_pages *p, bool block);

/* --spa: try_files $uri $uri/ /index.html at the top level. */
int tw_pages_spa(const struct tw_opt_val *v, struct tw_config_pages *p);

/* The lines of what p sets, indented by depth levels (check-config). */
void tw_pages_print(const struct tw_config_pages *p, int depth, FILE *out);

/* Overlay what a block b sets on the settings out it inherits. */
void tw_pages_overlay(struct tw_config_pages *out,
		      const struct tw_config_pages *b);

/* The settings in force eff, whole: cors * with credentials is refused
 * (the fetch standard forbids it). 0 or TW_CONFIG_EFILE, err set. */
int tw_pages_check(const struct tw_config_pages *eff, char *err,
		   size_t errlen);

/* What http (error pages, CORS) and static (try_files) are handed for
 * one scope; it points into itself, so it stays where it is built. */
struct tw_pages_http {
	struct tw_http_scope scope;
	struct tw_http_error_page errors[TW_CONFIG_MAX_ERROR_PAGES];
	struct tw_cors cors;
	const char *origins[TW_CONFIG_MAX_ORIGINS];
	const char *try_files[TW_CONFIG_MAX_TRY];
};

/* Build out from the settings in force p (its strings are the
 * configuration's); so, if not NULL, gets try_files. */
void tw_pages_build(const struct tw_config_pages *p, struct tw_pages_http *out,
		    struct tw_static_opts *so);

#endif /* TW_PAGES_H */
