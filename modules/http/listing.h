/* SPDX-License-Identifier: MIT */
/*
 * listing: the HTML index of a directory (autoindex). Names are
 * HTML-escaped, hrefs percent-encoded, entries sorted with directories
 * first, each with its size and modification date. Layer 3 (protocol
 * handlers): renders into a buffer; knows nothing of sockets or of how
 * the response is sent.
 */
#ifndef TW_LISTING_H
#define TW_LISTING_H

#include <stdbool.h>
#include <stddef.h>

struct tw_buf;
struct tw_fs;

struct tw_listing_opts {
	bool hidden;		/* list dotfiles too */
};

/*
 * Render the listing of the directory at rel (normalized, relative to the
 * root, "" for the root; see tw_fs_open) whose decoded URL path is
 * url_path (absolute, ending in '/') as a complete HTML5 document
 * appended to out.
 *
 * - Title and heading "Index of <url_path>" (escaped).
 * - A "../" entry unless url_path is "/".
 * - One entry per name, skipping "." and "..", dotfiles unless
 *   opts->hidden, and entries tw_fs_stat() refuses (symlinks the policy
 *   does not allow, dangling links). Directories get a trailing '/'.
 * - Sorted: directories first, then byte order of the names.
 * - href: the name percent-encoded (tw_url_encode_path rules; a leading
 *   "./" is not needed since every name is encoded, ':' included, and is
 *   added only if the encoded name still held a ':'), plus '/' for dirs.
 * - Text: the name HTML-escaped; a name that is not valid UTF-8 on disk,
 *   or holds a control byte, is shown with each invalid sequence or
 *   control byte replaced by U+FFFD and is not linked (it cannot be
 *   requested by a valid URL).
 * - Size in bytes (or "-" for directories) and the modification time as
 *   "YYYY-MM-DD HH:MM" UTC; times outside the years 0..9999 show as "-".
 *
 * Returns 0, or -errno (-ENOENT, -ENOTDIR, -EACCES, -ENOMEM; out->failed
 * also means -ENOMEM).
 */
int tw_listing_render(const struct tw_fs *fs, const char *rel,
		      const char *url_path, const struct tw_listing_opts *opts,
		      struct tw_buf *out);

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
			 struct tw_buf *out);

#endif /* TW_LISTING_H */
