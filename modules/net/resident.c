/* SPDX-License-Identifier: MIT */
/*
 * resident: RWF_NOWAIT probes where the file system takes them, mincore
 * where it refuses them. overlayfs (6.18) gives EOPNOTSUPP to every
 * RWF_NOWAIT read but maps the underlying file, so mincore sees the very
 * page cache sendfile will read from.
 */
#include "net/resident.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define VEC_PAGES	256	/* pages per mincore call: 1 MiB of 4 KiB */
#define HOW_MIN		64	/* first size of the per-fd table */

/* How to ask about a descriptor (struct tw_resident's how[fd]). */
enum {
	ASK_NOWAIT,	/* zero: what every descriptor starts with */
	ASK_MINCORE,	/* RWF_NOWAIT refused, mincore sees the pages */
	ASK_NOBODY,	/* RWF_NOWAIT refused, mincore blind to this file */
};

/* 1 if the byte at off is in memory (or past the end), 0 if not. */
static int
probe(int fd, uint64_t off)
{
	char byte;
	struct iovec v = { .iov_base = &byte, .iov_len = 1 };

	if (preadv2(fd, &v, 1, (off_t)off, RWF_NOWAIT) >= 0)
		return 1;
	if (errno == EAGAIN)
		return 0;
	/* EINVAL as http/static reads it: a kernel or file that does not
	 * know the flag. */
	if (errno == EOPNOTSUPP || errno == EINVAL)
		return -EOPNOTSUPP;
	return -errno;
}

int
tw_resident_nowait(int fd, uint64_t off, uint64_t len)
{
	int r;

	if (len == 0)
		return 1;
	r = probe(fd, off);
	if (r != 1 || len == 1)
		return r;
	return probe(fd, off + len - 1);
}

int
tw_resident_mincore(int fd, uint64_t off, uint64_t len)
{
	unsigned char vec[VEC_PAGES];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t start = off - off % page;
	size_t size, done, i;
	char *p;
	int r = 1;

	if (len == 0)
		return 1;
	if (off + len < off || off + len - start > SIZE_MAX - page)
		return -EOVERFLOW;
	size = (size_t)(off + len - start);
	/* Address space only: mincore looks the pages up in the file's
	 * cache without faulting any in, so munmap has no page to drop. */
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, (off_t)start);
	if (p == MAP_FAILED)
		return -errno;
	for (done = 0; done < size && r == 1; done += VEC_PAGES * page) {
		size_t n = size - done < VEC_PAGES * page ?
			   size - done : VEC_PAGES * page;

		if (mincore(p + done, n, vec) < 0) {
			r = -errno;
			break;
		}
		for (i = 0; i < (n + page - 1) / page; i++) {
			if (!(vec[i] & 1)) {
				r = 0;
				break;
			}
		}
	}
	(void)munmap(p, size);
	return r;
}

/*
 * Whether mincore tells the truth about fd: since Linux 5.0 it reports
 * every page of a file as in memory unless the caller owns the file, may
 * write it, or holds CAP_FOWNER (can_do_mincore; a guard against
 * watching another user's page cache). root stands in for CAP_FOWNER.
 */
static bool
mincore_sees(int fd)
{
	struct stat st;

	if (geteuid() == 0)
		return true;
	if (fstat(fd, &st) == 0 && st.st_uid == geteuid())
		return true;
	return faccessat(fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS) == 0;
}

/* Remember how to ask about fd; out of memory forgets (and asks the long
 * way again next time). */
static void
learn(struct tw_resident *r, int fd, unsigned char how)
{
	if ((size_t)fd >= r->nhow) {
		size_t n = r->nhow > 0 ? r->nhow : HOW_MIN;
		unsigned char *p;

		while (n <= (size_t)fd)
			n *= 2;
		p = realloc(r->how, n);
		if (p == NULL)
			return;
		memset(p + r->nhow, ASK_NOWAIT, n - r->nhow);
		r->how = p;
		r->nhow = n;
	}
	r->how[fd] = how;
}

int
tw_resident_check(struct tw_resident *r, int fd, uint64_t off,
		  uint64_t len)
{
	unsigned char how = r != NULL && fd >= 0 && (size_t)fd < r->nhow ?
			    r->how[fd] : ASK_NOWAIT;
	int ret;

	if (how != ASK_MINCORE) {
		/* ASK_NOBODY tries again too: its answer goes to the pool,
		 * which costs far more than one refused read, and a number
		 * reused for a file elsewhere is then asked right again. */
		ret = tw_resident_nowait(fd, off, len);
		if (ret != -EOPNOTSUPP) {
			if (how != ASK_NOWAIT)
				r->how[fd] = ASK_NOWAIT;
			return ret;
		}
		if (how == ASK_NOBODY)
			return -EOPNOTSUPP;
		how = mincore_sees(fd) ? ASK_MINCORE : ASK_NOBODY;
		if (r != NULL)
			learn(r, fd, how);
		if (how == ASK_NOBODY)
			return -EOPNOTSUPP;
	}
	ret = tw_resident_mincore(fd, off, len);
	return ret < 0 ? -EOPNOTSUPP : ret;
}

void
tw_resident_forget(struct tw_resident *r)
{
	free(r->how);
	r->how = NULL;
	r->nhow = 0;
}

/*
 * RWF_NOWAIT fails (EAGAIN) or reads short when pages are not in memory;
 * the caller then sends by sendfile, which brings them in for the next
 * request, or reads through the aio pool. Filesystems that cannot do
 * RWF_NOWAIT (overlay) get a plain pread only when mincore says the
 * pages are in memory, so their hot files still go from memory and their
 * cold ones from the aio pool.
 */
bool
tw_resident_read(int fd, void *buf, size_t size)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	ssize_t n = preadv2(fd, &iov, 1, 0, RWF_NOWAIT);

	if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL) &&
	    tw_resident_check(NULL, fd, 0, size) == 1)
		n = pread(fd, buf, size, 0);
	return n == (ssize_t)size;
}
