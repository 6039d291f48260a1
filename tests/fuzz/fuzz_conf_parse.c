/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for conf_parse: any bytes give either a tree whose
 * links hold together (parents, files, words, lines within the text,
 * nesting within the cap) or one line "fuzz.conf:LINE: what", never a
 * crash or a leak. The walk uses parent links, not recursion.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/conf_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_node(const struct tw_conf_tree *t, const struct tw_conf_node *n,
	   size_t lines, size_t depth)
{
	size_t i;

	if (n->file != t->file || n->name == NULL || n->line == 0 ||
	    n->line > lines || depth > TW_CONF_MAX_DEPTH)
		abort();
	if (n->nargs > 0 && n->args == NULL)
		abort();
	for (i = 0; i < n->nargs; i++)
		if (n->args[i] == NULL ||
		    strlen(n->args[i]) > TW_CONF_MAX_TOKEN)
			abort();
	if (!n->has_block && n->child != NULL)
		abort();
	if (n->has_block && (n->block_line < n->line ||
			     n->block_line > lines))
		abort();
	if (n->child != NULL && n->child->parent != n)
		abort();
}

/* Depth first by links: down to a child, else on to the next node or
 * the next of the nearest parent that has one. */
static void
check_tree(const struct tw_conf_tree *t, size_t lines)
{
	const struct tw_conf_node *n = t->first;
	size_t depth = 0;

	while (n != NULL) {
		check_node(t, n, lines, depth);
		if (n->child != NULL) {
			n = n->child;
			depth++;
			continue;
		}
		while (n != NULL && n->next == NULL) {
			n = n->parent;
			depth = depth ? depth - 1 : 0;
		}
		if (n != NULL) {
			if (n->next->parent != n->parent)
				abort();
			n = n->next;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_conf_tree t;
	char err[512];
	size_t lines = 1, i;
	int r;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	err[0] = '\0';
	r = tw_conf_parse(&t, "fuzz.conf", (const char *)data, size, err,
			  sizeof(err));
	if (r == 0) {
		check_tree(&t, lines);
	} else if (r == -EINVAL) {
		if (strncmp(err, "fuzz.conf:", 10) != 0 ||
		    strchr(err, '\n') != NULL)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	tw_conf_tree_free(&t);
	return 0;
}
