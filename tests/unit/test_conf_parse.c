/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for conf_parse: the tree of a text (names, words, lines,
 * nesting, empty blocks, comments, quoting and escapes, words past the
 * config layer's argument limit), and a row per syntax error with the
 * exact "FILE:LINE: what": unclosed blocks (named where they open),
 * stray braces, ';' and '{' without a name, the lexer's errors, the
 * depth cap. Every input ends at a guard page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/conf_parse.h"
#include "support/guard.h"

static int
parse(struct tw_conf_tree *t, const char *text, size_t len, char *err,
      size_t errlen)
{
	struct guard g;
	const char *buf;
	int r;

	err[0] = '\0';
	buf = guard_copy(&g, text, len);
	r = tw_conf_parse(t, "f.conf", buf, len, err, errlen);
	guard_free(&g);
	return r;
}

/* The tree of text, which must parse. */
static void
parse_ok(struct tw_conf_tree *t, const char *text)
{
	char err[256];

	if (parse(t, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", text, err);
}

/* A one-line form of a tree: name@LINE <arg>... @LINE{children} or ; */
static void
dump(const struct tw_conf_node *n, char *out, size_t len)
{
	size_t i;

	for (; n != NULL; n = n->next) {
		size_t used = strlen(out);

		(void)snprintf(out + used, len - used, "%s%s@%zu",
			       used && out[used - 1] != '{' ? " " : "",
			       n->name, n->line);
		for (i = 0; i < n->nargs; i++) {
			used = strlen(out);
			(void)snprintf(out + used, len - used, " <%s>",
				       n->args[i]);
		}
		if (n->has_block) {
			used = strlen(out);
			(void)snprintf(out + used, len - used, " @%zu{",
				       n->block_line);
			dump(n->child, out, len);
			used = strlen(out);
			(void)snprintf(out + used, len - used, "}");
		} else {
			used = strlen(out);
			(void)snprintf(out + used, len - used, ";");
		}
	}
}

static const struct {
	const char *in;
	const char *tree;
} good_rows[] = {
	{ "", "" },
	{ "  \n\t\r\n", "" },
	{ "# only a comment", "" },
	{ "a;", "a@1;" },
	{ "a b c;", "a@1 <b> <c>;" },
	{ "a;\nb x;\n\nc y z;\n", "a@1; b@2 <x>; c@4 <y> <z>;" },
	/* the line of a directive is its name's */
	{ "\na\n b\n c;\n", "a@2 <b> <c>;" },
	/* blocks, empty or not, nested */
	{ "s {}", "s@1 @1{}" },
	{ "s { }\nt;", "s@1 @1{} t@2;" },
	{ "s\n{\n}\n", "s@1 @2{}" },
	{ "s a { b; c d; }", "s@1 <a> @1{b@1; c@1 <d>;}" },
	{ "s {\n l /p {\n  x 1;\n }\n l /q { }\n}\nt;\n",
	  "s@1 @1{l@2 </p> @2{x@3 <1>;} l@5 </q> @5{}} t@7;" },
	{ "a { b { c { d { e; } } } }", "a@1 @1{b@1 @1{c@1 @1{d@1 @1{e@1;}}}}" },
	/* comments anywhere a token may start */
	{ "a; # c ; { } \" '\nb;", "a@1; b@2;" },
	{ "a # c\n x;", "a@1 <x>;" },
	{ "s { # c }\n}", "s@1 @1{}" },
	{ "a b#c;", "a@1 <b#c>;" },
	/* quoting and escapes */
	{ "\"a b\" 'c;d' \"{}\";", "a b@1 <c;d> <{}>;" },
	{ "a \"x\\\"y\" 'p\\'q' \"\\n\\t\\r\\\\\\$\\ \";",
	  "a@1 <x\"y> <p'q> <\n\t\r\\$ >;" },
	{ "a \"\" '';", "a@1 <> <>;" },
	{ "a x\"y\"z;", "a@1 <x> <y> <z>;" },
	{ "a \"1\n2\";\nb;", "a@1 <1\n2>; b@3;" },
	/* CRLF */
	{ "a;\r\nb {\r\n}\r\nc;\r\n", "a@1; b@2 @2{} c@4;" },
	/* any number of words: limits are the reader's */
	{ "a 1 2 3 4 5 6 7 8 9 10 11 12;",
	  "a@1 <1> <2> <3> <4> <5> <6> <7> <8> <9> <10> <11> <12>;" },
};

static void
good_trees(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_rows) / sizeof(good_rows[0]); i++) {
		struct tw_conf_tree t;
		char out[1024] = "";

		parse_ok(&t, good_rows[i].in);
		dump(t.first, out, sizeof(out));
		tw_conf_tree_free(&t);
		if (strcmp(out, good_rows[i].tree) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, out,
				 good_rows[i].tree);
	}
}

/* Nodes know their file, parent and words as NUL-terminated strings. */
static void
node_links(void **state)
{
	struct tw_conf_tree t;
	const struct tw_conf_node *s, *l;

	(void)state;
	parse_ok(&t, "s {\n l a b { x; }\n}\n");
	s = t.first;
	assert_non_null(s);
	assert_null(s->next);
	assert_null(s->parent);
	assert_string_equal(s->file, "f.conf");
	assert_ptr_equal(s->file, t.file);
	l = s->child;
	assert_non_null(l);
	assert_ptr_equal(l->parent, s);
	assert_ptr_equal(l->file, t.file);
	assert_int_equal(l->nargs, 2);
	assert_string_equal(l->args[0], "a");
	assert_string_equal(l->args[1], "b");
	assert_ptr_equal(l->child->parent, l);
	assert_null(l->child->args);
	assert_int_equal(l->child->nargs, 0);
	tw_conf_tree_free(&t);
	assert_null(t.first);
}

static const struct {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *err;	/* the whole message */
} bad_rows[] = {
	/* unclosed blocks: at the line of their '{', with where text ends */
	{ "s {", 0, "f.conf:1: block 's' is not closed: no '}' before the "
	  "end of the file (line 1)" },
	{ "a;\n\nserver {\n listen 80;\n\n", 0, "f.conf:3: block 'server' "
	  "is not closed: no '}' before the end of the file (line 6)" },
	{ "s\n{\n", 0, "f.conf:2: block 's' is not closed: no '}' before "
	  "the end of the file (line 3)" },
	/* the innermost open block is named */
	{ "a {\n b {\n", 0, "f.conf:2: block 'b' is not closed: no '}' "
	  "before the end of the file (line 3)" },
	{ "a {\n b {\n }\n", 0, "f.conf:1: block 'a' is not closed: no '}' "
	  "before the end of the file (line 4)" },
	/* a directive cut off: the line of its name */
	{ "a;\nb x\n\n", 0,
	  "f.conf:2: unexpected end of file, expecting ';' after 'b'" },
	{ "s {\n x 1\n", 0,
	  "f.conf:2: unexpected end of file, expecting ';' after 'x'" },
	{ "s {\n x 1\n}\n", 0, "f.conf:3: expected ';' after 'x'" },
	/* a quoted name keeps the message on one line, and short */
	{ "\"a\nb\" {\n", 0, "f.conf:2: block 'a?b' is not closed: no '}' "
	  "before the end of the file (line 3)" },
	{ "'x\ty' 1", 0,
	  "f.conf:1: unexpected end of file, expecting ';' after 'x?y'" },
	{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
	  "qrstuvwxyz }", 0, "f.conf:1: expected ';' after 'abcdefghijklmnopq"
	  "rstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh...'" },	/* 60 + ... */
	/* stray tokens, at their own line */
	{ "a;\n\n}\n", 0, "f.conf:3: unexpected '}' (no block is open)" },
	{ "s { }\n}\n", 0, "f.conf:2: unexpected '}' (no block is open)" },
	{ "a;\n;\n", 0, "f.conf:2: unexpected ';'" },
	{ "s { } ;", 0, "f.conf:1: unexpected ';'" },
	{ "\n{ a; }", 0, "f.conf:2: unexpected '{'" },
	{ "s { { } }", 0, "f.conf:1: unexpected '{'" },
	/* the lexer */
	{ "a\0;", 3, "f.conf:1: NUL byte (not a text file?)" },
	{ "a;\n# x\0\n", 8, "f.conf:2: NUL byte (not a text file?)" },
	{ "a \"x\n\0\";", 8, "f.conf:2: NUL byte (not a text file?)" },
	{ "a\x01;", 0, "f.conf:1: control character (not a text file?)" },
	{ "a;\n\"abc\n\n", 0, "f.conf:2: unterminated quoted string" },
	{ "a '\\", 0, "f.conf:1: unterminated quoted string" },
	{ "a \"\n\\q\";", 0, "f.conf:2: unknown escape in a quoted string" },
};

static void
bad_texts(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct tw_conf_tree t;
		size_t len = bad_rows[i].len ? bad_rows[i].len
					     : strlen(bad_rows[i].in);
		char err[256];
		int r = parse(&t, bad_rows[i].in, len, err, sizeof(err));

		tw_conf_tree_free(&t);
		if (r != -EINVAL || strcmp(err, bad_rows[i].err) != 0) {
			print_error("row %zu: got %d \"%s\"\n", i, r, err);
			bad++;
		}
	}
	if (bad)
		fail_msg("%zu rows failed", bad);
}

static void
long_words(void **state)
{
	struct tw_conf_tree t;
	char *text = malloc(TW_CONF_MAX_TOKEN + 16);
	char err[256];

	(void)state;
	assert_non_null(text);
	memset(text, 'w', TW_CONF_MAX_TOKEN);
	memcpy(text + TW_CONF_MAX_TOKEN, ";", 2);
	parse_ok(&t, text);
	assert_int_equal(strlen(t.first->name), TW_CONF_MAX_TOKEN);
	tw_conf_tree_free(&t);

	memcpy(text + TW_CONF_MAX_TOKEN, "w;", 3);
	assert_int_equal(parse(&t, text, strlen(text), err, sizeof(err)),
			 -EINVAL);
	tw_conf_tree_free(&t);
	assert_string_equal(err, "f.conf:1: token longer than 4096 bytes");
	free(text);
}

/* Nesting up to the cap parses; one more level is refused at its '{'. */
static void
depth_cap(void **state)
{
	size_t n = TW_CONF_MAX_DEPTH, i;
	char *text = malloc(4 * (n + 1) + 1), *p = text;
	struct tw_conf_tree t;
	char err[256], want[128];

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "a {");
	for (i = 0; i < n; i++)
		*p++ = '}';
	*p = '\0';
	parse_ok(&t, text);
	tw_conf_tree_free(&t);

	p = text;
	for (i = 0; i <= n; i++)
		p += sprintf(p, "a\n{");
	*p = '\0';
	assert_int_equal(parse(&t, text, strlen(text), err, sizeof(err)),
			 -EINVAL);
	tw_conf_tree_free(&t);
	(void)snprintf(want, sizeof(want), "f.conf:%zu: blocks nested more "
		       "than %d deep", n + 2, TW_CONF_MAX_DEPTH);
	assert_string_equal(err, want);
	free(text);
}

/* A message longer than the buffer is cut, not overrun. */
static void
small_error_buffer(void **state)
{
	struct tw_conf_tree t;
	char err[16];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(tw_conf_parse(&t, "f.conf", "}", 1, err, 8), -EINVAL);
	tw_conf_tree_free(&t);
	assert_string_equal(err, "f.conf:");
	assert_int_equal(err[8], 'Z');
	assert_int_equal(tw_conf_parse(&t, "f.conf", "}", 1, err, 0), -EINVAL);
	tw_conf_tree_free(&t);
	assert_int_equal(err[8], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_trees),
		cmocka_unit_test(node_links),
		cmocka_unit_test(bad_texts),
		cmocka_unit_test(long_words),
		cmocka_unit_test(depth_cap),
		cmocka_unit_test(small_error_buffer),
	};

	return cmocka_run_group_tests_name("conf_parse", tests, NULL, NULL);
}
