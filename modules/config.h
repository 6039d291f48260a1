/* SPDX-License-Identifier: MIT */
/*
 * config: every setting of tinyweb in one table that drives the command
 * line, --help and (later) the config file. Fills struct tw_config from
 * defaults and flags; tinyweb.c then hands each module its own options.
 * Layer 5 (front): the only module that sees all options.
 */
#ifndef TW_CONFIG_H
#define TW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fs.h"

#define TW_CONFIG_MAX_BINDS 16

struct tw_config {
	const char *root;
	uint16_t port;
	const char *binds[TW_CONFIG_MAX_BINDS];
	size_t nbinds;
	const char *index;
	bool listing;
	bool hidden;
	enum tw_fs_symlinks symlinks;
	bool charset;
	bool gzip_static;
	const char *access_log;	/* "-", "off" or a path */
	bool quiet;
	uint64_t keepalive_timeout_ms;
	uint64_t header_timeout_ms;
	uint64_t send_timeout_ms;
	uint64_t max_connections;
	uint64_t max_keepalive_requests;
};

/* Fill c with the built-in defaults. */
void tw_config_defaults(struct tw_config *c);

enum tw_config_cmd {
	TW_CMD_SERVE,
	TW_CMD_HELP,
	TW_CMD_VERSION,
};

/*
 * Parse argv (argv[0] is the program) into c, which holds defaults.
 * Strings in c point into argv. On a bad command line prints one line
 * "tinyweb: ..." to stderr and returns -EINVAL; else returns 0 and sets
 * *cmd.
 */
int tw_config_parse_args(struct tw_config *c, int argc, char **argv,
			 enum tw_config_cmd *cmd);

/* Print the --help text, generated from the option table. */
void tw_config_usage(FILE *out);

/*
 * Parse a duration "250ms", "10", "10s", "5m", "2h", "1d" into
 * milliseconds. Returns 0 or -EINVAL (no digits, unknown unit, overflow).
 */
int tw_config_parse_duration(const char *s, uint64_t *ms);

#endif /* TW_CONFIG_H */
