/* SPDX-License-Identifier: MIT */
/*
 * fs: the served root. Holds an O_PATH descriptor of the root directory
 * and opens everything beneath it with openat2(2), so the kernel, not a
 * string check, decides whether a path or a symlink leaves the root
 * (RESOLVE_BENEATH), and /proc-style magic links are never followed.
 * openat2 needs Linux >= 5.6; tinyweb requires it and refuses to start
 * without it rather than fall back to a racy userspace walk.
 * Layer 2: knows nothing of HTTP, URLs or connections; paths arrive
 * already decoded and normalized.
 */
#include "parse/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/stats.h"

struct tw_fs {
	int rootfd;			/* O_PATH|O_DIRECTORY of the root */
	enum tw_fs_symlinks symlinks;
	char *root_path;		/* realpath() of the root, malloc'd */
};

/* What a caller may add to the fixed open flags. */
#define FS_EXTRA_FLAGS	(O_DIRECTORY | O_PATH | O_NOFOLLOW)

/* openat2 rejects, rather than ignores, other flags next to O_PATH. */
#define FS_PATH_FLAGS	(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static long
sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

static uint64_t
resolve_flags(enum tw_fs_symlinks symlinks)
{
	switch (symlinks) {
	case TW_FS_SYMLINKS_NEVER:
		return RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		       RESOLVE_NO_MAGICLINKS;
	case TW_FS_SYMLINKS_ALWAYS:
		/*
		 * The operator allowed links anywhere. Resolution still
		 * starts at the root fd, and rel can hold no ".." (checked
		 * below), so only a symlink can lead out.
		 */
		return RESOLVE_NO_MAGICLINKS;
	case TW_FS_SYMLINKS_INSIDE:
	default:	/* tw_fs_create() let no other value through */
		return RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	}
}

/*
 * The caller promises a normalized path, but this module is the last
 * line before the kernel: refuse an absolute path or a ".." segment
 * even where RESOLVE_BENEATH would catch it, since ALWAYS does not set
 * it and an absolute rel would ignore the root fd altogether.
 */
static bool
rel_is_safe(const char *rel)
{
	const char *p = rel, *end;

	if (*p == '/')
		return false;
	while (*p != '\0') {
		end = strchrnul(p, '/');
		if (end - p == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p = *end == '/' ? end + 1 : end;
	}
	return true;
}

struct tw_fs *
tw_fs_create(const struct tw_fs_opts *opts, int *err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH,
	};
	struct tw_fs *fs;
	long probe;
	int e;

	if (opts == NULL || opts->root == NULL ||
	    (opts->symlinks != TW_FS_SYMLINKS_NEVER &&
	     opts->symlinks != TW_FS_SYMLINKS_INSIDE &&
	     opts->symlinks != TW_FS_SYMLINKS_ALWAYS)) {
		e = -EINVAL;
		goto out;
	}
	fs = malloc(sizeof(*fs));
	if (fs == NULL) {
		e = -ENOMEM;
		goto out;
	}
	fs->symlinks = opts->symlinks;
	/* O_PATH needs no read permission; the open below needs search. */
	fs->rootfd = open(opts->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0) {
		e = -errno;
		goto out_free_fs;
	}
	fs->root_path = realpath(opts->root, NULL);
	if (fs->root_path == NULL) {
		e = -errno;
		goto out_close_root;
	}
	/* Find out now, not on the first request, if openat2 is missing. */
	probe = sys_openat2(fs->rootfd, ".", &how);
	if (probe < 0) {
		e = -errno;
		goto out_free_path;
	}
	(void)close((int)probe);
	return fs;

out_free_path:
	free(fs->root_path);
out_close_root:
	(void)close(fs->rootfd);
out_free_fs:
	free(fs);
out:
	if (err != NULL)
		*err = e;
	return NULL;
}

void
tw_fs_destroy(struct tw_fs *fs)
{
	if (fs == NULL)
		return;
	(void)close(fs->rootfd);
	free(fs->root_path);
	free(fs);
}

const char *
tw_fs_root_path(const struct tw_fs *fs)
{
	return fs->root_path;
}

int
tw_fs_open(const struct tw_fs *fs, const char *rel, int extra_flags,
	   struct stat *st)
{
	struct open_how how = { 0 };
	long fd;
	int err;

	if (rel == NULL || (extra_flags & ~FS_EXTRA_FLAGS) != 0 ||
	    !rel_is_safe(rel))
		return -EINVAL;
	/*
	 * O_NONBLOCK so that opening a FIFO someone left under the root
	 * cannot park the worker until a writer shows up; it changes
	 * nothing for regular files or directories.
	 */
	how.flags = (uint64_t)(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
			       extra_flags);
	if (extra_flags & O_PATH)
		how.flags &= FS_PATH_FLAGS;
	how.resolve = resolve_flags(fs->symlinks);

	fd = sys_openat2(fs->rootfd, *rel == '\0' ? "." : rel, &how);
	if (fd < 0)
		return -errno;
	if (st != NULL && fstat((int)fd, st) < 0) {
		err = -errno;
		(void)close((int)fd);
		return err;
	}
	return (int)fd;
}

int
tw_fs_stat(const struct tw_fs *fs, const char *rel, struct stat *st)
{
	int fd = tw_fs_open(fs, rel, O_PATH, st);

	if (fd < 0)
		return fd;
	(void)close(fd);
	return 0;
}

bool
tw_fs_is_hidden(const char *path, size_t len)
{
	static const char wk[] = ".well-known";
	size_t i = 0, start;
	bool first = true;

	while (i < len) {
		if (path[i] == '/') {
			i++;
			continue;
		}
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (path[start] == '.' &&
		    !(first && i - start == sizeof(wk) - 1 &&
		      memcmp(path + start, wk, sizeof(wk) - 1) == 0))
			return true;
		first = false;
	}
	return false;
}

/* ---- the open-file cache ---------------------------------------------- */

struct tw_fs_cache {
	const struct tw_fs *fs;
	size_t content_bytes;	/* held in entries' content */
	size_t content_max;
	size_t mask;
	uint64_t valid_ms;
	uint64_t hits;
	uint64_t misses;
	struct tw_fs_file **slots;
};

struct tw_fs_cache *
tw_fs_cache_create(const struct tw_fs *fs, size_t slots, uint64_t valid_ms)
{
	struct tw_fs_cache *c = calloc(1, sizeof(*c));
	size_t n = 1;

	if (c == NULL)
		return NULL;
	while (n < slots)
		n <<= 1;
	c->slots = calloc(n, sizeof(*c->slots));
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->fs = fs;
	c->mask = n - 1;
	c->valid_ms = valid_ms;
	return c;
}

static void
drop_content(struct tw_fs_file *f)
{
	if (f->content == NULL)
		return;
	if (f->cache != NULL)
		f->cache->content_bytes -= f->content_cap;
	free(f->content);
	f->content = NULL;
	f->content_len = 0;
	f->content_cap = 0;
}

static void
file_free(struct tw_fs_file *f)
{
	drop_content(f);
	if (f->fd >= 0)
		(void)close(f->fd);
	free(f->key);
	free(f);
}

void
tw_fs_cache_set_content_max(struct tw_fs_cache *c, size_t max)
{
	c->content_max = max;
}

char *
tw_fs_file_keep_content(struct tw_fs_file *f, size_t len)
{
	struct tw_fs_cache *c = f->cache;

	if (c == NULL || f->content != NULL || len == 0 ||
	    c->content_bytes + len > c->content_max)
		return NULL;
	f->content = malloc(len);
	if (f->content == NULL)
		return NULL;
	/* Counted from now; the caller sets content_len once the bytes are
	 * in, and only then uses them. */
	c->content_bytes += len;
	f->content_len = 0;
	f->content_cap = len;
	return f->content;
}

void
tw_fs_file_drop_content(struct tw_fs_file *f)
{
	drop_content(f);
}

/* Take f out of the table; it dies with its last reference. */
static void
drop(struct tw_fs_cache *c, size_t slot)
{
	struct tw_fs_file *f = c->slots[slot];

	c->slots[slot] = NULL;
	f->in_table = false;
	/* Responses copy content while they are built, never later: it
	 * can go now, and leave the budget with the entry. */
	drop_content(f);
	f->cache = NULL;
	if (f->refs == 0)
		file_free(f);
}

void
tw_fs_cache_destroy(struct tw_fs_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i <= c->mask; i++)
		if (c->slots[i] != NULL)
			drop(c, i);
	free(c->slots);
	free(c);
}

void
tw_fs_cache_release(struct tw_fs_file *f)
{
	if (f == NULL)
		return;
	if (--f->refs == 0 && !f->in_table)
		file_free(f);
}

void
tw_fs_cache_counts(const struct tw_fs_cache *c, uint64_t *hits,
		   uint64_t *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}

/* Here and in the shared counters of the status page. */
static void
count(struct tw_fs_cache *c, bool hit)
{
	struct tw_stats *st = tw_stats_current();

	if (hit)
		c->hits++;
	else
		c->misses++;
	if (st != NULL)
		tw_stats_add(hit ? &st->file_cache_hits : &st->file_cache_misses, 1);
}

static size_t
hash_path(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

struct tw_fs_file *
tw_fs_cache_open(struct tw_fs_cache *c, const char *rel, size_t len)
{
	size_t slot = hash_path(rel, len) & c->mask;
	struct tw_fs_file *f = c->slots[slot];
	uint64_t now = tw_clock_ms();
	struct stat st;
	int fd;

	if (f != NULL && f->keylen == len && memcmp(f->key, rel, len) == 0) {
		if (now - f->checked_ms < c->valid_ms) {
			/* An fstat of the open file (no path walk) catches a
			 * file rewritten in place at once, so a response never
			 * promises a stale length or sends stale bytes. Not
			 * one fstat per event batch: a batch goes on accepting
			 * and reading after its first responses have left, so
			 * its client may have rewritten the file and asked
			 * again within it. A new file renamed over the path
			 * shows after valid_ms. */
			if (f->fd >= 0 && fstat(f->fd, &st) == 0 &&
			    !same_file(&st, &f->st)) {
				f->st = st;
				f->data_valid = false;
				drop_content(f);
			}
			count(c, true);
			f->refs++;
			return f;
		}
		/* Stale: look again, keep what did not change (and so the
		 * caller's derived data). */
		fd = tw_fs_open(c->fs, rel, 0, &st);
		if ((fd >= 0 && f->fd >= 0 && same_file(&st, &f->st)) ||
		    (fd < 0 && f->fd < 0 && fd == f->err)) {
			if (fd >= 0)
				(void)close(fd);
			f->checked_ms = now;
			count(c, true);
			f->refs++;
			return f;
		}
	} else {
		fd = tw_fs_open(c->fs, rel, 0, &st);
	}
	count(c, false);
	if (c->slots[slot] != NULL)
		drop(c, slot);
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->key = malloc(len + 1)) == NULL) {
		free(f);
		if (fd >= 0)
			(void)close(fd);
		return NULL;
	}
	memcpy(f->key, rel, len);
	f->key[len] = '\0';
	f->keylen = len;
	f->fd = fd >= 0 ? fd : -1;
	f->err = fd >= 0 ? 0 : fd;
	if (fd >= 0)
		f->st = st;
	f->cache = c;
	f->checked_ms = now;
	f->in_table = true;
	f->refs = 1;
	c->slots[slot] = f;
	return f;
}
