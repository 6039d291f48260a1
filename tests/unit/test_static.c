/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for static: the RFC 9110 13.2.2 precondition table, If-Range,
 * the entity-tag format, and the whole handler on a real temp tree (files,
 * one range, multipart/byteranges, 416, the directory redirect, index
 * files, listings, hidden files and bad paths), the listing cache, and
 * small files whose pages are not in memory.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/page.h"
#include "http/http.h"
#include "http/static.h"
#include "parse/fs.h"
#include "parse/http_parse.h"
#include "parse/mime.h"
#include "support/tree.h"

/* ---- building requests by hand ---------------------------------------- */

struct hdr {
	const char *name;
	const char *value;
};

#define MAXH 4

static void
make_request(struct tw_http_request *r, const char *method,
	     const struct hdr *h)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->method = method;
	r->method_len = strlen(method);
	r->target = "/";
	r->target_len = 1;
	r->minor = 1;
	for (i = 0; i < MAXH && h[i].name != NULL; i++) {
		r->headers[i].name = h[i].name;
		r->headers[i].name_len = strlen(h[i].name);
		r->headers[i].value = h[i].value;
		r->headers[i].value_len = strlen(h[i].value);
	}
	r->nheaders = i;
}

/* ---- preconditions ------------------------------------------------------ */

#define ETAG	"\"5-1\""
#define MTIME	784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */
#define D_EQ	"Sun, 06 Nov 1994 08:49:37 GMT"
#define D_EARLY	"Sun, 06 Nov 1994 08:49:36 GMT"
#define D_LATE	"Sun, 06 Nov 1994 08:49:38 GMT"
#define D_850	"Sunday, 06-Nov-94 08:49:37 GMT"
#define D_ASC	"Sun Nov  6 08:49:37 1994"

static const struct {
	struct hdr h[MAXH];
	bool get;
	int want;
} pre_rows[] = {
	{ { { NULL, NULL } }, true, 0 },
	{ { { NULL, NULL } }, false, 0 },
	/* If-Match: strong comparison. */
	{ { { "If-Match", ETAG } }, true, 0 },
	{ { { "If-Match", ETAG } }, false, 0 },
	{ { { "If-Match", "\"other\"" } }, true, 412 },
	{ { { "If-Match", "\"other\"" } }, false, 412 },
	{ { { "If-Match", "W/" ETAG } }, true, 412 },
	{ { { "If-Match", "W/" ETAG } }, false, 412 },
	{ { { "If-Match", "*" } }, true, 0 },
	{ { { "If-Match", "*" } }, false, 0 },
	{ { { "If-Match", "\"x\", " ETAG } }, true, 0 },
	{ { { "If-Match", "\"x\" ,\"y\"" } }, true, 412 },
	{ { { "If-Match", "\"5-1" } }, true, 412 },
	{ { { "If-Match", "5-1" } }, true, 412 },
	{ { { "If-Match", "" } }, true, 412 },
	{ { { "if-match", ETAG } }, true, 0 },
	{ { { "IF-MATCH", "\"nope\"" } }, true, 412 },
	/* If-Unmodified-Since. */
	{ { { "If-Unmodified-Since", D_EARLY } }, true, 412 },
	{ { { "If-Unmodified-Since", D_EARLY } }, false, 412 },
	{ { { "If-Unmodified-Since", D_EQ } }, false, 0 },
	{ { { "If-Unmodified-Since", D_LATE } }, false, 0 },
	{ { { "If-Unmodified-Since", D_850 } }, false, 0 },
	{ { { "If-Unmodified-Since", "yesterday" } }, false, 0 },
	{ { { "If-Unmodified-Since", "" } }, false, 0 },
	/* ... ignored when If-Match is present, even a failing date. */
	{ { { "If-Match", ETAG }, { "If-Unmodified-Since", D_EARLY } },
	  false, 0 },
	{ { { "If-Unmodified-Since", D_EARLY }, { "If-Match", "*" } },
	  false, 0 },
	{ { { "If-Match", "\"x\"" }, { "If-Unmodified-Since", D_LATE } },
	  false, 412 },
	/* If-None-Match: weak comparison; 304 for GET/HEAD, else 412. */
	{ { { "If-None-Match", ETAG } }, true, 304 },
	{ { { "If-None-Match", ETAG } }, false, 412 },
	{ { { "If-None-Match", "W/" ETAG } }, true, 304 },
	{ { { "If-None-Match", "W/" ETAG } }, false, 412 },
	{ { { "If-None-Match", "\"x\"" } }, true, 0 },
	{ { { "If-None-Match", "\"x\"" } }, false, 0 },
	{ { { "If-None-Match", "\"x\", W/\"y\", " ETAG } }, true, 304 },
	{ { { "If-None-Match", "\"x\",W/" ETAG } }, true, 304 },
	{ { { "If-None-Match", "\"x\", \"5-1 \"" } }, true, 0 },
	{ { { "If-None-Match", "*" } }, true, 304 },
	{ { { "If-None-Match", "*" } }, false, 412 },
	{ { { "If-None-Match", "\"5-2\"" } }, true, 0 },
	/* If-Modified-Since: GET/HEAD only. */
	{ { { "If-Modified-Since", D_EQ } }, true, 304 },
	{ { { "If-Modified-Since", D_LATE } }, true, 304 },
	{ { { "If-Modified-Since", D_EARLY } }, true, 0 },
	{ { { "If-Modified-Since", D_EQ } }, false, 0 },
	{ { { "If-Modified-Since", D_850 } }, true, 304 },
	{ { { "If-Modified-Since", D_ASC } }, true, 304 },
	{ { { "If-Modified-Since", "garbage" } }, true, 0 },
	{ { { "If-Modified-Since", "Sun, 06 Nov 1994 25:49:37 GMT" } },
	  true, 0 },
	/* ... ignored when If-None-Match is present. */
	{ { { "If-None-Match", "\"x\"" }, { "If-Modified-Since", D_EQ } },
	  true, 0 },
	{ { { "If-Modified-Since", D_LATE }, { "If-None-Match", "\"x\"" } },
	  true, 0 },
	{ { { "If-None-Match", ETAG }, { "If-Modified-Since", D_EARLY } },
	  true, 304 },
	/* Order of evaluation (13.2.2): 1 If-Match, 2 If-Unmodified-Since,
	 * 3 If-None-Match, 4 If-Modified-Since. */
	{ { { "If-None-Match", ETAG }, { "If-Match", "\"x\"" } }, true, 412 },
	{ { { "If-None-Match", "*" }, { "If-Match", "\"x\"" } }, true, 412 },
	{ { { "If-None-Match", ETAG }, { "If-Unmodified-Since", D_EARLY } },
	  true, 412 },
	{ { { "If-Match", ETAG }, { "If-None-Match", ETAG } }, true, 304 },
	{ { { "If-Match", ETAG }, { "If-None-Match", ETAG } }, false, 412 },
	{ { { "If-Match", ETAG }, { "If-Modified-Since", D_EQ } }, true, 304 },
	{ { { "If-Match", "\"x\"" }, { "If-Modified-Since", D_EQ } },
	  true, 412 },
	{ { { "If-Unmodified-Since", D_LATE }, { "If-Modified-Since", D_EQ } },
	  true, 304 },
	{ { { "If-Unmodified-Since", D_EARLY }, { "If-Modified-Since", D_EQ } },
	  true, 412 },
	{ { { "If-Match", "*" }, { "If-Unmodified-Since", D_EARLY },
	    { "If-None-Match", "\"x\"" }, { "If-Modified-Since", D_LATE } },
	  true, 0 },
};

static void
preconditions_table(void **state)
{
	struct tw_http_request *r = malloc(sizeof(*r));
	size_t i;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < sizeof(pre_rows) / sizeof(pre_rows[0]); i++) {
		int got;

		make_request(r, pre_rows[i].get ? "GET" : "POST",
			     pre_rows[i].h);
		got = tw_static_preconditions(r, pre_rows[i].get, ETAG,
					      strlen(ETAG), MTIME);
		if (got != pre_rows[i].want) {
			free(r);
			fail_msg("row %zu (%s: %s; %s): got %d, want %d", i,
				 pre_rows[i].h[0].name ? pre_rows[i].h[0].name : "-",
				 pre_rows[i].h[0].value ? pre_rows[i].h[0].value : "",
				 pre_rows[i].get ? "GET" : "other", got,
				 pre_rows[i].want);
		}
	}
	free(r);
}

/* The table's dates are all relative to MTIME: moving the file's time
 * must move the results (a test that ignored mtime would pass above). */
static void
preconditions_follow_mtime(void **state)
{
	static const struct hdr ims[] = { { "If-Modified-Since", D_EQ },
					  { NULL, NULL } };
	static const struct hdr ius[] = { { "If-Unmodified-Since", D_EQ },
					  { NULL, NULL } };
	struct tw_http_request *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	make_request(r, "GET", ims);
	assert_int_equal(tw_static_preconditions(r, true, ETAG, 5, MTIME), 304);
	assert_int_equal(tw_static_preconditions(r, true, ETAG, 5, MTIME + 1), 0);
	assert_int_equal(tw_static_preconditions(r, true, ETAG, 5, MTIME - 1),
			 304);
	make_request(r, "PUT", ius);
	assert_int_equal(tw_static_preconditions(r, false, ETAG, 5, MTIME), 0);
	assert_int_equal(tw_static_preconditions(r, false, ETAG, 5, MTIME + 1),
			 412);
	free(r);
}

/* ---- If-Range ----------------------------------------------------------- */

static const struct {
	const char *value;	/* NULL: no If-Range header */
	bool want;
} ifr_rows[] = {
	{ NULL, true },
	{ ETAG, true },
	{ "W/" ETAG, false },		/* weak never matches */
	{ "\"5-0\"", false },		/* stale tag */
	{ "*", false },
	{ D_EQ, true },
	{ D_850, true },
	{ D_ASC, true },
	{ D_EARLY, false },
	{ D_LATE, false },
	{ "garbage", false },
	{ "", false },
	{ "Sun, 06 Nov 1994 08:49:37", false },
};

static void
if_range_table(void **state)
{
	struct tw_http_request *r = malloc(sizeof(*r));
	size_t i;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < sizeof(ifr_rows) / sizeof(ifr_rows[0]); i++) {
		struct hdr h[2] = { { NULL, NULL } };
		bool got;

		if (ifr_rows[i].value != NULL) {
			h[0].name = "If-Range";
			h[0].value = ifr_rows[i].value;
		}
		make_request(r, "GET", h);
		got = tw_static_if_range(r, ETAG, strlen(ETAG), MTIME);
		if (got != ifr_rows[i].want) {
			free(r);
			fail_msg("row %zu (%s): got %d", i,
				 ifr_rows[i].value ? ifr_rows[i].value : "none",
				 got);
		}
	}
	free(r);
}

/* ---- ETag --------------------------------------------------------------- */

static size_t
etag_of(long long size, long long mtime, char out[TW_STATIC_ETAG_MAX])
{
	struct stat st;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)size;
	st.st_mtim.tv_sec = (time_t)mtime;
	st.st_mtim.tv_nsec = 123456789;
	memset(out, '#', TW_STATIC_ETAG_MAX);
	n = tw_static_etag(&st, out);
	assert_true(n < TW_STATIC_ETAG_MAX);
	assert_int_equal(out[n], '\0');
	assert_int_equal(strlen(out), n);
	return n;
}

static void
etag_format(void **state)
{
	static const struct {
		long long size;
		long long mtime;
		const char *want;
	} rows[] = {
		{ 5, 1, "\"5-1\"" },
		{ 0, 0, "\"0-0\"" },
		{ 0, 1700000000, "\"0-6553f100\"" },
		{ 0xabcdef, 0x5f5e100, "\"abcdef-5f5e100\"" },
		{ 4096, 0x7fffffff, "\"1000-7fffffff\"" },
		{ 5LL << 30, 1, "\"140000000-1\"" },		/* 5 GiB */
		{ (1LL << 32) + 1, 16, "\"100000001-10\"" },
		{ 0x7fffffffffffffffLL, 0x7fffffffffffffffLL,
		  "\"7fffffffffffffff-7fffffffffffffff\"" },
	};
	char out[TW_STATIC_ETAG_MAX];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = etag_of(rows[i].size, rows[i].mtime, out);
		if (n != strlen(rows[i].want) || strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: got %s, want %s", i, out,
				 rows[i].want);
	}
}

static void
etag_odd_times_do_not_crash(void **state)
{
	static const long long times[] = {
		-1, -86400, -0x7fffffffffffffffLL - 1, 0x7fffffffffffffffLL,
	};
	char out[TW_STATIC_ETAG_MAX], again[TW_STATIC_ETAG_MAX];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		n = etag_of(0x7fffffffffffffffLL, times[i], out);
		assert_int_equal(out[0], '"');
		assert_int_equal(out[n - 1], '"');
		/* Quoted entity-tag: no quote or control byte inside. */
		assert_null(memchr(out + 1, '"', n - 2));
		assert_int_equal(strspn(out + 1, "0123456789abcdef-"), n - 2);
		/* Deterministic. */
		assert_int_equal(etag_of(0x7fffffffffffffffLL, times[i], again),
				 n);
		assert_string_equal(out, again);
	}
	/* Size and time both matter. */
	etag_of(1, 2, out);
	etag_of(2, 1, again);
	assert_string_not_equal(out, again);
	etag_of(1, 3, again);
	assert_string_not_equal(out, again);
}

/* ---- the handler on a real tree ----------------------------------------- */

#define TEXT "hello, world\n"	/* 13 bytes */

struct fx {
	char root[64];
	struct tw_fs *fs;
	struct tw_mime_table *types;
	struct tw_static_opts opts;
	void *inst;
	struct tw_http_request raw;
	struct tw_http_req req;
	struct tw_buf hdrs;
	struct tw_buf body;
	struct tw_http_res res;
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tw_fs_opts fo = { .symlinks = TW_FS_SYMLINKS_INSIDE };
	char big[1000];
	size_t i;
	int err = 0;

	if (f == NULL)
		return -1;
	f->res.fd = -1;
	if (!tree_mkdtemp(f->root, sizeof(f->root), "tw-static"))
		return -1;
	put_data(f->root, "a.txt", TEXT, strlen(TEXT));
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	put_data(f->root, "big.bin", big, sizeof(big));
	put_data(f->root, "empty.txt", "", 0);
	put_data(f->root, ".hidden", "secret", 6);
	put_dir(f->root, "sub dir");
	put_data(f->root, "sub dir/x.txt", "x", 1);
	put_dir(f->root, "\xc3\xbc");
	put_dir(f->root, "withindex");
	put_data(f->root, "withindex/index.html", "<p>index</p>\n", 13);
	put_data(f->root, "withindex/other.txt", "o", 1);
	put_dir(f->root, "noindex");
	put_data(f->root, "noindex/f.txt", "f", 1);
	put_data(f->root, "noindex/.dot", "d", 1);
	put_dir(f->root, ".well-known");
	put_data(f->root, ".well-known/t.txt", "wk", 2);

	fo.root = f->root;
	f->fs = tw_fs_create(&fo, &err);
	f->types = tw_mime_table_create();
	if (f->fs == NULL || f->types == NULL)
		return -1;
	f->opts.fs = f->fs;
	f->opts.types = f->types;
	f->opts.index = "index.html";
	f->opts.listing = true;
	f->opts.charset = true;
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->inst != NULL)
		tw_static_handler.destroy(f->inst);
	tw_buf_free(&f->hdrs);
	tw_buf_free(&f->body);
	tw_fs_destroy(f->fs);
	tw_mime_table_destroy(f->types);
	rm_tree(f->root);
	free(f);
	return 0;
}

/* (Re)create the instance from f->opts. */
static void
fx_create(struct fx *f)
{
	int err = 0;

	if (f->inst != NULL)
		tw_static_handler.destroy(f->inst);
	f->inst = tw_static_handler.create(&f->opts, &err);
	assert_non_null(f->inst);
}

/*
 * Run the handler on target (path[?query]) with the given headers and
 * method. Returns what handle() returned; f->res holds the response. The
 * previous response's descriptor is closed first.
 */
static int
run(struct fx *f, enum tw_http_method m, const char *target,
    const struct hdr *h)
{
	static const struct hdr none[] = { { NULL, NULL } };
	const char *q;

	if (f->inst == NULL)
		fx_create(f);
	if (f->res.fd >= 0)
		(void)close(f->res.fd);
	make_request(&f->raw, m == TW_HTTP_HEAD ? "HEAD" : "GET",
		     h ? h : none);
	f->raw.target = target;
	f->raw.target_len = strlen(target);
	f->req.raw = &f->raw;
	f->req.method = m;
	f->req.path = target;
	q = strchr(target, '?');
	f->req.path_len = q ? (size_t)(q - target) : strlen(target);
	f->req.query = q ? q + 1 : NULL;
	f->req.query_len = q ? strlen(q + 1) : 0;
	tw_buf_reset(&f->hdrs, 0);
	tw_buf_reset(&f->body, 0);
	memset(&f->res, 0, sizeof(f->res));
	f->res.status = 200;
	f->res.headers = &f->hdrs;
	f->res.body = &f->body;
	f->res.fd = -1;
	return tw_static_handler.handle(&f->req, &f->res, f->inst);
}

/* The response's file goes back the way http gives it back: a cached
 * descriptor through fd_release, any other by close(). */
static void
res_done(struct fx *f)
{
	if (f->res.fd_release != NULL)
		f->res.fd_release(f->res.fd_ctx);
	else if (f->res.fd >= 0)
		assert_int_equal(close(f->res.fd), 0);
	f->res.fd = -1;
	f->res.fd_release = NULL;
	tw_page_unref(f->res.page);
	f->res.page = NULL;
}

/* The header block holds exactly this line. */
static void
assert_header(const struct fx *f, const char *line)
{
	size_t n = strlen(line);
	const char *p = f->hdrs.data, *end = p + f->hdrs.len;

	assert_false(f->hdrs.failed);
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		assert_non_null(eol);
		if ((size_t)(eol - p) == n && memcmp(p, line, n) == 0)
			return;
		p = eol + 2;
	}
	fail_msg("no header line \"%s\" in:\n%.*s", line, (int)f->hdrs.len,
		 f->hdrs.data ? f->hdrs.data : "");
}

static bool
has_header_name(const struct fx *f, const char *name)
{
	size_t n = strlen(name);
	const char *p = f->hdrs.data, *end = p + f->hdrs.len;

	while (p != NULL && p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':')
			return true;
		p = eol ? eol + 2 : NULL;
	}
	return false;
}

/* Every byte of the response body, segments in order. */
static char *
assemble(const struct fx *f, size_t *len)
{
	size_t i, total = 0;
	char *out;

	for (i = 0; i < f->res.nseg; i++)
		total += f->res.segs[i].len;
	out = malloc(total + 1);
	assert_non_null(out);
	*len = 0;
	for (i = 0; i < f->res.nseg; i++) {
		const struct tw_http_seg *s = &f->res.segs[i];

		if (s->kind == TW_HTTP_SEG_BODY) {
			assert_true(s->off + s->len <= f->body.len);
			memcpy(out + *len, f->body.data + s->off, s->len);
		} else if (s->kind == TW_HTTP_SEG_MEM) {
			/* a small file served from the open-file cache */
			assert_non_null(s->mem);
			memcpy(out + *len, s->mem + s->off, s->len);
		} else if (s->kind == TW_HTTP_SEG_PAGE) {
			assert_non_null(f->res.page);
			assert_true(s->off + s->len <= f->res.page->len);
			memcpy(out + *len, f->res.page->data + s->off, s->len);
		} else {
			assert_true(f->res.fd >= 0);
			assert_int_equal(pread(f->res.fd, out + *len, s->len,
					       (off_t)s->off), (ssize_t)s->len);
		}
		*len += s->len;
	}
	out[*len] = '\0';
	return out;
}

/* A file's bytes: by sendfile, or from memory for a small cached file. */
static void
assert_file_body(const struct tw_http_seg *s)
{
	assert_true(s->kind == TW_HTTP_SEG_FILE || s->kind == TW_HTTP_SEG_MEM);
}

static void
handler_serves_file(void **state)
{
	struct fx *f = *state;
	char etag[TW_STATIC_ETAG_MAX], line[128], date[40];
	struct stat st;
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_false(f->res.no_length);
	assert_int_equal(f->res.nseg, 1);
	assert_file_body(&f->res.segs[0]);
	assert_int_equal(f->res.segs[0].off, 0);
	assert_int_equal(f->res.segs[0].len, strlen(TEXT));
	assert_true(f->res.fd >= 0);
	assert_int_equal(fstat(f->res.fd, &st), 0);
	assert_int_equal(st.st_size, strlen(TEXT));

	tw_static_etag(&st, etag);
	snprintf(line, sizeof(line), "ETag: %s", etag);
	assert_header(f, line);
	assert_int_equal(tw_clock_format_http(st.st_mtim.tv_sec, date),
			 TW_CLOCK_HTTP_DATE_LEN);
	snprintf(line, sizeof(line), "Last-Modified: %s", date);
	assert_header(f, line);
	assert_header(f, "Content-Type: text/plain; charset=utf-8");
	assert_header(f, "Accept-Ranges: bytes");
	assert_false(has_header_name(f, "Content-Range"));
	body = assemble(f, &len);
	assert_string_equal(body, TEXT);
	free(body);
	res_done(f);

	/* charset off: a bare type. */
	f->opts.charset = false;
	fx_create(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", NULL), 0);
	assert_header(f, "Content-Type: text/plain");
	res_done(f);
}

static void
handler_serves_empty_file_and_head(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, TW_HTTP_GET, "/empty.txt", NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_int_equal(f->res.nseg, 0);
	res_done(f);
	/* One byte is not empty. */
	assert_int_equal(run(f, TW_HTTP_GET, "/sub%20dir/x.txt", NULL), 0);
	assert_int_equal(f->res.nseg, 1);
	assert_int_equal(f->res.segs[0].len, 1);
	res_done(f);

	/* HEAD: same response, http drops the body; Range is GET only. */
	{
		static const struct hdr h[] = { { "Range", "bytes=0-1" },
						{ NULL, NULL } };

		assert_int_equal(run(f, TW_HTTP_HEAD, "/a.txt", h), 0);
		assert_int_equal(f->res.status, 200);
		assert_int_equal(f->res.nseg, 1);
		assert_int_equal(f->res.segs[0].len, strlen(TEXT));
		res_done(f);
	}
}

static void
handler_conditional_304_and_412(void **state)
{
	struct fx *f = *state;
	char etag[TW_STATIC_ETAG_MAX];
	struct stat st;
	struct hdr h[2] = { { "If-None-Match", etag }, { NULL, NULL } };

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", NULL), 0);
	assert_int_equal(fstat(f->res.fd, &st), 0);
	tw_static_etag(&st, etag);
	res_done(f);

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", h), 0);
	assert_int_equal(f->res.status, 304);
	assert_true(f->res.no_length);
	assert_int_equal(f->res.nseg, 0);
	res_done(f);

	h[0].name = "If-Match";
	h[0].value = "\"nope\"";
	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", h), 412);
	res_done(f);
}

static void
handler_single_range(void **state)
{
	static const struct hdr h[] = { { "Range", "bytes=2-4" }, { NULL, NULL } };
	static const struct hdr suffix[] = { { "Range", "bytes=-3" },
					     { NULL, NULL } };
	static const struct hdr stale[] = { { "Range", "bytes=2-4" },
					    { "If-Range", "\"0-0\"" },
					    { NULL, NULL } };
	struct fx *f = *state;
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", h), 0);
	assert_int_equal(f->res.status, 206);
	assert_header(f, "Content-Range: bytes 2-4/13");
	assert_header(f, "Content-Type: text/plain; charset=utf-8");
	assert_int_equal(f->res.nseg, 1);
	assert_file_body(&f->res.segs[0]);
	assert_int_equal(f->res.segs[0].off, 2);
	assert_int_equal(f->res.segs[0].len, 3);
	body = assemble(f, &len);
	assert_string_equal(body, "llo");
	free(body);
	res_done(f);

	assert_int_equal(run(f, TW_HTTP_GET, "/big.bin", suffix), 0);
	assert_int_equal(f->res.status, 206);
	assert_header(f, "Content-Range: bytes 997-999/1000");
	assert_int_equal(f->res.segs[0].off, 997);
	res_done(f);

	/* A stale If-Range: the whole file. */
	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", stale), 0);
	assert_int_equal(f->res.status, 200);
	assert_int_equal(f->res.segs[0].len, 13);
	assert_false(has_header_name(f, "Content-Range"));
	res_done(f);
}

/* Parse "boundary=" out of the Content-Type line. */
static void
get_boundary(const struct fx *f, char *out, size_t cap)
{
	static const char key[] =
		"Content-Type: multipart/byteranges; boundary=";
	const char *p = memmem(f->hdrs.data, f->hdrs.len, key, sizeof(key) - 1);
	const char *eol;

	assert_non_null(p);
	p += sizeof(key) - 1;
	eol = memmem(p, f->hdrs.len - (size_t)(p - f->hdrs.data), "\r\n", 2);
	assert_non_null(eol);
	assert_true((size_t)(eol - p) > 0 && (size_t)(eol - p) < cap);
	memcpy(out, p, (size_t)(eol - p));
	out[eol - p] = '\0';
}

static void
handler_multipart(void **state)
{
	static const struct hdr h[] = { { "Range", "bytes=5-6,0-1" },
					{ NULL, NULL } };
	static const struct hdr three[] = { { "Range", "bytes=0-0,2-2,-1" },
					    { NULL, NULL } };
	struct fx *f = *state;
	char boundary[80], want[1024];
	size_t len, i, body_bytes = 0, file_bytes = 0;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", h), 0);
	assert_int_equal(f->res.status, 206);
	get_boundary(f, boundary, sizeof(boundary));
	assert_false(has_header_name(f, "Content-Range"));
	/* BODY FILE BODY FILE BODY */
	assert_int_equal(f->res.nseg, 5);
	for (i = 0; i < f->res.nseg; i++) {
		assert_int_equal(f->res.segs[i].kind,
				 i % 2 ? TW_HTTP_SEG_FILE : TW_HTTP_SEG_BODY);
		if (i % 2)
			file_bytes += f->res.segs[i].len;
		else
			body_bytes += f->res.segs[i].len;
	}
	/* Sorted: 0-1 first. */
	assert_int_equal(f->res.segs[1].off, 0);
	assert_int_equal(f->res.segs[1].len, 2);
	assert_int_equal(f->res.segs[3].off, 5);
	assert_int_equal(f->res.segs[3].len, 2);
	/* The body parts cover the body buffer exactly, in order. */
	assert_int_equal(body_bytes, f->body.len);
	assert_int_equal(file_bytes, 4);
	assert_int_equal(f->res.segs[0].off, 0);
	assert_int_equal(f->res.segs[2].off, f->res.segs[0].len);
	assert_int_equal(f->res.segs[4].off,
			 f->res.segs[2].off + f->res.segs[2].len);
	body = assemble(f, &len);
	snprintf(want, sizeof(want),
		 "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		 "Content-Range: bytes 0-1/13\r\n\r\nhe"
		 "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		 "Content-Range: bytes 5-6/13\r\n\r\n, "
		 "\r\n--%s--\r\n", boundary, boundary, boundary);
	assert_int_equal(len, strlen(want));
	assert_string_equal(body, want);
	/* The boundary must not occur in the data it separates. */
	assert_null(strstr(TEXT, boundary));
	free(body);
	res_done(f);

	assert_int_equal(run(f, TW_HTTP_GET, "/big.bin", three), 0);
	assert_int_equal(f->res.status, 206);
	assert_int_equal(f->res.nseg, 7);
	assert_int_equal(f->res.segs[5].off, 999);
	res_done(f);
}

static void
handler_unsatisfiable_416(void **state)
{
	static const struct hdr h[] = { { "Range", "bytes=100-" }, { NULL, NULL } };
	static const struct hdr empty[] = { { "Range", "bytes=0-" },
					    { NULL, NULL } };
	struct fx *f = *state;

	assert_int_equal(run(f, TW_HTTP_GET, "/a.txt", h), 416);
	assert_header(f, "Content-Range: bytes */13");
	res_done(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/empty.txt", empty), 416);
	assert_header(f, "Content-Range: bytes */0");
	res_done(f);
}

static void
handler_directory_redirect(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/sub%20dir?a=1&b", NULL), 0);
	assert_int_equal(f->res.status, 301);
	assert_header(f, "Location: /sub%20dir/?a=1&b");
	body = assemble(f, &len);
	assert_non_null(strstr(body, "301"));
	free(body);
	res_done(f);

	assert_int_equal(run(f, TW_HTTP_GET, "/%C3%BC", NULL), 0);
	assert_int_equal(f->res.status, 301);
	assert_header(f, "Location: /%C3%BC/");
	res_done(f);

	/* Dot segments are resolved before the redirect. */
	assert_int_equal(run(f, TW_HTTP_GET, "/noindex/../withindex", NULL), 0);
	assert_int_equal(f->res.status, 301);
	assert_header(f, "Location: /withindex/");
	res_done(f);
}

static void
handler_directory_index(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/withindex/", NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_header(f, "Content-Type: text/html; charset=utf-8");
	assert_int_equal(f->res.nseg, 1);
	assert_file_body(&f->res.segs[0]);
	body = assemble(f, &len);
	assert_string_equal(body, "<p>index</p>\n");
	free(body);
	res_done(f);

	/* No index configured: the listing instead. */
	f->opts.index = NULL;
	fx_create(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/withindex/", NULL), 0);
	assert_int_equal(f->res.status, 200);
	body = assemble(f, &len);
	assert_non_null(strstr(body, "other.txt"));
	free(body);
	res_done(f);
}

static void
handler_listing_on_off(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, "/noindex/", NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_header(f, "Content-Type: text/html; charset=utf-8");
	assert_int_equal(f->res.nseg, 1);
	assert_int_equal(f->res.segs[0].kind, TW_HTTP_SEG_PAGE);
	assert_non_null(f->res.page);
	assert_int_equal(f->res.segs[0].len, f->res.page->len);
	assert_int_equal(f->body.len, 0);	/* nothing copied */
	body = assemble(f, &len);
	assert_non_null(strstr(body, "f.txt"));
	assert_null(strstr(body, ".dot"));
	free(body);
	res_done(f);

	/* The root lists too. */
	assert_int_equal(run(f, TW_HTTP_GET, "/", NULL), 0);
	assert_int_equal(f->res.status, 200);
	res_done(f);

	f->opts.listing = false;
	fx_create(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/noindex/", NULL), 403);
	res_done(f);
	/* An index still works without listings. */
	assert_int_equal(run(f, TW_HTTP_GET, "/withindex/", NULL), 0);
	assert_int_equal(f->res.status, 200);
	res_done(f);
}

static void
handler_hidden_files(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, TW_HTTP_GET, "/.hidden", NULL), 404);
	res_done(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/%2ehidden", NULL), 404);
	res_done(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/noindex/.dot", NULL), 404);
	res_done(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/.well-known/t.txt", NULL), 0);
	assert_int_equal(f->res.status, 200);
	res_done(f);

	f->opts.hidden = true;
	fx_create(f);
	assert_int_equal(run(f, TW_HTTP_GET, "/.hidden", NULL), 0);
	assert_int_equal(f->res.status, 200);
	res_done(f);
}

static void
handler_bad_paths(void **state)
{
	static const struct {
		const char *target;
		int want;
	} rows[] = {
		{ "/../x", 400 },
		{ "/a/../../x", 400 },
		{ "/%2e%2e/x", 400 },
		{ "/..", 400 },
		{ "/%zz", 400 },
		{ "/%", 400 },
		{ "/%4", 400 },
		{ "/a%00.txt", 400 },
		{ "/%ff", 400 },
		{ "/nope", -ENOENT },
		{ "/a.txt/", 404 },
		{ "/a.txt/x", -ENOTDIR },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = run(f, TW_HTTP_GET, rows[i].target, NULL);

		res_done(f);
		if (got != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].target, got,
				 rows[i].want);
	}
}

/* ---- the listing cache --------------------------------------------------- */

/*
 * A page is kept only once its directory's last change is PAGE_SETTLE_MS
 * (100 ms) old: wait that out so the cache is what the tests see.
 */
static void
settle(void)
{
	assert_int_equal(usleep(150 * 1000), 0);
}

/* GET target; returns the whole body (free it) and, in *page, the page
 * the response sends (a reference for the caller: tw_page_unref). */
static char *
get_listing(struct fx *f, const char *target, struct tw_page **page)
{
	size_t len;
	char *body;

	assert_int_equal(run(f, TW_HTTP_GET, target, NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_header(f, "Content-Type: text/html; charset=utf-8");
	assert_int_equal(f->res.nseg, 1);
	assert_int_equal(f->res.segs[0].kind, TW_HTTP_SEG_PAGE);
	assert_non_null(f->res.page);
	assert_int_equal(f->res.segs[0].off, 0);
	assert_int_equal(f->res.segs[0].len, f->res.page->len);
	body = assemble(f, &len);
	assert_int_equal(strlen(body), len);
	*page = tw_page_ref(f->res.page);
	res_done(f);
	return body;
}

/* The body alone. */
static char *
get_body(struct fx *f, const char *target)
{
	struct tw_page *p;
	char *body = get_listing(f, target, &p);

	tw_page_unref(p);
	return body;
}

/* A listing of /noindex/ that the cache now holds: a second request gets
 * the very page of the first. Returns its body and the page (a
 * reference). */
static char *
cached_listing(struct fx *f, struct tw_page **page)
{
	struct tw_page *again;
	char *first, *second;

	settle();
	tw_clock_update();
	first = get_listing(f, "/noindex/", page);
	second = get_listing(f, "/noindex/", &again);
	assert_ptr_equal(again, *page);
	tw_page_unref(again);
	assert_string_equal(first, second);
	free(first);
	return second;
}

/* A listing row's size cell. */
#define ONE_BYTE "<td class=\"s\">1 B<"
#define FIVE_BYTES "<td class=\"s\">5 B<"

static void
listing_cache_shares_one_page(void **state)
{
	struct fx *f = *state;
	struct tw_page *p, *q;
	char *page = cached_listing(f, &p), *again;

	assert_non_null(strstr(page, "<title>Index of /noindex/</title>"));
	assert_non_null(strstr(page, ">f.txt</a>"));
	/* Kept even with no reader left (a small page). */
	assert_int_equal(p->refs, 2);	/* ours and the cache's */
	tw_page_unref(p);
	again = get_listing(f, "/noindex/", &q);
	assert_ptr_equal(q, p);
	assert_string_equal(again, page);
	tw_page_unref(q);
	free(again);
	free(page);
}

/* The page a GET of target with Accept (NULL: none) sends, a
 * reference; checks the Content-Type of its form and Vary: Accept. */
static struct tw_page *
view_page(struct fx *f, const char *target, const char *accept, bool json)
{
	const struct hdr h[] = { { "Accept", accept }, { NULL, NULL } };
	struct tw_page *p;

	assert_int_equal(run(f, TW_HTTP_GET, target, accept ? h : NULL), 0);
	assert_int_equal(f->res.status, 200);
	assert_header(f, json ? "Content-Type: application/json" :
				"Content-Type: text/html; charset=utf-8");
	assert_header(f, "Vary: Accept");
	assert_int_equal(f->res.segs[0].kind, TW_HTTP_SEG_PAGE);
	p = tw_page_ref(f->res.page);
	res_done(f);
	return p;
}

/* Each view (sort, order, form) is a page of its own, shared by every
 * request for that view however it is asked for. */
static void
listing_cache_page_per_view(void **state)
{
	static const struct {
		const char *target;
		const char *accept;
		bool json;
		int same_as;	/* the row whose page this is, or -1 */
	} rows[] = {
		{ "/noindex/", NULL, false, -1 },
		{ "/noindex/?sort=size", NULL, false, -1 },
		{ "/noindex/?sort=size&order=asc", NULL, false, -1 },
		{ "/noindex/?format=json", NULL, true, -1 },
		{ "/noindex/?sort=date&format=json", NULL, true, -1 },
		{ "/noindex/", NULL, false, 0 },
		{ "/noindex/?sort=name&order=asc", NULL, false, 0 },
		{ "/noindex/?sort=bogus", "text/html", false, 0 },
		{ "/noindex/?order=desc&sort=size", NULL, false, 1 },
		{ "/noindex/", "application/json", true, 3 },
		{ "/noindex/?format=json", "text/html", true, 3 },
		{ "/noindex/?sort=date", "application/json;q=0.9, text/html;"
		  "q=0.1", true, 4 },
		{ "/noindex/", "text/html;q=0.5, application/json;q=0.4", false,
		  0 },
	};
	struct fx *f = *state;
	struct tw_page *p[sizeof(rows) / sizeof(rows[0])];
	size_t n = sizeof(rows) / sizeof(rows[0]), i, j;

	settle();
	tw_clock_update();
	for (i = 0; i < n; i++) {
		p[i] = view_page(f, rows[i].target, rows[i].accept,
				 rows[i].json);
		if (rows[i].same_as >= 0) {
			assert_ptr_equal(p[i], p[rows[i].same_as]);
			continue;
		}
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
	}
	assert_non_null(memmem(p[3]->data, p[3]->len, "\"entries\":[", 11));
	assert_non_null(memmem(p[1]->data, p[1]->len, "aria-sort=\"desc", 15));
	for (i = 0; i < n; i++)
		tw_page_unref(p[i]);
}

/* A change seen at the next request: a new page; p is still whole for
 * its readers. */
static void
assert_new_page(struct fx *f, struct tw_page *p, const char *old,
		char **after)
{
	struct tw_page *q;

	*after = get_listing(f, "/noindex/", &q);
	assert_ptr_not_equal(q, p);
	assert_int_equal(p->len, strlen(old));
	assert_memory_equal(p->data, old, p->len);
	tw_page_unref(q);
	tw_page_unref(p);
}

static void
listing_cache_shows_created_file_at_once(void **state)
{
	struct fx *f = *state;
	struct tw_page *p;
	char *page = cached_listing(f, &p), *after;

	assert_null(strstr(page, "new.txt"));
	put_data(f->root, "noindex/new.txt", "new", 3);
	assert_new_page(f, p, page, &after);
	assert_non_null(strstr(after, ">new.txt</a>"));
	assert_non_null(strstr(after, ">f.txt</a>"));
	free(after);
	free(page);
}

static void
listing_cache_shows_deleted_file_at_once(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct tw_page *p;
	char *page = cached_listing(f, &p), *after;

	assert_non_null(strstr(page, ">f.txt</a>"));
	snprintf(path, sizeof(path), "%s/noindex/f.txt", f->root);
	assert_int_equal(unlink(path), 0);
	assert_new_page(f, p, page, &after);
	assert_null(strstr(after, "f.txt"));
	free(after);
	free(page);
}

static void
listing_cache_shows_renamed_file_at_once(void **state)
{
	struct fx *f = *state;
	char from[PATH_MAX], to[PATH_MAX];
	struct tw_page *p;
	char *page = cached_listing(f, &p), *after;

	snprintf(from, sizeof(from), "%s/noindex/f.txt", f->root);
	snprintf(to, sizeof(to), "%s/noindex/g.txt", f->root);
	assert_int_equal(rename(from, to), 0);
	assert_new_page(f, p, page, &after);
	assert_null(strstr(after, "f.txt"));
	assert_non_null(strstr(after, ">g.txt</a>"));
	free(after);
	free(page);
}

/* A change of the directory's inode alone (its ctime; mtime, mode and
 * size stay) is a change too: the page is read again. */
static void
listing_cache_rereads_after_ctime_change(void **state)
{
	struct fx *f = *state;
	struct timespec ts[2];
	char path[PATH_MAX];
	struct stat st;
	struct tw_page *p;
	char *page = cached_listing(f, &p), *after;

	snprintf(path, sizeof(path), "%s/noindex", f->root);
	assert_int_equal(stat(path, &st), 0);
	/* Setting the mtime it already has updates only the ctime. */
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_new_page(f, p, page, &after);
	assert_string_equal(after, page);
	free(after);
	free(page);
}

/*
 * A file's size can change without touching its directory: the page
 * shows that within the validity time (1 s), not at once. The clock only
 * moves on tw_clock_update(), so "at once" is exact here.
 */
static void
listing_cache_shows_size_change_after_validity(void **state)
{
	struct fx *f = *state;
	struct tw_page *p, *q, *r;
	char *page = cached_listing(f, &p), *after;

	assert_non_null(strstr(page, ">f.txt</a></td>" ONE_BYTE));
	put_data(f->root, "noindex/f.txt", "12345", 5);
	after = get_listing(f, "/noindex/", &q);
	assert_ptr_equal(q, p);
	assert_string_equal(after, page);
	tw_page_unref(q);
	free(after);

	assert_int_equal(usleep(1100 * 1000), 0);
	tw_clock_update();
	after = get_listing(f, "/noindex/", &q);
	assert_ptr_not_equal(q, p);
	assert_non_null(strstr(after, ">f.txt</a></td>" FIVE_BYTES));
	free(after);
	/* The old page, still held here, is whole; the new one is kept in
	 * turn. */
	assert_memory_equal(p->data, page, p->len);
	after = get_listing(f, "/noindex/", &r);
	assert_ptr_equal(r, q);
	assert_non_null(strstr(after, ">f.txt</a></td>" FIVE_BYTES));
	free(after);
	tw_page_unref(r);
	tw_page_unref(q);
	tw_page_unref(p);
	free(page);
}

/* HEAD: the same status, headers and length, from the cache too (http
 * sends the headers only). */
static void
listing_cache_head(void **state)
{
	struct fx *f = *state;
	struct tw_page *p;
	char *page = cached_listing(f, &p);
	size_t i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(run(f, TW_HTTP_HEAD, "/noindex/", NULL), 0);
		assert_int_equal(f->res.status, 200);
		assert_false(f->res.no_length);
		assert_header(f, "Content-Type: text/html; charset=utf-8");
		assert_int_equal(f->res.nseg, 1);
		assert_int_equal(f->res.segs[0].len, strlen(page));
		assert_ptr_equal(f->res.page, p);
		res_done(f);
	}
	tw_page_unref(p);
	free(page);
}

/* The heading comes from the request's path, and each path has its own
 * page: a symlink to a directory shows its own name. */
static void
listing_cache_heading_per_path(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct tw_page *p, *a1, *a2;
	char *page, *alias;

	snprintf(path, sizeof(path), "%s/alias", f->root);
	assert_int_equal(symlink("noindex", path), 0);
	page = cached_listing(f, &p);
	alias = get_listing(f, "/alias/", &a1);
	assert_ptr_not_equal(a1, p);
	assert_non_null(strstr(alias, "<title>Index of /alias/</title>"));
	assert_null(strstr(alias, "/noindex/"));
	free(alias);
	alias = get_listing(f, "/alias/", &a2);
	assert_ptr_equal(a2, a1);
	assert_non_null(strstr(alias, "<title>Index of /alias/</title>"));
	free(alias);
	tw_page_unref(a1);
	tw_page_unref(a2);
	free(page);
	page = get_listing(f, "/noindex/", &a1);
	assert_ptr_equal(a1, p);
	assert_non_null(strstr(page, "<title>Index of /noindex/</title>"));
	tw_page_unref(a1);
	tw_page_unref(p);
	free(page);
}

/* A directory of 2,000 rows of ~600 bytes (each row holds the name
 * twice): a page over PAGE_MAX (1 MiB). */
static void
make_big_dir(struct fx *f)
{
	char name[300];
	int i;

	put_dir(f->root, "big");
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "big/%04d-%0240d", i, 0);
		put_data(f->root, name, i == 0 ? "1" : "", i == 0);
	}
	settle();
	tw_clock_update();
}

/*
 * A page over 1 MiB is shared by every request while someone still sends
 * it, however many (no copy each), and let go of once the last reader is
 * done: the next request reads the directory again and so shows a file's
 * new size at once.
 */
static void
listing_cache_shares_big_page_while_sent(void **state)
{
	struct fx *f = *state;
	struct tw_page *first, *p;
	char *body, *again;
	char name[300];
	int i;

	make_big_dir(f);
	body = get_listing(f, "/big/", &first);
	assert_true(first->len > (1u << 20));
	for (i = 0; i < 3; i++) {
		again = get_listing(f, "/big/", &p);
		assert_ptr_equal(p, first);
		assert_int_equal(p->refs, 2);	/* p and first: nobody else */
		tw_page_unref(p);
		free(again);
	}
	/* The reader still has it: a change of a size waits the validity
	 * time as for a small page. */
	snprintf(name, sizeof(name), "big/%04d-%0240d", 0, 0);
	put_data(f->root, name, "12345", 5);
	again = get_listing(f, "/big/", &p);
	assert_ptr_equal(p, first);
	tw_page_unref(p);
	free(again);
	assert_non_null(strstr(body, "</a></td>" ONE_BYTE));
	free(body);

	/* The last reader done: the page is gone, the next one is new. */
	tw_page_unref(first);
	body = get_listing(f, "/big/", &p);
	assert_null(strstr(body, "</a></td>" ONE_BYTE));
	assert_non_null(strstr(body, "</a></td>" FIVE_BYTES));
	assert_int_equal(p->refs, 1);	/* not held beyond its readers */
	tw_page_unref(p);
	free(body);
	/* Smaller pages are still kept beside it. */
	free(cached_listing(f, &p));
	tw_page_unref(p);
}

/* A page whose directory just changed is served but not shared: a change
 * in the same clock tick could be missing from it. */
static void
listing_cache_waits_for_settled_dir(void **state)
{
	struct fx *f = *state;
	struct tw_page *p, *q;
	char *a, *b;

	put_data(f->root, "noindex/new.txt", "n", 1);
	tw_clock_update();
	a = get_listing(f, "/noindex/", &p);
	b = get_listing(f, "/noindex/", &q);
	assert_ptr_not_equal(p, q);
	assert_int_equal(p->refs, 1);
	assert_string_equal(a, b);
	tw_page_unref(p);
	tw_page_unref(q);
	free(a);
	free(b);
	free(get_body(f, "/"));
}

/* ---- small files never wait for the disk -------------------------------- */

/* Write path, sync it and drop its pages; false if they stay in memory
 * (tmpfs) or the filesystem cannot read without waiting. */
static bool
make_cold(const char *path, const char *data, size_t n)
{
	unsigned char vec[8];
	struct iovec iov;
	char buf[16];
	void *map;
	int fd;
	bool cold;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	map = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mincore(map, n, vec), 0);
	cold = (vec[0] & 1) == 0;
	assert_int_equal(munmap(map, n), 0);
	/* An empty read at the end brings no page in, and still tells
	 * whether the filesystem knows RWF_NOWAIT at all. */
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	if (cold && preadv2(fd, &iov, 1, (off_t)n, RWF_NOWAIT) < 0 &&
	    (errno == EOPNOTSUPP || errno == EINVAL))
		cold = false;
	assert_int_equal(close(fd), 0);
	return cold;
}

static void
handler_cold_small_file_by_sendfile(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], data[4096];
	size_t i, len;
	char *body;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	/* A type the table knows and that needs no charset: nothing but
	 * the handler's own read looks at the bytes. */
	snprintf(path, sizeof(path), "%s/cold.png", f->root);
	if (!make_cold(path, data, sizeof(data)))
		skip();
	/* Not in memory: the loop must not wait for the disk, so the body
	 * goes by sendfile from the descriptor. */
	assert_int_equal(run(f, TW_HTTP_GET, "/cold.png", NULL), 0);
	assert_int_equal(f->res.status, 200);
	if (f->res.nseg != 1 || f->res.segs[0].kind != TW_HTTP_SEG_FILE)
		fail_msg("want one file segment, got %zu, the first of kind "
			 "%d and %llu bytes; headers:\n%.*s", f->res.nseg,
			 (int)f->res.segs[0].kind,
			 (unsigned long long)f->res.segs[0].len,
			 (int)f->hdrs.len, f->hdrs.data);
	body = assemble(f, &len);	/* reads it, as sendfile would */
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(body, data, len);
	free(body);
	res_done(f);
	/* Now in memory: served from memory, read once. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(run(f, TW_HTTP_GET, "/cold.png", NULL), 0);
		assert_int_equal(f->res.segs[0].kind, TW_HTTP_SEG_MEM);
		body = assemble(f, &len);
		assert_int_equal(len, sizeof(data));
		assert_memory_equal(body, data, len);
		free(body);
		res_done(f);
	}
}

int
main(void)
{
#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(preconditions_table),
		cmocka_unit_test(preconditions_follow_mtime),
		cmocka_unit_test(if_range_table),
		cmocka_unit_test(etag_format),
		cmocka_unit_test(etag_odd_times_do_not_crash),
		FX(handler_serves_file),
		FX(handler_serves_empty_file_and_head),
		FX(handler_conditional_304_and_412),
		FX(handler_single_range),
		FX(handler_multipart),
		FX(handler_unsatisfiable_416),
		FX(handler_directory_redirect),
		FX(handler_directory_index),
		FX(handler_listing_on_off),
		FX(handler_hidden_files),
		FX(handler_bad_paths),
		FX(listing_cache_shares_one_page),
		FX(listing_cache_page_per_view),
		FX(listing_cache_shows_created_file_at_once),
		FX(listing_cache_shows_deleted_file_at_once),
		FX(listing_cache_shows_renamed_file_at_once),
		FX(listing_cache_rereads_after_ctime_change),
		FX(listing_cache_shows_size_change_after_validity),
		FX(listing_cache_head),
		FX(listing_cache_heading_per_path),
		FX(listing_cache_shares_big_page_while_sent),
		FX(listing_cache_waits_for_settled_dir),
		FX(handler_cold_small_file_by_sendfile),
	};
#undef FX

	return cmocka_run_group_tests_name("static", tests, NULL, NULL);
}
