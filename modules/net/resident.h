/* SPDX-License-Identifier: MIT */
/*
 * resident: are a file range's pages in the page cache? Asked before a
 * sendfile that must not wait for the disk. The cheap question is a
 * one-byte read that refuses to wait (preadv2 RWF_NOWAIT); file systems
 * that refuse such reads (overlayfs: most container images) are asked
 * through mincore() on a mapping of the range instead, and files even
 * that cannot see into are reported as unknown. Layer 1: knows nothing
 * of what the files are.
 */
#ifndef TW_RESIDENT_H
#define TW_RESIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What a loop learnt about its descriptors: how to ask for each one,
 * by descriptor number, so that a file system refusing RWF_NOWAIT costs
 * one refused read per descriptor, not one per window. Zeroed: ask
 * every descriptor with RWF_NOWAIT first. Not thread-safe (one per loop).
 * A number closed and reused for another file keeps the old way of
 * asking: every way gives a right answer on any file, the old one may
 * only cost a syscall or two more (see tw_resident_check).
 */
struct tw_resident {
	unsigned char *how;	/* per fd; malloc'd, grown on demand */
	size_t nhow;
};

/*
 * Whether [off, off + len) of fd is in memory, learning in r how to ask
 * about fd: 1 yes, 0 not all of it (a pool thread should read it),
 * -EOPNOTSUPP nobody can tell (treat as 0), another -errno if reading
 * fd fails (the read that follows will say so). With RWF_NOWAIT the
 * range's first and last pages are probed (a file read in part is read
 * from its start, so a hole in the middle is rare); with mincore every
 * page is checked. len 0 is in memory. r may be NULL: nothing learnt,
 * a refused RWF_NOWAIT read (and, not as root, an fstat and an access
 * check) on every call.
 */
int tw_resident_check(struct tw_resident *r, int fd, uint64_t off,
		      uint64_t len);

/* Free what r learnt; r is zeroed and can be used again. */
void tw_resident_forget(struct tw_resident *r);

/*
 * The two ways, for tests: RWF_NOWAIT reads of the first and last bytes
 * (-EOPNOTSUPP where the file system refuses them), and mincore on a
 * transient read-only shared mapping of the range (-errno if it cannot
 * be mapped). The kernel reports every page of a file the caller
 * neither owns nor may write as in memory; tw_resident_check does not
 * trust mincore on such files.
 */
int tw_resident_nowait(int fd, uint64_t off, uint64_t len);

/*
 * Read the first size bytes of fd into buf without waiting for the
 * disk: true only if all of them were in memory and read. RWF_NOWAIT
 * where the file system takes it; elsewhere (overlay) a plain pread
 * only when mincore says the pages are in memory. False: the caller
 * sends or reads another way (sendfile, the aio pool).
 */
bool tw_resident_read(int fd, void *buf, size_t size);
int tw_resident_mincore(int fd, uint64_t off, uint64_t len);

#endif /* TW_RESIDENT_H */
