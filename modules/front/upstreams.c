/* SPDX-License-Identifier: MIT */
/*
 * upstreams: upstream NAME { } blocks and the targets of proxy_pass.
 * Each line of a block has a row (its words, how it is parsed); the
 * lines are kept as written, for check-config, and resolved into a
 * struct tw_proxy_group only by tw_config_resolve(), so that reading a
 * file (and fuzzing the reader) never asks the resolver. Layer 5.
 */
#include "front/upstreams.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_FAILS	1
#define DEFAULT_FAIL_TIMEOUT_MS	10000
#define DEFAULT_CHECK_MS	5000

/* The block being read. */
struct up_ctx {
	struct tw_opt_ctx *px;
	struct tw_config_upstream *up;
};

struct up_row {
	const char *name;
	unsigned bit;		/* once per block; 0: repeats */
	unsigned char min_args;
	unsigned char max_args;
	int (*parse)(struct up_ctx *x, const struct tw_conf_node *n,
		     const struct tw_opt_origin *org);
};

static const char *
keep(struct up_ctx *x, const char *s)
{
	return tw_opts_keep(x->px->c, s, strlen(s));
}

static int
oom(struct up_ctx *x, const struct tw_opt_origin *org)
{
	return tw_opts_failf(x->px, org, "out of memory");
}

/* Upstream names and server names: letters, digits, '.', '-', '_'. */
static bool
valid_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/* ---- proxy_pass targets ------------------------------------------------ */

/* The host, port and path of "http://HOST[:PORT][/PATH]", or of a bare
 * upstream NAME (host only). -EINVAL on a malformed one. */
int
tw_upstreams_split_url(const char *s, char *host, size_t hlen, uint16_t *port,
		bool *has_port, const char **path)
{
	const char *h = s, *end, *colon;
	uint64_t v;
	size_t n;

	*port = 80;
	*has_port = false;
	*path = NULL;
	if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else if (strstr(s, "://") != NULL)
		return -EPROTONOSUPPORT;
	else if (strpbrk(s, "/:[") != NULL)
		return -EINVAL;
	end = h + strcspn(h, "/?#");
	if (*end == '?' || *end == '#')
		return -EINVAL;
	if (*end == '/')
		*path = end;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return -EINVAL;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 != end && colon == NULL)
			return -EINVAL;
		h++;
		n = (size_t)(rb - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
	}
	if (colon != NULL) {
		char num[8];
		size_t plen = (size_t)(end - colon - 1);

		if (plen == 0 || plen >= sizeof(num))
			return -EINVAL;
		memcpy(num, colon + 1, plen);
		num[plen] = '\0';
		if (!tw_opts_number(num, 65535, &v) || v == 0)
			return -EINVAL;
		*port = (uint16_t)v;
		*has_port = true;
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	for (h = host; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-_:", *h))
			return -EINVAL;
	return 0;
}

/* ---- the lines of a block ------------------------------------------------ */

/* The "host:port" or "[v6]:port" of a server line. */
static int
split_host_port(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *p = NULL;
	size_t n;
	uint64_t v;

	*port = 80;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -EINVAL;
		n = (size_t)(rb - s - 1);
		s++;
		p = rb[1] == ':' ? rb + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');

		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -EINVAL;
		n = colon ? (size_t)(colon - s) : strlen(s);
		p = colon ? colon + 1 : NULL;
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (p != NULL) {
		if (!tw_opts_number(p, 65535, &v) || v == 0)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

/* One "NAME=VALUE" word of a server or health_check line. */
static const char *
param(const char *word, const char *name)
{
	size_t n = strlen(name);

	return strncmp(word, name, n) == 0 && word[n] == '=' ? word + n + 1 :
	       NULL;
}

static int
row_up_server(struct up_ctx *x, const struct tw_conf_node *n,
	      const struct tw_opt_origin *org)
{
	struct tw_config_upstream *up = x->up;
	struct tw_config_upstream_server *us;
	char host[256], name[300];
	uint64_t v;
	size_t i;

	if (up->nsrv == TW_UPSTREAM_MAX_SERVERS)
		return tw_opts_failf(x->px, org, "at most %d servers in an "
				     "upstream", TW_UPSTREAM_MAX_SERVERS);
	us = &up->srv[up->nsrv];
	memset(us, 0, sizeof(*us));
	if (split_host_port(n->args[0], host, sizeof(host), &us->port) < 0)
		return tw_opts_failf(x->px, org, "server '%s': expected "
				     "HOST:PORT", n->args[0]);
	us->conf.weight = 1;
	us->conf.max_fails = DEFAULT_MAX_FAILS;
	us->conf.fail_timeout_ms = DEFAULT_FAIL_TIMEOUT_MS;
	for (i = 1; i < n->nargs; i++) {
		const char *a = n->args[i], *val;

		if ((val = param(a, "weight")) != NULL &&
		    tw_opts_number(val, 1000, &v) && v > 0)
			us->conf.weight = (unsigned)v;
		else if ((val = param(a, "max_fails")) != NULL &&
			 tw_opts_number(val, 1000, &v))
			us->conf.max_fails = (unsigned)v;
		else if ((val = param(a, "fail_timeout")) != NULL &&
			 tw_config_parse_duration(val, &v) == 0 && v > 0)
			us->conf.fail_timeout_ms = v;
		else if (strcmp(a, "backup") == 0)
			us->conf.backup = true;
		else
			return tw_opts_failf(x->px, org, "server: '%s' is not "
					     "weight=N (1-1000), max_fails=N, "
					     "fail_timeout=TIME or backup", a);
	}
	(void)snprintf(name, sizeof(name), strchr(host, ':') ? "[%s]:%u" :
		       "%s:%u", host, us->port);
	us->host = keep(x, host);
	us->conf.name = keep(x, name);
	us->where = keep(x, org->where);
	if (us->host == NULL || us->conf.name == NULL || us->where == NULL)
		return oom(x, org);
	up->nsrv++;
	return 0;
}

static const char *const balance_names[] = {
	[TW_BALANCE_ROUND_ROBIN] = "round_robin",
	[TW_BALANCE_LEAST_CONN] = "least_conn",
	[TW_BALANCE_IP_HASH] = "ip_hash",
	[TW_BALANCE_HASH] = "hash",
	[TW_BALANCE_HASH_CONSISTENT] = "hash",
};

static int
row_balance(struct up_ctx *x, const struct tw_conf_node *n,
	    const struct tw_opt_origin *org)
{
	struct tw_config_upstream *up = x->up;
	const char *m = n->args[0];
	size_t i;

	for (i = 0; i < TW_BALANCE_HASH; i++)
		if (strcmp(m, balance_names[i]) == 0 && n->nargs == 1) {
			up->balance = (enum tw_balance)i;
			return 0;
		}
	if (strcmp(m, "hash") == 0 && n->nargs >= 2 &&
	    (n->nargs == 2 || strcmp(n->args[2], "consistent") == 0) &&
	    *n->args[1] != '\0') {
		up->balance = n->nargs == 3 ? TW_BALANCE_HASH_CONSISTENT :
			      TW_BALANCE_HASH;
		if ((up->hash_key = keep(x, n->args[1])) == NULL)
			return oom(x, org);
		return 0;
	}
	return tw_opts_failf(x->px, org, "balance: expected round_robin, "
			     "least_conn, ip_hash or hash KEY [consistent]");
}

static int
row_keepalive(struct up_ctx *x, const struct tw_conf_node *n,
	      const struct tw_opt_origin *org)
{
	uint64_t v;

	if (!tw_opts_number(n->args[0], 10000, &v))
		return tw_opts_failf(x->px, org, "keepalive '%s': expected a "
				     "number of connections from 0 to 10000",
				     n->args[0]);
	x->up->keepalive = (unsigned)v;
	return 0;
}

static int
row_health_check(struct up_ctx *x, const struct tw_conf_node *n,
		 const struct tw_opt_origin *org)
{
	struct tw_proxy_check *ck = &x->up->check;
	uint64_t v;
	size_t i;

	ck->uri = "/";
	ck->interval_ms = DEFAULT_CHECK_MS;
	ck->fails = 1;
	ck->passes = 1;
	for (i = 0; i < n->nargs; i++) {
		const char *a = n->args[i], *val;

		if ((val = param(a, "uri")) != NULL && val[0] == '/' &&
		    tw_opts_header_ok("X", 1, val) && !strchr(val, ' ')) {
			if ((ck->uri = keep(x, val)) == NULL)
				return oom(x, org);
		} else if ((val = param(a, "interval")) != NULL &&
			   tw_config_parse_duration(val, &v) == 0 && v > 0) {
			ck->interval_ms = v;
		} else if ((val = param(a, "fails")) != NULL &&
			   tw_opts_number(val, 1000, &v) && v > 0) {
			ck->fails = (unsigned)v;
		} else if ((val = param(a, "passes")) != NULL &&
			   tw_opts_number(val, 1000, &v) && v > 0) {
			ck->passes = (unsigned)v;
		} else {
			return tw_opts_failf(x->px, org, "health_check: '%s' "
					     "is not uri=/PATH, interval=TIME, "
					     "fails=N or passes=N", a);
		}
	}
	x->up->check_set = true;
	return 0;
}

/* ---- the rows and the walk over a block ----------------------------- */

static const struct up_row rows[] = {
	{ "server", 0, 1, 5, row_up_server },
	{ "balance", 1u << 0, 1, 3, row_balance },
	{ "keepalive", 1u << 1, 1, 1, row_keepalive },
	{ "health_check", 1u << 2, 0, 4, row_health_check },
};

bool
tw_upstreams_directive(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, name) == 0)
			return true;
	return false;
}

static int
apply_one(struct up_ctx *x, const struct tw_conf_node *n)
{
	const struct up_row *r = NULL;
	struct tw_opt_origin org;
	size_t i;

	tw_opts_where(&org, n);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, n->name) == 0)
			r = &rows[i];
	if (r == NULL)
		return tw_opts_failf(x->px, &org, "unknown directive '%s' in "
				     "an upstream block", n->name);
	if (n->has_block)
		return tw_opts_failf(x->px, &org, "block not allowed here: "
				     "'%s' takes none", n->name);
	if (n->nargs < r->min_args || n->nargs > r->max_args)
		return tw_opts_failf(x->px, &org, "'%s' takes %s%u argument%s",
				     n->name, r->min_args == r->max_args ? "" :
				     "up to ", r->max_args,
				     r->max_args == 1 ? "" : "s");
	if (r->bit != 0 && (x->up->seen & r->bit))
		return tw_opts_failf(x->px, &org, "duplicate '%s' directive",
				     r->name);
	x->up->seen |= r->bit;
	return r->parse(x, n, &org);
}

static int
apply_block(struct up_ctx *x, const struct tw_conf_node *first)
{
	int err;

	for (; first != NULL; first = first->next)
		if ((err = apply_one(x, first)) < 0)
			return err;
	return 0;
}

int
tw_upstreams_parse(const struct tw_opt_val *v, const struct tw_opt *o,
			void *field)
{
	struct tw_config *c = v->px->c;
	struct tw_config_upstream *up;
	struct up_ctx x = { .px = v->px };
	const char *name = v->args[0];
	size_t i;
	int err;

	(void)o;
	(void)field;
	if (!valid_name(name))
		return tw_opts_failf(v->px, v->org, "upstream '%s': expected a "
				     "name of letters, digits, '.', '-' or "
				     "'_'", name);
	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i]->name, name) == 0)
			return tw_opts_failf(v->px, v->org, "duplicate upstream "
					     "'%s'", name);
	if (c->nupstreams == TW_CONFIG_MAX_UPSTREAMS)
		return tw_opts_failf(v->px, v->org, "at most %d upstreams",
				     TW_CONFIG_MAX_UPSTREAMS);
	up = calloc(1, sizeof(*up));
	if (up == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	c->upstreams[c->nupstreams++] = up;
	up->name = keep(&x, name);
	up->where = keep(&x, v->org->where);
	if (up->name == NULL || up->where == NULL)
		return oom(&x, v->org);
	x.up = up;
	if ((err = apply_block(&x, v->node->child)) < 0)
		return err;
	if (up->nsrv == 0)
		return tw_opts_failf(v->px, v->org, "upstream '%s' has no "
				     "server line", name);
	return 0;
}

/* ---- resolving --------------------------------------------------------- */

static int
failw(char *err, size_t errlen, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
failw(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", where);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return TW_CONFIG_EFILE;
}

/* Every address of each server line goes into the group, as in nginx:
 * a name with two addresses is two servers to the balancer. */
static int
resolve_group(struct tw_config_upstream *up, char *err, size_t errlen)
{
	struct tw_proxy_group *g = &up->group;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->name = up->name;
	g->balance = up->balance;
	g->hash_key = up->hash_key;
	g->keepalive = up->keepalive;
	g->check = up->check;
	for (i = 0; i < up->nsrv; i++) {
		const struct tw_config_upstream_server *us = &up->srv[i];
		struct addrinfo hints = {
			.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
			.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV,
		}, *res, *ai;
		char port[8];
		int r;

		(void)snprintf(port, sizeof(port), "%u", us->port);
		r = getaddrinfo(us->host, port, &hints, &res);
		if (r != 0)
			return failw(err, errlen, us->where, "cannot resolve "
				     "'%s': %s", us->host,
				     r == EAI_SYSTEM ? strerror(errno) :
				     gai_strerror(r));
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			struct tw_proxy_server *ps;

			if (g->nservers == TW_UPSTREAM_MAX_SERVERS) {
				freeaddrinfo(res);
				return failw(err, errlen, us->where, "upstream "
					     "'%s' has more than %d addresses",
					     up->name, TW_UPSTREAM_MAX_SERVERS);
			}
			ps = &g->servers[g->nservers++];
			memcpy(&ps->addr, ai->ai_addr, ai->ai_addrlen);
			ps->addrlen = ai->ai_addrlen;
			ps->conf = us->conf;
		}
		freeaddrinfo(res);
	}
	return 0;
}

static struct tw_config_upstream *
find_upstream(const struct tw_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (!c->upstreams[i]->implicit &&
		    strcmp(c->upstreams[i]->name, name) == 0)
			return c->upstreams[i];
	return NULL;
}

/* The implicit group of one of "proxy_pass http://host:port". */
static struct tw_config_upstream *
implicit_upstream(struct tw_config *c, const char *host, uint16_t port,
		  const char *where)
{
	struct tw_config_upstream *up;
	char name[300];

	if (c->nupstreams == TW_CONFIG_MAX_UPSTREAMS)
		return NULL;
	up = calloc(1, sizeof(*up));
	if (up == NULL)
		return NULL;
	c->upstreams[c->nupstreams++] = up;
	(void)snprintf(name, sizeof(name), strchr(host, ':') ? "[%s]:%u" :
		       "%s:%u", host, port);
	up->implicit = true;
	up->name = tw_opts_keep(c, name, strlen(name));
	up->where = where;
	up->nsrv = 1;
	up->srv[0] = (struct tw_config_upstream_server){
		.host = tw_opts_keep(c, host, strlen(host)), .port = port,
		.where = where,
		.conf = { .name = up->name, .weight = 1,
			  .max_fails = DEFAULT_MAX_FAILS,
			  .fail_timeout_ms = DEFAULT_FAIL_TIMEOUT_MS },
	};
	return up->name && up->srv[0].host ? up : NULL;
}

static int
resolve_proxy_pass(struct tw_config *c, struct tw_config_scope *sc,
		   char *err, size_t errlen)
{
	struct tw_config_upstream *up;
	char host[256];
	const char *path;
	uint16_t port;
	bool has_port, bare;

	if (sc->proxy_pass == NULL)
		return 0;
	bare = strncmp(sc->proxy_pass, "http://", 7) != 0;
	if (tw_upstreams_split_url(sc->proxy_pass, host, sizeof(host), &port,
			    &has_port, &path) < 0)
		return failw(err, errlen, sc->proxy_where, "bad proxy_pass");
	up = has_port ? NULL : find_upstream(c, host);
	if (up == NULL && bare)
		return failw(err, errlen, sc->proxy_where, "proxy_pass: no "
			     "upstream named '%s'", host);
	if (up == NULL) {
		up = implicit_upstream(c, host, port, sc->proxy_where);
		if (up == NULL)
			return failw(err, errlen, sc->proxy_where, "too many "
				     "upstreams");
		if (resolve_group(up, err, errlen) < 0)
			return TW_CONFIG_EFILE;
	}
	sc->proxy = calloc(1, sizeof(*sc->proxy));
	if (sc->proxy == NULL)
		return failw(err, errlen, sc->proxy_where, "out of memory");
	tw_upstreams_proxy_opts(c, &up->group, path, sc->proxy);
	return 0;
}

void
tw_upstreams_proxy_opts(const struct tw_config *c,
			const struct tw_proxy_group *group, const char *uri,
			struct tw_proxy_opts *po)
{
	size_t i;

	*po = (struct tw_proxy_opts){
		.group = group,
		.uri = uri,
		.connect_timeout_ms = c->proxy_connect_timeout_ms,
		.read_timeout_ms = c->proxy_read_timeout_ms,
		.send_timeout_ms = c->proxy_send_timeout_ms,
		.next_upstream_tries = (unsigned)c->proxy_next_upstream_tries,
		.next_upstream = c->proxy_next_upstream,
		.max_body = c->proxy_max_body,
		.header_buffer_size = (size_t)c->proxy_buffer_size,
		.pass_request_headers = c->proxy_pass_request_headers,
	};
	for (i = 0; i < c->nproxy_set_headers &&
		    i < TW_PROXY_MAX_SET_HEADERS; i++)
		po->set_headers[po->nset_headers++] =
			(struct tw_proxy_set_header){
				c->proxy_set_headers[i].name,
				c->proxy_set_headers[i].value };
}

int
tw_config_resolve(struct tw_config *c, char *err, size_t errlen)
{
	size_t i, j, nup = c->nupstreams;
	int r;

	for (i = 0; i < nup; i++)
		if (!c->upstreams[i]->implicit &&
		    (r = resolve_group(c->upstreams[i], err, errlen)) < 0)
			return r;
	for (i = 0; i < c->nservers; i++) {
		struct tw_config_server *srv = c->servers[i];

		for (j = 0; j < srv->nlocs; j++)
			if ((r = resolve_proxy_pass(c, &srv->locs[j].s, err,
						    errlen)) < 0)
				return r;
	}
	return 0;
}

/* ---- printing ---------------------------------------------------------- */

static void
print_upstream(const struct tw_config_upstream *up, FILE *out)
{
	const struct tw_proxy_check *ck = &up->check;
	size_t i;

	fprintf(out, "upstream %s {\n", up->name);
	for (i = 0; i < up->nsrv; i++) {
		const struct tw_config_upstream_server *us = &up->srv[i];

		fprintf(out, "    server %s weight=%u max_fails=%u "
			"fail_timeout=%llums%s;\n", us->conf.name,
			us->conf.weight, us->conf.max_fails,
			(unsigned long long)us->conf.fail_timeout_ms,
			us->conf.backup ? " backup" : "");
	}
	fprintf(out, "    balance %s", balance_names[up->balance]);
	if (up->balance >= TW_BALANCE_HASH) {
		fputc(' ', out);
		tw_opts_put_quoted(out, up->hash_key);
		if (up->balance == TW_BALANCE_HASH_CONSISTENT)
			fputs(" consistent", out);
	}
	fprintf(out, ";\n    keepalive %u;\n", up->keepalive);
	if (up->check_set) {
		char uri[TW_CONF_MAX_TOKEN + 8];

		(void)snprintf(uri, sizeof(uri), "uri=%s", ck->uri);
		fputs("    health_check ", out);
		tw_opts_put_quoted(out, uri);
		fprintf(out, " interval=%llums fails=%u passes=%u;\n",
			(unsigned long long)ck->interval_ms, ck->fails,
			ck->passes);
	}
	fputs("}\n", out);
}

void
tw_upstreams_print(const struct tw_config *c, FILE *out)
{
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (!c->upstreams[i]->implicit)
			print_upstream(c->upstreams[i], out);
}

void
tw_upstreams_free(struct tw_config *c)
{
	size_t i, j, k;

	for (i = 0; i < c->nservers; i++)
		for (j = 0; j < c->servers[i]->nlocs; j++) {
			free(c->servers[i]->locs[j].s.proxy);
			c->servers[i]->locs[j].s.proxy = NULL;
		}
	for (k = 0; k < c->nupstreams; k++)
		free(c->upstreams[k]);
	c->nupstreams = 0;
}
