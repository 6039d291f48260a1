/* SPDX-License-Identifier: MIT */
/*
 * compress: encoders, the per-loop cache of variants, and the jobs that
 * make large variants on the aio pool. Layer 3.
 *
 * Defaults, and why:
 * - on, for the types below: a person serving a site with `tinyweb
 *   serve` expects text to go compressed, as static-web-server and caddy
 *   do (nginx has gzip off, and every nginx guide turns it on); files are
 *   compressed once, so the cost is one compression per file version.
 * - min_length 256: below it gzip's 18 bytes of framing and the lost
 *   Content-Length-sized head room eat most of the gain (nginx's 20 is
 *   the length of a header line); error pages (about 120 bytes) stay
 *   plain.
 * - levels gzip 9, br 6, zstd 9: measured once on a 173 KiB JavaScript
 *   file (compress-once time on this machine, bytes): libdeflate 9
 *   2.3 ms, 17,490 (zlib 9: 2.5 ms, 17,444; zlib 6: 1.6 ms, 17,741 is
 *   nginx's default); br 6 1.4 ms, 15,489; zstd 9 1.2 ms, 15,836. Higher
 *   levels cost 10-100 times more for 3-10 % (libdeflate 12: 41 ms; br
 *   11: 173 ms; zstd 19: 73 ms), too long for the loop's inline budget.
 * - max_size 16 MiB: a 2 MiB HTML file takes 61 ms at gzip 9 on a pool
 *   thread; 16 MiB is half a second, and such files are rarely text.
 * - cache 32 MiB per loop: every text file of a typical site's assets.
 */
#include "http/compress.h"

#include <brotli/encode.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/page.h"
#include "net/aio.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/resident.h"
#include "parse/http_parse.h"

#define BUCKETS		1024
/* Variants being made off the loop at once, per loop: each holds a
 * descriptor and its file's bytes. */
#define MAX_JOBS	4
/* A file changed this recently is sent plain: timestamps come from a
 * coarse clock, so a second rewrite in the same tick, of the same size,
 * would look like the version already compressed. */
#define SETTLE_MS	100

const char *const tw_compress_default_types[] = {
	"text/*", "application/json", "application/javascript",
	"image/svg+xml", "application/xml", "application/wasm", NULL,
};

/* The version of a file a variant was made from, and the coding. */
struct key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	struct timespec ctim;
	enum tw_coding coding;
};

enum state {
	READY,		/* page holds the variant */
	NO_GAIN,	/* not smaller, too big to keep, or failed: send plain */
	PENDING,	/* a job is making it */
};

struct job;

struct entry {
	struct key k;
	enum state state;
	struct tw_page *page;	/* READY: the cache's reference */
	size_t cost;		/* counted in z->bytes */
	struct job *job;	/* PENDING */
	struct entry *hnext;	/* bucket chain */
	struct entry *prev;	/* LRU, most recent first */
	struct entry *next;
};

struct job {
	struct tw_aio_job aj;	/* first: the aio job is the job */
	struct tw_compress *z;
	struct entry *e;
	int fd;			/* a dup of the file's, closed by work */
	int level;
	int err;
	bool encoded;		/* work ran the encoder */
	struct tw_buf out;
};

struct tw_compress {
	struct entry *buckets[BUCKETS];
	struct entry *head;	/* most recently used */
	struct entry *tail;
	size_t max;
	size_t bytes;
	size_t entries;
	size_t pending;
	uint64_t made;
	uint64_t encoded;
	uint64_t evicted;
	struct tw_aio *aio;	/* given, or NULL: the loop's, when needed */
	struct tw_loop *loop;
	bool dying;		/* destroyed while jobs were out */
};

/* ---- options ------------------------------------------------------------ */

void
tw_compress_opts_default(struct tw_compress_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->on = true;
	o->min_length = TW_COMPRESS_MIN_LENGTH;
	o->max_size = TW_COMPRESS_MAX_SIZE;
	o->cache = TW_COMPRESS_CACHE;
	o->level[TW_CODING_GZIP] = TW_COMPRESS_GZIP_LEVEL;
	o->level[TW_CODING_BR] = TW_COMPRESS_BR_LEVEL;
	o->level[TW_CODING_ZSTD] = TW_COMPRESS_ZSTD_LEVEL;
}

bool
tw_compress_level_ok(enum tw_coding c, int level)
{
	static const int max[TW_CODING_COUNT] = {
		[TW_CODING_GZIP] = 12,	/* libdeflate's */
		[TW_CODING_BR] = 11,
		[TW_CODING_ZSTD] = 19,	/* above: "ultra", huge windows */
	};

	return level >= 0 && level <= max[c];
}

static bool
type_match(const char *pat, const char *type, size_t tlen)
{
	size_t plen = strlen(pat);

	if (plen >= 2 && pat[plen - 1] == '*' && pat[plen - 2] == '/')
		return tlen >= plen - 1 && strncasecmp(pat, type, plen - 1) == 0;
	return plen == tlen && strncasecmp(pat, type, tlen) == 0;
}

bool
tw_compress_type_ok(const struct tw_compress_opts *o, const char *type)
{
	const char *const *t = o->types ? o->types : tw_compress_default_types;
	size_t n = o->types ? o->ntypes : SIZE_MAX;
	size_t tlen = strcspn(type, "; \t");
	size_t i;

	for (i = 0; i < n && t[i] != NULL; i++)
		if (type_match(t[i], type, tlen))
			return true;
	return false;
}

unsigned
tw_compress_codings(const struct tw_compress_opts *o)
{
	unsigned set = 0;
	int c;

	for (c = TW_CODING_GZIP; c < TW_CODING_COUNT; c++)
		if (o->level[c] > 0)
			set |= TW_CODING_BIT(c);
	return set;
}

/* ---- encoders ----------------------------------------------------------- */

/*
 * in[0..n) in coding c into out (appended). 0, -ENOSPC when the result
 * would not be smaller than the input (the plain bytes are better), or
 * -ENOMEM. Each call allocates its encoder: a call is once per version
 * of a file, and pool threads need their own anyway.
 */
static int
encode(enum tw_coding c, int level, const void *in, size_t n,
       struct tw_buf *out)
{
	size_t got = 0, room = n;
	char *p = tw_buf_reserve(out, room);

	if (p == NULL)
		return -ENOMEM;
	if (c == TW_CODING_GZIP) {
		struct libdeflate_compressor *d = libdeflate_alloc_compressor(level);

		if (d == NULL)
			return -ENOMEM;
		/* 0: it did not fit in n bytes, so it is not smaller. */
		got = libdeflate_gzip_compress(d, in, n, p, room);
		libdeflate_free_compressor(d);
	} else if (c == TW_CODING_BR) {
		got = room;
		if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW,
					   BROTLI_MODE_TEXT, n, in, &got,
					   (uint8_t *)p))
			got = 0;
	} else if (c == TW_CODING_ZSTD) {
		got = ZSTD_compress(p, room, in, n, level);
		if (ZSTD_isError(got))
			got = 0;
	}
	if (got == 0 || got >= n)
		return -ENOSPC;
	out->len += got;
	return 0;
}

struct tw_page *
tw_compress_bytes(const void *data, size_t len, enum tw_coding c, int level)
{
	struct tw_buf b = { 0 };
	struct tw_page *p = NULL;

	if (c != TW_CODING_IDENTITY && level > 0 && len > 0 &&
	    encode(c, level, data, len, &b) == 0)
		p = tw_page_from_buf(&b);
	tw_buf_free(&b);
	return p;
}

void
tw_compress_res(const struct tw_compress_opts *o,
		const struct tw_http_req *req, struct tw_http_res *res,
		const char *type)
{
	const struct tw_http_header *ae;
	struct tw_coding_accept acc;
	struct tw_http_seg *s = &res->segs[0];
	struct tw_page *p;
	int c;

	if (o == NULL || !o->on || res->nseg != 1 ||
	    s->kind != TW_HTTP_SEG_BODY || s->len < o->min_length ||
	    s->len > TW_COMPRESS_INLINE_MAX || !tw_compress_type_ok(o, type))
		return;
	tw_buf_append_str(res->headers, "Vary: Accept-Encoding\r\n");
	ae = tw_http_find_header(req->raw, "Accept-Encoding");
	tw_coding_parse(ae ? ae->value : NULL, ae ? ae->value_len : 0, &acc);
	c = tw_coding_choose(&acc, TW_CODING_BIT(TW_CODING_IDENTITY) |
				   tw_compress_codings(o));
	if (c <= TW_CODING_IDENTITY)
		return;
	p = tw_compress_bytes(res->body->data + s->off, (size_t)s->len,
			      (enum tw_coding)c, o->level[c]);
	if (p == NULL)
		return;
	tw_page_unref(res->page);
	res->page = p;
	s->kind = TW_HTTP_SEG_PAGE;
	s->off = 0;
	s->len = p->len;
	tw_buf_append_str(res->headers, "Content-Encoding: ");
	tw_buf_append_str(res->headers, tw_coding_name((enum tw_coding)c));
	tw_buf_append_str(res->headers, "\r\n");
}

/* ---- the cache ---------------------------------------------------------- */

struct tw_compress *
tw_compress_create(size_t max, struct tw_aio *aio)
{
	struct tw_compress *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->max = max;
	z->aio = aio;
	return z;
}

static bool
same_ts(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool
same_version(const struct key *k, const struct stat *st)
{
	return k->dev == st->st_dev && k->ino == st->st_ino &&
	       k->size == st->st_size && same_ts(&k->mtim, &st->st_mtim) &&
	       same_ts(&k->ctim, &st->st_ctim);
}

static size_t
bucket_of(dev_t dev, ino_t ino, enum tw_coding c)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^
		     (uint64_t)dev * 0xc2b2ae3d27d4eb4full ^ (uint64_t)c;

	return (size_t)(h >> 40) % BUCKETS;
}

static void
lru_unlink(struct tw_compress *z, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		z->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		z->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(struct tw_compress *z, struct entry *e)
{
	e->next = z->head;
	e->prev = NULL;
	if (z->head != NULL)
		z->head->prev = e;
	z->head = e;
	if (z->tail == NULL)
		z->tail = e;
}

static void
set_cost(struct tw_compress *z, struct entry *e)
{
	z->bytes -= e->cost;
	e->cost = sizeof(*e) + (e->page != NULL ? e->page->len : 0);
	z->bytes += e->cost;
}

/* Drop e (never a PENDING one: its job points at it). */
static void
entry_free(struct tw_compress *z, struct entry *e)
{
	struct entry **pp = &z->buckets[bucket_of(e->k.dev, e->k.ino,
						  e->k.coding)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(z, e);
	z->bytes -= e->cost;
	z->entries--;
	tw_page_unref(e->page);
	free(e);
}

/* Least recently used out until need more bytes fit; false if they
 * never can. */
static bool
make_room(struct tw_compress *z, size_t need)
{
	struct entry *e = z->tail;

	if (need > z->max)
		return false;
	while (z->bytes + need > z->max && e != NULL) {
		struct entry *prev = e->prev;

		if (e->state != PENDING) {
			entry_free(z, e);
			z->evicted++;
		}
		e = prev;
	}
	return z->bytes + need <= z->max;
}

/*
 * The entry of st's version in coding c, moved to the front; older
 * versions of the same file in c go as they are met (they can never be
 * sent again).
 */
static struct entry *
lookup(struct tw_compress *z, const struct stat *st, enum tw_coding c)
{
	struct entry *e = z->buckets[bucket_of(st->st_dev, st->st_ino, c)];

	while (e != NULL) {
		struct entry *next = e->hnext;

		if (e->k.coding == c && e->k.dev == st->st_dev &&
		    e->k.ino == st->st_ino) {
			if (same_version(&e->k, st)) {
				lru_unlink(z, e);
				lru_front(z, e);
				return e;
			}
			if (e->state != PENDING)
				entry_free(z, e);
		}
		e = next;
	}
	return NULL;
}

static struct entry *
entry_add(struct tw_compress *z, const struct stat *st, enum tw_coding c)
{
	struct entry *e;
	size_t b;

	if (!make_room(z, sizeof(*e)) || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->state = NO_GAIN;
	e->k.dev = st->st_dev;
	e->k.ino = st->st_ino;
	e->k.size = st->st_size;
	e->k.mtim = st->st_mtim;
	e->k.ctim = st->st_ctim;
	e->k.coding = c;
	b = bucket_of(e->k.dev, e->k.ino, c);
	e->hnext = z->buckets[b];
	z->buckets[b] = e;
	lru_front(z, e);
	z->entries++;
	set_cost(z, e);
	return e;
}

/* e's variant is out: keep it if it fits, else remember to send plain. */
static void
entry_settle(struct tw_compress *z, struct entry *e, int err,
	     struct tw_buf *out)
{
	bool room;

	/* Room is made with e still pending, so e itself is never what
	 * goes to make it. */
	e->state = PENDING;
	room = err == 0 && make_room(z, out->len);
	e->state = NO_GAIN;
	e->job = NULL;
	if (room) {
		e->page = tw_page_from_buf(out);
		if (e->page != NULL) {
			e->state = READY;
			z->made++;
		}
	}
	set_cost(z, e);
}

static void
free_all(struct tw_compress *z)
{
	struct entry *e = z->head;

	while (e != NULL) {
		struct entry *next = e->next;

		if (e->state != PENDING)
			entry_free(z, e);
		e = next;
	}
}

void
tw_compress_destroy(struct tw_compress *z)
{
	if (z == NULL)
		return;
	free_all(z);
	if (z->pending > 0) {
		z->dying = true;
		return;
	}
	free(z);
}

/* A file changed in the last SETTLE_MS is not compressed yet. */
static bool
settled(const struct stat *st)
{
	struct timespec now;
	int64_t age_ms;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	age_ms = (int64_t)(now.tv_sec - st->st_ctim.tv_sec) * 1000 +
		 (now.tv_nsec - st->st_ctim.tv_nsec) / 1000000;
	return age_ms >= SETTLE_MS;
}

/* Read all of fd (size bytes) and check it is still st's version. */
static int
read_all(int fd, char *buf, size_t size, const struct key *k)
{
	size_t got = 0;
	struct stat after;

	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ESTALE;
		got += (size_t)n;
	}
	if (fstat(fd, &after) < 0)
		return -errno;
	return same_version(k, &after) ? 0 : -ESTALE;
}

static void
job_work(struct tw_aio_job *aj)
{
	struct job *j = (struct job *)(void *)aj;
	size_t size = (size_t)j->e->k.size;
	char *in = malloc(size);

	j->err = -ENOMEM;
	if (in != NULL) {
		j->err = read_all(j->fd, in, size, &j->e->k);
		if (j->err == 0) {
			j->err = encode(j->e->k.coding, j->level, in, size,
					&j->out);
			j->encoded = true;
		}
		free(in);
	}
	(void)close(j->fd);
	j->fd = -1;
}

static void
job_done(struct tw_aio_job *aj)
{
	struct job *j = (struct job *)(void *)aj;
	struct tw_compress *z = j->z;
	struct entry *e = j->e;

	z->pending--;
	z->encoded += j->encoded;
	if (z->dying) {
		free(e);
		if (z->pending == 0)
			free(z);
	} else if (j->err == -ESTALE) {
		/* Changed while read: the next request starts again. */
		e->state = NO_GAIN;
		e->job = NULL;
		entry_free(z, e);
	} else {
		entry_settle(z, e, j->err, &j->out);
	}
	tw_buf_free(&j->out);
	free(j);
}

static struct tw_page *
start_job(struct tw_compress *z, int fd, const struct stat *st,
	  enum tw_coding c, int level)
{
	struct job *j;
	struct entry *e;
	/* Looked up when needed: a loop's pool starts after its modules
	 * (and after the sandbox, which its threads inherit). */
	struct tw_aio *aio = z->aio != NULL ? z->aio :
			     z->loop != NULL ? tw_conn_aio(z->loop) : NULL;

	if (aio == NULL || z->pending >= MAX_JOBS)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->fd = dup(fd);
	if (j->fd < 0 || (e = entry_add(z, st, c)) == NULL) {
		if (j->fd >= 0)
			(void)close(j->fd);
		free(j);
		return NULL;
	}
	e->state = PENDING;
	e->job = j;
	j->e = e;
	j->z = z;
	j->level = level;
	j->aj.work = job_work;
	j->aj.done = job_done;
	z->pending++;
	tw_aio_submit(aio, &j->aj);
	return NULL;
}

/*
 * Compress on the loop a small file whose pages are in memory; NULL
 * without a trace if they are not (the pool then reads it). The entry
 * comes first: a file the cache has no room for is not compressed at
 * all, rather than once per request.
 */
static struct tw_page *
inline_variant(struct tw_compress *z, int fd, const struct stat *st,
	       enum tw_coding c, int level, bool *cold)
{
	size_t size = (size_t)st->st_size;
	struct tw_buf out = { 0 };
	struct stat after;
	struct entry *e;
	char *in;
	int err;

	*cold = false;
	if ((e = entry_add(z, st, c)) == NULL)
		return NULL;
	e->state = PENDING;
	in = malloc(size);
	if (in != NULL && !tw_resident_read(fd, in, size)) {
		*cold = true;
		err = -EAGAIN;
	} else if (in == NULL) {
		err = -ENOMEM;
	/* A write since the stat shows in ctime: these bytes may be of
	 * another version than st's. */
	} else if (fstat(fd, &after) < 0 ||
		   !same_ts(&after.st_ctim, &st->st_ctim) ||
		   after.st_size != st->st_size) {
		err = -ESTALE;
	} else {
		err = encode(c, level, in, size, &out);
		z->encoded++;
	}
	free(in);
	if (err == -EAGAIN || err == -ESTALE) {
		e->state = NO_GAIN;
		entry_free(z, e);
		return NULL;
	}
	entry_settle(z, e, err, &out);
	tw_buf_free(&out);
	return e->state == READY ? tw_page_ref(e->page) : NULL;
}

struct tw_page *
tw_compress_file(struct tw_compress *z, int fd, const struct stat *st,
		 enum tw_coding c, int level)
{
	struct stat now;
	struct entry *e;
	struct tw_page *p;
	bool cold;

	/* The headers were made from st, which the open-file cache may
	 * have kept a moment: a variant of what fd holds now would not
	 * match them. */
	if (z == NULL || c == TW_CODING_IDENTITY || level <= 0 ||
	    fstat(fd, &now) < 0 || now.st_size != st->st_size ||
	    !same_ts(&now.st_mtim, &st->st_mtim) ||
	    !same_ts(&now.st_ctim, &st->st_ctim))
		return NULL;
	e = lookup(z, st, c);
	if (e != NULL)
		return e->state == READY ? tw_page_ref(e->page) : NULL;
	if (!settled(st))
		return NULL;
	if ((size_t)st->st_size <= TW_COMPRESS_INLINE_MAX) {
		p = inline_variant(z, fd, st, c, level, &cold);
		if (!cold)
			return p;
	}
	return start_job(z, fd, st, c, level);
}

void
tw_compress_stats(const struct tw_compress *z, struct tw_compress_stats *out)
{
	out->bytes = z->bytes;
	out->entries = z->entries;
	out->pending = z->pending;
	out->made = z->made;
	out->encoded = z->encoded;
	out->evicted = z->evicted;
}

/* ---- one cache per loop ------------------------------------------------- */

static struct tw_loop_key compress_key;

static void
loop_cache_destroy(void *p)
{
	tw_compress_destroy(p);
}

struct tw_compress *
tw_compress_of_loop(struct tw_loop *loop, size_t max)
{
	struct tw_compress *z = tw_loop_get(loop, &compress_key);

	if (z != NULL)
		return z;
	z = tw_compress_create(max, NULL);
	if (z != NULL)
		z->loop = loop;
	if (z != NULL && tw_loop_set(loop, &compress_key, z,
				     loop_cache_destroy) < 0) {
		tw_compress_destroy(z);
		z = NULL;
	}
	return z;
}
