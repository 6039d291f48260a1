/* SPDX-License-Identifier: MIT */
/*
 * static: the file handler. Decodes and normalizes the path, opens it
 * beneath the root through fs, and decides the response: 200, 206 (one
 * range or multipart/byteranges), 304, 412, 416, a 301 to the slashed
 * directory URL, the index file, a listing, or an error. Adds validators
 * (ETag, Last-Modified), Content-Type with charset, and gzip_static
 * sidecars. Layer 3: fills a tw_http_res; never touches sockets.
 */
#ifndef TW_STATIC_H
#define TW_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "http/http.h"

struct tw_compress_opts;
struct tw_fs;
struct tw_mime_table;

struct tw_static_opts {
	const struct tw_fs *fs;			/* borrowed */
	const struct tw_mime_table *types;	/* borrowed */
	const char *index;			/* "index.html"; NULL: none */
	const char *const *indexes;	/* or these, the first that exists */
	size_t nindexes;		/* 0: index alone */
	size_t strip;		/* alias: the decoded path's first strip
				 * bytes (a location's prefix, without its
				 * trailing '/') are replaced by the root;
				 * 0: the path is under the root as is */
	bool listing;
	bool hidden;		/* serve and list dotfiles */
	bool gzip_static;	/* FILE.br / FILE.gz sidecars */
	const struct tw_compress_opts *compress;	/* on-the-fly codings
							 * (borrowed); NULL:
							 * none */
	bool charset;		/* append charset to text types */
	long long expires;	/* Cache-Control max-age seconds, -1: none */
	size_t open_files;	/* descriptors each loop's open-file cache
				 * keeps (tw_fs_cache_fd_share); 0: one per
				 * slot of the cache */
	bool decline_missing;	/* a name that does not exist is
				 * declined, for the next route (tinyweb
				 * proxy URL DIR), not answered 404 */
	/*
	 * try_files: paths tried in order, "$uri" in them standing for the
	 * request's decoded path; one ending in '/' is served if it is a
	 * directory (as a directory always is: the slash redirect, the
	 * index, the listing), the others if they are a file. When none
	 * is, the answer is try_code, or try_uri served in the request's
	 * place (TW_HTTP_INTERNAL; 404 for a request that is already
	 * such a one). ntry 0: off.
	 */
	const char *const *try_files;
	size_t ntry;
	int try_code;		/* =CODE; 0: try_uri */
	const char *try_uri;
};

extern const struct tw_handler tw_static_handler;

#define TW_STATIC_ETAG_MAX 48

/* The entity-tag of a file, "\"<size hex>-<mtime sec hex>\"", into out;
 * returns its length. The same file gives the same tag on any machine. */
size_t tw_static_etag(const struct stat *st, char out[TW_STATIC_ETAG_MAX]);

/*
 * Evaluate the preconditions of RFC 9110 13.2.2 for a representation with
 * the given entity-tag and modification time. get_or_head: the method is
 * GET or HEAD (If-None-Match then yields 304 rather than 412). Returns 0
 * to go on, 304 or 412.
 */
int tw_static_preconditions(const struct tw_http_request *r, bool get_or_head,
			    const char *etag, size_t etag_len, time_t mtime);

/* True if a Range header may be honoured: no If-Range, or If-Range holds
 * the current strong entity-tag or exactly the Last-Modified date. */
bool tw_static_if_range(const struct tw_http_request *r, const char *etag,
			size_t etag_len, time_t mtime);

#endif /* TW_STATIC_H */
