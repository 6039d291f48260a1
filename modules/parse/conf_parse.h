/* SPDX-License-Identifier: MIT */
/*
 * conf_parse: the config file syntax, apart from what any directive
 * means. Turns text into a tree of directives, each a name, its
 * arguments, FILE:LINE and an optional block { ... } of directives,
 * nested to any depth up to TW_CONF_MAX_DEPTH. Untrusted bytes: no I/O,
 * and memory only for the tree (one arena, freed at once). Layer 2.
 *
 * Syntax: words separated by blanks; "..." and '...' quote, with \n \t
 * \r \\ \" \' \$ and '\ ' as escapes; '#' at the start of a word
 * comments to the end of the line; a directive ends with ';' or with a
 * block { ... } (no ';' after the '}').
 */
#ifndef TW_CONF_PARSE_H
#define TW_CONF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define TW_CONF_MAX_TOKEN	4096	/* bytes in one word */
#define TW_CONF_MAX_DEPTH	64	/* blocks inside blocks */

struct tw_conf_node {
	const char *name;
	const char *const *args;	/* nargs words, NUL-terminated */
	size_t nargs;
	const char *file;		/* as given to tw_conf_parse() */
	size_t line;			/* of the name */
	bool has_block;			/* '{' followed, even if empty */
	size_t block_line;		/* of the '{' */
	struct tw_conf_node *child;	/* first directive of the block */
	struct tw_conf_node *next;	/* next directive of this level */
	struct tw_conf_node *parent;	/* NULL at the top */
	struct tw_conf_node *last;	/* last child, while parsing */
};

struct tw_conf_chunk;

struct tw_conf_tree {
	struct tw_conf_node *first;	/* NULL: no directives */
	const char *file;		/* every node's file points here */
	struct tw_conf_chunk *chunks;	/* owns every node and string */
};

/*
 * Parse buf[0..len) named file (copied into the tree). Returns 0 with
 * *t filled, or -EINVAL with one line "FILE:LINE: what" in err, or
 * -ENOMEM. An unclosed block is reported at the line of its '{':
 * "FILE:OPEN: block 'NAME' is not closed: no '}' before the end of the
 * file (line END)". Free *t with tw_conf_tree_free() either way.
 */
int tw_conf_parse(struct tw_conf_tree *t, const char *file, const char *buf,
		  size_t len, char *err, size_t errlen);

void tw_conf_tree_free(struct tw_conf_tree *t);

#endif /* TW_CONF_PARSE_H */
