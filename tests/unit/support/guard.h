/* SPDX-License-Identifier: MIT */
/*
 * Guard-page copies of test inputs: the bytes end exactly at a PROT_NONE
 * page, so a parser that reads one byte too far faults at once, with or
 * without ASan (the picohttpparser test.c trick).
 */
#ifndef TW_TEST_GUARD_H
#define TW_TEST_GUARD_H

#include <assert.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
	void *map;
	size_t maplen;
};

/* Copy s[0..len) so that it ends right before an inaccessible page. */
static inline const char *
guard_copy(struct guard *g, const void *s, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + page - 1) / page * page;
	char *p;

	if (data == 0)
		data = page;
	g->maplen = data + page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert(g->map != MAP_FAILED);
	p = (char *)g->map + data;
	(void)mprotect(p, page, PROT_NONE);
	memcpy(p - len, s, len);
	return p - len;
}

static inline void
guard_free(struct guard *g)
{
	(void)munmap(g->map, g->maplen);
}

#endif /* TW_TEST_GUARD_H */
