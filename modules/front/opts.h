/* SPDX-License-Identifier: MIT */
/*
 * opts: config's option table as data. Each row names a directive and
 * its flag and carries the functions that turn its words into a field
 * of struct tw_config (parse), that check the value (check) and that
 * print it back (print), so config's file walker, command line, --help
 * and check-config need no branch per option. Layer 5, used by config.
 */
#ifndef TW_OPTS_H
#define TW_OPTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/config.h"
#include "parse/conf_parse.h"

#define TW_OPTS_MAX_ARGS	8	/* words after a directive's name */
#define TW_OPTS_MAX_INCLUDE	16	/* include nesting */
#define TW_OPTS_MAX_ROWS	96	/* rows in tw_opts[] at most */

/* Where a value comes from, for messages: "--flag" or "FILE:LINE". */
struct tw_opt_origin {
	char where[PATH_MAX + 32];
	bool cli;
};

struct tw_opt_val;

/* A file read for one load, with the tree parsed from it. */
struct tw_opt_file {
	struct tw_conf_tree tree;	/* its nodes' file is tree_name */
	const char *tree_name;
	const char *real;		/* realpath, for relative paths */
	struct tw_opt_file *next;
};

/* One load of a file or a command line into c. */
struct tw_opt_ctx {
	struct tw_config *c;
	char *err;
	size_t errlen;
	bool allow_include;
	struct tw_opt_file *files;	/* every file read so far */
	int depth;
	const char *stack[TW_OPTS_MAX_INCLUDE];	/* includes being read */
};

/* One directive or flag handed to its row. */
struct tw_opt_val {
	struct tw_opt_ctx *px;
	const struct tw_opt_origin *org;
	const char *const *args;
	size_t nargs;
	bool neg;				/* --no-x */
	const struct tw_conf_node *node;	/* in a file: the directive */
};

struct tw_opt;

/* Words -> field; 0 or the error of tw_opt_failf(). */
typedef int tw_opt_parse_fn(const struct tw_opt_val *v, const struct tw_opt *o,
			    void *field);
/* A value the field's type holds but the option does not allow. */
typedef int tw_opt_check_fn(const struct tw_opt_val *v, const struct tw_opt *o,
			    const void *field);
/* The directive lines that give c's value back (check-config). */
typedef void tw_opt_print_fn(const struct tw_config *c, const struct tw_opt *o,
			     FILE *out);

#define TW_OPT_REPEAT	0x1u	/* may appear more than once */
#define TW_OPT_FILE	0x2u	/* no command-line flag */
#define TW_OPT_CLI	0x4u	/* no directive */
#define TW_OPT_NOARG	0x8u	/* the flag takes no value (on/off, -t) */
#define TW_OPT_NEG	0x10u	/* there is a --no-x flag too */
#define TW_OPT_BLOCK	0x20u	/* the directive needs a block */
#define TW_OPT_EARLY	0x40u	/* a flag taken before the file is read */

struct tw_opt {
	const char *name;	/* directive; the flag is the same with '-' */
	char shortopt;
	unsigned flags;		/* TW_OPT_* */
	unsigned char min_args;	/* words in the file */
	unsigned char max_args;
	tw_opt_parse_fn *parse;
	tw_opt_check_fn *check;	/* or NULL */
	tw_opt_print_fn *print;	/* or NULL: printed by another row */
	size_t off;		/* offsetof(struct tw_config, field) */
	const char *const *values;	/* names of an enum, index = value */
	const char *arg;	/* metavariable in --help */
	const char *help;	/* '\n' continues on the next line */
	const char *neg_help;	/* help of --no-x */
};

extern const struct tw_opt tw_opts[];
extern const size_t tw_nopts;

/* The row of a directive (cli false) or of a long flag's row name. */
const struct tw_opt *tw_opts_find(const char *name, bool cli);

/*
 * Give v to row o: check the number of words and whether a block may
 * follow, then parse and check. Returns 0 or the tw_opts_failf() error.
 */
int tw_opts_set(const struct tw_opt_val *v, const struct tw_opt *o);

/* "WHERE: what" into px->err; TW_CONFIG_EUSAGE or TW_CONFIG_EFILE. */
int tw_opts_failf(struct tw_opt_ctx *px, const struct tw_opt_origin *o,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A path in a file (file: a node's file) is relative to that file's
 * directory; one from the command line or a buffer (file NULL or not
 * read from disk), to the working directory. 0 or -errno.
 */
int tw_opts_resolve(const struct tw_opt_ctx *px, const char *file,
		    const char *path, char *full, size_t len);

/* "FILE:LINE" of a directive. */
void tw_opts_where(struct tw_opt_origin *o, const struct tw_conf_node *n);

/* Helpers the block directives (front/scope) share with the rows. */
bool tw_opts_number(const char *s, uint64_t max, uint64_t *out);
void tw_opts_put_quoted(FILE *out, const char *s);
/* expires' words: a duration, max or off (-1). 0 or -EINVAL. */
int tw_opts_expires(const char *s, long long *out);
/* listen's words: PORT, ADDR, ADDR:PORT or [IPv6]:PORT. 0 or -EINVAL. */
int tw_opts_listen_addr(const char *s, const char **addr, size_t *addrlen,
			uint16_t *port);
/* add_header's name and value: a token, and no control characters. */
bool tw_opts_header_ok(const char *name, size_t nlen, const char *value);

/*
 * The whole file at path into a buffer of its size + 1 (the caller
 * frees it), *len its bytes; its stat in *st when st is not NULL.
 * Returns 0, -EISDIR, -EFBIG (over max bytes) or another -errno.
 */
struct stat;
int tw_opts_read_file(const char *path, size_t max, char **out, size_t *len,
		      struct stat *st);

/* A copy of s[0..n) that lives until tw_config_free(), or NULL. */
const char *tw_opts_keep(struct tw_config *c, const char *s, size_t n);
void tw_opts_free(struct tw_config *c);

#endif /* TW_OPTS_H */
