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
	err = tw_listing_render(fs, rel, url_path, &opts, &t->buf);
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
	assert_has(h, "<h1>Index of /</h1>");
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
					   &t->buf), 0);
	tw_fs_destroy(fs);
	assert_true(t->buf.len > 6 + 16);
	assert_memory_equal(t->buf.data, "PREFIX<!DOCTYPE html>\n", 22);
}

static void
render_sorts_dirs_first_then_bytes(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);
	/* Directories (a link to one counts), then names in byte order. */
	static const char *const order[] = {
		">adir/</a>",
		">linkdir/</a>",
		">zdir/</a>",
		">#?%+.txt</a>",
		">&lt;a&gt;&amp;&quot;&#39;.txt</a>",
		">A.txt</a>",
		">Z.txt</a>",
		">a.txt</a>",
		">a:b</a>",
		">b.txt</a>",
		">bad" FFFD ".txt<",
		">big</a>",
		">empty</a>",
		">link_in</a>",
		">tab" FFFD "here<",
		">x y.txt</a>",
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

	assert_has(h, "<tr><td>bad" FFFD ".txt</td><td class=\"s\">1</td>");
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
	/* Only "../" and the one valid name are links. */
	assert_int_equal(count(h, "<a href="), 2);
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
		      "<td class=\"s\">42</td>");
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
	assert_has(h, "<h1>Index of /&lt;x&gt;&amp;&quot;y&quot;/</h1>");
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
		      "<td class=\"s\">3</td>");

	h = render(t, TW_FS_SYMLINKS_NEVER, "", "/", false);
	assert_lacks(h, "link");
	assert_lacks(h, "dangling");
	assert_has(h, "<a href=\"b.txt\">");

	h = render(t, TW_FS_SYMLINKS_ALWAYS, "", "/", false);
	assert_has(h, "<a href=\"link_out\">link_out</a></td>"
		      "<td class=\"s\">777</td>");
	assert_has(h, "<a href=\"linkdir_out/\">linkdir_out/</a>");
	assert_lacks(h, "dangling");
}

static void
render_shows_sizes(void **state)
{
	struct tree *t = *state;
	const char *h = render(t, TW_FS_SYMLINKS_INSIDE, "", "/", false);

	assert_has(h, "<a href=\"big\">big</a></td><td class=\"s\">12345</td>");
	assert_has(h, "<a href=\"empty\">empty</a></td><td class=\"s\">0</td>");
	assert_has(h, "<a href=\"b.txt\">b.txt</a></td><td class=\"s\">3</td>");
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
		      "<td class=\"s\">3</td><td>2021-03-04 05:06</td></tr>\n");
	assert_has(h, ">a.txt</a></td><td class=\"s\">1</td>"
		      "<td>1970-01-01 00:00</td>");
	assert_has(h, ">A.txt</a></td><td class=\"s\">1</td>"
		      "<td>1969-12-31 23:59</td>");
	assert_has(h, ">Z.txt</a></td><td class=\"s\">1</td>"
		      "<td>2023-11-14 22:13</td>");
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
	assert_int_equal(tw_listing_render(fs, "", "/", &opts, &b), 0);
	tw_buf_append_char(&b, '\0');
	assert_false(b.failed);
	assert_has(b.data, ">far</a></td><td class=\"s\">1</td><td>-</td>");
	assert_has(b.data, ">past</a></td><td class=\"s\">1</td><td>-</td>");
	assert_has(b.data, ">y9999</a></td><td class=\"s\">1</td>"
			   "<td>9999-12-31 23:59</td>");
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
			 "<a href=\"f%04d\">f%04d</a></td><td class=\"s\">%d<",
			 i, i, i);
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

	assert_int_equal(tw_listing_render(inside, "nope", "/nope/", &opts, &b),
			 -ENOENT);
	assert_int_equal(tw_listing_render(inside, "b.txt", "/b.txt/", &opts,
					   &b), -ENOTDIR);
	assert_int_equal(tw_listing_render(inside, "linkdir_out", "/l/",
					   &opts, &b), -EXDEV);
	assert_int_equal(tw_listing_render(never, "linkdir", "/l/", &opts, &b),
			 -ELOOP);
	assert_int_equal(tw_listing_render(inside, "../", "/x/", &opts, &b),
			 -EINVAL);
	assert_int_equal(tw_listing_render(inside, "", "x/", &opts, &b),
			 -EINVAL);
	assert_int_equal(tw_listing_render(inside, "", NULL, &opts, &b),
			 -EINVAL);
	assert_int_equal(tw_listing_render(inside, NULL, "/", &opts, &b),
			 -EINVAL);
	/* Nothing was written on any error. */
	assert_int_equal(b.len, 0);
	assert_false(b.failed);

	/* A buffer already out of memory stays so and reports it. */
	b.failed = true;
	assert_int_equal(tw_listing_render(inside, "", "/", &opts, &b),
			 -ENOMEM);
	assert_int_equal(b.len, 0);
	tw_buf_free(&b);

	/* NULL opts means the defaults: dotfiles hidden. */
	assert_int_equal(tw_listing_render(inside, "", "/", NULL, &b), 0);
	tw_buf_append_char(&b, '\0');
	assert_lacks(b.data, ".dot");
	assert_has(b.data, ">b.txt</a>");
	tw_buf_free(&b);
	tw_fs_destroy(inside);
	tw_fs_destroy(never);
}

/* Names that share 8 or 16 leading bytes, end right there, or hold high
 * bytes: byte order all the same. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
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
		snprintf(want, sizeof(want), ">d%02zu</a></td><td class=\"s\">1"
			 "</td><td>%s</td>", i, date);
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
	assert_int_equal(tw_listing_render_fd(fs, fd, "", "/", &opts, &a), 0);
	assert_int_equal(tw_listing_render_fd(fs, fd, "", "/", &opts, &b), 0);
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
						      &opts, &a), -ENOTDIR);
		assert_int_equal(a.len, 0);
		assert_int_equal(close(ffd), 0);
	}
	assert_int_equal(close(fd), 0);
	tw_buf_free(&a);
	tw_buf_free(&b);
	tw_fs_destroy(fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)
		T(render_is_complete_document),
		T(render_appends_to_buffer),
		T(render_sorts_dirs_first_then_bytes),
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
#undef T
		cmocka_unit_test(render_out_of_range_dates),
	};

	return cmocka_run_group_tests_name("listing", tests, NULL, NULL);
}
