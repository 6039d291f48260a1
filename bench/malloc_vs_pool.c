/* SPDX-License-Identifier: MIT */
/*
 * malloc_vs_pool: times modules/base/pool.c's tw_pool_alloc/tw_pool_free
 * against malloc/free, so the server uses the pool only where it wins
 * (DESIGN.md "Memory"). Three patterns:
 *   - lifo:  allocate 64 blocks of one size, free them newest first;
 *   - mixed: blocks of sizes 16..128 kept live in a ring of 4096 and
 *            replaced in a pseudo-random order (fragmenting frees);
 *   - conn:  a realistic connection lifetime on one event loop, with
 *            1,000 connections open at once: a 120-byte connection, a
 *            56-byte HTTP state, a 4 KiB read buffer (over 128 bytes, so
 *            malloc in both columns), then 4 requests each taking a
 *            40-byte write-queue segment and a 96-byte scratch block, and
 *            the close returning all of it.
 * It prints ns per operation (an allocation and its free) and the ratio
 * pool/malloc (below 1.00x: the pool is faster), then the bytes that
 * 10,000 idle connections' small blocks cost in each.
 * It knows pool.h and nothing else of tinyweb.
 *
 * Usage: malloc_vs_pool [--quick]
 */
#include "base/pool.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIFO_BATCH	64
#define RING		4096
#define LIVE_CONNS	1000
#define REQS_PER_CONN	4
#define CONN_BYTES	120
#define HTTP_BYTES	56
#define RBUF_BYTES	4096
#define SEG_BYTES	40
#define SCRATCH_BYTES	96

struct alloc_ops {
	const char *name;
	void *(*alloc)(void *ctx, size_t n);
	void (*free)(void *ctx, void *p, size_t n);
};

static volatile uintptr_t sink;

static void *
m_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void
m_free(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)n;
	free(p);
}

static void *
p_alloc(void *ctx, size_t n)
{
	return tw_pool_alloc(ctx, n);
}

static void
p_free(void *ctx, void *p, size_t n)
{
	tw_pool_free(ctx, p, n);
}

static const struct alloc_ops ops_malloc = { "malloc", m_alloc, m_free };
static const struct alloc_ops ops_pool = { "pool", p_alloc, p_free };

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* xorshift: the same pseudo-random order for both allocators. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
die_oom(void)
{
	fprintf(stderr, "malloc_vs_pool: out of memory\n");
	exit(1);
}

/* Touch a block as a caller would, so neither side is timed on memory it
 * never writes. */
static void
touch(void *p)
{
	*(volatile char *)p = 1;
	sink += (uintptr_t)p;
}

static double
run_lifo(const struct alloc_ops *o, void *ctx, size_t sz, long rounds)
{
	void *b[LIFO_BATCH];
	double t0 = now_ns();
	long r;
	int i;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < LIFO_BATCH; i++) {
			b[i] = o->alloc(ctx, sz);
			if (b[i] == NULL)
				die_oom();
			touch(b[i]);
		}
		for (i = LIFO_BATCH - 1; i >= 0; i--)
			o->free(ctx, b[i], sz);
	}
	return (now_ns() - t0) / ((double)rounds * LIFO_BATCH);
}

static double
run_mixed(const struct alloc_ops *o, void *ctx, long ops)
{
	static void *ring[RING];
	static size_t size[RING];
	uint32_t s = 0x9e3779b9u;
	double t0;
	long k;
	int i;

	for (i = 0; i < RING; i++) {
		size[i] = 16 + (rnd(&s) % 15) * 8;
		ring[i] = o->alloc(ctx, size[i]);
		if (ring[i] == NULL)
			die_oom();
	}
	t0 = now_ns();
	for (k = 0; k < ops; k++) {
		i = (int)(rnd(&s) % RING);
		o->free(ctx, ring[i], size[i]);
		size[i] = 16 + (rnd(&s) % 15) * 8;
		ring[i] = o->alloc(ctx, size[i]);
		if (ring[i] == NULL)
			die_oom();
		touch(ring[i]);
	}
	t0 = (now_ns() - t0) / (double)ops;
	for (i = 0; i < RING; i++)
		o->free(ctx, ring[i], size[i]);
	return t0;
}

struct fake_conn {
	void *conn, *http, *rbuf;
};

static void
conn_open(const struct alloc_ops *o, void *ctx, struct fake_conn *c)
{
	c->conn = o->alloc(ctx, CONN_BYTES);
	c->http = o->alloc(ctx, HTTP_BYTES);
	c->rbuf = o->alloc(ctx, RBUF_BYTES);
	if (c->conn == NULL || c->http == NULL || c->rbuf == NULL)
		die_oom();
	memset(c->conn, 0, CONN_BYTES);
	memset(c->http, 0, HTTP_BYTES);
	touch(c->rbuf);
}

static void
conn_requests(const struct alloc_ops *o, void *ctx)
{
	int r;

	for (r = 0; r < REQS_PER_CONN; r++) {
		void *seg = o->alloc(ctx, SEG_BYTES);
		void *scr = o->alloc(ctx, SCRATCH_BYTES);

		if (seg == NULL || scr == NULL)
			die_oom();
		touch(seg);
		touch(scr);
		o->free(ctx, scr, SCRATCH_BYTES);
		o->free(ctx, seg, SEG_BYTES);
	}
}

static void
conn_close(const struct alloc_ops *o, void *ctx, struct fake_conn *c)
{
	o->free(ctx, c->rbuf, RBUF_BYTES);
	o->free(ctx, c->http, HTTP_BYTES);
	o->free(ctx, c->conn, CONN_BYTES);
}

/* ns per allocation+free, over whole connection lifetimes. */
static double
run_conn(const struct alloc_ops *o, void *ctx, long lifetimes)
{
	static struct fake_conn live[LIVE_CONNS];
	uint32_t s = 0x2545f491u;
	double t0;
	long k;
	int i;

	for (i = 0; i < LIVE_CONNS; i++)
		conn_open(o, ctx, &live[i]);
	t0 = now_ns();
	for (k = 0; k < lifetimes; k++) {
		i = (int)(rnd(&s) % LIVE_CONNS);
		conn_requests(o, ctx);
		conn_close(o, ctx, &live[i]);
		conn_open(o, ctx, &live[i]);
	}
	t0 = (now_ns() - t0) / ((double)lifetimes * (3 + 2 * REQS_PER_CONN));
	for (i = 0; i < LIVE_CONNS; i++)
		conn_close(o, ctx, &live[i]);
	return t0;
}

/* The best of three runs: the least disturbed by the rest of the box. */
static double
min3(double a, double b, double c)
{
	return a < b ? (a < c ? a : c) : (b < c ? b : c);
}

#define BEST3(expr) min3((expr), (expr), (expr))

static void
row(const char *pattern, const char *size, double m, double p)
{
	printf("| %s | %s | %.2f | %.2f | %.2fx |\n", pattern, size, m, p,
	       p / m);
}

/* Bytes that the small blocks of n idle connections cost: malloc's heap
 * growth (mallinfo2) against the pool's chunks. The read buffer is left
 * out: an idle connection holds none. */
static void
idle_bytes(int n)
{
	void **blocks = calloc((size_t)n * 2, sizeof(*blocks));
	struct tw_pool *pool = tw_pool_create();
	struct mallinfo2 before, after;
	size_t heap, pooled;
	int i;

	if (blocks == NULL || pool == NULL)
		die_oom();
	malloc_trim(0);
	before = mallinfo2();
	for (i = 0; i < n; i++) {
		blocks[2 * i] = malloc(CONN_BYTES);
		blocks[2 * i + 1] = malloc(HTTP_BYTES);
		if (blocks[2 * i] == NULL || blocks[2 * i + 1] == NULL)
			die_oom();
	}
	after = mallinfo2();
	/* In-use bytes, malloc's chunk headers and rounding included. */
	heap = after.uordblks - before.uordblks;
	for (i = 0; i < 2 * n; i++)
		free(blocks[i]);
	for (i = 0; i < n; i++) {
		blocks[2 * i] = tw_pool_alloc(pool, CONN_BYTES);
		blocks[2 * i + 1] = tw_pool_alloc(pool, HTTP_BYTES);
		if (blocks[2 * i] == NULL || blocks[2 * i + 1] == NULL)
			die_oom();
	}
	pooled = tw_pool_chunk_bytes(pool);
	printf("\n%d idle connections' small blocks (%d + %d bytes each): "
	       "malloc in use %.1f KiB (%.1f B/conn), pool chunks %.1f KiB "
	       "(%.1f B/conn).\n", n, CONN_BYTES, HTTP_BYTES, heap / 1024.0,
	       (double)heap / n, pooled / 1024.0, (double)pooled / n);
	tw_pool_destroy(pool);
	free(blocks);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 16, 24, 32, 48, 64, 96, 128 };
	long scale = 1;
	size_t i;
	struct tw_pool *pool;
	char label[32];

	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		scale = 0;
	pool = tw_pool_create();
	if (pool == NULL)
		die_oom();
	printf("| pattern | size (bytes) | malloc ns/op | pool ns/op | "
	       "pool/malloc |\n|---|---|---|---|---|\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long rounds = scale ? 100000 : 20000;
		double m = BEST3(run_lifo(&ops_malloc, NULL, sizes[i], rounds));
		double p = BEST3(run_lifo(&ops_pool, pool, sizes[i], rounds));

		snprintf(label, sizeof(label), "%zu", sizes[i]);
		row("lifo, 64 live", label, m, p);
	}
	{
		long ops = scale ? 5000000 : 1000000;
		double m = BEST3(run_mixed(&ops_malloc, NULL, ops));
		double p = BEST3(run_mixed(&ops_pool, pool, ops));

		row("mixed, 4096 live, random frees", "16..128", m, p);
	}
	{
		long n = scale ? 1000000 : 200000;
		double m = BEST3(run_conn(&ops_malloc, NULL, n));
		double p = BEST3(run_conn(&ops_pool, pool, n));

		row("connection lifetime, 1000 open", "56..4096", m, p);
	}
	tw_pool_destroy(pool);
	idle_bytes(10000);
	printf("\nns/op: one allocation and its free; below 1.00x the pool is "
	       "faster. Sizes over %d go to malloc inside the pool too.\n",
	       TW_POOL_MAX_SMALL);
	return 0;
}
