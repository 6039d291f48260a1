/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for listing: render real temp trees (mkdtemp) through a real
 * fs and check the HTML: order, escaping, hrefs, replacement of invalid
 * names, hidden files, the symlink policy, sizes, dates and errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "http/listing.h"
#include "parse/collate.h"
#include "parse/fs.h"
#include "support/tree.h"

#define FFFD "\xef\xbf\xbd"

struct tree {
	char root[64];
	char out[64];
	struct tw_buf buf;
};

/* Set the mtime of dir/rel; false if the filesystem clamped it. */
static bool
set_mtime(const char *dir, const char *rel, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mtime == t;
}

static int
tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char target[PATH_MAX];

	if (t == NULL)
		return -1;
	if (!tree_mkdtemp(t->root, sizeof(t->root), "tw_listing_root") ||
	    !tree_mkdtemp(t->out, sizeof(t->out), "tw_listing_out"))
		return -1;
	put_file_size(t->out, "secret", 777);

	put_file_size(t->root, "b.txt", 3);
	put_file_size(t->root, "a.txt", 1);
	put_file_size(t->root, "A.txt", 1);
	put_file_size(t->root, "Z.txt", 1);
	put_file_size(t->root, "big", 12345);
	put_file_size(t->root, "empty", 0);
	put_dir(t->root, "zdir");
	put_dir(t->root, "adir");
	put_file_size(t->root, "adir/inner", 42);
	put_file_size(t->root, "x y.txt", 1);
	put_file_size(t->root, "#?%+.txt", 1);
	put_file_size(t->root, "<a>&\"'.txt", 1);
	put_file_size(t->root, "中文.txt", 1);
	put_file_size(t->root, "bad\xff.txt", 1);
	put_file_size(t->root, "tab\there", 1);
	put_file_size(t->root, "a:b", 1);
	put_file_size(t->root, ".dot", 1);
	put_dir(t->root, ".dotdir");
	snprintf(target, sizeof(target), "%s/secret", t->out);
	put_link(t->root, "link_out", target);
	put_link(t->root, "linkdir_out", t->out);
	put_link(t->root, "link_in", "b.txt");
	put_link(t->root, "linkdir", "zdir");
	put_link(t->root, "dangling", "nope");

	*state = t;
	return 0;
}

static int
tree_teardown(void **state)
{
	struct tree *t = *state;

	rm_tree(t->root);
	rm_tree(t->out);
	tw_buf_free(&t->buf);
	free(t);
	return 0;
}

static struct tw_fs *
fs_make(const char *root, enum tw_fs_symlinks symlinks)
{
	struct tw_fs_opts opts = { .root = root, .symlinks = symlinks };
	int err = 0;
	struct tw_fs *fs = tw_fs_create(&opts, &err);

	assert_non_null(fs);
	return fs;
}

/* Render into t->buf (emptied first) and return it as a C string. */
static const char *
render(struct tree *t, enum tw_fs_symlinks symlinks, const char *rel,
       const char *url_path, bool hidden)
{
	struct tw_listing_opts opts = { .hidden = hidden };
	struct tw_fs *fs = fs_make(t->root, symlinks);
	int err;

	tw_buf_reset(&t->buf, 0);
	err = tw_listing_render(fs, rel, url_path, &opts, NULL, &t->buf);
	tw_fs_destroy(fs);
	assert_int_equal(err, 0);
	assert_false(t->buf.failed);
	tw_buf_append_char(&t->buf, '\0');
	assert_false(t->buf.failed);
	t->buf.len--;
	/* The NUL makes it a C string; the page itself holds none. */
	assert_int_equal(strlen(t->buf.data), t->buf.len);
	return t->buf.data;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0, step = strlen(needle);

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += step;
	}
	return n;
}

/* Offset of needle in hay; fails the test if it is not there. */
static size_t
at(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	if (p == NULL)
		fail_msg("missing: %s", needle);
	return (size_t)(p - hay);
}

#define assert_has(h, n) ((void)at((h), (n)))
#define assert_lacks(h, n) \
	do { \
		if (strstr((h), (n)) != NULL) \
			fail_msg("unexpected: %s", (n)); \
	} while (0)

static void
render_is_complete_document(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	size_t len = strlen(h);

	assert_int_equal(strncmp(h, "<!DOCTYPE html>\n", 16), 0);
	assert_has(h, "<meta charset=\"utf-8\">");
	assert_has(h, "<title>Index of /</title>");
	assert_has(h, "<h1>Index of <a href=\"/\">/</a></h1>");
	assert_has(h, "<style>");
	assert_true(len > 16);
	assert_string_equal(h + len - 8, "</html>\n");
	assert_int_equal(count(h, "<table>"), 1);
	assert_int_equal(count(h, "</table>"), 1);
	/* Every row is closed. */
	assert_int_equal(count(h, "<tr>"), count(h, "</tr>"));
}

static void
render_appends_to_buffer(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t->root, TW_FS_SYMLINKS_INSIDE);
	struct tw_listing_opts opts = { 0 };

	tw_buf_append_str(&t->buf, "PREFIX");
	assert_int_equal(tw_listing_render(fs, "zdir", "/zdir/", &opts,
					   NULL, &t->buf), 0);
	tw_fs_destroy(fs);
	assert_true(t->buf.len > 6 + 16);
	assert_memory_equal(t->buf.data, "PREFIX<!DOCTYPE html>\n", 22);
}

static void
render_sorts_dirs_first_then_names(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	/* Directories (a link to one counts), then names without regard to
	 * case ("A.txt" before "a.txt" only as a tie), code points last. */
	static const char *const order[] = {
		">adir/</a>",
		">linkdir/</a>",
		">zdir/</a>",
		">#?%+.txt</a>",
		">&lt;a&gt;&amp;&quot;&#39;.txt</a>",
		">A.txt</a>",
		">a.txt</a>",
		">a:b</a>",
		">b.txt</a>",
		">bad" FFFD ".txt<",
		">big</a>",
		">empty</a>",
		">link_in</a>",
		">tab" FFFD "here<",
		">x y.txt</a>",
		">Z.txt</a>",
		">中文.txt</a>",
	};
	size_t i, prev = 0, p;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		p = at(h, order[i]);
		if (i > 0 && p <= prev)
			fail_msg("%s is before %s", order[i], order[i - 1]);
		prev = p;
	}
	/* 17 entries, the header row, and no "../" at the root. */
	assert_int_equal(count(h, "<tr>"), 17 + 1);
}

static void
render_dirs_have_trailing_slash(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<tr><td><a href=\"adir/\">adir/</a></td>"
		      "<td class=\"s\">-</td><td>");
	assert_has(h, "<a href=\"zdir/\">zdir/</a>");
	assert_has(h, "<a href=\"linkdir/\">linkdir/</a>");
	assert_lacks(h, "href=\"b.txt/\"");
}

static void
render_escapes_names(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<a href=\"%3Ca%3E%26%22%27.txt\">"
		      "&lt;a&gt;&amp;&quot;&#39;.txt</a>");
	/* The raw name must not appear anywhere. */
	assert_lacks(h, "<a>&");
	assert_lacks(h, "\"'");
}

static void
render_encodes_hrefs(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<a href=\"x%20y.txt\">x y.txt</a>");
	assert_has(h, "<a href=\"%23%3F%25%2B.txt\">#?%+.txt</a>");
	assert_has(h, "<a href=\"%E4%B8%AD%E6%96%87.txt\">中文.txt</a>");
	/* "a:b" must not read as a URL scheme "a:". */
	assert_has(h, "<a href=\"a%3Ab\">a:b</a>");
	assert_lacks(h, "href=\"a:b");
}

static void
render_invalid_utf8_not_linked(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<tr><td>bad" FFFD ".txt</td><td class=\"s\">"
		      "1 B</td>");
	assert_lacks(h, "bad\xff");
	assert_lacks(h, "href=\"bad");
	/* A control byte cannot be requested either (decode refuses it). */
	assert_has(h, "<tr><td>tab" FFFD "here</td>");
	assert_lacks(h, "\t");
	assert_lacks(h, "href=\"tab");
}

/* Replacement follows "maximal subparts": one U+FFFD per broken piece. */
static const struct {
	const char *name;
	const char *shown;
} u8_vectors[] = {
	{ "t1-\xff", "t1-" FFFD },
	{ "t2-\xe4\xb8x", "t2-" FFFD "x" },		/* truncated 3-byte */
	/* A surrogate: ED allows only 80..9F next. */
	{ "t3-\xed\xa0\x80z", "t3-" FFFD FFFD FFFD "z" },
	{ "t4-\xc0\xaf", "t4-" FFFD FFFD },		/* overlong '/' */
	{ "t5-\xf0\x9f\x98!", "t5-" FFFD "!" },		/* truncated emoji */
	{ "t6-\xc3", "t6-" FFFD },			/* cut at the end */
	/* Stray continuation bytes. */
	{ "t7-\x80\x80", "t7-" FFFD FFFD },
	/* Above U+10FFFF. */
	{ "t8-\xf4\x90\x80\x80", "t8-" FFFD FFFD FFFD FFFD },
	{ "t9-\xc3\xa9<\xff>", "t9-\xc3\xa9&lt;" FFFD "&gt;" },
	{ "ta-\x7f", "ta-" FFFD },
};

static void
render_replaces_each_bad_sequence(void **state)
{
	struct tree *t = *state;
	char want[128];
	const char *h;
	size_t i, n = sizeof(u8_vectors) / sizeof(u8_vectors[0]);

	put_dir(t->root, "u8");
	for (i = 0; i < n; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "u8/%s", u8_vectors[i].name);
		put_file_size(t->root, rel, 1);
	}
	put_file_size(t->root, "u8/ok-\xc3\xa9", 1);
	h = render(t, TW_FS_SYMLINKS_INSIDE, "u8", "/u8/", false);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "<tr><td>%s</td>",
			 u8_vectors[i].shown);
		assert_has(h, want);
	}
	/* Only "../" and the one valid name are linked rows. */
	assert_int_equal(count(h, "<tr><td><a href="), 2);
	assert_has(h, "<a href=\"ok-%C3%A9\">ok-\xc3\xa9</a>");
}

static void
render_hides_dotfiles(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_lacks(h, ".dot");
	h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", true);
	assert_has(h, "<a href=\".dot\">.dot</a>");
	assert_has(h, "<a href=\".dotdir/\">.dotdir/</a>");
	/* ".dotdir/" is a directory, so it sorts before "adir/". */
	assert_true(at(h, ".dotdir/</a>") < at(h, "adir/</a>"));
	/* "." and ".." are never entries, even with hidden files shown. */
	assert_lacks(h, "href=\"./\"");
	assert_lacks(h, "href=\"../\"");
	assert_lacks(h, ">./<");
	assert_lacks(h, ">../<");
}

static void
render_parent_link_except_at_root(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "adir", "/adir/",
			       false);

	assert_has(h, "<tr><td><a href=\"../\">../</a></td>");
	assert_true(at(h, "href=\"../\"") < at(h, "href=\"inner\""));
	assert_has(h, "<title>Index of /adir/</title>");
	/* The stat path is "<rel>/<name>": the size proves it was found. */
	assert_has(h, "<a href=\"inner\">inner</a></td>"
		      "<td class=\"s\">42 B</td>");
	h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	assert_lacks(h, "../");
}

static void
render_escapes_title(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "zdir",
			       "/<x>&\"y\"/", false);

	assert_has(h, "<title>Index of /&lt;x&gt;&amp;&quot;y&quot;/</title>");
	assert_has(h, "<h1>Index of <a href=\"/\">/</a><a href=\"/%3Cx%3E%26"
		      "%22y%22/\">&lt;x&gt;&amp;&quot;y&quot;</a>/</h1>");
	assert_lacks(h, "<x>");
	/* An empty directory: header and "../" only. */
	assert_int_equal(count(h, "<tr>"), 2);
}

static void
render_applies_symlink_policy(void **state)
{
	struct tree *t = *state;
	const char *h;

	h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	assert_lacks(h, "link_out");
	assert_lacks(h, "linkdir_out");
	assert_lacks(h, "dangling");
	/* A permitted link shows its target's size (b.txt: 3 bytes). */
	assert_has(h, "<a href=\"link_in\">link_in</a></td>"
		      "<td class=\"s\">3 B</td>");

	h = render(t, TW_FS_SYMLINKS_NEVER, "", "/", false);
	assert_lacks(h, "link");
	assert_lacks(h, "dangling");
	assert_has(h, "<a href=\"b.txt\">");

	h = render(t, TW_FS_SYMLINKS_ALWAYS, "", "/", false);
	assert_has(h, "<a href=\"link_out\">link_out</a></td>"
		      "<td class=\"s\">777 B</td>");
	assert_has(h, "<a href=\"linkdir_out/\">linkdir_out/</a>");
	assert_lacks(h, "dangling");
}

static void
render_shows_sizes(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<a href=\"big\">big</a></td><td class=\"s\" "
		      "title=\"12345 bytes\">12.1 KiB</td>");
	assert_has(h, "<a href=\"empty\">empty</a></td><td class=\"s\">"
		      "0 B</td>");
	assert_has(h, "<a href=\"b.txt\">b.txt</a></td><td class=\"s\">"
		      "3 B</td>");
}

static void
render_formats_dates(void **state)
{
	struct tree *t = *state;
	struct tm tm = { .tm_year = 2021 - 1900, .tm_mon = 2, .tm_mday = 4,
			 .tm_hour = 5, .tm_min = 6, .tm_sec = 59 };
	const char *h;

	assert_true(set_mtime(t->root, "b.txt", timegm(&tm)));
	assert_true(set_mtime(t->root, "a.txt", 0));
	assert_true(set_mtime(t->root, "A.txt", -1));
	assert_true(set_mtime(t->root, "Z.txt", 1700000000));
	h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	assert_has(h, "<tr><td><a href=\"b.txt\">b.txt</a></td>"
		      "<td class=\"s\">3 B</td>"
		      "<td>2021-03-04 05:06 UTC</td></tr>\n");
	assert_has(h, ">a.txt</a></td><td class=\"s\">1 B"
		      "</td><td>1970-01-01 00:00 UTC</td>");
	assert_has(h, ">A.txt</a></td><td class=\"s\">1 B"
		      "</td><td>1969-12-31 23:59 UTC</td>");
	assert_has(h, ">Z.txt</a></td><td class=\"s\">1 B"
		      "</td><td>2023-11-14 22:13 UTC</td>");
}

/* Years past 9999 or before 0 need a filesystem that can store them. */
static void
render_out_of_range_dates(void **state)
{
	char dir[64];
	struct tw_fs *fs;
	struct tw_buf b = { 0 };
	struct tw_listing_opts opts = { 0 };
	bool stored;

	(void)state;
	snprintf(dir, sizeof(dir), "/dev/shm/tw_listing_date.XXXXXX");
	if (mkdtemp(dir) == NULL)
		skip();
	put_file_size(dir, "far", 1);
	put_file_size(dir, "past", 1);
	put_file_size(dir, "y9999", 1);
	/* 10000-01-01 00:00:00 and 0000-01-01 00:00:00 minus a second. */
	stored = set_mtime(dir, "far", (time_t)253402300800LL) &&
		 set_mtime(dir, "past", (time_t)-62167219201LL) &&
		 set_mtime(dir, "y9999", (time_t)253402300799LL);
	if (!stored) {
		rm_tree(dir);
		skip();
	}
	fs = fs_make(dir, TW_FS_SYMLINKS_INSIDE);
	assert_int_equal(tw_listing_render(fs, "", "/", &opts, NULL, &b), 0);
	tw_buf_append_char(&b, '\0');
	assert_false(b.failed);
	assert_has(b.data, ">far</a></td><td class=\"s\">"
			   "1 B</td><td>-</td>");
	assert_has(b.data, ">past</a></td><td class=\"s\">"
			   "1 B</td><td>-</td>");
	assert_has(b.data, ">y9999</a></td><td class=\"s\">"
			   "1 B</td><td>9999-12-31 23:59 UTC</td>");
	tw_buf_free(&b);
	tw_fs_destroy(fs);
	rm_tree(dir);
}

static void
render_many_entries(void **state)
{
	struct tree *t = *state;
	char name[32], want[64];
	const char *h;
	size_t prev = 0, p;
	int i;

	put_dir(t->root, "many");
	for (i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "many/f%04d", i);
		put_file_size(t->root, name, i);
	}
	h = render(t, TW_FS_SYMLINKS_INSIDE, "many", "/many/", false);
	assert_int_equal(count(h, "<tr>"), 1000 + 2);
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want),
			 "<a href=\"f%04d\">f%04d</a></td><td class=\"s\">"
			 "%d B</td>", i, i, i);
		p = at(h, want);
		assert_true(i == 0 || p > prev);
		prev = p;
	}
}

static void
render_errors(void **state)
{
	struct tree *t = *state;
	struct tw_fs *inside = fs_make(t->root, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs *never = fs_make(t->root, TW_FS_SYMLINKS_NEVER);
	struct tw_listing_opts opts = { 0 };
	struct tw_buf b = { 0 };

#define R(fs, rel, path) tw_listing_render((fs), (rel), (path), &opts, NULL, &b)
	assert_int_equal(R(inside, "nope", "/nope/"), -ENOENT);
	assert_int_equal(R(inside, "b.txt", "/b.txt/"), -ENOTDIR);
	assert_int_equal(R(inside, "linkdir_out", "/l/"), -EXDEV);
	assert_int_equal(R(never, "linkdir", "/l/"), -ELOOP);
	assert_int_equal(R(inside, "../", "/x/"), -EINVAL);
	assert_int_equal(R(inside, "", "x/"), -EINVAL);
	assert_int_equal(R(inside, "", NULL), -EINVAL);
	assert_int_equal(R(inside, NULL, "/"), -EINVAL);
	/* Nothing was written on any error. */
	assert_int_equal(b.len, 0);
	assert_false(b.failed);

	/* A buffer already out of memory stays so and reports it. */
	b.failed = true;
	assert_int_equal(R(inside, "", "/"), -ENOMEM);
#undef R
	assert_int_equal(b.len, 0);
	tw_buf_free(&b);

	/* NULL opts means the defaults: dotfiles hidden. */
	assert_int_equal(tw_listing_render(inside, "", "/", NULL, NULL, &b), 0);
	tw_buf_append_char(&b, '\0');
	assert_lacks(b.data, ".dot");
	assert_has(b.data, ">b.txt</a>");
	tw_buf_free(&b);
	tw_fs_destroy(inside);
	tw_fs_destroy(never);
}

/* Names that share 8 or 16 leading bytes, end right there, or hold high
 * bytes: in collate's order all the same (its own tests pin that order
 * down; this one checks the page follows it). */
static int
cmp_str(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return tw_collate_natural(x, strlen(x), y, strlen(y));
}

static void
render_sorts_long_common_prefixes(void **state)
{
	static const char *names[] = {
		"p", "pppppppp", "ppppppp", "ppppppppp", "pppppppq",
		"pppppppppppppppp", "ppppppppppppppp", "ppppppppppppppppp",
		"ppppppppppppppppa", "ppppppppppppppppZ", "pppppppppppppppq",
		"pppppppp\xc3\xa9", "pppppppp~", "pppppppppppppppp~~",
		"ppppppppppppppppppppppppppppppp1",
		"ppppppppppppppppppppppppppppppp0",
		"pppppppppppppppppppppppppppppppp", "entry-0001.txt",
		"entry-0010.txt", "entry-0002.txt", "entry-0001.txt~",
		"\xe4\xb8\xad", "~", "-",
	};
	size_t n = sizeof(names) / sizeof(names[0]), i, prev = 0, p;
	const char *sorted[sizeof(names) / sizeof(names[0])];
	char rel[64], want[96];
	struct tree *t = *state;
	const char *h;

	put_dir(t->root, "pre");
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "pre/%s", names[i]);
		put_file_size(t->root, rel, 1);
		sorted[i] = names[i];
	}
	/* Directories still come first. */
	put_dir(t->root, "pre/pppppppppppppppppd");
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	h = render(t, TW_FS_SYMLINKS_INSIDE, "pre", "/pre/", false);
	prev = at(h, ">pppppppppppppppppd/</a>");
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), ">%s</a>", sorted[i]);
		p = at(h, want);
		if (p <= prev)
			fail_msg("%s is before %s", sorted[i],
				 i ? sorted[i - 1] : "the directory");
		prev = p;
	}
}

/* The dates of the page against gmtime_r, over leap years, centuries,
 * negative times and the edges of a day and of a minute. */
static void
render_dates_match_gmtime(void **state)
{
	static const long long fixed[] = {
		0, -1, 59, 60, -60, -61, 86399, 86400, -86400, -86401,
		951782400, 951868799, 951868800,	/* 2000-02-29 */
		4107542399, 4107542400,			/* 2100-03-01 */
		-2208988800, -2203891200,		/* 1900 */
		68169600, 1709251199, 1709251200, 253402300799,
		-62167219200, -30610224000, 13569465600,
	};
	struct tree *t = *state;
	char rel[64], want[96], date[32];
	unsigned long long x = 88172645463325252ull;
	struct tm tm;
	time_t when[64];
	bool kept[64];
	size_t n = 0, i;
	const char *h;

	put_dir(t->root, "dates");
	for (i = 0; i < 64; i++) {
		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			when[i] = (time_t)fixed[i];
		} else {
			/* xorshift: the same times on every run */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			when[i] = (time_t)(x % 16000000000ull) - 6000000000;
		}
		snprintf(rel, sizeof(rel), "dates/d%02zu", i);
		put_file_size(t->root, rel, 1);
		/* Checked only where the filesystem stores the time (ext4:
		 * 1901..2446); elsewhere it clamps it. */
		kept[i] = set_mtime(t->root, rel, when[i]);
		n += kept[i];
	}
	assert_true(n >= 16);
	h = render(t, TW_FS_SYMLINKS_INSIDE, "dates", "/dates/", false);
	for (i = 0; i < 64; i++) {
		if (!kept[i])
			continue;
		assert_non_null(gmtime_r(&when[i], &tm));
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
		snprintf(want, sizeof(want), ">d%02zu</a></td><td class=\"s\">"
			 "1 B</td><td>%s UTC</td>", i, date);
		assert_has(h, want);
	}
}

/* Rendering from a descriptor the caller holds: the same page, again and
 * again (it reads from the start each time). */
static void
render_fd_matches_render(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t->root, TW_FS_SYMLINKS_INSIDE);
	struct tw_listing_opts opts = { 0 };
	struct tw_buf a = { 0 }, b = { 0 };
	int fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_true(fd >= 0);
	assert_int_equal(tw_listing_render_fd(fs, fd, "", "/", &opts, NULL,
					      &a), 0);
	assert_int_equal(tw_listing_render_fd(fs, fd, "", "/", &opts, NULL,
					      &b), 0);
	assert_int_equal(a.len, strlen(h));
	assert_memory_equal(a.data, h, a.len);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, a.data, a.len);
	assert_int_equal(close(fd), 0);

	/* A descriptor of a file: nothing written. */
	tw_buf_free(&a);
	fd = openat(AT_FDCWD, t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	{
		int ffd = openat(fd, "b.txt", O_RDONLY | O_CLOEXEC);

		assert_true(ffd >= 0);
		assert_int_equal(tw_listing_render_fd(fs, ffd, "b.txt", "/b/",
						      &opts, NULL, &a),
				 -ENOTDIR);
		assert_int_equal(a.len, 0);
		assert_int_equal(close(ffd), 0);
	}
	assert_int_equal(close(fd), 0);
	tw_buf_free(&a);
	tw_buf_free(&b);
	tw_fs_destroy(fs);
}

/* ---- sizes, views, sorting, JSON ------------------------------------ */

static void
fmt_size_vectors(void **state)
{
	static const struct {
		uint64_t size;
		const char *want;
	} v[] = {
		{ 0, "0 B" }, { 1, "1 B" }, { 1023, "1023 B" },
		{ 1024, "1.0 KiB" }, { 1075, "1.0 KiB" }, { 1076, "1.1 KiB" },
		{ 12345, "12.1 KiB" }, { 102348, "99.9 KiB" },
		{ 102349, "100 KiB" },			/* 99.95 rounds up */
		{ 102400, "100 KiB" }, { 1047552, "1023 KiB" },
		{ 1048063, "1023 KiB" },
		{ 1048064, "1.0 MiB" },			/* 1023.5 KiB */
		{ 1258291, "1.2 MiB" }, { 1300000, "1.2 MiB" },
		{ 1363149, "1.3 MiB" },
		{ 5ull << 30, "5.0 GiB" }, { 3ull << 40, "3.0 TiB" },
		{ 1ull << 50, "1.0 PiB" }, { 1ull << 60, "1.0 EiB" },
		{ UINT64_MAX, "16.0 EiB" },
	};
	char out[TW_LISTING_SIZE_MAX + 1];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = tw_listing_fmt_size(v[i].size, out);
		assert_true(n <= TW_LISTING_SIZE_MAX);
		out[n] = '\0';
		if (strcmp(out, v[i].want) != 0)
			fail_msg("%llu: \"%s\", want \"%s\"",
				 (unsigned long long)v[i].size, out, v[i].want);
	}
}

#define BY_NAME TW_LISTING_BY_NAME
#define BY_SIZE TW_LISTING_BY_SIZE
#define BY_DATE TW_LISTING_BY_DATE
static void
view_parse_vectors(void **state)
{
	static const struct {
		const char *query;	/* NULL: none */
		const char *accept;	/* NULL: none */
		enum tw_listing_sort sort;
		bool desc;
		bool json;
	} v[] = {
		{ NULL, NULL, BY_NAME, false, false },
		{ "", NULL, BY_NAME, false, false },
		{ "sort=size", NULL, BY_SIZE, true, false },
		{ "sort=date", NULL, BY_DATE, true, false },
		{ "sort=name&order=desc", NULL, BY_NAME, true, false },
		{ "order=asc&sort=size", NULL, BY_SIZE, false, false },
		{ "sort=date&order=asc&x=1", NULL, BY_DATE, false,
		  false },
		/* Bad values fall back to the defaults. */
		{ "sort=bogus&order=sideways", NULL, BY_NAME, false,
		  false },
		{ "sort=SIZE", NULL, BY_NAME, false, false },
		{ "sort=size&order=", NULL, BY_SIZE, true, false },
		{ "sort", NULL, BY_NAME, false, false },
		{ "sort=sizes", NULL, BY_NAME, false, false },
		{ "xsort=size", NULL, BY_NAME, false, false },
		{ "&&sort=size&&", NULL, BY_SIZE, true, false },
		/* The last of each counts. */
		{ "sort=size&sort=date", NULL, BY_DATE, true, false },
		{ "format=json", NULL, BY_NAME, false, true },
		{ "format=xml", NULL, BY_NAME, false, false },
		{ "format=html", "application/json", BY_NAME, false,
		  false },
		{ "format=json", "text/html", BY_NAME, false, true },
		{ "format=bogus", "application/json", BY_NAME, false,
		  true },
		/* Accept: JSON only when preferred over HTML. */
		{ NULL, "application/json", BY_NAME, false, true },
		{ NULL, "APPLICATION/JSON", BY_NAME, false, true },
		{ NULL, "application/*", BY_NAME, false, true },
		{ NULL, "*/*", BY_NAME, false, false },
		{ NULL, "text/html, application/json", BY_NAME,
		  false, false },
		{ NULL, "application/json, text/html", BY_NAME,
		  false, false },
		{ NULL, "text/html;q=0.9, application/json", BY_NAME,
		  false, true },
		{ NULL, "application/json;q=0.5, */*;q=0.4", BY_NAME,
		  false, true },
		{ NULL, "application/json;q=0.5, text/*;q=0.6",
		  BY_NAME, false, false },
		{ NULL, "application/json;q=0, */*", BY_NAME, false,
		  false },
		{ NULL, "*/*;q=0.1, application/json", BY_NAME,
		  false, true },
		{ NULL, "text/html,application/xhtml+xml,application/xml;q=0.9,"
		  "*/*;q=0.8", BY_NAME, false, false },
		{ NULL, "application/json; charset=utf-8; q=0.8, text/html; "
		  "q=0.7", BY_NAME, false, true },
		{ NULL, "application/json;q=2", BY_NAME, false, false },
		{ NULL, "application/jsonx", BY_NAME, false, false },
		{ NULL, "image/png", BY_NAME, false, false },
		{ NULL, "", BY_NAME, false, false },
		{ "sort=size&order=asc", "application/json", BY_SIZE,
		  false, true },
	};
	struct tw_listing_view view;
	bool seen[TW_LISTING_VIEWS] = { false };
	size_t i;
	unsigned k;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_listing_view_parse(v[i].query,
				      v[i].query ? strlen(v[i].query) : 0,
				      v[i].accept,
				      v[i].accept ? strlen(v[i].accept) : 0,
				      &view);
		if (view.sort != v[i].sort || view.desc != v[i].desc ||
		    (view.format == TW_LISTING_JSON) != v[i].json)
			fail_msg("row %zu (%s | %s): sort %d desc %d json %d",
				 i, v[i].query ? v[i].query : "-",
				 v[i].accept ? v[i].accept : "-",
				 (int)view.sort, view.desc,
				 view.format == TW_LISTING_JSON);
	}
	/* Every view has an index of its own. */
	for (k = 0; k < 3 * 2 * 2; k++) {
		view.sort = (enum tw_listing_sort)(k / 4);
		view.desc = (k / 2) % 2;
		view.format = k % 2 ? TW_LISTING_JSON : TW_LISTING_HTML;
		assert_true(tw_listing_view_index(&view) < TW_LISTING_VIEWS);
		assert_false(seen[tw_listing_view_index(&view)]);
		seen[tw_listing_view_index(&view)] = true;
	}
}
#undef BY_NAME
#undef BY_SIZE
#undef BY_DATE

/* Render t->root/rel through a view given as a query and an Accept. */
static const char *
render_view(struct tree *t, const char *rel, const char *url_path,
	    const char *query, const char *accept)
{
	struct tw_listing_opts opts = { .hidden = false };
	struct tw_fs *fs = fs_make(t->root, TW_FS_SYMLINKS_INSIDE);
	struct tw_listing_view view;
	int err;

	tw_listing_view_parse(query, query ? strlen(query) : 0, accept,
			      accept ? strlen(accept) : 0, &view);
	tw_buf_reset(&t->buf, 0);
	err = tw_listing_render(fs, rel, url_path, &opts, &view, &t->buf);
	tw_fs_destroy(fs);
	assert_int_equal(err, 0);
	tw_buf_append_char(&t->buf, '\0');
	assert_false(t->buf.failed);
	t->buf.len--;
	assert_int_equal(strlen(t->buf.data), t->buf.len);
	return t->buf.data;
}

/* The needles appear in this order. */
static void
assert_order(const char *h, const char *const *order, size_t n)
{
	size_t i, prev = 0, p;

	for (i = 0; i < n; i++) {
		p = at(h, order[i]);
		if (i > 0 && p <= prev)
			fail_msg("%s is before %s", order[i], order[i - 1]);
		prev = p;
	}
}

#define ORDER(h, ...) do { \
		static const char *const o_[] = { __VA_ARGS__ }; \
		assert_order((h), o_, sizeof(o_) / sizeof(o_[0])); \
	} while (0)

static void
put_sorted_tree(struct tree *t)
{
	put_dir(t->root, "srt");
	put_file_size(t->root, "srt/file10", 10);
	put_file_size(t->root, "srt/file2", 300);
	put_file_size(t->root, "srt/File1", 20);
	put_file_size(t->root, "srt/b", 5);
	put_dir(t->root, "srt/d10");
	put_dir(t->root, "srt/D9");
	assert_true(set_mtime(t->root, "srt/file10", 3000));
	assert_true(set_mtime(t->root, "srt/file2", 1000));
	assert_true(set_mtime(t->root, "srt/File1", 2000));
	assert_true(set_mtime(t->root, "srt/b", 4000));
	assert_true(set_mtime(t->root, "srt/d10", 1000));
	assert_true(set_mtime(t->root, "srt/D9", 2000));
}

static void
render_sorts_by_view(void **state)
{
	struct tree *t = *state;
	const char *h;

	put_sorted_tree(t);
	h = render_view(t, "srt", "/srt/", NULL, NULL);
	ORDER(h, ">D9/<", ">d10/<", ">b<", ">File1<", ">file2<", ">file10<");
	h = render_view(t, "srt", "/srt/", "sort=name&order=desc", NULL);
	ORDER(h, ">d10/<", ">D9/<", ">file10<", ">file2<", ">File1<", ">b<");
	/* Size: biggest first by default; directories by name, first. */
	h = render_view(t, "srt", "/srt/", "sort=size", NULL);
	ORDER(h, ">d10/<", ">D9/<", ">file2<", ">File1<", ">file10<", ">b<");
	h = render_view(t, "srt", "/srt/", "sort=size&order=asc", NULL);
	ORDER(h, ">D9/<", ">d10/<", ">b<", ">file10<", ">File1<", ">file2<");
	/* Date: newest first by default. */
	h = render_view(t, "srt", "/srt/", "sort=date", NULL);
	ORDER(h, ">D9/<", ">d10/<", ">b<", ">file10<", ">File1<", ">file2<");
	h = render_view(t, "srt", "/srt/", "sort=date&order=asc", NULL);
	ORDER(h, ">d10/<", ">D9/<", ">file2<", ">File1<", ">file10<", ">b<");
}

static void
render_sort_links(void **state)
{
	struct tree *t = *state;
	const char *h;

	put_sorted_tree(t);
	h = render_view(t, "srt", "/srt/", NULL, NULL);
	assert_has(h, "<th aria-sort=\"ascending\"><a href=\"?sort=name&amp;"
		      "order=desc\">Name</a>");
	assert_has(h, "<th class=\"s\"><a href=\"?sort=size\">Size</a></th>");
	assert_has(h, "<th><a href=\"?sort=date\">Modified</a></th>");
	/* The default view's links carry no query. */
	assert_has(h, "<a href=\"D9/\">D9/</a>");
	assert_has(h, "<tr><td><a href=\"../\">../</a>");
	assert_has(h, "<h1>Index of <a href=\"/\">/</a><a href=\"/srt/\">srt"
		      "</a>/</h1>");

	h = render_view(t, "srt", "/srt/", "sort=size", NULL);
	assert_has(h, "<th class=\"s\" aria-sort=\"descending\"><a href=\""
		      "?sort=size&amp;order=asc\">Size</a>");
	assert_has(h, "<th><a href=\"?sort=name\">Name</a></th>");
	/* Directory links keep the view; files do not need it. */
	assert_has(h, "<a href=\"D9/?sort=size\">D9/</a>");
	assert_has(h, "<a href=\"../?sort=size\">../</a>");
	assert_has(h, "<a href=\"/?sort=size\">/</a><a href=\"/srt/?sort="
		      "size\">srt</a>/");
	assert_has(h, "<a href=\"b\">b</a>");

	h = render_view(t, "srt", "/srt/", "sort=date&order=asc", NULL);
	assert_has(h, "<a href=\"D9/?sort=date&amp;order=asc\">D9/</a>");
	h = render_view(t, "srt", "/srt/", "order=desc", NULL);
	assert_has(h, "<a href=\"D9/?sort=name&amp;order=desc\">D9/</a>");
}

static void
render_counts_and_breadcrumbs(void **state)
{
	struct tree *t = *state;
	const char *h;

	put_sorted_tree(t);
	put_dir(t->root, "srt/d10/x y#");
	put_file_size(t->root, "srt/d10/x y#/only", 1);
	h = render_view(t, "srt", "/srt/", NULL, NULL);
	assert_has(h, "<p>2 folders, 4 files</p>");
	h = render_view(t, "srt/d10/x y#", "/srt/d10/x y#/", NULL, NULL);
	assert_has(h, "<p>0 folders, 1 file</p>");
	assert_has(h, "<h1>Index of <a href=\"/\">/</a><a href=\"/srt/\">srt"
		      "</a>/<a href=\"/srt/d10/\">d10</a>/<a href=\"/srt/d10/"
		      "x%20y%23/\">x y#</a>/</h1>");
	h = render_view(t, "srt/d10", "/srt/d10/", NULL, NULL);
	assert_has(h, "<p>1 folder, 0 files</p>");
}

/* A FIFO (or socket, or device) is listed but not linked: the server
 * answers only files and directories. */
static void
render_other_kinds_not_linked(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX];
	const char *h;

	put_dir(t->root, "odd");
	put_file_size(t->root, "odd/f", 1);
	snprintf(path, sizeof(path), "%s/odd/pipe", t->root);
	if (mkfifo(path, 0644) < 0)
		skip();
	h = render_view(t, "odd", "/odd/", NULL, NULL);
	assert_has(h, "<tr><td>pipe</td><td class=\"s\">-</td>");
	assert_lacks(h, "href=\"pipe");
	assert_has(h, "<p>0 folders, 2 files</p>");
	h = render_view(t, "odd", "/odd/", "format=json", NULL);
	assert_has(h, "{\"name\":\"pipe\",\"type\":\"other\",\"size\":0,");
	assert_has(h, "\"href\":null}");
}

static void
render_json_document(void **state)
{
	struct tree *t = *state;
	char want[256];
	const char *h;

	put_sorted_tree(t);
	assert_true(set_mtime(t->root, "srt/file2", 1709251199));
	h = render_view(t, "srt", "/srt/", NULL, "application/json");
	assert_has(h, "{\"path\":\"/srt/\",\"sort\":\"name\",\"order\":\"asc\","
		      "\"directories\":2,\"files\":4,\"entries\":[\n");
	assert_has(h, "{\"name\":\"D9\",\"type\":\"directory\",\"size\":null,"
		      "\"mtime\":\"1970-01-01T00:33:20Z\",\"href\":\"D9/\"}");
	assert_has(h, "{\"name\":\"file2\",\"type\":\"file\",\"size\":300,"
		      "\"mtime\":\"2024-02-29T23:59:59Z\",\"href\":\"file2\"}");
	snprintf(want, sizeof(want), "%s", "\"href\":\"file10\"}\n]}\n");
	assert_int_equal(strcmp(h + strlen(h) - strlen(want), want), 0);
	ORDER(h, "\"D9\"", "\"d10\"", "\"b\"", "\"File1\"", "\"file2\"",
	      "\"file10\"");
	/* The query's sort, its form, with or without Accept. */
	h = render_view(t, "srt", "/srt/", "sort=size&format=json", NULL);
	assert_has(h, "\"sort\":\"size\",\"order\":\"desc\"");
	ORDER(h, "\"d10\"", "\"D9\"", "\"file2\"", "\"File1\"", "\"file10\"",
	      "\"b\"");
	assert_lacks(h, "<");
}

/* Names in JSON: exact where they are valid UTF-8 (quotes, backslashes
 * and control bytes escaped), U+FFFD where they are not; no href for a
 * name no URL can request. */
static void
render_json_escapes(void **state)
{
	struct tree *t = *state;
	const char *h = render_view(t, "", "/", "format=json", NULL);

	assert_has(h, "{\"name\":\"<a>&\\\"'.txt\",\"type\":\"file\","
		      "\"size\":1,");
	assert_has(h, "\"href\":\"%3Ca%3E%26%22%27.txt\"}");
	assert_has(h, "{\"name\":\"tab\\u0009here\",");
	assert_has(h, "{\"name\":\"bad" FFFD ".txt\",");
	assert_has(h, "{\"name\":\"中文.txt\",");
	assert_has(h, "\"href\":\"%E4%B8%AD%E6%96%87.txt\"}");
	assert_has(h, "\"href\":\"%23%3F%25%2B.txt\"}");
	assert_has(h, "\"href\":\"a%3Ab\"}");
	assert_lacks(h, "\t");
	assert_lacks(h, "bad\xff");
	/* Each of the two unlinkable names has a null href, and only they
	 * do. */
	assert_int_equal(count(h, "\"href\":null"), 2);
	assert_has(h, "\"bad" FFFD ".txt\",\"type\":\"file\",\"size\":1,");
	put_dir(t->root, "q\"\\");
	h = render_view(t, "q\"\\", "/q\"\\/", "format=json", NULL);
	assert_has(h, "{\"path\":\"/q\\\"\\\\/\",");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)
		T(render_is_complete_document),
		T(render_appends_to_buffer),
		T(render_sorts_dirs_first_then_names),
		T(render_dirs_have_trailing_slash),
		T(render_escapes_names),
		T(render_encodes_hrefs),
		T(render_invalid_utf8_not_linked),
		T(render_replaces_each_bad_sequence),
		T(render_hides_dotfiles),
		T(render_parent_link_except_at_root),
		T(render_escapes_title),
		T(render_applies_symlink_policy),
		T(render_shows_sizes),
		T(render_formats_dates),
		T(render_many_entries),
		T(render_errors),
		T(render_sorts_long_common_prefixes),
		T(render_dates_match_gmtime),
		T(render_fd_matches_render),
		T(render_sorts_by_view),
		T(render_sort_links),
		T(render_counts_and_breadcrumbs),
		T(render_other_kinds_not_linked),
		T(render_json_document),
		T(render_json_escapes),
#undef T
		cmocka_unit_test(fmt_size_vectors),
		cmocka_unit_test(view_parse_vectors),
		cmocka_unit_test(render_out_of_range_dates),
	};

	return cmocka_run_group_tests_name("listing", tests, NULL, NULL);
}
