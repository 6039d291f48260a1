/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for mime: the mime.types parser (good and bad input, with
 * guard-page copies), the extension table, tw_mime_is_text, and the
 * resolver against real temporary files and the real libmagic database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse/mime.h"
#include "support/guard.h"

#define S(lit) lit, sizeof(lit) - 1
#define EXT_32 "12345678901234567890123456789012"

/* ---- parser ------------------------------------------------------------ */

struct collect {
	char got[1024];	/* "type ext|type ext|" */
	size_t len;
	int calls;
	int fail_at;	/* return -ENOSPC on this call (1-based), 0: never */
};

static int
collect_entry(const char *type, size_t type_len, const char *ext,
	      size_t ext_len, void *arg)
{
	struct collect *c = arg;
	int n;

	c->calls++;
	if (c->fail_at != 0 && c->calls == c->fail_at)
		return -ENOSPC;
	n = snprintf(c->got + c->len, sizeof(c->got) - c->len, "%.*s %.*s|",
		     (int)type_len, type, (int)ext_len, ext);
	assert_true(n > 0 && (size_t)n < sizeof(c->got) - c->len);
	c->len += (size_t)n;
	return 0;
}

struct parse_vec {
	const char *in;
	size_t len;
	int ret;
	size_t errline;		/* when ret != 0 */
	const char *got;	/* entries seen, when ret == 0 */
};

static const struct parse_vec parse_vecs[] = {
	{ S(""), 0, 0, "" },
	{ S("\n\n\n"), 0, 0, "" },
	{ S("# only a comment\n"), 0, 0, "" },
	{ S("text/html html htm\n"), 0, 0, "text/html html|text/html htm|" },
	{ S("text/html\thtml \t htm  \n"), 0, 0,
	  "text/html html|text/html htm|" },
	{ S("  text/css css"), 0, 0, "text/css css|" },	/* no final LF */
	{ S("# c\n\n\t\ntext/a a\n# c2\ntext/b b\n"), 0, 0,
	  "text/a a|text/b b|" },
	{ S("text/a a\r\ntext/b b\r\n"), 0, 0, "text/a a|text/b b|" },
	{ S("text/a a\r\n\r\n"), 0, 0, "text/a a|" },
	{ S("text/a a\r"), 0, 0, "text/a a|" },
	{ S("application/x-nothing\n"), 0, 0, "" },	/* no extension */
	{ S("application/x-nothing   \ntext/a a\n"), 0, 0, "text/a a|" },
	{ S("text/a a # trailing comment\n"), 0, 0, "text/a a|" },
	{ S("text/a #a b c\n"), 0, 0, "" },
	{ S("application/vnd.ms-excel xls\n"), 0, 0,
	  "application/vnd.ms-excel xls|" },
	{ S("image/svg+xml svg\n"), 0, 0, "image/svg+xml svg|" },
	{ S("a/b x.y_z+1-2\n"), 0, 0, "a/b x.y_z+1-2|" },
	{ S("a/b Ab9\n"), 0, 0, "a/b Ab9|" },
	{ S("a/b 1234567890123456789012345678901\n"), 0, 0,	/* 31 */
	  "a/b 1234567890123456789012345678901|" },
	/* bad */
	{ S("foo\n"), -EINVAL, 1, NULL },
	{ S("foo html\n"), -EINVAL, 1, NULL },
	{ S("text/ html\n"), -EINVAL, 1, NULL },
	{ S("/html html\n"), -EINVAL, 1, NULL },
	{ S("/a/b html\n"), -EINVAL, 1, NULL },	/* fuzz: 2nd '/' */
	{ S("//a html\n"), -EINVAL, 1, NULL },
	{ S("text/html/x html\n"), -EINVAL, 1, NULL },
	{ S("text//html html\n"), -EINVAL, 1, NULL },
	{ S("te(xt/html html\n"), -EINVAL, 1, NULL },
	{ S("text/html; html\n"), -EINVAL, 1, NULL },
	{ S("types {\n"), -EINVAL, 1, NULL },
	{ S("text/html html;\n"), -EINVAL, 1, NULL },	/* nginx syntax */
	{ S("text/html ht/ml\n"), -EINVAL, 1, NULL },
	{ S("text/html ht*ml\n"), -EINVAL, 1, NULL },
	{ S("text/html h\xc3\xa9\n"), -EINVAL, 1, NULL },
	{ S("a/b 12345678901234567890123456789012\n"), -EINVAL, 1, NULL },
	{ S("text/a a\ntext/b b\nbad\ntext/c c\n"), -EINVAL, 3, NULL },
	{ S("# x\n\n\ntext/a a\nfoo"), -EINVAL, 5, NULL },
	{ S("text/a a\r\nbad\r\n"), -EINVAL, 2, NULL },
	{ S("text/a a\rb\n"), -EINVAL, 1, NULL },	/* bare CR */
	{ S("text/a a\vb\n"), -EINVAL, 1, NULL },
	{ S("text/a a\0\n"), -EINVAL, 1, NULL },
	{ S("\0"), -EINVAL, 1, NULL },
	{ S("text/a a\n# comment \0 with nul\n"), -EINVAL, 2, NULL },
	{ S("text/a a\ntext/b b\0"), -EINVAL, 2, NULL },
};

static void
parse_types_vectors(void **state)
{
	struct collect c;
	struct guard g;
	const char *in;
	size_t i, errline;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(parse_vecs) / sizeof(parse_vecs[0]); i++) {
		const struct parse_vec *v = &parse_vecs[i];

		memset(&c, 0, sizeof(c));
		errline = 0;
		in = guard_copy(&g, v->in, v->len);
		ret = tw_mime_parse_types(in, v->len, collect_entry, &c,
					  &errline);
		guard_free(&g);
		if (ret != v->ret)
			fail_msg("vector %zu: ret %d, want %d", i, ret, v->ret);
		if (ret != 0) {
			if (errline != v->errline)
				fail_msg("vector %zu: errline %zu, want %zu", i,
					 errline, v->errline);
			/* A bad line is rejected before fn sees any of it. */
			continue;
		}
		assert_string_equal(c.got, v->got);
	}
}

static void
parse_types_bad_line_not_half_loaded(void **state)
{
	struct collect c;
	size_t errline = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(tw_mime_parse_types(S("text/a a\ntext/b b c! d\n"),
					     collect_entry, &c, &errline),
			 -EINVAL);
	assert_int_equal(errline, 2);
	assert_string_equal(c.got, "text/a a|");
}

static void
parse_types_callback_error_stops(void **state)
{
	struct collect c;
	size_t errline = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.fail_at = 3;
	assert_int_equal(tw_mime_parse_types(S("text/a a b\ntext/c c d\n"),
					     collect_entry, &c, &errline),
			 -ENOSPC);
	assert_int_equal(c.calls, 3);
	assert_int_equal(errline, 2);
	assert_string_equal(c.got, "text/a a|text/a b|");
}

static void
parse_types_honours_len(void **state)
{
	struct collect c;
	size_t errline = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* The bytes after len (a bad line) must not be read. */
	assert_int_equal(tw_mime_parse_types("text/a a\nfoo\n", 9,
					     collect_entry, &c, &errline), 0);
	assert_string_equal(c.got, "text/a a|");
}

/* ---- table ------------------------------------------------------------- */

struct lookup_vec {
	const char *name;
	const char *type;	/* NULL: not found */
};

static const struct lookup_vec builtin_vecs[] = {
	{ "index.html", "text/html" },
	{ "INDEX.HTM", "text/html" },
	{ "a.HtMl", "text/html" },
	{ "style.css", "text/css" },
	{ "app.js", "text/javascript" },
	{ "mod.mjs", "text/javascript" },
	{ "data.json", "application/json" },
	{ "feed.xml", "application/xml" },
	{ "notes.txt", "text/plain" },
	{ "README.md", "text/markdown" },
	{ "t.csv", "text/csv" },
	{ "logo.svg", "image/svg+xml" },
	{ "p.png", "image/png" },
	{ "p.jpg", "image/jpeg" },
	{ "p.JPEG", "image/jpeg" },
	{ "p.gif", "image/gif" },
	{ "p.webp", "image/webp" },
	{ "p.avif", "image/avif" },
	{ "favicon.ico", "image/x-icon" },
	{ "p.bmp", "image/bmp" },
	{ "f.woff", "font/woff" },
	{ "f.woff2", "font/woff2" },
	{ "f.ttf", "font/ttf" },
	{ "f.otf", "font/otf" },
	{ "s.mp3", "audio/mpeg" },
	{ "s.ogg", "audio/ogg" },
	{ "s.wav", "audio/wav" },
	{ "s.flac", "audio/flac" },
	{ "v.mp4", "video/mp4" },
	{ "v.webm", "video/webm" },
	{ "v.mkv", "video/x-matroska" },
	{ "d.pdf", "application/pdf" },
	{ "a.zip", "application/zip" },
	{ "a.gz", "application/gzip" },
	{ "a.tar.gz", "application/gzip" },
	{ "a.tar", "application/x-tar" },
	{ "a.bz2", "application/x-bzip2" },
	{ "a.xz", "application/x-xz" },
	{ "a.7z", "application/x-7z-compressed" },
	{ "m.wasm", "application/wasm" },
	{ "d.rtf", "application/rtf" },
	{ "dir/sub/x.css", "text/css" },
	{ ".hidden.html", "text/html" },
	{ ".bashrc", NULL },
	{ "..bashrc", NULL },
	{ "Makefile", NULL },
	{ "noext", NULL },
	{ "trailing.", NULL },
	{ "", NULL },
	{ ".", NULL },
	{ "..", NULL },
	{ "x.unknownext", NULL },
	{ "x.html~", NULL },
	{ "x.ht ml", NULL },
	{ "dir.html/file", NULL },
	{ "x.123456789012345678901234567890123", NULL },
};

struct table_fixture {
	struct tw_mime_table *t;
	struct tw_mime *m;
};

static int
table_setup(void **state)
{
	struct table_fixture *f = calloc(1, sizeof(*f));
	int err = 0;

	if (f == NULL)
		return -1;
	f->t = tw_mime_table_create();
	if (f->t == NULL)
		return -1;
	f->m = tw_mime_create(f->t, &err);
	if (f->m == NULL || err != 0)
		return -1;
	*state = f;
	return 0;
}

static int
table_teardown(void **state)
{
	struct table_fixture *f = *state;

	tw_mime_destroy(f->m);
	tw_mime_table_destroy(f->t);
	free(f);
	return 0;
}

static void
check_lookups(const struct tw_mime_table *t, const struct lookup_vec *v,
	      size_t n)
{
	struct guard g;
	const char *name, *type;
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(v[i].name);
		name = guard_copy(&g, v[i].name, len);
		type = tw_mime_table_lookup(t, name, len);
		guard_free(&g);
		if (v[i].type == NULL && type != NULL)
			fail_msg("%s: got %s, want none", v[i].name, type);
		if (v[i].type != NULL &&
		    (type == NULL || strcmp(type, v[i].type) != 0))
			fail_msg("%s: got %s, want %s", v[i].name,
				 type ? type : "(none)", v[i].type);
	}
}

static void
table_builtin_lookups(void **state)
{
	struct table_fixture *f = *state;

	check_lookups(f->t, builtin_vecs,
		      sizeof(builtin_vecs) / sizeof(builtin_vecs[0]));
}

static void
table_lookup_uses_name_len(void **state)
{
	struct table_fixture *f = *state;
	const char *type;

	/* "a.css.html" cut to "a.css" */
	type = tw_mime_table_lookup(f->t, "a.css.html", 5);
	assert_non_null(type);
	assert_string_equal(type, "text/css");
	assert_null(tw_mime_table_lookup(f->t, "abc.html", 3));
}

static void
table_load_overrides_in_order(void **state)
{
	static const char types[] =
		"# site overrides\n"
		"text/x-first foo\n"
		"text/x-second FOO bar\n"
		"application/x-my-html html\n"
		"application/x-nothing\n";
	static const struct lookup_vec want[] = {
		{ "a.foo", "text/x-second" },	/* later line wins */
		{ "a.FoO", "text/x-second" },
		{ "a.bar", "text/x-second" },
		{ "a.html", "application/x-my-html" },	/* over a built-in */
		{ "a.HTM", "text/html" },	/* untouched built-in */
		{ "a.css", "text/css" },
	};
	struct table_fixture *f = *state;
	size_t errline = 0;

	assert_int_equal(tw_mime_table_load_buf(f->t, S(types), &errline), 0);
	check_lookups(f->t, want, sizeof(want) / sizeof(want[0]));
}

static void
table_load_reports_error_line(void **state)
{
	struct table_fixture *f = *state;
	size_t errline = 0;

	assert_int_equal(tw_mime_table_load_buf(f->t,
						S("text/a aa\n\nnope\n"),
						&errline), -EINVAL);
	assert_int_equal(errline, 3);
	/* Lines before the bad one were loaded. */
	assert_string_equal(tw_mime_table_lookup(f->t, S("x.aa")), "text/a");
}

static void
table_load_rejects_overlong_type(void **state)
{
	struct table_fixture *f = *state;
	char buf[256];
	size_t errline = 0;
	int n;

	/* A type too long to leave room for "; charset=..." in the output. */
	n = snprintf(buf, sizeof(buf), "text/x\nx/%0120d ext\n", 0);
	assert_true(n > 0);
	assert_int_equal(tw_mime_table_load_buf(f->t, buf, (size_t)n,
						&errline), -EINVAL);
	assert_int_equal(errline, 2);
	assert_null(tw_mime_table_lookup(f->t, S("a.ext")));
}

static void
table_add_validates(void **state)
{
	struct table_fixture *f = *state;

	assert_int_equal(tw_mime_table_add(f->t, S(""), S("text/a")), -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S("a b"), S("text/a")),
			 -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S("a/b"), S("text/a")),
			 -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S(EXT_32), S("text/a")),
			 -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S("x"), S("text")), -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S("x"), S("text/a\r\nX: y")),
			 -EINVAL);
	assert_int_equal(tw_mime_table_add(f->t, S("x"), S("text/a; q=1")),
			 -EINVAL);
	assert_null(tw_mime_table_lookup(f->t, S("f.x")));
	assert_int_equal(tw_mime_table_add(f->t, S("XyZ"), S("text/x-xyz")), 0);
	assert_string_equal(tw_mime_table_lookup(f->t, S("f.xyz")),
			    "text/x-xyz");
	assert_string_equal(tw_mime_table_lookup(f->t, S("F.XYZ")),
			    "text/x-xyz");
}

static void
table_grows_and_keeps_every_entry(void **state)
{
	struct table_fixture *f = *state;
	char ext[16], type[32], name[32];
	const char *got;
	int i;

	for (i = 0; i < 3000; i++) {
		(void)snprintf(ext, sizeof(ext), "e%d", i);
		(void)snprintf(type, sizeof(type), "x/t%d", i / 3);
		assert_int_equal(tw_mime_table_add(f->t, ext, strlen(ext),
						   type, strlen(type)), 0);
	}
	for (i = 0; i < 3000; i++) {
		(void)snprintf(name, sizeof(name), "file.E%d", i);
		(void)snprintf(type, sizeof(type), "x/t%d", i / 3);
		got = tw_mime_table_lookup(f->t, name, strlen(name));
		assert_non_null(got);
		assert_string_equal(got, type);
	}
	assert_string_equal(tw_mime_table_lookup(f->t, S("a.png")),
			    "image/png");
	assert_null(tw_mime_table_lookup(f->t, S("a.e3000")));
}

static void
is_text_vectors(void **state)
{
	static const struct {
		const char *type;
		bool text;
	} vecs[] = {
		{ "text/html", true },
		{ "text/plain", true },
		{ "TEXT/CSS", true },
		{ "text/javascript", true },
		{ "application/javascript", true },
		{ "application/json", true },
		{ "application/xml", true },
		{ "image/svg+xml", true },
		{ "application/atom+xml", true },
		{ "application/ld+json", true },
		{ "application/manifest+json", true },
		{ "text/plain; charset=utf-8", true },
		{ "image/png", false },
		{ "application/octet-stream", false },
		{ "application/pdf", false },
		{ "application/epub+zip", false },
		{ "application/jsonx", false },
		{ "image/json", false },
		{ "texts/plain", false },
		{ "text", false },
		{ "", false },
		{ "application/xml-dtd", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		if (tw_mime_is_text(vecs[i].type) != vecs[i].text)
			fail_msg("%s: want %d", vecs[i].type, vecs[i].text);
}

/* ---- resolver on real files -------------------------------------------- */

/* A temporary file holding data; unlinked at once, the fd keeps it. */
static int
make_file(const void *data, size_t len, struct stat *st)
{
	char path[] = "/tmp/tw_test_mime.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fstat(fd, st), 0);
	return fd;
}

static void
rewrite_file(int fd, const void *data, size_t len, struct stat *st)
{
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	assert_int_equal(fstat(fd, st), 0);
}

static void
set_mtime(int fd, time_t sec, long nsec, struct stat *st)
{
	struct timespec ts[2] = {
		{ .tv_sec = 0, .tv_nsec = UTIME_OMIT },
		{ .tv_sec = sec, .tv_nsec = nsec },
	};

	assert_int_equal(futimens(fd, ts), 0);
	assert_int_equal(fstat(fd, st), 0);
}

static void
expect_resolve(struct tw_mime *m, const char *name, const void *data,
	       size_t len, bool want_charset, const char *want)
{
	char out[TW_MIME_TYPE_MAX];
	struct stat st;
	int fd = make_file(data, len, &st);

	memset(out, 'X', sizeof(out));
	assert_int_equal(tw_mime_resolve(m, name, strlen(name), fd, &st,
					 want_charset, out), 0);
	assert_string_equal(out, want);
	/* A second call (a cache hit) answers the same. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(tw_mime_resolve(m, name, strlen(name), fd, &st,
					 want_charset, out), 0);
	assert_string_equal(out, want);
	(void)close(fd);
}

static const char utf8_html[] =
	"<!DOCTYPE html>\n<html><body>\xe4\xb8\xad\xe6\x96\x87 "
	"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80"
	"</body></html>\n";
static const char latin1_text[] =
	"caf\xe9 na\xefve r\xe9sum\xe9, a fa\xe7" "ade in Z\xfcrich.\n";
static const char ascii_text[] = "hello world\nthis is plain text\n";
/* A PNG signature and IHDR chunk: 1x1, 8-bit RGBA. */
static const unsigned char png_bytes[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1,
	8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
	0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82,
};

static void
resolve_utf8_html(void **state)
{
	struct table_fixture *f = *state;

	expect_resolve(f->m, "page.html", S(utf8_html), true,
		       "text/html; charset=utf-8");
}

static void
resolve_latin1_text(void **state)
{
	struct table_fixture *f = *state;

	expect_resolve(f->m, "notes.txt", S(latin1_text), true,
		       "text/plain; charset=iso-8859-1");
}

static void
resolve_without_charset(void **state)
{
	struct table_fixture *f = *state;

	expect_resolve(f->m, "notes.txt", S(latin1_text), false, "text/plain");
	expect_resolve(f->m, "page.html", S(utf8_html), false, "text/html");
	expect_resolve(f->m, "noext", S(ascii_text), false, "text/plain");
}

static void
resolve_unknown_ext_by_magic(void **state)
{
	struct table_fixture *f = *state;
	unsigned char junk[512];
	uint32_t x = 12345;
	size_t i;

	expect_resolve(f->m, "picture.dat", png_bytes, sizeof(png_bytes), true,
		       "image/png");
	expect_resolve(f->m, "README", S(ascii_text), true,
		       "text/plain; charset=utf-8");
	expect_resolve(f->m, "notes.unknownext", S(latin1_text), true,
		       "text/plain; charset=iso-8859-1");
	/* xorshift bytes with no magic: libmagic has no answer. */
	for (i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (unsigned char)(x >> 24);
	}
	junk[0] = 0x00;
	junk[1] = 0xff;
	expect_resolve(f->m, "blob.xyz", junk, sizeof(junk), true,
		       "application/octet-stream");
}

static void
resolve_empty_files(void **state)
{
	struct table_fixture *f = *state;

	/* libmagic says x-empty; that is no answer. */
	expect_resolve(f->m, "empty", "", 0, true, "application/octet-stream");
	expect_resolve(f->m, "empty.bin2", "", 0, false,
		       "application/octet-stream");
	/* An empty prefix is valid UTF-8. */
	expect_resolve(f->m, "empty.txt", "", 0, true,
		       "text/plain; charset=utf-8");
}

static void
resolve_known_binary_reads_nothing(void **state)
{
	struct table_fixture *f = *state;
	char out[TW_MIME_TYPE_MAX];
	struct stat st;

	/* fd -1: any read would fail with EBADF. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(tw_mime_resolve(f->m, S("a.png"), -1, &st, true, out),
			 0);
	assert_string_equal(out, "image/png");
	assert_int_equal(tw_mime_resolve(f->m, S("a.tar.gz"), -1, &st, true,
					 out), 0);
	assert_string_equal(out, "application/gzip");
	/* Text, but no charset wanted: still nothing to read. */
	assert_int_equal(tw_mime_resolve(f->m, S("a.html"), -1, &st, false,
					 out), 0);
	assert_string_equal(out, "text/html");
	/* Needs the bytes: the read error comes back. */
	assert_int_equal(tw_mime_resolve(f->m, S("a.html"), -1, &st, true, out),
			 -EBADF);
	assert_int_equal(tw_mime_resolve(f->m, S("noext"), -1, &st, true, out),
			 -EBADF);
}

static void
resolve_cache_refreshes_on_change(void **state)
{
	struct table_fixture *f = *state;
	char out[TW_MIME_TYPE_MAX];
	char same_size[sizeof(utf8_html)];
	struct stat st;
	struct timespec old;
	int fd;

	fd = make_file(S(utf8_html), &st);
	set_mtime(fd, 1000000000, 123456789, &st);
	old = st.st_mtim;
	assert_int_equal(tw_mime_resolve(f->m, S("p.html"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/html; charset=utf-8");

	/*
	 * Same size, same mtime, Latin-1 bytes: the key is unchanged, so
	 * the cached answer stands (which shows there is a cache).
	 */
	memset(same_size, 'a', sizeof(same_size) - 1);
	same_size[5] = (char)0xe9;
	rewrite_file(fd, same_size, sizeof(same_size) - 1, &st);
	set_mtime(fd, old.tv_sec, old.tv_nsec, &st);
	assert_int_equal(tw_mime_resolve(f->m, S("p.html"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/html; charset=utf-8");

	/* Only the nanoseconds change: a miss, and the new bytes count. */
	set_mtime(fd, old.tv_sec, old.tv_nsec + 1, &st);
	assert_int_equal(tw_mime_resolve(f->m, S("p.html"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/html; charset=iso-8859-1");

	/* A new size with the same mtime misses too. */
	assert_int_not_equal(sizeof(ascii_text), sizeof(same_size));
	rewrite_file(fd, S(ascii_text), &st);
	set_mtime(fd, old.tv_sec, old.tv_nsec + 1, &st);
	assert_int_equal(tw_mime_resolve(f->m, S("p.html"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/html; charset=utf-8");

	/* Another name for the same inode gets its own type. */
	assert_int_equal(tw_mime_resolve(f->m, S("p.txt"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/plain; charset=utf-8");
	assert_int_equal(tw_mime_resolve(f->m, S("p.html"), fd, &st, true,
					 out), 0);
	assert_string_equal(out, "text/html; charset=utf-8");
	assert_int_equal(tw_mime_resolve(f->m, S("p"), fd, &st, true, out), 0);
	assert_string_equal(out, "text/plain; charset=utf-8");
	(void)close(fd);
}

static void
resolve_large_utf8_cut_mid_character(void **state)
{
	struct table_fixture *f = *state;
	size_t len = 64 * 1024 + 4096, i;
	char *big = malloc(len);

	assert_non_null(big);
	/* "ab" then 3-byte characters: byte 65536 falls inside one. */
	memcpy(big, "ab", 2);
	for (i = 2; i + 3 <= len; i += 3)
		memcpy(big + i, "\xe4\xb8\xad", 3);
	len = i;
	assert_true((65536 - 2) % 3 != 0);
	expect_resolve(f->m, "big.txt", big, len, true,
		       "text/plain; charset=utf-8");
	/* The same bytes cut at the file's end are not UTF-8. */
	expect_resolve(f->m, "cut.txt", big, 65536, true, "text/plain");
	free(big);
}

#define TABLE_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, table_setup, table_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_types_vectors),
		cmocka_unit_test(parse_types_bad_line_not_half_loaded),
		cmocka_unit_test(parse_types_callback_error_stops),
		cmocka_unit_test(parse_types_honours_len),
		cmocka_unit_test(is_text_vectors),
		TABLE_TEST(table_builtin_lookups),
		TABLE_TEST(table_lookup_uses_name_len),
		TABLE_TEST(table_load_overrides_in_order),
		TABLE_TEST(table_load_reports_error_line),
		TABLE_TEST(table_load_rejects_overlong_type),
		TABLE_TEST(table_add_validates),
		TABLE_TEST(table_grows_and_keeps_every_entry),
		TABLE_TEST(resolve_utf8_html),
		TABLE_TEST(resolve_latin1_text),
		TABLE_TEST(resolve_without_charset),
		TABLE_TEST(resolve_unknown_ext_by_magic),
		TABLE_TEST(resolve_empty_files),
		TABLE_TEST(resolve_known_binary_reads_nothing),
		TABLE_TEST(resolve_cache_refreshes_on_change),
		TABLE_TEST(resolve_large_utf8_cut_mid_character),
	};

	return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
