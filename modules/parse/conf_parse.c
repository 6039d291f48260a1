/* SPDX-License-Identifier: MIT */
/*
 * conf_parse: lexer and block parser of the config syntax. The parser is
 * a loop with the open block as its only state, not a recursion, so no
 * input can run the stack out; the depth cap protects the readers of
 * the tree, which may recurse.
 */
#include "parse/conf_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the arena: every node and string of one tree ------------------------ */

#define CHUNK_MIN	8192

struct tw_conf_chunk {
	struct tw_conf_chunk *next;
	size_t used, cap;
	_Alignas(max_align_t) char data[];
};

static void *
arena_alloc(struct tw_conf_tree *t, size_t n)
{
	struct tw_conf_chunk *c = t->chunks;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = t->chunks;
		t->chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static const char *
arena_strdup(struct tw_conf_tree *t, const char *s, size_t n)
{
	char *p = arena_alloc(t, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void
tw_conf_tree_free(struct tw_conf_tree *t)
{
	while (t->chunks != NULL) {
		struct tw_conf_chunk *c = t->chunks;

		t->chunks = c->next;
		free(c);
	}
	t->first = NULL;
}

/* ---- the lexer ------------------------------------------------------------ */

enum tok {
	TOK_EOF,
	TOK_WORD,
	TOK_SEMI,
	TOK_OPEN,
	TOK_CLOSE,
	TOK_ERROR,
};

struct lexer {
	const char *p;
	const char *end;
	size_t line;
	size_t tok_line;	/* line where the last token started */
	char word[TW_CONF_MAX_TOKEN + 1];
	size_t wlen;
	const char *why;	/* for TOK_ERROR */
};

static bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool
put_char(struct lexer *lx, char ch)
{
	if (lx->wlen == TW_CONF_MAX_TOKEN) {
		lx->why = "token longer than 4096 bytes";
		return false;
	}
	lx->word[lx->wlen++] = ch;
	return true;
}

/* The byte after a backslash in a quoted string, or -1 if unknown. */
static int
unescape(char ch)
{
	switch (ch) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case '\\': case '"': case '\'': case '$': case ' ':
		return ch;
	default:
		return -1;
	}
}

static enum tok
lex_quoted(struct lexer *lx, char q)
{
	lx->p++;
	while (lx->p < lx->end && *lx->p != q) {
		char ch = *lx->p++;

		if (ch == '\0') {
			lx->tok_line = lx->line;
			lx->why = "NUL byte (not a text file?)";
			return TOK_ERROR;
		}
		if (ch == '\n')
			lx->line++;
		if (ch == '\\') {
			int u;

			if (lx->p == lx->end)
				break;
			u = unescape(*lx->p++);
			if (u < 0) {
				lx->tok_line = lx->line;
				lx->why = "unknown escape in a quoted string";
				return TOK_ERROR;
			}
			ch = (char)u;
		}
		if (!put_char(lx, ch))
			return TOK_ERROR;
	}
	if (lx->p == lx->end) {
		lx->line = lx->tok_line;
		lx->why = "unterminated quoted string";
		return TOK_ERROR;
	}
	lx->p++;
	lx->word[lx->wlen] = '\0';
	return TOK_WORD;
}

/* Skip blanks and comments; false on a NUL inside a comment. */
static bool
skip_space(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && is_ws(*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p == lx->end || *lx->p != '#')
			return true;
		while (lx->p < lx->end && *lx->p != '\n') {
			if (*lx->p == '\0') {
				lx->tok_line = lx->line;
				lx->why = "NUL byte (not a text file?)";
				return false;
			}
			lx->p++;
		}
	}
}

static enum tok
lex(struct lexer *lx)
{
	if (!skip_space(lx))
		return TOK_ERROR;
	lx->tok_line = lx->line;
	lx->wlen = 0;
	if (lx->p == lx->end)
		return TOK_EOF;
	switch (*lx->p) {
	case ';': lx->p++; return TOK_SEMI;
	case '{': lx->p++; return TOK_OPEN;
	case '}': lx->p++; return TOK_CLOSE;
	case '"': case '\'': return lex_quoted(lx, *lx->p);
	case '\0':
		lx->why = "NUL byte (not a text file?)";
		return TOK_ERROR;
	}
	/* strchr() finds the terminator too: a NUL must not end a word
	 * silently, it is reported below. */
	while (lx->p < lx->end && !is_ws(*lx->p) &&
	       (*lx->p == '\0' || !strchr(";{}\"'", *lx->p))) {
		if (*lx->p == '\0') {
			lx->why = "NUL byte (not a text file?)";
			return TOK_ERROR;
		}
		if ((unsigned char)*lx->p < 0x20 || *lx->p == 0x7f) {
			lx->why = "control character (not a text file?)";
			return TOK_ERROR;
		}
		if (!put_char(lx, *lx->p++))
			return TOK_ERROR;
	}
	lx->word[lx->wlen] = '\0';
	return TOK_WORD;
}

/* ---- the parser ----------------------------------------------------------- */

/* A word of the directive being read, until its ';' or '{'. */
struct arg {
	const char *s;
	struct arg *next;
};

struct parser {
	struct tw_conf_tree *t;
	struct lexer lx;
	const char *file;
	char *err;
	size_t errlen;
	struct tw_conf_node *block;	/* the open block, NULL at the top */
	struct tw_conf_node *top_last;	/* last directive of the top level */
	size_t depth;
	struct tw_conf_node *dir;	/* the directive being read, or NULL */
	struct arg *args, **tail;
};

static int
fail(struct parser *ps, int err, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(struct parser *ps, int err, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->errlen == 0)
		return err;
	n = snprintf(ps->err, ps->errlen, "%s:%zu: ", ps->file, line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return err;
	va_start(ap, fmt);
	(void)vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

/* A name fit for a one-line message: quoted names may hold anything. */
static const char *
shown(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ?
			 '?' : name[i];
	out[i] = '\0';
	if (name[i] != '\0' && len > 4)
		memcpy(out + len - 4, "...", 4);
	return out;
}

/* A word: the name of a new directive, or the next argument. */
static int
take_word(struct parser *ps)
{
	struct lexer *lx = &ps->lx;
	const char *s = arena_strdup(ps->t, lx->word, lx->wlen);
	struct tw_conf_node *n, *parent = ps->block;
	struct arg *a;

	if (s == NULL)
		return -ENOMEM;
	if (ps->dir != NULL) {
		a = arena_alloc(ps->t, sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		*a = (struct arg){ .s = s };
		*ps->tail = a;
		ps->tail = &a->next;
		ps->dir->nargs++;
		return 0;
	}
	n = arena_alloc(ps->t, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	*n = (struct tw_conf_node){ .name = s, .file = ps->file,
				    .line = lx->tok_line, .parent = parent };
	if (parent == NULL) {
		if (ps->top_last == NULL)
			ps->t->first = n;
		else
			ps->top_last->next = n;
		ps->top_last = n;
	} else if (parent->last == NULL) {
		parent->child = parent->last = n;
	} else {
		parent->last->next = n;
		parent->last = n;
	}
	ps->dir = n;
	ps->args = NULL;
	ps->tail = &ps->args;
	return 0;
}

/* The directive's words become an array, at its ';' or '{'. */
static int
end_directive(struct parser *ps)
{
	const char **v = NULL;
	struct arg *a;
	size_t i = 0;

	if (ps->dir->nargs > 0) {
		if (ps->dir->nargs > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = arena_alloc(ps->t, ps->dir->nargs * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		for (a = ps->args; a != NULL; a = a->next)
			v[i++] = a->s;
	}
	ps->dir->args = v;
	ps->dir = NULL;
	return 0;
}

static int
open_block(struct parser *ps)
{
	struct tw_conf_node *n = ps->dir;
	int err;

	if (ps->depth == TW_CONF_MAX_DEPTH)
		return fail(ps, -EINVAL, ps->lx.tok_line, "blocks nested "
			    "more than %d deep", TW_CONF_MAX_DEPTH);
	err = end_directive(ps);
	if (err < 0)
		return err;
	n->has_block = true;
	n->block_line = ps->lx.tok_line;
	ps->block = n;
	ps->depth++;
	return 0;
}

static int
close_block(struct parser *ps)
{
	char name[64];

	if (ps->dir != NULL)
		return fail(ps, -EINVAL, ps->lx.tok_line, "expected ';' after "
			    "'%s'", shown(ps->dir->name, name, sizeof(name)));
	if (ps->block == NULL)
		return fail(ps, -EINVAL, ps->lx.tok_line,
			    "unexpected '}' (no block is open)");
	ps->block = ps->block->parent;
	ps->depth--;
	return 0;
}

static int
at_eof(struct parser *ps)
{
	char name[64];

	if (ps->dir != NULL)
		return fail(ps, -EINVAL, ps->dir->line, "unexpected end of "
			    "file, expecting ';' after '%s'",
			    shown(ps->dir->name, name, sizeof(name)));
	/* The place to fix is where the block opens, not where the text
	 * ends (possibly hundreds of lines later): name the opening line. */
	if (ps->block != NULL)
		return fail(ps, -EINVAL, ps->block->block_line, "block '%s' "
			    "is not closed: no '}' before the end of the file "
			    "(line %zu)", shown(ps->block->name, name,
						sizeof(name)),
			    ps->lx.tok_line);
	return 1;
}

/* One token; 1 at the end of the text. */
static int
step(struct parser *ps)
{
	enum tok tok = lex(&ps->lx);

	switch (tok) {
	case TOK_EOF:
		return at_eof(ps);
	case TOK_ERROR:
		return fail(ps, -EINVAL, ps->lx.tok_line, "%s", ps->lx.why);
	case TOK_WORD:
		return take_word(ps);
	case TOK_SEMI:
		if (ps->dir == NULL)
			return fail(ps, -EINVAL, ps->lx.tok_line,
				    "unexpected ';'");
		return end_directive(ps);
	case TOK_OPEN:
		if (ps->dir == NULL)
			return fail(ps, -EINVAL, ps->lx.tok_line,
				    "unexpected '{'");
		return open_block(ps);
	case TOK_CLOSE:
		return close_block(ps);
	}
	return -EINVAL;
}

int
tw_conf_parse(struct tw_conf_tree *t, const char *file, const char *buf,
	      size_t len, char *err, size_t errlen)
{
	struct parser *ps;
	int r;

	t->first = NULL;
	t->file = NULL;
	t->chunks = NULL;
	/* The lexer's word buffer is too big for some stacks. */
	ps = malloc(sizeof(*ps));
	if (ps == NULL)
		return -ENOMEM;
	*ps = (struct parser){ .t = t, .err = err, .errlen = errlen };
	ps->lx.p = buf;
	ps->lx.end = buf + len;
	ps->lx.line = 1;
	ps->file = arena_strdup(t, file, strlen(file));
	if (ps->file == NULL) {
		free(ps);
		return -ENOMEM;
	}
	t->file = ps->file;
	while ((r = step(ps)) == 0)
		;
	if (r == -ENOMEM)
		(void)fail(ps, r, ps->lx.line, "out of memory");
	free(ps);
	return r < 0 ? r : 0;
}
