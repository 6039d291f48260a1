/* SPDX-License-Identifier: MIT */
/*
 * vhost: Host -> server, path -> location. Linear scans: a config has a
 * handful of servers and locations, and a scan of a few short strings
 * costs less than hashing the Host header. Layer 3.
 */
#include "http/vhost.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
loc_order(const void *pa, const void *pb)
{
	const struct tw_vhost_loc *a = pa, *b = pb;

	if (a->exact != b->exact)
		return a->exact ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return strcmp(a->path, b->path);
}

void
tw_vhost_sort(struct tw_vhost_loc *locs, size_t n)
{
	if (n > 1)
		qsort(locs, n, sizeof(*locs), loc_order);
}

static bool
same_port(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_port;
	if (b->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)a)->sin6_port ==
		       ((const struct sockaddr_in6 *)(const void *)b)->sin6_port;
	return false;
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		      16) == 0;
}

int
tw_vhost_listen_of(const struct tw_vhosts *vh, const struct sockaddr *local)
{
	int any = -1;
	size_t i;

	for (i = 0; i < vh->nlistens; i++) {
		const struct tw_vhost_listen *l = &vh->listens[i];

		if (!same_port(&l->addr, local))
			continue;
		if (!l->any && same_addr(&l->addr, local))
			return (int)i;
		if (l->any && any < 0)
			any = (int)i;
	}
	return any;
}

/* The name part of a Host value: no port, no trailing dot. */
static void
host_name(const char **host, size_t *len)
{
	const char *h = *host;
	size_t n = *len;

	if (n > 0 && h[0] == '[') {
		const char *rb = memchr(h, ']', n);

		n = rb ? (size_t)(rb - h) + 1 : n;
	} else {
		const char *colon = memchr(h, ':', n);

		if (colon != NULL)
			n = (size_t)(colon - h);
	}
	if (n > 0 && h[n - 1] == '.')
		n--;
	*len = n;
}

static bool
on_listen(const struct tw_vhosts *vh, const struct tw_vhost_server *s,
	  int listen)
{
	return !vh->by_listen || listen < 0 ||
	       (s->listens & (1u << listen)) != 0;
}

const struct tw_vhost_server *
tw_vhost_server(const struct tw_vhosts *vh, const char *host, size_t len,
		int listen)
{
	const struct tw_vhost_server *best = NULL;
	size_t i, j, best_len = 0;

	if (host != NULL)
		host_name(&host, &len);
	for (i = 0; host != NULL && len > 0 && i < vh->nservers; i++) {
		const struct tw_vhost_server *s = &vh->servers[i];

		if (!on_listen(vh, s, listen))
			continue;
		for (j = 0; j < s->nnames; j++) {
			const char *name = s->names[j];
			size_t nl = strlen(name);

			if (name[0] == '*') {
				/* "*.b.c" takes "a.b.c" and "x.a.b.c", not
				 * "b.c"; the longest suffix wins. */
				nl--;
				if (len > nl && nl > best_len &&
				    strncasecmp(host + len - nl, name + 1,
						nl) == 0) {
					best = s;
					best_len = nl;
				}
			} else if (nl == len &&
				   strncasecmp(host, name, len) == 0) {
				return s;
			}
		}
	}
	if (best != NULL)
		return best;
	if (vh->nlistens == 0)
		return vh->nservers ? &vh->servers[0] : NULL;
	if (listen < 0 || !vh->by_listen)
		listen = 0;
	return &vh->servers[vh->listens[listen].default_server];
}

const struct tw_vhost_loc *
tw_vhost_location(const struct tw_vhost_server *srv, const char *path,
		  size_t len)
{
	size_t i;

	for (i = 0; i < srv->nlocs; i++) {
		const struct tw_vhost_loc *l = &srv->locs[i];

		if (l->exact ? l->len == len && memcmp(l->path, path, len) == 0 :
		    l->len <= len && memcmp(l->path, path, l->len) == 0)
			return l;
	}
	return &srv->fallback;
}
