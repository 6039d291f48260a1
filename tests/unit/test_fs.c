/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for fs: a real tree under mkdtemp(), with symlinks that stay
 * inside, leave the root, dangle and loop, opened under each policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "parse/fs.h"
#include "support/guard.h"
#include "support/tree.h"

#define UTF8_NAME "名字 with spaces.txt"

struct tree {
	char root[64];		/* the served root */
	char out[64];		/* a sibling temp dir outside it */
};

static int
tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char target[PATH_MAX * 2];

	if (t == NULL)
		return -1;
	if (!tree_mkdtemp(t->root, sizeof(t->root), "tw_fs_root") ||
	    !tree_mkdtemp(t->out, sizeof(t->out), "tw_fs_out"))
		return -1;

	put_file(t->out, "secret", "outside\n");

	put_file(t->root, "file.txt", "hello\n");
	put_dir(t->root, "sub");
	put_file(t->root, "sub/inner.txt", "inner\n");
	put_link(t->root, "sub/up", "../file.txt");
	put_file(t->root, ".hidden", "dot\n");
	put_dir(t->root, ".well-known");
	put_file(t->root, ".well-known/x", "wk\n");
	put_dir(t->root, "a");
	put_dir(t->root, "a/.git");
	put_file(t->root, "a/.git/config", "[core]\n");
	put_file(t->root, UTF8_NAME, "utf8\n");
	put_file(t->root, "..a", "dots\n");

	put_link(t->root, "link_in", "file.txt");
	put_link(t->root, "linkdir_in", "sub");
	snprintf(target, sizeof(target), "%s/secret", t->out);
	put_link(t->root, "link_out", target);
	put_link(t->root, "linkdir_out", t->out);
	put_link(t->root, "link_up", "../");
	snprintf(target, sizeof(target), "%s/file.txt", t->root);
	put_link(t->root, "link_abs_in", target);
	put_link(t->root, "loop_a", "loop_b");
	put_link(t->root, "loop_b", "loop_a");
	put_link(t->root, "dangling", "no-such-file");
	put_link(t->root, "proc_self", "/proc/self/root");

	*state = t;
	return 0;
}

static int
tree_teardown(void **state)
{
	struct tree *t = *state;

	rm_tree(t->root);
	rm_tree(t->out);
	free(t);
	return 0;
}

static struct tw_fs *
fs_make(const struct tree *t, enum tw_fs_symlinks symlinks)
{
	struct tw_fs_opts opts = { .root = t->root, .symlinks = symlinks };
	int err = 1;
	struct tw_fs *fs = tw_fs_create(&opts, &err);

	assert_non_null(fs);
	return fs;
}

/* Open rel and compare the first bytes with want, or return -errno. */
static int
open_read(const struct tw_fs *fs, const char *rel, const char *want)
{
	char got[64] = { 0 };
	struct stat st;
	ssize_t n;
	int fd = tw_fs_open(fs, rel, 0, &st);

	if (fd < 0)
		return fd;
	n = read(fd, got, sizeof(got) - 1);
	assert_true(n >= 0);
	assert_string_equal(got, want);
	assert_int_equal(st.st_size, (off_t)strlen(want));
	assert_int_equal(close(fd), 0);
	return 0;
}

/* ---- tw_fs_create ---- */

static void
create_resolves_root_path(void **state)
{
	struct tree *t = *state;
	char indirect[PATH_MAX * 2], *real;
	struct tw_fs_opts opts = { .root = indirect };
	struct tw_fs *fs;
	int err = 0;

	/* A root reached through ".." and a symlink is stored resolved. */
	snprintf(indirect, sizeof(indirect), "%s/linkdir_in/..", t->root);
	fs = tw_fs_create(&opts, &err);
	assert_non_null(fs);
	real = realpath(t->root, NULL);
	assert_non_null(real);
	assert_string_equal(tw_fs_root_path(fs), real);
	assert_int_equal(tw_fs_root_path(fs)[0], '/');
	free(real);
	tw_fs_destroy(fs);
}

static void
create_rejects_missing_root(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX * 2];
	struct tw_fs_opts opts = { .root = path };
	int err = 0;

	snprintf(path, sizeof(path), "%s/no-such-dir", t->root);
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -ENOENT);

	opts.root = "";
	err = 0;
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -ENOENT);
}

static void
create_rejects_file_root(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX * 2];
	struct tw_fs_opts opts = { .root = path };
	int err = 0;

	snprintf(path, sizeof(path), "%s/file.txt", t->root);
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -ENOTDIR);

	/* A symlink to a file is not a directory either. */
	snprintf(path, sizeof(path), "%s/link_in", t->root);
	err = 0;
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -ENOTDIR);
}

static void
create_rejects_bad_opts(void **state)
{
	struct tree *t = *state;
	struct tw_fs_opts opts = { .root = NULL };
	int err = 0;

	assert_null(tw_fs_create(NULL, &err));
	assert_int_equal(err, -EINVAL);
	err = 0;
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -EINVAL);
	opts.root = t->root;
	opts.symlinks = (enum tw_fs_symlinks)42;
	err = 0;
	assert_null(tw_fs_create(&opts, &err));
	assert_int_equal(err, -EINVAL);
	/* err may be NULL. */
	assert_null(tw_fs_create(NULL, NULL));
	tw_fs_destroy(NULL);
}

/* ---- tw_fs_open: plain files and directories ---- */

static void
open_reads_regular_files(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);

	assert_int_equal(open_read(fs, "file.txt", "hello\n"), 0);
	assert_int_equal(open_read(fs, "sub/inner.txt", "inner\n"), 0);
	assert_int_equal(open_read(fs, ".hidden", "dot\n"), 0);
	assert_int_equal(open_read(fs, ".well-known/x", "wk\n"), 0);
	assert_int_equal(open_read(fs, "a/.git/config", "[core]\n"), 0);
	assert_int_equal(open_read(fs, UTF8_NAME, "utf8\n"), 0);
	/* "..a" is a name, not a parent reference. */
	assert_int_equal(open_read(fs, "..a", "dots\n"), 0);
	/* Redundant slashes are harmless. */
	assert_int_equal(open_read(fs, "sub//inner.txt", "inner\n"), 0);
	tw_fs_destroy(fs);
}

static void
open_fd_is_readonly_cloexec(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	int fd = tw_fs_open(fs, "file.txt", 0, NULL);
	int fl;

	assert_true(fd >= 0);
	fl = fcntl(fd, F_GETFD);
	assert_true(fl >= 0 && (fl & FD_CLOEXEC));
	fl = fcntl(fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDONLY);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(close(fd), 0);
	tw_fs_destroy(fs);
}

static void
open_empty_rel_is_root(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_NEVER);
	struct stat st, want;
	int fd;

	assert_int_equal(stat(t->root, &want), 0);
	fd = tw_fs_open(fs, "", O_DIRECTORY, &st);
	assert_true(fd >= 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_ino, want.st_ino);
	assert_int_equal(st.st_dev, want.st_dev);
	assert_int_equal(close(fd), 0);
	tw_fs_destroy(fs);
}

static void
open_directory_flag(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct stat st;
	int fd;

	fd = tw_fs_open(fs, "sub", O_DIRECTORY, &st);
	assert_true(fd >= 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(close(fd), 0);
	assert_int_equal(tw_fs_open(fs, "file.txt", O_DIRECTORY, NULL),
			 -ENOTDIR);
	assert_int_equal(tw_fs_open(fs, "file.txt/x", 0, NULL), -ENOTDIR);
	tw_fs_destroy(fs);
}

static void
open_path_flag(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct stat st;
	char c;
	int fd;

	fd = tw_fs_open(fs, "file.txt", O_PATH, &st);
	assert_true(fd >= 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 6);
	/* An O_PATH descriptor cannot read. */
	assert_int_equal(read(fd, &c, 1), -1);
	assert_int_equal(close(fd), 0);
	/* O_PATH|O_NOFOLLOW yields the link itself. */
	fd = tw_fs_open(fs, "link_in", O_PATH | O_NOFOLLOW, &st);
	assert_true(fd >= 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(close(fd), 0);
	tw_fs_destroy(fs);
}

static void
open_missing(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);

	assert_int_equal(tw_fs_open(fs, "nope", 0, NULL), -ENOENT);
	assert_int_equal(tw_fs_open(fs, "sub/nope", 0, NULL), -ENOENT);
	assert_int_equal(tw_fs_open(fs, "nope/file.txt", 0, NULL), -ENOENT);
	tw_fs_destroy(fs);
}

static void
open_name_too_long(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(tw_fs_open(fs, name, 0, NULL), -ENAMETOOLONG);
	tw_fs_destroy(fs);
}

/* ---- rel validation (every policy) ---- */

static const struct {
	const char *rel;
	int want;
} rel_vectors[] = {
	{ "../x", -EINVAL },
	{ "..", -EINVAL },
	{ "a/..", -EINVAL },
	{ "a/../file.txt", -EINVAL },
	{ "sub/../../x", -EINVAL },
	{ "/etc/passwd", -EINVAL },
	{ "/", -EINVAL },
	{ "..a", 0 },			/* a real name */
	{ "a..", -ENOENT },
	{ "...", -ENOENT },
	{ "sub/..x", -ENOENT },
};

static void
open_rejects_unsafe_rel(void **state)
{
	struct tree *t = *state;
	enum tw_fs_symlinks pol[] = { TW_FS_SYMLINKS_NEVER,
				      TW_FS_SYMLINKS_INSIDE,
				      TW_FS_SYMLINKS_ALWAYS };
	struct stat st;
	size_t i, j;
	int fd;

	for (j = 0; j < sizeof(pol) / sizeof(pol[0]); j++) {
		struct tw_fs *fs = fs_make(t, pol[j]);

		for (i = 0; i < sizeof(rel_vectors) / sizeof(rel_vectors[0]);
		     i++) {
			fd = tw_fs_open(fs, rel_vectors[i].rel, 0, NULL);
			if (fd >= 0)
				assert_int_equal(close(fd), 0);
			else
				assert_int_equal(fd, rel_vectors[i].want);
			assert_int_equal(fd >= 0, rel_vectors[i].want == 0);
			assert_int_equal(
				tw_fs_stat(fs, rel_vectors[i].rel, &st),
				rel_vectors[i].want);
		}
		assert_int_equal(tw_fs_open(fs, NULL, 0, NULL), -EINVAL);
		tw_fs_destroy(fs);
	}
}

static void
open_rejects_other_flags(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_ALWAYS);
	int bad[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tw_fs_open(fs, "file.txt", bad[i], NULL),
				 -EINVAL);
	assert_int_equal(tw_fs_open(fs, "created", O_CREAT, NULL), -EINVAL);
	assert_int_equal(faccessat(AT_FDCWD, t->root, F_OK, 0), 0);
	tw_fs_destroy(fs);
}

/* ---- symlink policy ---- */

/* Expected result per policy: 0 = opens, else -errno. */
static const struct {
	const char *rel;
	int never, inside, always;
} link_vectors[] = {
	{ "link_in", -ELOOP, 0, 0 },
	{ "linkdir_in/inner.txt", -ELOOP, 0, 0 },
	/* sub/up -> ../file.txt stays beneath the root. */
	{ "sub/up", -ELOOP, 0, 0 },
	{ "link_out", -ELOOP, -EXDEV, 0 },
	{ "linkdir_out/secret", -ELOOP, -EXDEV, 0 },
	{ "link_up", -ELOOP, -EXDEV, 0 },	/* the root's parent */
	/* RESOLVE_BENEATH refuses absolute links even to the inside. */
	{ "link_abs_in", -ELOOP, -EXDEV, 0 },
	{ "loop_a", -ELOOP, -ELOOP, -ELOOP },
	{ "dangling", -ELOOP, -ENOENT, -ENOENT },
	/* Magic links are refused under every policy. */
	{ "proc_self/etc", -ELOOP, -EXDEV, -ELOOP },
};

static void
open_applies_symlink_policy(void **state)
{
	struct tree *t = *state;
	struct tw_fs *never = fs_make(t, TW_FS_SYMLINKS_NEVER);
	struct tw_fs *inside = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs *always = fs_make(t, TW_FS_SYMLINKS_ALWAYS);
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(link_vectors) / sizeof(link_vectors[0]); i++) {
		const char *rel = link_vectors[i].rel;
		const struct {
			struct tw_fs *fs;
			int want;
		} cases[] = {
			{ never, link_vectors[i].never },
			{ inside, link_vectors[i].inside },
			{ always, link_vectors[i].always },
		};
		size_t j;

		for (j = 0; j < 3; j++) {
			fd = tw_fs_open(cases[j].fs, rel, 0, NULL);
			if (fd >= 0) {
				assert_int_equal(close(fd), 0);
				fd = 0;
			}
			if (fd != cases[j].want)
				fail_msg("%s policy %zu: got %d want %d",
					 rel, j, fd, cases[j].want);
			assert_int_equal(tw_fs_stat(cases[j].fs, rel, &st),
					 cases[j].want);
		}
	}
	tw_fs_destroy(never);
	tw_fs_destroy(inside);
	tw_fs_destroy(always);
}

static void
open_follows_to_the_right_file(void **state)
{
	struct tree *t = *state;
	struct tw_fs *inside = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs *always = fs_make(t, TW_FS_SYMLINKS_ALWAYS);

	assert_int_equal(open_read(inside, "link_in", "hello\n"), 0);
	assert_int_equal(open_read(inside, "sub/up", "hello\n"), 0);
	assert_int_equal(open_read(always, "link_out", "outside\n"), 0);
	assert_int_equal(open_read(always, "linkdir_out/secret", "outside\n"),
			 0);
	/* O_NOFOLLOW refuses a final symlink even where links are allowed. */
	assert_int_equal(tw_fs_open(always, "link_in", O_NOFOLLOW, NULL),
			 -ELOOP);
	assert_int_equal(tw_fs_open(inside, "link_in", O_NOFOLLOW, NULL),
			 -ELOOP);
	tw_fs_destroy(inside);
	tw_fs_destroy(always);
}

/* ---- tw_fs_stat ---- */

static void
stat_reports_type_and_size(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct stat st;

	assert_int_equal(tw_fs_stat(fs, "file.txt", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 6);
	assert_int_equal(tw_fs_stat(fs, "sub", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(tw_fs_stat(fs, "", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A permitted symlink is followed: the target's type and size. */
	assert_int_equal(tw_fs_stat(fs, "link_in", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 6);
	assert_int_equal(tw_fs_stat(fs, "linkdir_in", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(tw_fs_stat(fs, UTF8_NAME, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(tw_fs_stat(fs, "nope", &st), -ENOENT);
	tw_fs_destroy(fs);
}

static void
stat_does_not_leak_fds(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct stat st;
	int probe, next, i;

	probe = dup(0);
	assert_true(probe >= 0);
	assert_int_equal(close(probe), 0);
	for (i = 0; i < 100; i++) {
		assert_int_equal(tw_fs_stat(fs, "file.txt", &st), 0);
		assert_int_equal(tw_fs_stat(fs, "link_out", &st), -EXDEV);
	}
	next = dup(0);
	assert_int_equal(next, probe);
	assert_int_equal(close(next), 0);
	tw_fs_destroy(fs);
}

/* ---- tw_fs_is_hidden ---- */

static const struct {
	const char *path;
	bool hidden;
} hidden_vectors[] = {
	{ "", false },
	{ "/", false },
	{ "/a", false },
	{ "/a/b/c.txt", false },
	{ "/a.b/c.d", false },
	{ "/a/b.", false },
	{ "/a/", false },
	{ "/.a", true },
	{ "/.", true },
	{ "/a/.b/c", true },
	{ "/a/b/.c", true },
	{ "/a//.b", true },
	{ "/.git/config", true },
	{ "/a/.git/config", true },
	{ "/.well-known/x", false },
	{ "/.well-known/", false },
	{ "/.well-known", false },
	{ "/.well-known/acme-challenge/tok", false },
	{ "/.well-known/.x", true },
	{ "/.well-known/a/.x", true },
	{ "/a/.well-known/x", true },
	{ "/.well-knownx", true },
	{ "/.well-know", true },
	{ "/.WELL-KNOWN/x", true },
	{ "//.well-known/x", false },
};

static void
is_hidden_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hidden_vectors) / sizeof(hidden_vectors[0]);
	     i++) {
		struct guard g;
		size_t len = strlen(hidden_vectors[i].path);
		const char *p = guard_copy(&g, hidden_vectors[i].path, len);

		if (tw_fs_is_hidden(p, len) != hidden_vectors[i].hidden)
			fail_msg("is_hidden(\"%s\") != %d",
				 hidden_vectors[i].path,
				 hidden_vectors[i].hidden);
		guard_free(&g);
	}
}

static void
is_hidden_stops_at_len(void **state)
{
	(void)state;
	/* Only path[0..len) counts; no NUL is needed or read. */
	assert_false(tw_fs_is_hidden("/a/.b", 3));
	assert_true(tw_fs_is_hidden("/a/.b", 4));
	assert_false(tw_fs_is_hidden("/.well-known", 0));
	assert_true(tw_fs_is_hidden("/.well-known", 6));
}

/* ---- the open-file cache ---- */

static void
cache_hit_keeps_the_descriptor(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_file *a, *b;
	uint64_t hits, misses;

	put_file(t->root, "c.txt", "cached");
	tw_clock_update();
	a = tw_fs_cache_open(c, "c.txt", 5);
	assert_non_null(a);
	assert_int_equal(a->err, 0);
	b = tw_fs_cache_open(c, "c.txt", 5);
	assert_ptr_equal(a, b);
	assert_int_equal(a->fd, b->fd);
	tw_fs_cache_counts(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	tw_fs_cache_release(a);
	tw_fs_cache_release(b);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_keeps_failures_for_the_validity_time(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *slow = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_cache *now = tw_fs_cache_create(fs, 16, 0);
	struct tw_fs_file *f;

	tw_clock_update();
	f = tw_fs_cache_open(slow, "late.txt", 8);
	assert_int_equal(f->err, -ENOENT);
	tw_fs_cache_release(f);
	f = tw_fs_cache_open(now, "late.txt", 8);
	assert_int_equal(f->err, -ENOENT);
	tw_fs_cache_release(f);
	put_file(t->root, "late.txt", "here");
	/* Within 60 s the negative entry stands; with 0 it is looked at
	 * again on every use. */
	f = tw_fs_cache_open(slow, "late.txt", 8);
	assert_int_equal(f->err, -ENOENT);
	tw_fs_cache_release(f);
	f = tw_fs_cache_open(now, "late.txt", 8);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->st.st_size, 4);
	tw_fs_cache_release(f);
	tw_fs_cache_destroy(slow);
	tw_fs_cache_destroy(now);
	tw_fs_destroy(fs);
}

static void
cache_sees_a_rewrite_in_place_at_once(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_file *f;
	char *mem;

	tw_fs_cache_set_content_max(c, 1024);
	put_file(t->root, "w.txt", "one");
	tw_clock_update();
	f = tw_fs_cache_open(c, "w.txt", 5);
	f->data_valid = true;
	mem = tw_fs_file_keep_content(f, 3);
	assert_non_null(mem);
	memcpy(mem, "one", 3);
	f->content_len = 3;
	tw_fs_cache_release(f);
	rewrite_file(t->root, "w.txt", "second");
	/* Within the same event batch too: the batch may have accepted the
	 * connection of a client that saw the first answer and then
	 * rewrote the file (integration test_changed_file_changes_etag). */
	f = tw_fs_cache_open(c, "w.txt", 5);
	assert_int_equal(f->st.st_size, 6);
	assert_false(f->data_valid);
	assert_null(f->content);
	tw_fs_cache_release(f);
	/* And in the next batch, of course. */
	rewrite_file(t->root, "w.txt", "third!!");
	tw_clock_update();
	f = tw_fs_cache_open(c, "w.txt", 5);
	assert_int_equal(f->st.st_size, 7);
	tw_fs_cache_release(f);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_sees_replaced_and_deleted_files_after_validity(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 0);
	struct tw_fs_file *f, *old;
	char from[PATH_MAX], to[PATH_MAX];
	ino_t ino;

	put_file(t->root, "r.txt", "old");
	tw_clock_update();
	old = tw_fs_cache_open(c, "r.txt", 5);
	ino = old->st.st_ino;
	/* A new file renamed over the path, as editors and rsync do. */
	put_file(t->root, "r.new", "new!");
	snprintf(from, sizeof(from), "%s/r.new", t->root);
	snprintf(to, sizeof(to), "%s/r.txt", t->root);
	assert_int_equal(rename(from, to), 0);
	f = tw_fs_cache_open(c, "r.txt", 5);
	assert_int_not_equal(f->st.st_ino, ino);
	assert_int_equal(f->st.st_size, 4);
	/* The old entry is still usable by whoever holds it. */
	assert_int_equal(old->st.st_size, 3);
	tw_fs_cache_release(old);
	tw_fs_cache_release(f);
	assert_int_equal(unlink(to), 0);
	f = tw_fs_cache_open(c, "r.txt", 5);
	assert_int_equal(f->err, -ENOENT);
	assert_int_equal(f->fd, -1);
	tw_fs_cache_release(f);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_content_stays_within_budget(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_file *a, *b;

	tw_fs_cache_set_content_max(c, 10);
	put_file(t->root, "ca.bin", "123456");
	put_file(t->root, "cb.bin", "123456");
	tw_clock_update();
	a = tw_fs_cache_open(c, "ca.bin", 6);
	b = tw_fs_cache_open(c, "cb.bin", 6);
	assert_non_null(tw_fs_file_keep_content(a, 6));
	assert_null(tw_fs_file_keep_content(a, 6));	/* already has one */
	assert_null(tw_fs_file_keep_content(b, 6));	/* 12 > 10 */
	tw_fs_cache_release(a);
	tw_fs_cache_release(b);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_entry_outlives_the_cache(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_file *f;
	char buf[8] = { 0 };

	put_file(t->root, "o.txt", "out");
	tw_clock_update();
	f = tw_fs_cache_open(c, "o.txt", 5);
	tw_fs_cache_destroy(c);
	/* A response still sending from it keeps the descriptor open. */
	assert_int_equal(pread(f->fd, buf, 3, 0), 3);
	assert_string_equal(buf, "out");
	tw_fs_cache_release(f);
	tw_fs_destroy(fs);
}

/* ---- a root swapped by a deploy ---- */

/* The first bytes of f's file, as a response would send them. */
static void
assert_reads(const struct tw_fs_file *f, const char *want)
{
	char got[16] = { 0 };

	assert_non_null(f);
	assert_int_equal(f->err, 0);
	assert_int_equal(pread(f->fd, got, sizeof(got) - 1, 0),
			 (ssize_t)strlen(want));
	assert_string_equal(got, want);
}

static void
assert_cache_reads(struct tw_fs_cache *c, const char *rel, const char *want)
{
	struct tw_fs_file *f = tw_fs_cache_open(c, rel, strlen(rel));

	assert_reads(f, want);
	tw_fs_cache_release(f);
}

static int
cache_err(struct tw_fs_cache *c, const char *rel)
{
	struct tw_fs_file *f = tw_fs_cache_open(c, rel, strlen(rel));
	int err;

	assert_non_null(f);
	err = f->err;
	tw_fs_cache_release(f);
	return err;
}

/* out/r1 and out/r2, two releases, and out/current -> r1. */
static struct tw_fs *
releases_make(const struct tree *t, char *current, size_t size)
{
	struct tw_fs_opts opts = { .symlinks = TW_FS_SYMLINKS_INSIDE };
	struct tw_fs *fs;
	int err = 1;

	put_dir(t->out, "r1");
	put_file(t->out, "r1/v.txt", "1");
	put_file(t->out, "r1/only1", "one");
	put_dir(t->out, "r1/d");
	put_dir(t->out, "r2");
	put_file(t->out, "r2/v.txt", "2");
	put_file(t->out, "r2/only2", "two");
	put_link(t->out, "current", "r1");
	tree_path(current, size, t->out, "current");
	opts.root = current;
	fs = tw_fs_create(&opts, &err);
	assert_non_null(fs);
	return fs;
}

/* As deploy tools do: a new link renamed over the old, atomically. */
static void
swap_current(const struct tree *t, const char *target)
{
	char tmp[PATH_MAX], current[PATH_MAX];

	put_link(t->out, "current.tmp", target);
	tree_path(tmp, sizeof(tmp), t->out, "current.tmp");
	tree_path(current, sizeof(current), t->out, "current");
	assert_int_equal(rename(tmp, current), 0);
}

static void
cache_follows_a_swapped_root_link(void **state)
{
	struct tree *t = *state;
	char current[PATH_MAX], r1[PATH_MAX];
	struct tw_fs *fs = releases_make(t, current, sizeof(current));
	struct tw_fs_cache *slow = tw_fs_cache_create(fs, 16, 60000);
	struct tw_fs_cache *now = tw_fs_cache_create(fs, 16, 0);
	struct tw_fs_file *held;
	struct stat st;

	tw_clock_update();
	assert_cache_reads(slow, "v.txt", "1");
	held = tw_fs_cache_open(now, "v.txt", 5);
	assert_reads(held, "1");
	swap_current(t, "r2");
	/* Within the validity period the root is not looked at again. */
	assert_cache_reads(slow, "v.txt", "1");
	assert_int_equal(cache_err(slow, "only1"), 0);
	/* After it, the new release is served, all of it. */
	assert_cache_reads(now, "v.txt", "2");
	assert_cache_reads(now, "only2", "two");
	assert_int_equal(cache_err(now, "only1"), -ENOENT);
	assert_int_equal(cache_err(now, "d"), -ENOENT);
	/* And opened beside the cache's entries (a listing's), too. */
	assert_int_equal(tw_fs_stat(tw_fs_cache_fs(now), "only2", &st), 0);
	assert_int_equal(tw_fs_stat(tw_fs_cache_fs(now), "only1", &st),
			 -ENOENT);
	/* The generation's own fs is left as it was, for other loops. */
	assert_int_equal(tw_fs_stat(fs, "only1", &st), 0);
	/* A response under way finishes with the old release's bytes,
	 * even once that release is deleted. */
	tree_path(r1, sizeof(r1), t->out, "r1");
	rm_tree(r1);
	assert_int_equal(stat(r1, &st), -1);
	assert_reads(held, "1");
	tw_fs_cache_release(held);
	assert_cache_reads(now, "v.txt", "2");
	assert_cache_reads(now, "only2", "two");
	assert_int_equal(cache_err(now, "only1"), -ENOENT);
	tw_fs_cache_destroy(slow);
	tw_fs_cache_destroy(now);
	tw_fs_destroy(fs);
}

static void
cache_keeps_the_root_when_the_path_fails(void **state)
{
	struct tree *t = *state;
	char current[PATH_MAX];
	struct tw_fs *fs = releases_make(t, current, sizeof(current));
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 16, 0);

	tw_clock_update();
	assert_cache_reads(c, "v.txt", "1");
	/* Gone: the old root is still served. */
	assert_int_equal(unlink(current), 0);
	assert_cache_reads(c, "v.txt", "1");
	assert_cache_reads(c, "v.txt", "1");
	/* Not a directory, or one that cannot be searched: the same. */
	put_file(t->out, "current", "a file");
	assert_cache_reads(c, "v.txt", "1");
	assert_int_equal(unlink(current), 0);
	if (geteuid() != 0) {	/* root searches any directory */
		put_dir(t->out, "locked");
		put_file(t->out, "locked/v.txt", "3");
		put_link(t->out, "current", "locked");
		assert_int_equal(chmod(current, 0), 0);
		assert_cache_reads(c, "v.txt", "1");
		assert_int_equal(chmod(current, 0755), 0);
		/* Once it can be, it is served. */
		assert_cache_reads(c, "v.txt", "3");
		assert_int_equal(unlink(current), 0);
	}
	/* Back to a release that can be opened: served at once. */
	put_link(t->out, "current", "r2");
	assert_cache_reads(c, "v.txt", "2");
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_follows_a_directory_renamed_over_the_root(void **state)
{
	struct tree *t = *state;
	char www[PATH_MAX], old[PATH_MAX], next[PATH_MAX];
	struct tw_fs_opts opts = { .symlinks = TW_FS_SYMLINKS_INSIDE };
	struct tw_fs *fs;
	struct tw_fs_cache *c;
	int err = 1;

	put_dir(t->out, "www");
	put_file(t->out, "www/v.txt", "1");
	put_dir(t->out, "next");
	put_file(t->out, "next/v.txt", "2");
	tree_path(www, sizeof(www), t->out, "www");
	tree_path(old, sizeof(old), t->out, "www.old");
	tree_path(next, sizeof(next), t->out, "next");
	opts.root = www;
	fs = tw_fs_create(&opts, &err);
	assert_non_null(fs);
	c = tw_fs_cache_create(fs, 16, 0);
	tw_clock_update();
	assert_cache_reads(c, "v.txt", "1");
	assert_int_equal(rename(www, old), 0);
	assert_int_equal(rename(next, www), 0);
	assert_cache_reads(c, "v.txt", "2");
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

/* ---- the cache within its descriptors ---- */

static void
fd_share_is_a_quarter_split_between_loops(void **state)
{
	(void)state;
	assert_int_equal(tw_fs_cache_fd_share(1024, 1), 256);
	assert_int_equal(tw_fs_cache_fd_share(1024, 2), 128);
	assert_int_equal(tw_fs_cache_fd_share(256, 1), 64);
	assert_int_equal(tw_fs_cache_fd_share(256, 4), 16);
	assert_int_equal(tw_fs_cache_fd_share(1024, 0), 256);
	/* Never none, never beyond the cap. */
	assert_int_equal(tw_fs_cache_fd_share(3, 1), 1);
	assert_int_equal(tw_fs_cache_fd_share(64, 64), 1);
	assert_int_equal(tw_fs_cache_fd_share(1u << 20, 1), TW_FS_CACHE_FDS_MAX);
}

/* Open name through c and let go of it; returns its descriptor. */
static int
use(struct tw_fs_cache *c, const char *name)
{
	struct tw_fs_file *f = tw_fs_cache_open(c, name, strlen(name));
	int fd;

	assert_non_null(f);
	assert_int_equal(f->err, 0);
	fd = f->fd;
	tw_fs_cache_release(f);
	return fd;
}

static void
put_numbered(const char *root, int n)
{
	char name[16];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		put_file(root, name, "n");
	}
}

static uint64_t
hits_of(struct tw_fs_cache *c)
{
	uint64_t hits, misses;

	tw_fs_cache_counts(c, &hits, &misses);
	return hits;
}

static void
cache_keeps_at_most_fd_max_descriptors(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 1024, 60000);
	char name[16];
	int i;

	put_numbered(t->root, 10);
	tw_clock_update();
	tw_fs_cache_set_fd_max(c, 4);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		(void)use(c, name);
		assert_int_equal(tw_fs_cache_fds(c), i < 4 ? (size_t)i + 1 : 4);
	}
	/* The four most recent stayed; the oldest went. */
	(void)use(c, "n9");
	(void)use(c, "n6");
	assert_int_equal(hits_of(c), 2);
	(void)use(c, "n0");
	assert_int_equal(hits_of(c), 2);
	/* A smaller budget applies at once. */
	tw_fs_cache_set_fd_max(c, 1);
	assert_int_equal(tw_fs_cache_fds(c), 1);
	(void)use(c, "n0");
	assert_int_equal(hits_of(c), 3);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

static void
cache_sheds_from_the_least_recently_used_end(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 1024, 60000);
	struct tw_fs_file *held;
	char name[16];
	int fd[8], i;

	put_numbered(t->root, 8);
	tw_clock_update();
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		fd[i] = use(c, name);
	}
	/* n0 used again: the least recent is now n1, which is in use. */
	(void)use(c, "n0");
	held = tw_fs_cache_open(c, "n1", 2);
	assert_int_equal(hits_of(c), 2);
	assert_int_equal(tw_fs_cache_shed(c, 3), 3);
	assert_int_equal(tw_fs_cache_fds(c), 5);
	/* n2, n3, n4 closed; n1 skipped, as closing it frees nothing. */
	for (i = 2; i <= 4; i++)
		assert_int_equal(fcntl(fd[i], F_GETFD), -1);
	assert_true(fcntl(fd[1], F_GETFD) >= 0);
	assert_true(fcntl(fd[5], F_GETFD) >= 0);
	(void)use(c, "n5");
	(void)use(c, "n0");
	assert_int_equal(hits_of(c), 4);
	(void)use(c, "n2");
	assert_int_equal(hits_of(c), 4);
	/* More than it holds: all but the one in use. */
	assert_int_equal(tw_fs_cache_shed(c, 100), 5);
	assert_int_equal(tw_fs_cache_fds(c), 1);
	tw_fs_cache_release(held);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

/* Use up every descriptor below a lowered soft limit; *saved is the
 * limit to restore, fill[] what to close. Returns how many it opened. */
static int
exhaust(struct rlimit *saved, int *fill, int room)
{
	struct rlimit low;
	int n = 0, probe = open("/dev/null", O_RDONLY);

	assert_true(probe >= 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	low = *saved;
	low.rlim_cur = (rlim_t)probe + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	fill[n++] = probe;
	while (n < room && (fill[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	assert_int_equal(errno, EMFILE);
	return n;
}

static void
restore(const struct rlimit *saved, const int *fill, int n)
{
	int i;

	for (i = 0; i < n; i++)
		(void)close(fill[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, saved), 0);
}

static void
cache_open_sheds_when_out_of_descriptors(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 1024, 60000);
	struct tw_fs_file *f;
	struct rlimit saved;
	int fill[64], nfill, i;
	char name[16];

	put_numbered(t->root, 25);
	tw_clock_update();
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		(void)use(c, name);
	}
	nfill = exhaust(&saved, fill, 64);
	f = tw_fs_cache_open(c, "n24", 3);
	assert_non_null(f);
	assert_int_equal(f->err, 0);
	assert_true(tw_fs_cache_fds(c) < 24);
	tw_fs_cache_release(f);
	/* The oldest went for it, the newest stayed. */
	(void)use(c, "n23");
	(void)use(c, "n24");
	assert_int_equal(hits_of(c), 2);
	(void)use(c, "n0");
	assert_int_equal(hits_of(c), 2);
	restore(&saved, fill, nfill);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

/* Out of descriptors says nothing about the file: not kept as a failure. */
static void
cache_does_not_keep_emfile(void **state)
{
	struct tree *t = *state;
	struct tw_fs *fs = fs_make(t, TW_FS_SYMLINKS_INSIDE);
	struct tw_fs_cache *c = tw_fs_cache_create(fs, 1024, 60000);
	struct tw_fs_file *f;
	struct rlimit saved;
	int fill[64], nfill;

	put_numbered(t->root, 1);
	tw_clock_update();
	nfill = exhaust(&saved, fill, 64);
	f = tw_fs_cache_open(c, "n0", 2);
	assert_non_null(f);
	assert_int_equal(f->err, -EMFILE);
	tw_fs_cache_release(f);
	restore(&saved, fill, nfill);
	f = tw_fs_cache_open(c, "n0", 2);
	assert_non_null(f);
	assert_int_equal(f->err, 0);
	tw_fs_cache_release(f);
	tw_fs_cache_destroy(c);
	tw_fs_destroy(fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)
		T(create_resolves_root_path),
		T(create_rejects_missing_root),
		T(create_rejects_file_root),
		T(create_rejects_bad_opts),
		T(open_reads_regular_files),
		T(open_fd_is_readonly_cloexec),
		T(open_empty_rel_is_root),
		T(open_directory_flag),
		T(open_path_flag),
		T(open_missing),
		T(open_name_too_long),
		T(open_rejects_unsafe_rel),
		T(open_rejects_other_flags),
		T(open_applies_symlink_policy),
		T(open_follows_to_the_right_file),
		T(stat_reports_type_and_size),
		T(stat_does_not_leak_fds),
		T(cache_hit_keeps_the_descriptor),
		T(cache_keeps_failures_for_the_validity_time),
		T(cache_sees_a_rewrite_in_place_at_once),
		T(cache_sees_replaced_and_deleted_files_after_validity),
		T(cache_content_stays_within_budget),
		T(cache_entry_outlives_the_cache),
		T(cache_follows_a_swapped_root_link),
		T(cache_keeps_the_root_when_the_path_fails),
		T(cache_follows_a_directory_renamed_over_the_root),
		T(cache_keeps_at_most_fd_max_descriptors),
		T(cache_sheds_from_the_least_recently_used_end),
		T(cache_open_sheds_when_out_of_descriptors),
		T(cache_does_not_keep_emfile),
#undef T
		cmocka_unit_test(is_hidden_vectors),
		cmocka_unit_test(is_hidden_stops_at_len),
		cmocka_unit_test(fd_share_is_a_quarter_split_between_loops),
	};

	/* The root tests make fs warn, as they mean to; not on the TAP. */
	tw_log_set_level(TW_LOG_ERROR);
	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
