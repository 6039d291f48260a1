/* SPDX-License-Identifier: MIT */
/*
 * compress: content codings made on the fly, once per version of a file.
 * gzip (libdeflate: measured 1.8-2.2 times zlib's speed at level 6, and
 * 4-11 % faster at level 9 for 0-1 % fewer bytes), br (libbrotli) and
 * zstd (libzstd). Each event loop keeps the variants it
 * made in a cache bounded in bytes, least recently used out first, keyed
 * by the file's identity (device, inode, size, mtime, ctime) and coding,
 * so a changed file never finds its old variant. Small files are
 * compressed on the loop; larger ones by the loop's aio pool, and their
 * requests get the plain bytes until the variant is there. A variant is
 * a base/page: every connection sends it by reference. Layer 3: knows
 * files and HTTP's codings, never sockets.
 */
#ifndef TW_COMPRESS_H
#define TW_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "http/http.h"
#include "parse/coding.h"

struct tw_aio;
struct tw_loop;
struct tw_page;

/* Defaults; the reasons are in compress.c. */
#define TW_COMPRESS_MIN_LENGTH	256
#define TW_COMPRESS_MAX_SIZE	(16u << 20)
#define TW_COMPRESS_CACHE	(32u << 20)
#define TW_COMPRESS_INLINE_MAX	(256u << 10)
#define TW_COMPRESS_GZIP_LEVEL	9
#define TW_COMPRESS_BR_LEVEL	6
#define TW_COMPRESS_ZSTD_LEVEL	9
#define TW_COMPRESS_MAX_TYPES	32

struct tw_compress_opts {
	bool on;
	const char *const *types;	/* types, or "text/" and a star for
					 * a whole major type (borrowed);
					 * NULL: the defaults */
	size_t ntypes;
	uint64_t min_length;	/* smaller bodies are sent as they are */
	uint64_t max_size;	/* larger files are sent as they are */
	uint64_t cache;		/* bytes of variants kept per loop */
	int level[TW_CODING_COUNT];	/* per coding; 0: that coding off */
};

/* Fill o with the defaults (on, the default types, levels above). */
void tw_compress_opts_default(struct tw_compress_opts *o);

/* The default type list, NULL-terminated. */
extern const char *const tw_compress_default_types[];

/* True if the level is in range for coding c (0 turns it off). */
bool tw_compress_level_ok(enum tw_coding c, int level);

/*
 * True if a body of Content-Type type (parameters such as charset are
 * ignored) is one o compresses: an entry ending "/" and a star matches its
 * whole major type, others
 * entries match exactly, case-insensitively.
 */
bool tw_compress_type_ok(const struct tw_compress_opts *o, const char *type);

/* The codings o may make, as TW_CODING_BIT()s (identity excluded). */
unsigned tw_compress_codings(const struct tw_compress_opts *o);

struct tw_compress;

/*
 * A cache of at most max bytes (variants and their bookkeeping). aio:
 * where files above TW_COMPRESS_INLINE_MAX are compressed (borrowed;
 * NULL: such files are never compressed). Returns NULL on out of
 * memory. One per loop, used from its thread only.
 */
struct tw_compress *tw_compress_create(size_t max, struct tw_aio *aio);

/* Free z and its variants (connections still sending one keep it). A
 * job still in the aio pool frees what it made when it comes back. */
void tw_compress_destroy(struct tw_compress *z);

/*
 * loop's cache, made on first use with max bytes and loop's aio pool
 * (tw_conn_aio) and freed with the loop; NULL on out of memory or no
 * room in the loop's context.
 */
struct tw_compress *tw_compress_of_loop(struct tw_loop *loop, size_t max);

/*
 * The variant in coding c of the regular file fd, whose headers were
 * made from st: a reference for the caller, or NULL when it cannot be
 * sent now and the plain bytes should go instead: fd no longer matches
 * st, the file changed in the last moments (a same-tick rewrite could
 * not be told apart), the variant is being made off the loop, or it
 * was not smaller, did not fit the cache, or failed. Compresses on the
 * loop only files of at most TW_COMPRESS_INLINE_MAX bytes whose pages
 * are in memory.
 */
struct tw_page *tw_compress_file(struct tw_compress *z, int fd,
				 const struct stat *st, enum tw_coding c,
				 int level);

/*
 * Compress len bytes at data in coding c with level into a new page (a
 * reference for the caller), or NULL: not smaller, or out of memory. On
 * the calling thread: for generated bodies of bounded size.
 */
struct tw_page *tw_compress_bytes(const void *data, size_t len,
				  enum tw_coding c, int level);

/*
 * A generated body (res's one BODY segment, of Content-Type type) in the
 * coding req's client prefers, when o compresses that type and length:
 * res then sends a page of it, with Content-Encoding; Vary is added
 * whenever the answer depends on Accept-Encoding. Compresses on the
 * calling thread, per call: for bodies made per request anyway (the
 * status page), never files.
 */
void tw_compress_res(const struct tw_compress_opts *o,
		     const struct tw_http_req *req, struct tw_http_res *res,
		     const char *type);

/* What a cache holds, for tests and the status page. */
struct tw_compress_stats {
	size_t bytes;		/* counted against max */
	size_t entries;		/* variants, misses and jobs */
	size_t pending;		/* jobs in the aio pool */
	uint64_t made;		/* variants compressed and kept */
	uint64_t encoded;	/* compressions run, kept or not */
	uint64_t evicted;	/* entries dropped for room */
};

void tw_compress_stats(const struct tw_compress *z,
		       struct tw_compress_stats *out);

#endif /* TW_COMPRESS_H */
