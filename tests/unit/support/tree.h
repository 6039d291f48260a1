/* SPDX-License-Identifier: MIT */
/*
 * Temporary file trees for the unit tests: a fresh directory under /tmp,
 * files, directories and symlinks put in it (a failure fails the test
 * at once), and the whole tree removed at the end. Paths are DIR/REL.
 *
 *   tree_mkdtemp(buf, size, name)    mkdtemp /tmp/NAME.XXXXXX into buf
 *   put_data(dir, rel, data, n)      a file of n bytes (created/truncated)
 *   put_file(dir, rel, text)         a file holding a C string
 *   put_file_size(dir, rel, size)    a sparse file of size bytes
 *   rewrite_file(dir, rel, text)     rewrite in place (same inode, O_TRUNC)
 *   put_dir(dir, rel)                a directory
 *   put_link(dir, rel, target)       a symlink to target
 *   rm_tree(dir)                     remove dir and all below it
 */
#ifndef TW_TEST_TREE_H
#define TW_TEST_TREE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdtemp /tmp/NAME.XXXXXX into buf; false if it cannot be made. */
static inline bool
tree_mkdtemp(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "/tmp/%s.XXXXXX", name);

	return n > 0 && (size_t)n < size && mkdtemp(buf) != NULL;
}

static inline void
tree_path(char *path, size_t size, const char *dir, const char *rel)
{
	int n = snprintf(path, size, "%s/%s", dir, rel);

	assert_true(n > 0 && (size_t)n < size);
}

static inline void
tree_write(const char *dir, const char *rel, int flags, const void *data,
	   size_t n)
{
	char path[PATH_MAX];
	int fd;

	tree_path(path, sizeof(path), dir, rel);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | flags, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static inline void
put_data(const char *dir, const char *rel, const void *data, size_t n)
{
	tree_write(dir, rel, O_CREAT, data, n);
}

static inline void
put_file(const char *dir, const char *rel, const char *text)
{
	tree_write(dir, rel, O_CREAT, text, strlen(text));
}

/* In place: the same inode gets a new size and mtime. */
static inline void
rewrite_file(const char *dir, const char *rel, const char *text)
{
	tree_write(dir, rel, 0, text, strlen(text));
}

static inline void
put_file_size(const char *dir, const char *rel, off_t size)
{
	char path[PATH_MAX];
	int fd;

	tree_path(path, sizeof(path), dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(close(fd), 0);
}

static inline void
put_dir(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	tree_path(path, sizeof(path), dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static inline void
put_link(const char *dir, const char *rel, const char *target)
{
	char path[PATH_MAX];

	tree_path(path, sizeof(path), dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static inline int
tree_rm_one(const char *path, const struct stat *st, int flag,
	    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything below it (symlinks are not followed). */
static inline void
rm_tree(const char *dir)
{
	(void)nftw(dir, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
