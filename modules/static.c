/* SPDX-License-Identifier: MIT */
/*
 * static: files, directories, ranges, conditionals and sidecars. Layer 3:
 * builds a tw_http_res; the transport is http's business.
 */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fs.h"
#include "http_parse.h"
#include "listing.h"
#include "mime.h"
#include "url.h"

#define BOUNDARY_LEN 24

struct static_inst {
	const struct tw_static_opts *opts;
	struct tw_mime *mime;
	char boundary[BOUNDARY_LEN + 1];
};

/* Request-scoped scratch: paths are at most PATH_MAX, so fixed arrays
 * on the stack of handle() would do too, but 12 KiB of stack per call is
 * more than a worker thread's stack should spend. */
struct scratch {
	char path[PATH_MAX];		/* decoded, normalized, NUL-terminated */
	char rel[PATH_MAX + 16];	/* relative to the root */
	char enc[3 * PATH_MAX + 1];	/* percent-encoded for Location */
};

static _Thread_local struct scratch *scr;
static _Thread_local unsigned scr_users;	/* instances on this thread */

static void static_destroy(void *inst);

static void *
static_create(const void *opts, int *err)
{
	struct static_inst *si = calloc(1, sizeof(*si));
	unsigned char rnd[BOUNDARY_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (si == NULL || (scr == NULL && (scr = malloc(sizeof(*scr))) == NULL)) {
		free(si);
		*err = -ENOMEM;
		return NULL;
	}
	scr_users++;
	si->opts = opts;
	si->mime = tw_mime_create(si->opts->types, err);
	if (si->mime == NULL) {
		static_destroy(si);
		return NULL;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		si->boundary[2 * i] = hex[rnd[i] >> 4];
		si->boundary[2 * i + 1] = hex[rnd[i] & 15];
	}
	return si;
}

static void
static_destroy(void *inst)
{
	struct static_inst *si = inst;

	if (si == NULL)
		return;
	tw_mime_destroy(si->mime);
	free(si);
	if (--scr_users == 0) {
		free(scr);
		scr = NULL;
	}
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

static void
add_validators(struct tw_http_res *res, const char *etag, size_t etag_len,
	       time_t mtime)
{
	char date[TW_CLOCK_HTTP_DATE_LEN + 1];
	size_t n = tw_clock_format_http(mtime, date);

	add_header(res, "ETag", etag, etag_len);
	/* A time no IMF-fixdate can express is simply not announced. */
	if (n != 0)
		add_header(res, "Last-Modified", date, n);
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

/*
 * Pick a sidecar: FILE.br or FILE.gz when the client accepts that coding
 * with q > 0, br first (smaller). On success fd and st describe the sidecar
 * and the coding name is returned.
 */
static const char *
pick_sidecar(const struct static_inst *si, const struct tw_http_req *req,
	     size_t rel_len, int *fd, struct stat *st)
{
	static const char *const codings[][2] = {
		{ "br", ".br" }, { "gzip", ".gz" },
	};
	const struct tw_http_header *ae;
	size_t i;

	ae = tw_http_find_header(req->raw, "Accept-Encoding");
	if (ae == NULL || rel_len + 4 > sizeof(scr->rel))
		return NULL;
	for (i = 0; i < 2; i++) {
		int f;

		if (tw_http_accept_q(ae->value, ae->value_len, codings[i][0]) <= 0)
			continue;
		memcpy(scr->rel + rel_len, codings[i][1], 4);
		f = tw_fs_open(si->opts->fs, scr->rel, 0, st);
		scr->rel[rel_len] = '\0';
		if (f < 0)
			continue;
		if (!S_ISREG(st->st_mode)) {
			(void)close(f);
			continue;
		}
		*fd = f;
		return codings[i][0];
	}
	return NULL;
}

static int
serve_file(struct static_inst *si, const struct tw_http_req *req,
	   struct tw_http_res *res, int fd, const struct stat *st0,
	   const char *name, size_t rel_len)
{
	struct tw_http_range rg[TW_HTTP_MAX_RANGES];
	char type[TW_MIME_TYPE_MAX];
	char etag[TW_STATIC_ETAG_MAX];
	const struct tw_http_header *range;
	const char *coding = NULL;
	struct stat st = *st0, cst;
	size_t etag_len, nr = 0;
	enum tw_http_range_result rr = TW_RANGE_NONE;
	int err, cfd = -1, status;
	uint64_t size;

	res->fd = fd;
	/* The type and charset come from the original file even when a
	 * compressed sidecar is sent. */
	err = tw_mime_resolve(si->mime, name, strlen(name), fd, &st,
			      si->opts->charset, type);
	if (err < 0)
		return err;
	if (si->opts->gzip_static) {
		coding = pick_sidecar(si, req, rel_len, &cfd, &cst);
		if (coding != NULL) {
			(void)close(fd);
			res->fd = cfd;
			st = cst;
		}
	}
	size = (uint64_t)st.st_size;
	etag_len = tw_static_etag(&st, etag);
	status = tw_static_preconditions(req->raw, true, etag, etag_len,
					 st.st_mtim.tv_sec);
	if (si->opts->gzip_static)
		tw_buf_append_str(res->headers, "Vary: Accept-Encoding\r\n");
	if (status == 412)
		return 412;
	add_validators(res, etag, etag_len, st.st_mtim.tv_sec);
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
	    tw_static_if_range(req->raw, etag, etag_len, st.st_mtim.tv_sec))
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
		multipart(si, res, type, rg, nr, size);
		return 0;
	}
	add_header(res, "Content-Type", type, strlen(type));
	if (rr == TW_RANGE_OK) {
		res->status = 206;
		tw_buf_append_str(res->headers, "Content-Range: ");
		add_range_header(res->headers, rg[0].first, rg[0].last, size);
		tw_buf_append_str(res->headers, "\r\n");
		add_file_seg(res, rg[0].first, rg[0].last - rg[0].first + 1);
		return 0;
	}
	res->status = 200;
	if (size > 0)
		add_file_seg(res, 0, size);
	return 0;
}

static int
redirect_slash(const struct tw_http_req *req, struct tw_http_res *res,
	       const char *path, size_t len)
{
	long n = tw_url_encode_path(path, len, scr->enc, sizeof(scr->enc) - 1);

	if (n < 0)
		return 414;
	res->status = 301;
	tw_buf_append_str(res->headers, "Location: ");
	tw_buf_append(res->headers, scr->enc, (size_t)n);
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

static int
serve_dir(struct static_inst *si, const struct tw_http_req *req,
	  struct tw_http_res *res, size_t rel_len, size_t path_len)
{
	const struct tw_static_opts *o = si->opts;
	struct tw_listing_opts lo = { .hidden = o->hidden };
	struct stat st;
	int fd, err;

	if (o->index != NULL && o->index[0] != '\0') {
		size_t ilen = strlen(o->index);
		size_t at = rel_len;

		if (at + 1 + ilen + 4 < sizeof(scr->rel)) {
			if (at > 0)
				scr->rel[at++] = '/';
			memcpy(scr->rel + at, o->index, ilen + 1);
			fd = tw_fs_open(o->fs, scr->rel, 0, &st);
			if (fd >= 0 && S_ISREG(st.st_mode))
				return serve_file(si, req, res, fd, &st,
						  o->index, at + ilen);
			if (fd >= 0)
				(void)close(fd);
			scr->rel[rel_len] = '\0';
		}
	}
	if (!o->listing)
		return 403;
	err = tw_listing_render(o->fs, scr->rel, scr->path, &lo, res->body);
	if (err < 0)
		return err;
	(void)path_len;
	tw_buf_append_str(res->headers,
			  "Content-Type: text/html; charset=utf-8\r\n");
	res->status = 200;
	add_body_seg(res, 0);
	return 0;
}

static int
static_handle(const struct tw_http_req *req, struct tw_http_res *res,
	      void *inst)
{
	struct static_inst *si = inst;
	const struct tw_static_opts *o = si->opts;
	size_t len, rel_len;
	struct stat st;
	bool slash;
	const char *name;
	int fd, err;

	err = tw_url_decode_path(req->path, req->path_len, scr->path,
				 sizeof(scr->path), &len);
	if (err == -ENAMETOOLONG)
		return 414;
	if (err < 0 || tw_url_remove_dots(scr->path, &len) < 0)
		return 400;
	if (!o->hidden && tw_fs_is_hidden(scr->path, len))
		return 404;
	slash = scr->path[len - 1] == '/';
	/* The root-relative name: no leading slash, no trailing one. */
	rel_len = len - 1 - (slash && len > 1);
	memcpy(scr->rel, scr->path + 1, rel_len);
	scr->rel[rel_len] = '\0';
	fd = tw_fs_open(o->fs, scr->rel, 0, &st);
	if (fd < 0)
		return fd;
	if (S_ISDIR(st.st_mode)) {
		(void)close(fd);
		if (!slash)
			return redirect_slash(req, res, scr->path, len);
		return serve_dir(si, req, res, rel_len, len);
	}
	if (!S_ISREG(st.st_mode) || slash) {
		(void)close(fd);
		return slash ? 404 : 403;
	}
	name = strrchr(scr->rel, '/');
	name = name ? name + 1 : scr->rel;
	return serve_file(si, req, res, fd, &st, name, rel_len);
}

const struct tw_handler tw_static_handler = {
	.name = "static",
	.handle = static_handle,
	.create = static_create,
	.destroy = static_destroy,
};
