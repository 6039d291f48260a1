/* SPDX-License-Identifier: MIT */
/*
 * fs: the served root. Owns the root's directory descriptor and is the only
 * module that opens anything beneath it, through openat2() with
 * RESOLVE_BENEATH so the kernel refuses any path, '..' or symlink that
 * would leave the root. Layer 2: knows nothing of HTTP or connections.
 */
#ifndef TW_FS_H
#define TW_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

enum tw_fs_symlinks {
	TW_FS_SYMLINKS_NEVER,	/* any symlink in the path: -ELOOP */
	TW_FS_SYMLINKS_INSIDE,	/* followed while the target stays beneath */
	TW_FS_SYMLINKS_ALWAYS,	/* followed anywhere (operator's choice) */
};

struct tw_fs_opts {
	const char *root;		/* directory to serve */
	enum tw_fs_symlinks symlinks;
};

struct tw_fs;

/*
 * Open the root directory. Returns NULL and sets *err to -errno
 * (-ENOTDIR if root is not a directory). Free with tw_fs_destroy().
 */
struct tw_fs *tw_fs_create(const struct tw_fs_opts *opts, int *err);
void tw_fs_destroy(struct tw_fs *fs);

/* The root's absolute path, resolved at creation (for the startup line). */
const char *tw_fs_root_path(const struct tw_fs *fs);

/*
 * Open rel, a normalized path relative to the root (no leading '/', no
 * "." or ".." segments; "" means the root itself), read-only and
 * close-on-exec, applying the symlink policy. extra_flags may add
 * O_DIRECTORY, O_PATH or O_NOFOLLOW. Fills *st if st is not NULL.
 *
 * Returns the descriptor (owned by the caller) or -errno: -ENOENT,
 * -ENOTDIR, -EACCES, -ELOOP (symlink refused by NEVER), -EXDEV (escape
 * refused by INSIDE), -ENAMETOOLONG, -EMFILE, ...
 */
int tw_fs_open(const struct tw_fs *fs, const char *rel, int extra_flags,
	       struct stat *st);

/*
 * stat() rel under the same rules as tw_fs_open(), following permitted
 * symlinks. Returns 0 or -errno.
 */
int tw_fs_stat(const struct tw_fs *fs, const char *rel, struct stat *st);

/*
 * True if the normalized absolute path ("/a/.b/c") has a component that
 * starts with '.', except a first component ".well-known" (RFC 8615).
 */
bool tw_fs_is_hidden(const char *path, size_t len);

#endif /* TW_FS_H */
