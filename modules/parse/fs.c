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
#include "base/log.h"
#include "base/stats.h"

/*
 * The one made by tw_fs_create() is shared by every loop of a generation
 * and never changes. Each open-file cache holds its own copy (a view)
 * whose rootfd it replaces when the root path comes to name another
 * directory (a deploy swapping a symlink); the strings stay the shared
 * one's.
 */
struct tw_fs {
	int rootfd;			/* O_PATH|O_DIRECTORY of the root */
	enum tw_fs_symlinks symlinks;
	char *root_path;		/* realpath() of the root, malloc'd */
	char *watch_path;		/* the root as given, made absolute */
	dev_t dev;			/* of rootfd */
	ino_t ino;
	int watch_err;			/* a view's last warning, or 0 */
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

/*
 * Open the directory path names now: O_PATH, which needs no read
 * permission, then a probe through openat2(), which needs search
 * permission on it and tells at once if openat2 is missing. Returns the
 * descriptor, *st filled, or -errno.
 */
static int
root_open(const char *path, struct stat *st)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH,
	};
	long probe;
	int fd, e;

	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	probe = sys_openat2(fd, ".", &how);
	if (probe < 0 || fstat(fd, st) < 0) {
		e = -errno;
		if (probe >= 0)
			(void)close((int)probe);
		(void)close(fd);
		return e;
	}
	(void)close((int)probe);
	return fd;
}

/*
 * The root as given, made absolute against the current directory but
 * not resolved: a symlink in it is followed again on every look, and a
 * later chdir("/") (daemon) leaves its meaning alone.
 */
static char *
absolute_path(const char *path)
{
	char *cwd, *out;
	size_t a, b;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return NULL;
	a = strlen(cwd);
	b = strlen(path);
	out = malloc(a + 1 + b + 1);
	if (out != NULL) {
		memcpy(out, cwd, a);
		out[a] = '/';
		memcpy(out + a + 1, path, b + 1);
	}
	free(cwd);
	return out;
}

struct tw_fs *
tw_fs_create(const struct tw_fs_opts *opts, int *err)
{
	struct tw_fs *fs;
	struct stat st;
	int e;

	if (opts == NULL || opts->root == NULL ||
	    (opts->symlinks != TW_FS_SYMLINKS_NEVER &&
	     opts->symlinks != TW_FS_SYMLINKS_INSIDE &&
	     opts->symlinks != TW_FS_SYMLINKS_ALWAYS)) {
		e = -EINVAL;
		goto out;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		e = -ENOMEM;
		goto out;
	}
	fs->symlinks = opts->symlinks;
	/* Find out now, not on the first request, if openat2 is missing. */
	fs->rootfd = root_open(opts->root, &st);
	if (fs->rootfd < 0) {
		e = fs->rootfd;
		goto out_free_fs;
	}
	fs->dev = st.st_dev;
	fs->ino = st.st_ino;
	fs->root_path = realpath(opts->root, NULL);
	if (fs->root_path == NULL) {
		e = -errno;
		goto out_close_root;
	}
	fs->watch_path = absolute_path(opts->root);
	if (fs->watch_path == NULL) {
		e = -errno;
		free(fs->root_path);
		goto out_close_root;
	}
	return fs;

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
	free(fs->watch_path);
	free(fs);
}

const char *
tw_fs_root_path(const struct tw_fs *fs)
{
	return fs->root_path;
}

const char *
tw_fs_watch_path(const struct tw_fs *fs)
{
	return fs->watch_path;
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

static size_t hash_path(const char *s, size_t len);

struct tw_fs_cache {
	struct tw_fs fs;	/* this cache's view of the root */
	uint64_t root_checked_ms;
	size_t content_bytes;	/* held in entries' content */
	size_t content_max;
	size_t mask;
	size_t nfds;		/* entries in the table holding a descriptor */
	size_t fd_max;
	struct tw_fs_file *lru_head;	/* of those, most recently used */
	struct tw_fs_file *lru_tail;
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
	/* Its own descriptor, so that replacing it touches no other loop's
	 * (nor a thread's in the middle of an openat2 on it). */
	c->fs = *fs;
	c->fs.rootfd = fcntl(fs->rootfd, F_DUPFD_CLOEXEC, 0);
	if (c->fs.rootfd < 0) {
		free(c->slots);
		free(c);
		return NULL;
	}
	c->fs.watch_err = 0;
	c->root_checked_ms = tw_clock_ms();
	c->mask = n - 1;
	c->fd_max = n;
	c->valid_ms = valid_ms;
	return c;
}

size_t
tw_fs_cache_fd_share(size_t nofile, unsigned loops)
{
	size_t n = nofile / 4 / (loops > 0 ? loops : 1);

	if (n < 1)
		n = 1;
	return n < TW_FS_CACHE_FDS_MAX ? n : TW_FS_CACHE_FDS_MAX;
}

const struct tw_fs *
tw_fs_cache_fs(const struct tw_fs_cache *c)
{
	return &c->fs;
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

static void
lru_unlink(struct tw_fs_cache *c, struct tw_fs_file *f)
{
	if (f->lru_prev != NULL)
		f->lru_prev->lru_next = f->lru_next;
	else
		c->lru_head = f->lru_next;
	if (f->lru_next != NULL)
		f->lru_next->lru_prev = f->lru_prev;
	else
		c->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void
lru_push(struct tw_fs_cache *c, struct tw_fs_file *f)
{
	f->lru_prev = NULL;
	f->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = f;
	else
		c->lru_tail = f;
	c->lru_head = f;
}

/* A hit: pointer moves only, no system call. */
static void
lru_touch(struct tw_fs_cache *c, struct tw_fs_file *f)
{
	if (f->fd < 0 || c->lru_head == f)
		return;
	lru_unlink(c, f);
	lru_push(c, f);
}

/* Take f out of the table; it dies with its last reference. */
static void
drop(struct tw_fs_cache *c, size_t slot)
{
	struct tw_fs_file *f = c->slots[slot];

	if (f->fd >= 0) {
		lru_unlink(c, f);
		c->nfds--;
	}
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
	(void)close(c->fs.rootfd);
	free(c->slots);
	free(c);
}

static size_t
slot_of(const struct tw_fs_cache *c, const struct tw_fs_file *f)
{
	return hash_path(f->key, f->keylen) & c->mask;
}

void
tw_fs_cache_set_fd_max(struct tw_fs_cache *c, size_t max)
{
	c->fd_max = max;
	while (c->nfds > c->fd_max)
		drop(c, slot_of(c, c->lru_tail));
}

size_t
tw_fs_cache_fds(const struct tw_fs_cache *c)
{
	return c->nfds;
}

size_t
tw_fs_cache_shed(struct tw_fs_cache *c, size_t want)
{
	struct tw_fs_file *f = c->lru_tail, *prev;
	size_t closed = 0;

	while (f != NULL && closed < want) {
		prev = f->lru_prev;
		if (f->refs == 0) {
			drop(c, slot_of(c, f));
			closed++;
		}
		f = prev;
	}
	return closed;
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

/*
 * Has the root path come to name another directory (a deploy renamed a
 * new symlink over it, or a new directory)? Then serve that one: new
 * requests open beneath it, and every entry goes, since the same
 * relative path now means another file. Responses under way keep the
 * entries they hold, whose descriptors are their own, so they finish
 * with the old release's bytes; nothing else refers to the old root's
 * descriptor (listings are rendered within one call), so it is closed.
 * A root path that vanished or cannot be opened leaves the old root
 * served, with one warning per change of the error, not per look.
 */
static void
root_check(struct tw_fs_cache *c, uint64_t now)
{
	struct tw_fs *v = &c->fs;
	struct stat st;
	size_t i;
	int fd, err;

	c->root_checked_ms = now;
	if (stat(v->watch_path, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (st.st_dev == v->dev && st.st_ino == v->ino) {
		v->watch_err = 0;
		return;
	}
	fd = root_open(v->watch_path, &st);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	v->watch_err = 0;
	if (st.st_dev == v->dev && st.st_ino == v->ino) {
		/* Swapped back between the two looks. */
		(void)close(fd);
		return;
	}
	for (i = 0; i <= c->mask; i++)
		if (c->slots[i] != NULL)
			drop(c, i);
	(void)close(v->rootfd);
	v->rootfd = fd;
	v->dev = st.st_dev;
	v->ino = st.st_ino;
	tw_log(TW_LOG_INFO, 0, "root %s names another directory now; serving it",
	       v->watch_path);
	return;
fail:
	if (err != v->watch_err)
		tw_log(TW_LOG_WARN, err,
		       "root %s cannot be opened; still serving the one before",
		       v->watch_path);
	v->watch_err = err;
}

/* Given back per open that failed for want of descriptors. */
#define SHED_ON_EMFILE	16

/*
 * Open rel beneath the cache's root. Out of descriptors, the cache's own
 * least recently used ones go first and the open is tried once more, so
 * a full cache never turns a request away. hold, if not NULL, is an
 * entry the caller is about to use: a reference keeps the shedding off
 * it.
 */
static int
cache_fs_open(struct tw_fs_cache *c, const char *rel, struct stat *st,
	      struct tw_fs_file *hold)
{
	int fd = tw_fs_open(&c->fs, rel, 0, st);

	if (fd != -EMFILE && fd != -ENFILE)
		return fd;
	if (hold != NULL)
		hold->refs++;
	if (tw_fs_cache_shed(c, SHED_ON_EMFILE) > 0)
		fd = tw_fs_open(&c->fs, rel, 0, st);
	if (hold != NULL)
		hold->refs--;
	return fd;
}

/* Failures of the moment, not of the file: never cached. */
static bool
transient(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM;
}

/* An entry for this request only, outside the table. */
static struct tw_fs_file *
detached(int err)
{
	struct tw_fs_file *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->fd = -1;
	f->err = err;
	f->refs = 1;
	return f;
}

/* Into the table, and within the cache's descriptor budget. */
static void
insert(struct tw_fs_cache *c, size_t slot, struct tw_fs_file *f)
{
	c->slots[slot] = f;
	if (f->fd < 0)
		return;
	lru_push(c, f);
	c->nfds++;
	while (c->nfds > c->fd_max)
		drop(c, slot_of(c, c->lru_tail));
}

struct tw_fs_file *
tw_fs_cache_open(struct tw_fs_cache *c, const char *rel, size_t len)
{
	size_t slot;
	struct tw_fs_file *f;
	uint64_t now = tw_clock_ms();
	struct stat st;
	int fd;

	/* At most one look at the root path per validity period. */
	if (now - c->root_checked_ms >= c->valid_ms)
		root_check(c, now);
	slot = hash_path(rel, len) & c->mask;
	f = c->slots[slot];
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
			lru_touch(c, f);
			f->refs++;
			return f;
		}
		/* Stale: look again, keep what did not change (and so the
		 * caller's derived data). */
		fd = cache_fs_open(c, rel, &st, f);
		if ((fd >= 0 && f->fd >= 0 && same_file(&st, &f->st)) ||
		    (fd < 0 && f->fd < 0 && fd == f->err)) {
			if (fd >= 0)
				(void)close(fd);
			f->checked_ms = now;
			count(c, true);
			lru_touch(c, f);
			f->refs++;
			return f;
		}
	} else {
		fd = cache_fs_open(c, rel, &st, NULL);
	}
	count(c, false);
	/* Out of descriptors or memory says nothing of the file: answer
	 * this request with it, keep what the table knew. */
	if (fd < 0 && transient(fd))
		return detached(fd);
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
	insert(c, slot, f);
	return f;
}
