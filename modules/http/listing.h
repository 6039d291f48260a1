/* SPDX-License-Identifier: MIT */
/*
 * listing: the index of a directory (autoindex), as an HTML page for
 * people or JSON for programs. Names are HTML-escaped (JSON-escaped),
 * hrefs percent-encoded, entries sorted with directories first by name
 * (natural order), size or date, each with its size and modification
 * date. Layer 3 (protocol handlers): renders into a buffer; knows nothing
 * of sockets or of how the response is sent.
 */
#ifndef TW_LISTING_H
#define TW_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_buf;
struct tw_fs;

struct tw_listing_opts {
	bool hidden;		/* list dotfiles too */
};

enum tw_listing_sort {
	TW_LISTING_BY_NAME,
	TW_LISTING_BY_SIZE,
	TW_LISTING_BY_DATE,
};

enum tw_listing_format {
	TW_LISTING_HTML,
	TW_LISTING_JSON,
};

/* Which page of a directory: one per sort x order x format. */
struct tw_listing_view {
	enum tw_listing_sort sort;
	bool desc;
	enum tw_listing_format format;
};

/* How many different views there are (tw_listing_view_index's range). */
#define TW_LISTING_VIEWS 12

/*
 * The view a request asks for. query[0..qlen) is the URL's query (NULL:
 * none): "sort=name|size|date", "order=asc|desc", "format=html|json",
 * in any order among other parameters; the last of each counts. accept
 * (NULL: none) is the Accept field's value.
 *
 * - A missing or unknown sort is by name; a missing or unknown order is
 *   the sort's own (name ascending, size and date descending: biggest and
 *   newest first).
 * - format= decides (an unknown value is ignored); else JSON only when
 *   Accept gives application/json a higher q than text/html (RFC 9110
 *   12.5.1: the most specific range counts), HTML otherwise, including
 *   no Accept and a tie.
 */
void tw_listing_view_parse(const char *query, size_t qlen, const char *accept,
			   size_t alen, struct tw_listing_view *v);

/* A number for v in 0..TW_LISTING_VIEWS-1, the same for equal views. */
unsigned tw_listing_view_index(const struct tw_listing_view *v);

/*
 * Render the listing of the directory at rel (normalized, relative to the
 * root, "" for the root; see tw_fs_open) whose decoded URL path is
 * url_path (absolute, ending in '/') in the form view asks for (NULL:
 * HTML by name), appended to out.
 *
 * Entries: one per name, skipping "." and "..", dotfiles unless
 * opts->hidden, and entries tw_fs_stat() refuses (symlinks the policy
 * does not allow, dangling links); a permitted link is listed as what it
 * points at. Directories first, then files and other kinds; within
 * each, by the view's key with ties by name, names in natural order
 * (tw_collate_natural); desc reverses each group.
 *
 * A name that is not valid UTF-8 on disk, or holds a control byte, is
 * shown with each invalid sequence or control byte replaced by U+FFFD
 * (in JSON a control byte is escaped instead) and is not linked: no
 * valid URL can request it. Nor is an entry that is neither a regular
 * file nor a directory (a FIFO, a socket, a device): the server would
 * refuse it.
 *
 * HTML (a complete HTML5 document, no script, no external resource):
 * - Title "Index of <url_path>" and a heading whose every path part is
 *   a link (breadcrumbs); a count "N folders, N files".
 * - Column heads linking to "?sort=KEY&order=ORDER" (the current column
 *   to its other order); a "../" row unless url_path is "/".
 * - Rows: the name (dirs with a trailing '/'), linked to its
 *   percent-encoded href; the size as a person reads it ("1.2 MiB", see
 *   tw_listing_fmt_size) with the exact bytes in a title attribute from
 *   1 KiB on (below, "512 B" is exact already), "-" for directories; the date as "YYYY-MM-DD HH:MM UTC" ("-" outside
 *   the years 0..9999).
 * - Links to directories (entries, "../", breadcrumbs) carry the view's
 *   sort and order when they are not the default, so a reader keeps
 *   them while walking the tree.
 *
 * JSON: {"path": url_path, "sort": KEY, "order": "asc"|"desc",
 * "directories": N, "files": N, "entries": [{"name", "type" ("directory",
 * "file" or "other"), "size" (bytes, null for a directory), "mtime"
 * (RFC 3339 UTC, "2026-12-06T12:13:45Z", null outside the years
 * 0..9999), "href" (relative to the listing, null if not linked)}, ...]}.
 *
 * Returns 0, or -errno (-ENOENT, -ENOTDIR, -EACCES, -ENOMEM; out->failed
 * also means -ENOMEM).
 */
int tw_listing_render(const struct tw_fs *fs, const char *rel,
		      const char *url_path, const struct tw_listing_opts *opts,
		      const struct tw_listing_view *view, struct tw_buf *out);

/*
 * The same page, read from dirfd: an open descriptor (borrowed) of the
 * directory rel names, such as one the caller keeps cached, so that the
 * page shows exactly the directory the caller holds a stat of. It is
 * read from its start and its file offset moves. rel still decides how
 * symlinks in the directory are checked against the policy. Returns as
 * tw_listing_render (-ENOTDIR if dirfd is not a directory).
 */
int tw_listing_render_fd(const struct tw_fs *fs, int dirfd, const char *rel,
			 const char *url_path,
			 const struct tw_listing_opts *opts,
			 const struct tw_listing_view *view,
			 struct tw_buf *out);

/* Longest tw_listing_fmt_size result ("1023 KiB" and the like). */
#define TW_LISTING_SIZE_MAX 8

/*
 * A size as a person reads it, in binary units: "0 B" .. "1023 B", then
 * "1.0 KiB" .. "99.9 KiB", "100 KiB" .. "1023 KiB", and so on through
 * MiB, GiB, TiB, PiB and EiB; rounded to the nearest shown digit (half
 * up), moving to the next unit when that reaches 1024. No NUL; returns
 * the length.
 */
size_t tw_listing_fmt_size(uint64_t size, char out[TW_LISTING_SIZE_MAX]);

#endif /* TW_LISTING_H */
