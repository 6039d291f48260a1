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
#include <stdint.h>
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

/* The root as given, made absolute: the path looked at again for a
 * deploy's swap (a symlink may lead elsewhere later). */
const char *tw_fs_watch_path(const struct tw_fs *fs);

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

/*
 * The open-file cache: one per thread (never shared, no locks). A hot
 * file costs no open or close per request, only an fstat() of the open
 * descriptor, which notices a file rewritten in place at once (data[] is
 * then marked invalid). The descriptor, its stat and what the caller
 * derived from them (data[], e.g. validators and content type) stay
 * cached, failures too (negative entries), for valid_ms; after that the
 * next use re-opens the path and keeps the entry only if it is the same
 * file (device, inode, size, mtime), so a file replaced, created or
 * deleted is noticed within valid_ms.
 */
#define TW_FS_FILE_DATA 256

struct tw_fs_cache;

struct tw_fs_file {
	int fd;			/* read-only descriptor, or -1 */
	int err;		/* 0, or the -errno opening it gave */
	struct stat st;		/* valid when fd >= 0 */
	bool data_valid;	/* the caller filled data for this file */
	unsigned char data[TW_FS_FILE_DATA] __attribute__((aligned(16)));
	char *content;		/* the file's bytes, if the caller kept them
				 * (tw_fs_file_keep_content); dropped when
				 * the file changes */
	size_t content_len;
	size_t content_cap;	/* private: bytes counted against the cache */
	/* Private to fs. */
	struct tw_fs_cache *cache;
	unsigned refs;
	bool in_table;
	uint64_t checked_ms;
	char *key;
	size_t keylen;
	struct tw_fs_file *lru_prev;	/* entries holding a descriptor, */
	struct tw_fs_file *lru_next;	/* most recently used first */
};

/*
 * A cache of slots entries (rounded up to a power of two) over fs,
 * trusting an entry for valid_ms. Returns NULL on out of memory or of
 * descriptors (it holds one of its own for the root).
 *
 * The root is looked at again too, at most once per valid_ms (a stat()
 * of the path given to tw_fs_create, made absolute): once it names
 * another directory, as when a deploy renames a new symlink over
 * "current", the cache opens that one, lets go of every entry (held
 * ones stay valid for their holders, so responses under way finish with
 * the old files) and opens beneath the new root from then on. If the
 * path no longer names a directory it can open, the old root stays,
 * with a warning logged once per change. fs itself is never changed, so
 * caches of other loops and threads may share it.
 */
struct tw_fs_cache *tw_fs_cache_create(const struct tw_fs *fs, size_t slots,
				       uint64_t valid_ms);

/*
 * The cache's view of the root, as tw_fs_open() and tw_fs_stat() take
 * it: the root the cache's entries were opened beneath, so a caller
 * opening more beside them (a listing's entries) sees the same release.
 * Valid until tw_fs_cache_destroy().
 */
const struct tw_fs *tw_fs_cache_fs(const struct tw_fs_cache *c);

/*
 * Descriptors the cache keeps open at most (default: slots). Past it the
 * least recently used entry holding one goes; one still in use closes
 * when its holder releases it. 0 keeps none: every entry is looked up
 * anew.
 */
void tw_fs_cache_set_fd_max(struct tw_fs_cache *c, size_t max);

/* Descriptors held by entries in the table now (for tests and logs). */
size_t tw_fs_cache_fds(const struct tw_fs_cache *c);

/*
 * Out of descriptors (EMFILE): close up to want of the cache's, least
 * recently used first, skipping entries in use (closing those would free
 * nothing now). Returns how many were closed. The cache calls it itself
 * when an open fails for want of descriptors, then tries once more.
 */
size_t tw_fs_cache_shed(struct tw_fs_cache *c, size_t want);

/*
 * The descriptors one loop's cache may keep, given RLIMIT_NOFILE and the
 * loops sharing one descriptor table (threads share one, each prefork
 * worker has its own): a quarter of the table, split between them, and
 * no more than TW_FS_CACHE_FDS_MAX. Connections get about half the
 * table (one socket each) and the files they are sending the other half;
 * the cache's descriptors are such files, kept after their response, so
 * it takes half of that half and leaves the rest to files in flight,
 * listings and the server's own.
 */
#define TW_FS_CACHE_FDS_MAX	4096
size_t tw_fs_cache_fd_share(size_t nofile, unsigned loops);

/* Free the cache; entries still referenced are freed on release. */
void tw_fs_cache_destroy(struct tw_fs_cache *c);

/*
 * The entry for rel (as tw_fs_open(fs, rel, 0, ...) would open it), with
 * a reference the caller gives back with tw_fs_cache_release(); f->err
 * tells whether it opened. NULL only on out of memory.
 */
struct tw_fs_file *tw_fs_cache_open(struct tw_fs_cache *c, const char *rel,
				    size_t len);
void tw_fs_cache_release(struct tw_fs_file *f);

/*
 * Room for the whole file in memory (len == f->st.st_size): small hot
 * files then go out with their headers in one write, with no sendfile.
 * The cache spends at most max_content bytes on this (set at creation
 * with tw_fs_cache_set_content_max). Returns the buffer for the caller to
 * fill, after which it sets f->content_len, or NULL (over budget, or out
 * of memory).
 */
char *tw_fs_file_keep_content(struct tw_fs_file *f, size_t len);
void tw_fs_cache_set_content_max(struct tw_fs_cache *c, size_t max);

/*
 * Let go of what f holds in content (it leaves the budget), e.g. because
 * the caller's derived bytes are outdated though the file is not (a
 * directory's listing page); tw_fs_file_keep_content may then keep anew.
 */
void tw_fs_file_drop_content(struct tw_fs_file *f);

/* Hits and misses so far (for tests and the status counters). */
void tw_fs_cache_counts(const struct tw_fs_cache *c, uint64_t *hits,
			uint64_t *misses);

#endif /* TW_FS_H */
