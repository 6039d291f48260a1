/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for resident, "is this file range in the page cache", on
 * real files under /tmp made cold with POSIX_FADV_DONTNEED: both ways of
 * asking (RWF_NOWAIT probes, mincore) answer 0 for a cold range and 1 for
 * a warm one; the probes trust the middle of a range whose ends are warm,
 * mincore does not; a range with a cold end is cold to both; a file
 * system that takes RWF_NOWAIT leaves nothing learnt. On an overlay mount
 * (root only; made here, unmounted in the teardown) RWF_NOWAIT is refused
 * and tw_resident_check answers through mincore, remembering it for the
 * descriptor (or not, given no memory); a user whom mincore does not tell the truth (neither owner
 * nor writer of the file) gets "nobody can tell"; a descriptor number
 * reused for a file elsewhere still gets right answers.
 *
 * Each test first checks with its own mincore that the page cache is in
 * the state it needs (eviction does not work on tmpfs, say) and skips if
 * not. The RWF_NOWAIT probe of a cold page starts reading it, so every
 * test evicts again after a probe of a cold page (see make_cold).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/resident.h"
#include "support/tree.h"

#define NPAGES	64	/* pages of each test file */

static size_t page;

struct fx {
	char dir[PATH_MAX];	/* /tmp/tw_resident.XXXXXX */
	char merged[PATH_MAX];	/* DIR/m, an overlay mount, or "" */
	int fd;			/* DIR/plain.bin */
	int ofd;		/* MERGED/low.bin, or -1 */
	struct tw_resident r;
};

/* A file of NPAGES pages of a pattern, on disk (fsync: dirty pages
 * cannot be dropped). */
static void
make_file(const char *dir, const char *rel)
{
	char *data = malloc(NPAGES * page);
	char path[PATH_MAX];
	size_t i;
	int fd;

	assert_non_null(data);
	for (i = 0; i < NPAGES * page; i++)
		data[i] = (char)(i * 7 + i / page);
	tree_path(path, sizeof(path), dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, NPAGES * page),
			 (ssize_t)(NPAGES * page));
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(close(fd), 0);
	free(data);
}

static int
open_in(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	int fd;

	tree_path(path, sizeof(path), dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Page i of fd in memory, by our own mincore (independent of the
 * module, and blind only to files the caller cannot write: root here). */
static bool
in_memory(int fd, size_t i)
{
	unsigned char vec;
	char *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		       (off_t)(i * page));

	assert_true(p != MAP_FAILED);
	assert_int_equal(mincore(p, page, &vec), 0);
	assert_int_equal(munmap(p, page), 0);
	return vec & 1;
}

static void
evict(int fd)
{
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
}

static bool
all_out(int fd)
{
	size_t i;

	for (i = 0; i < NPAGES; i++)
		if (in_memory(fd, i))
			return false;
	return true;
}

static void read_all(int fd);

/*
 * Evicted and no page left, else the test is skipped. A RWF_NOWAIT probe
 * of a cold page starts reading it, and a page under a read neither
 * leaves with DONTNEED nor shows in mincore, then arrives after: so the
 * whole file is read first (a blocking read waits for those in flight).
 */
static void
make_cold(int fd)
{
	int tries;

	read_all(fd);
	for (tries = 0; tries < 200; tries++) {
		evict(fd);
		if (all_out(fd))
			return;
		(void)usleep(10 * 1000);
	}
	skip();	/* DONTNEED does not evict here (tmpfs) */
}

static void
read_page(int fd, size_t i)
{
	char buf[64];

	assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)(i * page)),
			 (ssize_t)sizeof(buf));
}

static void
read_all(int fd)
{
	size_t i;

	for (i = 0; i < NPAGES; i++)
		read_page(fd, i);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || !tree_mkdtemp(f->dir, sizeof(f->dir), "tw_resident"))
		return -1;
	f->ofd = -1;
	make_file(f->dir, "plain.bin");
	f->fd = open_in(f->dir, "plain.bin");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	(void)close(f->fd);
	if (f->ofd >= 0)
		(void)close(f->ofd);
	/* Unmounted before the tree goes: rm_tree must not walk into it. */
	if (f->merged[0] != '\0' && umount2(f->merged, MNT_DETACH) < 0)
		fail_msg("umount %s: %s", f->merged, strerror(errno));
	tw_resident_forget(&f->r);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/*
 * DIR/m: an overlay of DIR/l (holding low.bin, made before the mount)
 * with DIR/u and DIR/w; f->ofd opens low.bin through it. Skips when the
 * mount is not allowed (not root, an unprivileged container) or the
 * kernel has no overlayfs.
 */
static void
mount_overlay(struct fx *f)
{
	char opts[4 * PATH_MAX];

	put_dir(f->dir, "l");
	put_dir(f->dir, "u");
	put_dir(f->dir, "w");
	put_dir(f->dir, "m");
	make_file(f->dir, "l/low.bin");
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w",
		 f->dir, f->dir, f->dir);
	tree_path(f->merged, sizeof(f->merged), f->dir, "m");
	if (mount("overlay", f->merged, "overlay", 0, opts) < 0) {
		print_message("# skipped: cannot mount an overlay here (%s; "
			      "root is needed)\n", strerror(errno));
		f->merged[0] = '\0';
		skip();
	}
	f->ofd = open_in(f->merged, "low.bin");
}

static void
resident_empty_range(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tw_resident_nowait(f->fd, 0, 0), 1);
	assert_int_equal(tw_resident_mincore(f->fd, 0, 0), 1);
	assert_int_equal(tw_resident_check(&f->r, f->fd, 5, 0), 1);
}

static void
resident_cold_then_warm(void **state)
{
	struct fx *f = *state;
	uint64_t len = NPAGES * page;

	make_cold(f->fd);
	assert_int_equal(tw_resident_mincore(f->fd, 0, len), 0);
	assert_int_equal(tw_resident_mincore(f->fd, 3 * page + 17, 100), 0);
	if (tw_resident_nowait(f->fd, 0, len) == -EOPNOTSUPP)
		skip();	/* /tmp refuses RWF_NOWAIT: see the overlay tests */
	make_cold(f->fd);
	assert_int_equal(tw_resident_nowait(f->fd, 3 * page + 17, 100), 0);
	make_cold(f->fd);
	assert_int_equal(tw_resident_check(&f->r, f->fd, 0, len), 0);

	read_all(f->fd);
	assert_int_equal(tw_resident_mincore(f->fd, 0, len), 1);
	assert_int_equal(tw_resident_mincore(f->fd, 3 * page + 17, 100), 1);
	assert_int_equal(tw_resident_nowait(f->fd, 0, len), 1);
	assert_int_equal(tw_resident_nowait(f->fd, len - 1, 1), 1);
	assert_int_equal(tw_resident_check(&f->r, f->fd, 0, len), 1);
	/* RWF_NOWAIT works here: nothing to remember, no memory taken. */
	assert_int_equal(f->r.nhow, 0);
	assert_null(f->r.how);
}

static void
resident_ends_and_middle(void **state)
{
	struct fx *f = *state;
	uint64_t len = NPAGES * page;

	/* RANDOM: no readahead, a read brings in the page it reads. */
	assert_int_equal(posix_fadvise(f->fd, 0, 0, POSIX_FADV_RANDOM), 0);

	/* Warm ends, cold middle: the probes trust the middle. */
	make_cold(f->fd);
	read_page(f->fd, 0);
	read_page(f->fd, NPAGES - 1);
	if (!in_memory(f->fd, 0) || !in_memory(f->fd, NPAGES - 1) ||
	    in_memory(f->fd, NPAGES / 2))
		skip();	/* readahead took more than it was asked */
	assert_int_equal(tw_resident_mincore(f->fd, 0, len), 0);
	assert_int_equal(tw_resident_mincore(f->fd, 0, page), 1);
	assert_int_equal(tw_resident_mincore(f->fd, len - page, page), 1);
	if (tw_resident_nowait(f->fd, 0, len) == -EOPNOTSUPP)
		skip();	/* /tmp refuses RWF_NOWAIT */
	assert_int_equal(tw_resident_nowait(f->fd, 0, len), 1);

	/* Warm start, cold end: cold to both. */
	make_cold(f->fd);
	read_page(f->fd, 0);
	if (!in_memory(f->fd, 0) || in_memory(f->fd, NPAGES - 1))
		skip();
	assert_int_equal(tw_resident_mincore(f->fd, 0, len), 0);
	assert_int_equal(tw_resident_nowait(f->fd, 0, len), 0);
}

static void
resident_overlay_uses_mincore(void **state)
{
	struct fx *f = *state;
	uint64_t len = NPAGES * page;
	int fd;

	mount_overlay(f);
	fd = f->ofd;
	make_cold(fd);
	if (tw_resident_nowait(fd, 0, len) != -EOPNOTSUPP)
		skip();	/* this kernel's overlayfs takes RWF_NOWAIT */
	assert_int_equal(tw_resident_check(NULL, fd, 0, len), 0);
	assert_int_equal(tw_resident_check(&f->r, fd, 0, len), 0);
	assert_true(f->r.nhow > (size_t)fd);
	assert_int_not_equal(f->r.how[fd], 0);	/* learnt: mincore */
	assert_int_equal(tw_resident_check(&f->r, fd, page + 1, 10), 0);
	read_page(fd, 0);
	read_page(fd, 1);
	assert_int_equal(tw_resident_check(&f->r, fd, page + 1, 10), 1);
	read_all(fd);
	assert_int_equal(tw_resident_check(&f->r, fd, 0, len), 1);
	assert_int_equal(tw_resident_check(NULL, fd, 0, len), 1);
	make_cold(fd);
	assert_int_equal(tw_resident_check(&f->r, fd, 0, len), 0);
	assert_int_not_equal(f->r.how[fd], 0);

	/* The number now names a file of /tmp: still right answers. */
	assert_int_equal(dup2(f->fd, fd), fd);
	make_cold(fd);
	assert_int_equal(tw_resident_check(&f->r, fd, 0, len), 0);
	read_all(fd);
	assert_int_equal(tw_resident_check(&f->r, fd, 0, len), 1);
}

/*
 * As a user who neither owns nor may write the file, mincore reports
 * every page in memory: the check must say nobody can tell (the window
 * then goes to the pool), and must recover when the number is reused
 * for a file that takes RWF_NOWAIT. Run in a child that drops to uid and
 * gid 65534.
 */
static void
resident_overlay_blind_user(void **state)
{
	struct fx *f = *state;
	uint64_t len = NPAGES * page;
	int fd, status;
	pid_t pid;

	mount_overlay(f);
	fd = f->ofd;
	make_cold(fd);
	if (tw_resident_nowait(fd, 0, len) != -EOPNOTSUPP)
		skip();	/* this kernel's overlayfs takes RWF_NOWAIT */
	make_cold(fd);
	make_cold(f->fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* No cmocka here: an assert would unwind into the parent's
		 * test runner. The exit status is the failing step. */
		struct tw_resident r = { 0 };
		int step = 1;

		if (setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(100);
		if (tw_resident_check(&r, fd, 0, len) != -EOPNOTSUPP)
			_exit(step);
		step++;
		if (r.nhow <= (size_t)fd || r.how[fd] == 0)
			_exit(step);	/* learnt: nobody can tell */
		step++;
		if (tw_resident_check(&r, fd, 0, page) != -EOPNOTSUPP)
			_exit(step);
		step++;
		if (tw_resident_check(NULL, fd, 0, page) != -EOPNOTSUPP)
			_exit(step);
		step++;
		if (dup2(f->fd, fd) != fd)
			_exit(step);
		step++;
		if (tw_resident_check(&r, fd, 0, len) != 0)
			_exit(step);	/* cold, asked by RWF_NOWAIT again */
		step++;
		if (r.how[fd] != 0)
			_exit(step);
		tw_resident_forget(&r);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100)
		skip();	/* cannot drop to uid 65534 */
	if (WEXITSTATUS(status) != 0)
		fail_msg("the child failed at step %d", WEXITSTATUS(status));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(resident_empty_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(resident_cold_then_warm,
						setup, teardown),
		cmocka_unit_test_setup_teardown(resident_ends_and_middle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(resident_overlay_uses_mincore,
						setup, teardown),
		cmocka_unit_test_setup_teardown(resident_overlay_blind_user,
						setup, teardown),
	};

	page = (size_t)sysconf(_SC_PAGESIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
