/* SPDX-License-Identifier: MIT */
/*
 * static: files, directories, ranges, conditionals and sidecars. Layer 3:
 * builds a tw_http_res; the transport is http's business.
 */
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/page.h"
#include "http/listing.h"
#include "net/loop.h"
#include "net/resident.h"
#include "parse/fs.h"
#include "parse/http_parse.h"
#include "parse/mime.h"
#include "parse/url.h"

#define BOUNDARY_LEN 24
#define FILE_CACHE_SLOTS 4096
/* How long a cached open file is trusted before it is looked at again:
 * a change on disk shows within this time. */
#define FILE_CACHE_VALID_MS 1000
#define SMALL_FILE_MAX	(16 * 1024)	/* served from memory up to this */
/* Memory per instance (one per loop) for them. */
#define CONTENT_MAX	(32u << 20)
/*
 * Listing pages: every connection that asks for a directory while its
 * page is valid sends that one page by reference (base/page), however
 * large. A page is valid for PAGE_VALID_MS after it was read (the sizes
 * and dates it shows can change without touching the directory). Pages up to
 * PAGE_MAX, PAGES_HELD_MAX of them in all, are also held for later
 * requests while valid; a larger one lives only while connections are
 * sending it, so its memory goes back once the last reader is done.
 * Each view of a directory (sort, order, HTML or JSON) is a page of its
 * own in a slot of its own, so these bounds hold for all views
 * together: at most PAGE_SLOTS pages and PAGES_HELD_MAX bytes held per
 * loop, whatever mix of views readers ask for.
 */
#define PAGE_SLOTS	32
#define PAGE_MAX	(1u << 20)
#define PAGES_HELD_MAX	(8u << 20)
#define PAGE_VALID_MS	FILE_CACHE_VALID_MS
/* A page is kept only if the directory's last change is this much older
 * than the reading of it; see dir_settled(). */
#define PAGE_SETTLE_MS	100

/* Request-scoped scratch: paths are at most PATH_MAX, so fixed arrays
 * on the stack of handle() would do too, but 12 KiB of stack per call is
 * more than a worker thread's stack should spend. */
struct scratch {
	char path[PATH_MAX];		/* decoded, normalized, NUL-terminated */
	char rel[PATH_MAX + 16];	/* relative to the root */
	char enc[3 * PATH_MAX + 1];	/* percent-encoded for Location */
};

/* A directory's page and the directory as it was when it was read. */
struct page_slot {
	struct tw_page *page;	/* NULL: a free slot */
	bool held;		/* the slot owns a reference (a small page) */
	char *rel;		/* the directory, relative to the root */
	size_t rel_len;
	unsigned view;		/* tw_listing_view_index() */
	struct timespec mtim;
	struct timespec ctim;
	dev_t dev;
	ino_t ino;
	uint64_t rendered_ms;
};

/* One per event loop (http creates an instance for each), so nothing
 * here is shared between threads or loops, pages included. */
struct static_inst {
	const struct tw_static_opts *opts;
	struct tw_mime *mime;
	struct tw_fs_cache *cache;	/* this loop's open files */
	struct tw_loop *loop;		/* where it is registered to shed */
	char boundary[BOUNDARY_LEN + 1];
	struct page_slot pages[PAGE_SLOTS];
	size_t held_bytes;	/* in held pages */
	struct tw_buf render;	/* a page being rendered */
	struct scratch scr;
};

static void slot_clear(struct static_inst *si, struct page_slot *ps);
static void static_destroy(void *inst);

static void *
static_create(const void *opts, int *err)
{
	struct static_inst *si = calloc(1, sizeof(*si));
	unsigned char rnd[BOUNDARY_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (si == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	si->opts = opts;
	si->mime = tw_mime_create(si->opts->types, err);
	if (si->mime == NULL) {
		static_destroy(si);
		return NULL;
	}
	si->cache = tw_fs_cache_create(si->opts->fs, FILE_CACHE_SLOTS,
				       FILE_CACHE_VALID_MS);
	if (si->cache == NULL) {
		*err = -ENOMEM;
		static_destroy(si);
		return NULL;
	}
	tw_fs_cache_set_content_max(si->cache, CONTENT_MAX);
	if (si->opts->open_files > 0)
		tw_fs_cache_set_fd_max(si->cache, si->opts->open_files);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		si->boundary[2 * i] = hex[rnd[i] >> 4];
		si->boundary[2 * i + 1] = hex[rnd[i] & 15];
	}
	return si;
}

/* The loop ran out of descriptors (an accept): the cache's least
 * recently used go first. */
static size_t
static_reclaim(void *inst, size_t want)
{
	struct static_inst *si = inst;

	return tw_fs_cache_shed(si->cache, want);
}

static int
static_attach(void *inst, struct tw_loop *loop)
{
	struct static_inst *si = inst;
	int err = tw_loop_reclaim_add(loop, static_reclaim, si);

	if (err == 0)
		si->loop = loop;
	/* Past the loop's few registrations (a location each, with server
	 * blocks), an instance keeps to its own share of descriptors
	 * (opts->open_files) without being asked to give some back. */
	return err == -ENOSPC ? 0 : err;
}

static void
static_destroy(void *inst)
{
	struct static_inst *si = inst;
	size_t i;

	if (si == NULL)
		return;
	if (si->loop != NULL)
		tw_loop_reclaim_del(si->loop, static_reclaim, si);
	for (i = 0; i < PAGE_SLOTS; i++)
		slot_clear(si, &si->pages[i]);
	tw_buf_free(&si->render);
	tw_mime_destroy(si->mime);
	tw_fs_cache_destroy(si->cache);
	free(si);
}

static size_t
put_hex(char *p, unsigned long long v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

size_t
tw_static_etag(const struct stat *st, char out[TW_STATIC_ETAG_MAX])
{
	size_t n = 0;

	out[n++] = '"';
	n += put_hex(out + n, (unsigned long long)st->st_size);
	out[n++] = '-';
	n += put_hex(out + n, (unsigned long long)st->st_mtim.tv_sec);
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

static bool
header_date(const struct tw_http_request *r, const char *name, time_t *t)
{
	const struct tw_http_header *h = tw_http_find_header(r, name);

	/* An unparsable date is ignored, as if the header were absent. */
	return h != NULL && tw_http_parse_date(h->value, h->value_len, t) == 0;
}

int
tw_static_preconditions(const struct tw_http_request *r, bool get_or_head,
			const char *etag, size_t etag_len, time_t mtime)
{
	const struct tw_http_header *im = tw_http_find_header(r, "If-Match");
	const struct tw_http_header *inm = tw_http_find_header(r, "If-None-Match");
	time_t t;

	if (im != NULL) {
		if (!tw_http_etag_match(im->value, im->value_len, etag, etag_len,
					false))
			return 412;
	} else if (header_date(r, "If-Unmodified-Since", &t) && mtime > t) {
		return 412;
	}
	if (inm != NULL) {
		if (tw_http_etag_match(inm->value, inm->value_len, etag,
				       etag_len, true))
			return get_or_head ? 304 : 412;
	} else if (get_or_head && header_date(r, "If-Modified-Since", &t) &&
		   mtime <= t) {
		return 304;
	}
	return 0;
}

bool
tw_static_if_range(const struct tw_http_request *r, const char *etag,
		   size_t etag_len, time_t mtime)
{
	const struct tw_http_header *h = tw_http_find_header(r, "If-Range");
	time_t t;

	if (h == NULL)
		return true;
	/* If-Range holds one entity-tag, never a list (RFC 9110 13.1.5);
	 * a date has a comma of its own. */
	if (h->value_len > 0 && (h->value[0] == '"' || h->value[0] == 'W'))
		return memchr(h->value, ',', h->value_len) == NULL &&
		       tw_http_etag_match(h->value, h->value_len, etag,
					  etag_len, false);
	/* A date validator must match exactly: it is weak otherwise. */
	return tw_http_parse_date(h->value, h->value_len, &t) == 0 &&
	       t == mtime;
}

static void
add_header(struct tw_http_res *res, const char *name, const char *v,
	   size_t n)
{
	tw_buf_append_str(res->headers, name);
	tw_buf_append_str(res->headers, ": ");
	tw_buf_append(res->headers, v, n);
	tw_buf_append_str(res->headers, "\r\n");
}

/* expires: the freshness the operator chose, in both forms (Expires for
 * HTTP/1.0 caches). */
static void
add_expires(const struct static_inst *si, struct tw_http_res *res)
{
	char date[TW_CLOCK_HTTP_DATE_LEN + 1];
	size_t n;

	if (si->opts->expires < 0)
		return;
	tw_buf_append_str(res->headers, "Cache-Control: max-age=");
	tw_buf_append_u64(res->headers, (uint64_t)si->opts->expires);
	tw_buf_append_str(res->headers, "\r\n");
	n = tw_clock_format_http(tw_clock_now() + (time_t)si->opts->expires,
				 date);
	if (n != 0)
		add_header(res, "Expires", date, n);
}

static void
add_range_header(struct tw_buf *b, uint64_t first, uint64_t last,
		 uint64_t size)
{
	tw_buf_append_str(b, "bytes ");
	tw_buf_append_u64(b, first);
	tw_buf_append_char(b, '-');
	tw_buf_append_u64(b, last);
	tw_buf_append_char(b, '/');
	tw_buf_append_u64(b, size);
}

static void
add_body_seg(struct tw_http_res *res, size_t from)
{
	struct tw_http_seg *s = &res->segs[res->nseg++];

	s->kind = TW_HTTP_SEG_BODY;
	s->off = from;
	s->len = res->body->len - from;
}

static void
add_file_seg(struct tw_http_res *res, uint64_t off, uint64_t len)
{
	struct tw_http_seg *s = &res->segs[res->nseg++];

	s->kind = TW_HTTP_SEG_FILE;
	s->off = off;
	s->len = len;
}

/*
 * Read a whole small file without ever blocking the loop on the disk:
 * RWF_NOWAIT fails (EAGAIN) or reads short when pages are not in memory,
 * and the caller then sends by sendfile, which brings them in for the
 * next request. Filesystems that cannot do RWF_NOWAIT (overlay) get a
 * plain pread only when mincore says the pages are in memory, so their
 * hot files still go from memory and their cold ones from the aio pool.
 */
static bool
read_resident(int fd, char *buf, size_t size)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	ssize_t n = preadv2(fd, &iov, 1, 0, RWF_NOWAIT);

	if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL) &&
	    tw_resident_check(NULL, fd, 0, size) == 1)
		n = pread(fd, buf, size, 0);
	return n == (ssize_t)size;
}

/*
 * The bytes of a small file from memory, read once per version of it:
 * measured on loopback, one write of headers and body beats a send of
 * the headers plus a sendfile of a few KiB. Larger files keep sendfile
 * (zero copy). Returns the bytes or NULL.
 */
static const char *
small_content(struct tw_fs_file *f)
{
	size_t size = (size_t)f->st.st_size;
	char *buf = f->content;

	if (buf != NULL && f->content_len == size)
		return buf;
	if (size == 0 || size > SMALL_FILE_MAX)
		return NULL;
	/* Kept but not filled: an earlier read found the pages out of
	 * memory. The cache drops content when the file changes, so the
	 * room is still for size bytes. */
	if (buf != NULL && f->content_len != 0)
		return NULL;
	if (buf == NULL)
		buf = tw_fs_file_keep_content(f, size);
	if (buf == NULL || !read_resident(f->fd, buf, size))
		return NULL;
	f->content_len = size;
	return buf;
}

static void
add_mem_seg(struct tw_http_res *res, const char *mem, uint64_t off,
	    uint64_t len)
{
	struct tw_http_seg *s = &res->segs[res->nseg++];

	s->kind = TW_HTTP_SEG_MEM;
	s->mem = mem;
	s->off = off;
	s->len = len;
}

/* A body range: from memory when the file is small and hot, else by
 * sendfile from the descriptor. */
static void
add_range_seg(struct tw_http_res *res, struct tw_fs_file *f, uint64_t off,
	      uint64_t len)
{
	const char *mem = small_content(f);

	if (mem == NULL)
		add_file_seg(res, off, len);
	else
		add_mem_seg(res, mem, off, len);
}

static void
multipart(struct static_inst *si, struct tw_http_res *res, const char *type,
	  const struct tw_http_range *rg, size_t n, uint64_t size)
{
	struct tw_buf *b = res->body;
	size_t i, from;

	tw_buf_append_str(res->headers,
			  "Content-Type: multipart/byteranges; boundary=");
	tw_buf_append_str(res->headers, si->boundary);
	tw_buf_append_str(res->headers, "\r\n");
	for (i = 0; i < n; i++) {
		from = b->len;
		tw_buf_append_str(b, i == 0 ? "--" : "\r\n--");
		tw_buf_append_str(b, si->boundary);
		tw_buf_append_str(b, "\r\nContent-Type: ");
		tw_buf_append_str(b, type);
		tw_buf_append_str(b, "\r\nContent-Range: ");
		add_range_header(b, rg[i].first, rg[i].last, size);
		tw_buf_append_str(b, "\r\n\r\n");
		add_body_seg(res, from);
		add_file_seg(res, rg[i].first, rg[i].last - rg[i].first + 1);
	}
	from = b->len;
	tw_buf_append_str(b, "\r\n--");
	tw_buf_append_str(b, si->boundary);
	tw_buf_append_str(b, "--\r\n");
	add_body_seg(res, from);
}

/* What static derives from a file once per version of it, kept in the
 * open-file cache entry's data. */
struct meta {
	char type[TW_MIME_TYPE_MAX];
	char etag[TW_STATIC_ETAG_MAX];
	char lastmod[TW_CLOCK_HTTP_DATE_LEN + 1];
	unsigned char etag_len;
	unsigned char lastmod_len;
	bool type_ok;
};

_Static_assert(sizeof(struct meta) <= TW_FS_FILE_DATA,
	       "the derived data fits a cache entry");

static struct meta *
meta_of(struct tw_fs_file *f)
{
	struct meta *m = (struct meta *)(void *)f->data;

	if (!f->data_valid) {
		m->etag_len = (unsigned char)tw_static_etag(&f->st, m->etag);
		m->lastmod_len = (unsigned char)tw_clock_format_http(
			f->st.st_mtim.tv_sec, m->lastmod);
		m->type_ok = false;
		f->data_valid = true;
	}
	return m;
}

static void
release_file(void *ctx)
{
	tw_fs_cache_release(ctx);
}

/*
 * Pick a sidecar: FILE.br or FILE.gz when the client accepts that coding
 * with q > 0, br first (smaller). Misses are cached too, so probing costs
 * nothing after the first request. Returns the coding and the entry (a
 * reference for the caller), or NULL.
 */
static const char *
pick_sidecar(struct static_inst *si, const struct tw_http_req *req,
	     size_t rel_len, struct tw_fs_file **out)
{
	static const char *const codings[][2] = {
		{ "br", ".br" }, { "gzip", ".gz" },
	};
	const struct tw_http_header *ae;
	size_t i;

	ae = tw_http_find_header(req->raw, "Accept-Encoding");
	if (ae == NULL || rel_len + 4 > sizeof(si->scr.rel))
		return NULL;
	for (i = 0; i < 2; i++) {
		struct tw_fs_file *f;

		if (tw_http_accept_q(ae->value, ae->value_len, codings[i][0]) <= 0)
			continue;
		memcpy(si->scr.rel + rel_len, codings[i][1], 4);
		f = tw_fs_cache_open(si->cache, si->scr.rel, rel_len + 3);
		si->scr.rel[rel_len] = '\0';
		if (f == NULL)
			continue;
		if (f->err != 0 || !S_ISREG(f->st.st_mode)) {
			tw_fs_cache_release(f);
			continue;
		}
		*out = f;
		return codings[i][0];
	}
	return NULL;
}

/* f: the file's cache entry; its reference passes to res. */
static int
serve_file(struct static_inst *si, const struct tw_http_req *req,
	   struct tw_http_res *res, struct tw_fs_file *f, const char *name,
	   size_t rel_len)
{
	struct tw_http_range rg[TW_HTTP_MAX_RANGES];
	struct meta *m = meta_of(f), *vm;
	const struct tw_http_header *range;
	const char *coding = NULL;
	struct tw_fs_file *cf = NULL;
	size_t nr = 0;
	enum tw_http_range_result rr = TW_RANGE_NONE;
	int err, status;
	uint64_t size;

	res->fd = f->fd;
	res->fd_release = release_file;
	res->fd_ctx = f;
	/* The type and charset come from the original file even when a
	 * compressed sidecar is sent. */
	if (!m->type_ok) {
		err = tw_mime_resolve(si->mime, name, strlen(name), f->fd,
				      &f->st, si->opts->charset, m->type);
		if (err < 0)
			return err;
		m->type_ok = true;
	}
	vm = m;
	if (si->opts->gzip_static) {
		coding = pick_sidecar(si, req, rel_len, &cf);
		if (coding != NULL) {
			tw_fs_cache_release(f);
			f = cf;
			res->fd = f->fd;
			res->fd_ctx = f;
			vm = meta_of(f);
		}
	}
	size = (uint64_t)f->st.st_size;
	status = tw_static_preconditions(req->raw, true, vm->etag, vm->etag_len,
					 f->st.st_mtim.tv_sec);
	if (si->opts->gzip_static)
		tw_buf_append_str(res->headers, "Vary: Accept-Encoding\r\n");
	if (status == 412)
		return 412;
	add_header(res, "ETag", vm->etag, vm->etag_len);
	/* A time no IMF-fixdate can express is simply not announced. */
	if (vm->lastmod_len != 0)
		add_header(res, "Last-Modified", vm->lastmod, vm->lastmod_len);
	add_expires(si, res);
	if (status == 304) {
		res->status = 304;
		res->no_length = true;
		return 0;
	}
	tw_buf_append_str(res->headers, "Accept-Ranges: bytes\r\n");
	if (coding != NULL) {
		tw_buf_append_str(res->headers, "Content-Encoding: ");
		tw_buf_append_str(res->headers, coding);
		tw_buf_append_str(res->headers, "\r\n");
	}
	range = tw_http_find_header(req->raw, "Range");
	/* Range applies to GET only (RFC 9110 14.2). */
	if (range != NULL && req->method == TW_HTTP_GET &&
	    tw_static_if_range(req->raw, vm->etag, vm->etag_len,
			       f->st.st_mtim.tv_sec))
		rr = tw_http_parse_range(range->value, range->value_len, size,
					 rg, &nr);
	if (rr == TW_RANGE_UNSATISFIABLE) {
		tw_buf_append_str(res->headers, "Content-Range: bytes */");
		tw_buf_append_u64(res->headers, size);
		tw_buf_append_str(res->headers, "\r\n");
		return 416;
	}
	if (rr == TW_RANGE_OK && nr > 1) {
		res->status = 206;
		multipart(si, res, m->type, rg, nr, size);
		return 0;
	}
	add_header(res, "Content-Type", m->type, strlen(m->type));
	if (rr == TW_RANGE_OK) {
		res->status = 206;
		tw_buf_append_str(res->headers, "Content-Range: ");
		add_range_header(res->headers, rg[0].first, rg[0].last, size);
		tw_buf_append_str(res->headers, "\r\n");
		add_range_seg(res, f, rg[0].first, rg[0].last - rg[0].first + 1);
		return 0;
	}
	res->status = 200;
	if (size > 0)
		add_range_seg(res, f, 0, size);
	return 0;
}

static int
redirect_slash(struct static_inst *si, const struct tw_http_req *req,
	       struct tw_http_res *res, const char *path, size_t len)
{
	long n = tw_url_encode_path(path, len, si->scr.enc, sizeof(si->scr.enc) - 1);

	if (n < 0)
		return 414;
	res->status = 301;
	tw_buf_append_str(res->headers, "Location: ");
	tw_buf_append(res->headers, si->scr.enc, (size_t)n);
	tw_buf_append_char(res->headers, '/');
	if (req->query != NULL) {
		/* The query passed the parser's visible-ASCII check, so it
		 * cannot split the header. */
		tw_buf_append_char(res->headers, '?');
		tw_buf_append(res->headers, req->query, req->query_len);
	}
	tw_buf_append_str(res->headers, "\r\n");
	tw_buf_append_str(res->headers,
			  "Content-Type: text/html; charset=utf-8\r\n");
	tw_buf_append_str(res->body, "<!DOCTYPE html>\n<html><head><title>"
			  "301 Moved Permanently</title></head>\n<body><h1>"
			  "301 Moved Permanently</h1></body></html>\n");
	add_body_seg(res, 0);
	return 0;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* A page sent but not held is forgotten by its slot when its last
 * reader is done. */
static void
page_gone(struct tw_page *p, void *ctx)
{
	struct page_slot *ps = ctx;

	if (ps->page != p)
		return;
	ps->page = NULL;
	free(ps->rel);
	ps->rel = NULL;
}

/* Forget ps's page; readers still sending it keep it until done. */
static void
slot_clear(struct static_inst *si, struct page_slot *ps)
{
	struct tw_page *p = ps->page;

	if (p == NULL)
		return;
	p->on_free = NULL;
	ps->page = NULL;
	free(ps->rel);
	ps->rel = NULL;
	if (ps->held) {
		si->held_bytes -= p->len;
		ps->held = false;
		tw_page_unref(p);
	}
}

/* Milliseconds since ps's page was read (0 if the loop's cached clock has
 * not caught up with the end of the reading yet). */
static uint64_t
page_age(const struct page_slot *ps)
{
	uint64_t now = tw_clock_ms();

	return now > ps->rendered_ms ? now - ps->rendered_ms : 0;
}

/*
 * The page of the directory at rel, a reference for the caller, if it is
 * young and the directory is as st says it is now. An entry created,
 * deleted or renamed in it changes its mtime and ctime, so such a change
 * shows at the next request. A page found stale leaves its slot.
 */
static struct tw_page *
kept_page(struct static_inst *si, const char *rel, size_t rel_len,
	  unsigned view, const struct stat *st)
{
	size_t i;

	for (i = 0; i < PAGE_SLOTS; i++) {
		struct page_slot *ps = &si->pages[i];

		if (ps->page == NULL || ps->ino != st->st_ino ||
		    ps->dev != st->st_dev || ps->rel_len != rel_len ||
		    memcmp(ps->rel, rel, rel_len) != 0)
			continue;
		if (page_age(ps) >= PAGE_VALID_MS ||
		    !same_time(&st->st_mtim, &ps->mtim) ||
		    !same_time(&st->st_ctim, &ps->ctim)) {
			/* Every view of the directory is as stale. */
			slot_clear(si, ps);
			continue;
		}
		if (ps->view == view)
			return tw_page_ref(ps->page);
	}
	return NULL;
}

/*
 * Timestamps come from a coarse clock: a change made in the same tick as
 * the directory's last one, but after it was read, would leave them as
 * they were and the page stale. So a page is kept only if the last
 * change (ctime: the kernel sets it, no one can set it back) is well
 * before start, taken before st. A directory that just changed is
 * rendered per request until it settles.
 */
static bool
dir_settled(const struct stat *st, const struct timespec *start)
{
	struct timespec limit = *start;

	limit.tv_nsec -= PAGE_SETTLE_MS * 1000000L;
	if (limit.tv_nsec < 0) {
		limit.tv_nsec += 1000000000L;
		limit.tv_sec--;
	}
	return st->st_ctim.tv_sec < limit.tv_sec ||
	       (st->st_ctim.tv_sec == limit.tv_sec &&
		st->st_ctim.tv_nsec < limit.tv_nsec);
}

/* A slot for a new page: a free one, else the oldest page's. */
static struct page_slot *
slot_take(struct static_inst *si)
{
	struct page_slot *old = &si->pages[0];
	size_t i;

	for (i = 0; i < PAGE_SLOTS; i++) {
		struct page_slot *ps = &si->pages[i];

		if (ps->page == NULL)
			return ps;
		if (ps->rendered_ms < old->rendered_ms)
			old = ps;
	}
	slot_clear(si, old);
	return old;
}

/* Make held room for len bytes by letting go of the oldest held pages;
 * false if len could never fit. */
static bool
held_room(struct static_inst *si, size_t len)
{
	if (len > PAGE_MAX)
		return false;
	while (si->held_bytes + len > PAGES_HELD_MAX) {
		struct page_slot *old = NULL;
		size_t i;

		for (i = 0; i < PAGE_SLOTS; i++) {
			struct page_slot *ps = &si->pages[i];

			if (ps->held && (old == NULL ||
					 ps->rendered_ms < old->rendered_ms))
				old = ps;
		}
		if (old == NULL)
			return false;
		slot_clear(si, old);
	}
	return true;
}

/* Let later requests for the directory at rel share p, if they may. */
static void
keep_page(struct static_inst *si, const char *rel, size_t rel_len,
	  unsigned view, const struct stat *st, const struct timespec *start,
	  struct tw_page *p)
{
	struct page_slot *ps;
	char *key;

	if (!dir_settled(st, start))
		return;
	key = malloc(rel_len + 1);
	if (key == NULL)
		return;
	memcpy(key, rel, rel_len + 1);
	ps = slot_take(si);
	ps->page = p;
	ps->rel = key;
	ps->rel_len = rel_len;
	ps->view = view;
	ps->mtim = st->st_mtim;
	ps->ctim = st->st_ctim;
	ps->dev = st->st_dev;
	ps->ino = st->st_ino;
	/* Valid from the end of the reading: a directory that takes longer
	 * than PAGE_VALID_MS to read (a huge one, on a loaded machine) would
	 * otherwise never be shared, and each of its readers would get a
	 * page of its own. Its entries' sizes and dates may then be that
	 * much older; creations, deletions and renames show at once. */
	ps->rendered_ms = tw_clock_us_now() / 1000;
	ps->held = held_room(si, p->len);
	if (ps->held) {
		si->held_bytes += p->len;
		tw_page_ref(p);
	} else {
		p->on_free = page_gone;
		p->free_ctx = ps;
	}
}

/*
 * The listing of directory d (si->scr.rel, si->scr.path) as a page the
 * response sends by reference: the kept one when it is still right, else
 * a new one rendered from d's own descriptor, so the page and the stat
 * it is checked against are of the same directory.
 */
static int
serve_listing(struct static_inst *si, const struct tw_http_req *req,
	      struct tw_http_res *res, struct tw_fs_file *d, size_t rel_len)
{
	struct tw_listing_opts lo = { .hidden = si->opts->hidden };
	const struct tw_http_header *acc;
	struct tw_listing_view view;
	struct tw_http_seg *seg;
	struct timespec start;
	struct tw_page *page;
	struct stat st;
	unsigned vi;
	int err;

	acc = tw_http_find_header(req->raw, "Accept");
	tw_listing_view_parse(req->query, req->query_len,
			      acc ? acc->value : NULL, acc ? acc->value_len : 0,
			      &view);
	vi = tw_listing_view_index(&view);
	(void)clock_gettime(CLOCK_REALTIME, &start);
	if (fstat(d->fd, &st) < 0)
		return -errno;
	page = kept_page(si, si->scr.rel, rel_len, vi, &st);
	if (page == NULL) {
		/* The cache's root, not opts->fs: after a deploy swapped
		 * the root, d and the entries looked up beside it must be
		 * of the same release. */
		err = tw_listing_render_fd(tw_fs_cache_fs(si->cache), d->fd,
					   si->scr.rel, si->scr.path, &lo,
					   &view, &si->render);
		if (err == 0 && (page = tw_page_from_buf(&si->render)) == NULL)
			err = -ENOMEM;
		if (err < 0) {
			tw_buf_reset(&si->render, 0);
			return err;
		}
		keep_page(si, si->scr.rel, rel_len, vi, &st, &start, page);
	}
	res->page = page;
	seg = &res->segs[res->nseg++];
	seg->kind = TW_HTTP_SEG_PAGE;
	seg->off = 0;
	seg->len = page->len;
	/* Accept picks the form unless the query does. */
	tw_buf_append_str(res->headers,
			  view.format == TW_LISTING_JSON ?
			  "Content-Type: application/json\r\n"
			  "Vary: Accept\r\n" :
			  "Content-Type: text/html; charset=utf-8\r\n"
			  "Vary: Accept\r\n");
	res->status = 200;
	return 0;
}

/* d: the directory's cache entry; its reference ends here. */
static int
serve_dir(struct static_inst *si, const struct tw_http_req *req,
	  struct tw_http_res *res, struct tw_fs_file *d, size_t rel_len)
{
	const struct tw_static_opts *o = si->opts;
	const char *const *names = o->nindexes ? o->indexes : &o->index;
	size_t i, n = o->nindexes ? o->nindexes : 1;
	int err;

	/* Like nginx's index list: the first name that is a file. */
	for (i = 0; i < n; i++) {
		const char *index = names[i];
		size_t ilen = index ? strlen(index) : 0;
		size_t at = rel_len;

		if (ilen > 0 && at + 1 + ilen + 4 < sizeof(si->scr.rel)) {
			struct tw_fs_file *f;

			if (at > 0)
				si->scr.rel[at++] = '/';
			memcpy(si->scr.rel + at, index, ilen + 1);
			f = tw_fs_cache_open(si->cache, si->scr.rel, at + ilen);
			if (f != NULL && f->err == 0 &&
			    S_ISREG(f->st.st_mode)) {
				tw_fs_cache_release(d);
				return serve_file(si, req, res, f, index,
						  at + ilen);
			}
			tw_fs_cache_release(f);
			si->scr.rel[rel_len] = '\0';
		}
	}
	err = o->listing ? serve_listing(si, req, res, d, rel_len) : 403;
	tw_fs_cache_release(d);
	return err;
}

static int
static_handle(const struct tw_http_req *req, struct tw_http_res *res,
	      void *inst)
{
	struct static_inst *si = inst;
	const struct tw_static_opts *o = si->opts;
	struct tw_fs_file *f;
	size_t len, rel_len, off = 1, end;
	mode_t mode;
	bool slash;
	const char *name;
	int err;

	err = tw_url_decode_path(req->path, req->path_len, si->scr.path,
				 sizeof(si->scr.path), &len);
	if (err == -ENAMETOOLONG)
		return 414;
	if (err < 0 || tw_url_remove_dots(si->scr.path, &len) < 0)
		return 400;
	if (!o->hidden && tw_fs_is_hidden(si->scr.path, len))
		return 404;
	slash = si->scr.path[len - 1] == '/';
	if (o->strip > 0) {
		/* alias: what follows the location's prefix is under the
		 * root; "/imgx" is not under location /img. */
		if (len < o->strip ||
		    (len > o->strip && si->scr.path[o->strip] != '/'))
			return 404;
		off = o->strip + 1;
	}
	/* The root-relative name: no leading slash, no trailing one. */
	end = len - (slash && len > 1);
	rel_len = end > off ? end - off : 0;
	memcpy(si->scr.rel, si->scr.path + off, rel_len);
	si->scr.rel[rel_len] = '\0';
	f = tw_fs_cache_open(si->cache, si->scr.rel, rel_len);
	if (f == NULL)
		return 503;
	if (f->err != 0) {
		err = f->err;
		tw_fs_cache_release(f);
		if (o->decline_missing && (err == -ENOENT || err == -ENOTDIR))
			return TW_DECLINED;
		return err;
	}
	mode = f->st.st_mode;
	if (S_ISDIR(mode)) {
		if (slash)
			return serve_dir(si, req, res, f, rel_len);
		tw_fs_cache_release(f);
		return redirect_slash(si, req, res, si->scr.path, len);
	}
	if (!S_ISREG(mode) || slash) {
		tw_fs_cache_release(f);
		return slash ? 404 : 403;
	}
	name = strrchr(si->scr.rel, '/');
	name = name ? name + 1 : si->scr.rel;
	return serve_file(si, req, res, f, name, rel_len);
}

const struct tw_handler tw_static_handler = {
	.name = "static",
	.handle = static_handle,
	.create = static_create,
	.destroy = static_destroy,
	.attach = static_attach,
};
