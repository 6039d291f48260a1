/* SPDX-License-Identifier: MIT */
/*
 * scope: server and location blocks. Each directive of a
 * block has a row here (its words, where it may appear, how it is
 * parsed); a block's own values are kept apart from the ones it
 * inherits, so check-config prints the file as written and a location
 * follows a later change of its server. Layer 5.
 */
#include "front/scope.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/pages.h"
#include "front/access.h"
#include "front/upstreams.h"
#include "http/return.h"

#define IN_SERVER	0x1u
#define IN_LOCATION	0x2u

/* The block being read. */
struct scope_ctx {
	struct tw_opt_ctx *px;
	struct tw_config_server *srv;
	struct tw_config_location *loc;	/* NULL: at the server's level */
	struct tw_config_scope *sc;	/* the block's own values */
};

struct scope_row {
	const char *name;
	unsigned bit;		/* TW_SCOPE_*: once per block; 0: repeats */
	unsigned where;		/* IN_* */
	unsigned char min_args;
	unsigned char max_args;
	bool block;		/* location { } */
	int (*parse)(struct scope_ctx *x, const struct tw_conf_node *n,
		     const struct tw_opt_origin *org);
};

static const char *
keep(struct scope_ctx *x, const char *s)
{
	return tw_opts_keep(x->px->c, s, strlen(s));
}

static int
oom(struct scope_ctx *x, const struct tw_opt_origin *org)
{
	return tw_opts_failf(x->px, org, "out of memory");
}

/* ---- directives a server or a location may set ----------------------- */

static int
row_root(struct scope_ctx *x, const struct tw_conf_node *n,
	 const struct tw_opt_origin *org)
{
	if (*n->args[0] == '\0')
		return tw_opts_failf(x->px, org, "'root' needs a non-empty "
				     "value");
	if (x->sc->set & TW_SCOPE_ALIAS)
		return tw_opts_failf(x->px, org, "'root' and 'alias' exclude "
				     "each other in a location");
	if ((x->sc->root = keep(x, n->args[0])) == NULL)
		return oom(x, org);
	return 0;
}

static int
row_alias(struct scope_ctx *x, const struct tw_conf_node *n,
	  const struct tw_opt_origin *org)
{
	if (*n->args[0] == '\0')
		return tw_opts_failf(x->px, org, "'alias' needs a non-empty "
				     "value");
	if (x->sc->set & TW_SCOPE_ROOT)
		return tw_opts_failf(x->px, org, "'root' and 'alias' exclude "
				     "each other in a location");
	if (x->loc->exact)
		return tw_opts_failf(x->px, org, "'alias' needs a prefix "
				     "location, not location = %s",
				     x->loc->path);
	if ((x->sc->alias = keep(x, n->args[0])) == NULL)
		return oom(x, org);
	return 0;
}

static int
row_index(struct scope_ctx *x, const struct tw_conf_node *n,
	  const struct tw_opt_origin *org)
{
	size_t i;

	for (i = 0; i < n->nargs; i++) {
		if (*n->args[i] == '\0' || strchr(n->args[i], '/') != NULL)
			return tw_opts_failf(x->px, org, "index '%s': a file "
					     "name is needed", n->args[i]);
		if ((x->sc->index[i] = keep(x, n->args[i])) == NULL)
			return oom(x, org);
	}
	x->sc->nindex = n->nargs;
	return 0;
}

static int
on_off(struct scope_ctx *x, const struct tw_conf_node *n,
       const struct tw_opt_origin *org, bool *out)
{
	if (strcmp(n->args[0], "on") == 0)
		*out = true;
	else if (strcmp(n->args[0], "off") == 0)
		*out = false;
	else
		return tw_opts_failf(x->px, org, "'%s' takes on or off, not "
				     "'%s'", n->name, n->args[0]);
	return 0;
}

static int
row_listing(struct scope_ctx *x, const struct tw_conf_node *n,
	    const struct tw_opt_origin *org)
{
	return on_off(x, n, org, &x->sc->listing);
}

static int
row_hidden(struct scope_ctx *x, const struct tw_conf_node *n,
	   const struct tw_opt_origin *org)
{
	return on_off(x, n, org, &x->sc->hidden);
}

static int
row_compress(struct scope_ctx *x, const struct tw_conf_node *n,
	     const struct tw_opt_origin *org)
{
	return on_off(x, n, org, &x->sc->compress);
}

static int
row_expires(struct scope_ctx *x, const struct tw_conf_node *n,
	    const struct tw_opt_origin *org)
{
	if (tw_opts_expires(n->args[0], &x->sc->expires) < 0)
		return tw_opts_failf(x->px, org, "expires '%s': expected a "
				     "duration up to 10 years, max or off",
				     n->args[0]);
	return 0;
}

static int
row_add_header(struct scope_ctx *x, const struct tw_conf_node *n,
	       const struct tw_opt_origin *org)
{
	struct tw_config_scope *sc = x->sc;
	struct tw_config_header *h;

	if (!tw_opts_header_ok(n->args[0], strlen(n->args[0]), n->args[1]))
		return tw_opts_failf(x->px, org, "add_header: '%s' is not a "
				     "header name, or the value holds control "
				     "characters", n->args[0]);
	if (sc->nheaders == TW_CONFIG_MAX_HEADERS)
		return tw_opts_failf(x->px, org, "at most %d add_header "
				     "lines", TW_CONFIG_MAX_HEADERS);
	h = &sc->headers[sc->nheaders];
	h->name = keep(x, n->args[0]);
	h->value = keep(x, n->args[1]);
	if (h->name == NULL || h->value == NULL)
		return oom(x, org);
	sc->nheaders++;
	sc->set |= TW_SCOPE_HEADERS;
	return 0;
}

static int
row_status(struct scope_ctx *x, const struct tw_conf_node *n,
	   const struct tw_opt_origin *org)
{
	if (n->args[0][0] != '/')
		return tw_opts_failf(x->px, org, "status '%s': a path starting "
				     "with '/' is needed", n->args[0]);
	if ((x->sc->status = keep(x, n->args[0])) == NULL)
		return oom(x, org);
	return 0;
}

static bool
is_redirect(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	       code == 308;
}

/* return CODE [URL|TEXT]: a redirect needs its URL; 2xx, 4xx and 5xx
 * take an optional text body. Other 3xx and 1xx mean nothing here. */
static int
row_return(struct scope_ctx *x, const struct tw_conf_node *n,
	   const struct tw_opt_origin *org)
{
	const char *arg = n->nargs > 1 ? n->args[1] : NULL;
	const char *bad;
	size_t badlen;
	uint64_t code;

	if (!tw_opts_number(n->args[0], 599, &code) || code < 200 ||
	    (code >= 300 && code < 400 && !is_redirect((int)code)))
		return tw_opts_failf(x->px, org, "return '%s': expected 200 "
				     "to 599 (redirects: 301, 302, 303, 307 "
				     "or 308)", n->args[0]);
	if (is_redirect((int)code) &&
	    (arg == NULL || *arg == '\0' ||
	     !tw_opts_header_ok("Location", 8, arg)))
		return tw_opts_failf(x->px, org, "return %d needs a URL "
				     "without control characters",
				     (int)code);
	/* As nginx: a typo in a variable's name is found now, not by the
	 * first client who gets a Location with "$hots" in it. */
	if (arg != NULL && !tw_return_check(arg, &bad, &badlen))
		return tw_opts_failf(x->px, org, "return: unknown variable "
				     "'%.*s' (known: $host, $request_uri, "
				     "$scheme)", (int)badlen, bad);
	x->sc->ret_code = (int)code;
	if (arg != NULL && (x->sc->ret_arg = keep(x, arg)) == NULL)
		return oom(x, org);
	return 0;
}

static int
row_proxy_pass(struct scope_ctx *x, const struct tw_conf_node *n,
	       const struct tw_opt_origin *org)
{
	char host[256];
	const char *path;
	uint16_t port;
	bool has_port;
	int err;

	err = tw_upstreams_split_url(n->args[0], host, sizeof(host), &port,
				     &has_port, &path);
	if (err == -EPROTONOSUPPORT)
		return tw_opts_failf(x->px, org, "proxy_pass '%s': only "
				     "http:// upstreams are supported",
				     n->args[0]);
	if (err < 0)
		return tw_opts_failf(x->px, org, "proxy_pass '%s': expected "
				     "http://HOST[:PORT][/PATH] or an upstream "
				     "name", n->args[0]);
	x->sc->proxy_pass = keep(x, n->args[0]);
	x->sc->proxy_where = keep(x, org->where);
	if (x->sc->proxy_pass == NULL || x->sc->proxy_where == NULL)
		return oom(x, org);
	return 0;
}

/* error_page, try_files, cors...: front/pages' rows. */
static int
row_pages(struct scope_ctx *x, const struct tw_conf_node *n,
	  const struct tw_opt_origin *org)
{
	struct tw_opt_val v = { .px = x->px, .org = org, .args = n->args,
				.nargs = n->nargs, .node = n };

	return tw_pages_parse(&v, n->name, &x->sc->pages, true);
}

/* allow, deny, auth_basic, auth_basic_user_file (front/access) */
static int
row_access(struct scope_ctx *x, const struct tw_conf_node *n,
	   const struct tw_opt_origin *org)
{
	return tw_access_set(x->px, org, n->file, n->name, n->args, n->nargs,
			     &x->sc->auth);
}

/* ---- server-level directives --------------------------------------------- */

static int
row_listen(struct scope_ctx *x, const struct tw_conf_node *n,
	   const struct tw_opt_origin *org)
{
	struct tw_config_server *srv = x->srv;
	struct tw_config_listen *l;
	const char *addr;
	size_t alen, i;
	uint16_t port;

	if (tw_opts_listen_addr(n->args[0], &addr, &alen, &port) < 0)
		return tw_opts_failf(x->px, org, "listen '%s': expected PORT, "
				     "ADDR, ADDR:PORT or [IPv6]:PORT",
				     n->args[0]);
	if (srv->nlistens == TW_CONFIG_MAX_LISTEN)
		return tw_opts_failf(x->px, org, "at most %d listen lines",
				     TW_CONFIG_MAX_LISTEN);
	l = &srv->listens[srv->nlistens];
	*l = (struct tw_config_listen){ 0 };
	for (i = 1; i < n->nargs; i++) {
		bool *flag = strcmp(n->args[i], "default_server") == 0 ?
			     &l->default_server :
			     strcmp(n->args[i], "tls") == 0 ? &l->l.tls : NULL;

		if (flag == NULL || *flag)
			return tw_opts_failf(x->px, org, "listen: '%s' is not "
					     "default_server or tls, once",
					     n->args[i]);
		*flag = true;
	}
	l->l.addr = tw_opts_keep(x->px->c, addr, alen);
	l->l.port = port;
	l->where = keep(x, org->where);
	if (l->l.addr == NULL || l->where == NULL)
		return oom(x, org);
	for (i = 0; i < srv->nlistens; i++)
		if (srv->listens[i].l.port == port &&
		    strcmp(srv->listens[i].l.addr, l->l.addr) == 0)
			return tw_opts_failf(x->px, org, "listen '%s' is "
					     "already in this server",
					     n->args[0]);
	srv->nlistens++;
	return 0;
}

/* A host name, or one with a leading "*." (the only wildcard). */
static bool
valid_server_name(const char *s)
{
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	if (*s == '\0' || *s == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/*
 * tls_certificate / tls_certificate_key FILE in a server block: this
 * server's pairs, in order (RSA and ECDSA together), given to the
 * clients whose SNI names one of its server_names. Paths as at the top
 * level: relative to the file that names them.
 */
static int
row_tls_file(struct scope_ctx *x, const struct tw_conf_node *n,
	     const struct tw_opt_origin *org)
{
	struct tw_config_server *srv = x->srv;
	bool key = strcmp(n->name, "tls_certificate_key") == 0;
	const char **list = key ? srv->tls_keys : srv->tls_certs;
	size_t *cnt = key ? &srv->ntls_keys : &srv->ntls_certs;
	char full[PATH_MAX];

	if (*n->args[0] == '\0')
		return tw_opts_failf(x->px, org, "'%s' needs a file", n->name);
	if (*cnt == TW_CONFIG_MAX_CERTS)
		return tw_opts_failf(x->px, org, "at most %d %s files",
				     TW_CONFIG_MAX_CERTS, n->name);
	if (tw_opts_resolve(x->px, n->file, n->args[0], full,
			    sizeof(full)) < 0)
		return tw_opts_failf(x->px, org, "%s path too long", n->name);
	if ((list[*cnt] = keep(x, full)) == NULL)
		return oom(x, org);
	if (srv->tls_where == NULL &&
	    (srv->tls_where = keep(x, org->where)) == NULL)
		return oom(x, org);
	(*cnt)++;
	return 0;
}

static int
row_server_name(struct scope_ctx *x, const struct tw_conf_node *n,
		const struct tw_opt_origin *org)
{
	struct tw_config_server *srv = x->srv;
	size_t i, j;

	for (i = 0; i < n->nargs; i++) {
		char name[256];

		if (!valid_server_name(n->args[i]) ||
		    strlen(n->args[i]) >= sizeof(name))
			return tw_opts_failf(x->px, org, "server_name '%s': "
					     "expected a host name or "
					     "*.domain", n->args[i]);
		if (srv->nnames == TW_CONFIG_MAX_NAMES)
			return tw_opts_failf(x->px, org, "at most %d server "
					     "names in a server",
					     TW_CONFIG_MAX_NAMES);
		/* Host is compared without regard to case (RFC 9110 4.2.3). */
		for (j = 0; n->args[i][j]; j++)
			name[j] = (char)tolower((unsigned char)n->args[i][j]);
		name[j] = '\0';
		if ((srv->names[srv->nnames] = keep(x, name)) == NULL)
			return oom(x, org);
		srv->name_where[srv->nnames] = keep(x, org->where);
		if (srv->name_where[srv->nnames] == NULL)
			return oom(x, org);
		srv->nnames++;
	}
	return 0;
}

static int apply_block(struct scope_ctx *x, const struct tw_conf_node *first,
		       unsigned where);

static int
row_location(struct scope_ctx *x, const struct tw_conf_node *n,
	     const struct tw_opt_origin *org)
{
	struct tw_config_server *srv = x->srv;
	struct tw_config_location *loc, *locs;
	bool exact = n->nargs == 2;
	const char *path = n->args[n->nargs - 1];
	struct scope_ctx sub = *x;
	size_t i;

	if (exact && strcmp(n->args[0], "=") != 0)
		return tw_opts_failf(x->px, org, "location '%s': expected "
				     "location PATH or location = PATH",
				     n->args[0]);
	if (path[0] != '/')
		return tw_opts_failf(x->px, org, "location '%s': a path "
				     "starting with '/' is needed", path);
	for (i = 0; i < srv->nlocs; i++)
		if (srv->locs[i].exact == exact &&
		    strcmp(srv->locs[i].path, path) == 0)
			return tw_opts_failf(x->px, org, "duplicate location "
					     "%s%s", exact ? "= " : "", path);
	if (srv->nlocs == TW_CONFIG_MAX_LOCATIONS)
		return tw_opts_failf(x->px, org, "at most %d locations in a "
				     "server", TW_CONFIG_MAX_LOCATIONS);
	locs = reallocarray(srv->locs, srv->nlocs + 1, sizeof(*locs));
	if (locs == NULL)
		return oom(x, org);
	srv->locs = locs;
	loc = &locs[srv->nlocs++];
	memset(loc, 0, sizeof(*loc));
	loc->exact = exact;
	if ((loc->path = keep(x, path)) == NULL)
		return oom(x, org);
	sub.loc = loc;
	sub.sc = &loc->s;
	return apply_block(&sub, n->child, IN_LOCATION);
}

/* ---- the rows and the walk over a block ---------------------------- */

#define SL (IN_SERVER | IN_LOCATION)

static const struct scope_row rows[] = {
	{ "root", TW_SCOPE_ROOT, SL, 1, 1, false, row_root },
	{ "alias", TW_SCOPE_ALIAS, IN_LOCATION, 1, 1, false, row_alias },
	{ "index", TW_SCOPE_INDEX, SL, 1, TW_CONFIG_MAX_INDEX, false,
	  row_index },
	{ "listing", TW_SCOPE_LISTING, SL, 1, 1, false, row_listing },
	{ "hidden", TW_SCOPE_HIDDEN, SL, 1, 1, false, row_hidden },
	{ "expires", TW_SCOPE_EXPIRES, SL, 1, 1, false, row_expires },
	{ "compress", TW_SCOPE_COMPRESS, SL, 1, 1, false, row_compress },
	{ "add_header", 0, SL, 2, 2, false, row_add_header },
	{ "status", TW_SCOPE_STATUS, SL, 1, 1, false, row_status },
	{ "return", TW_SCOPE_RETURN, SL, 1, 2, false, row_return },
	{ "proxy_pass", TW_SCOPE_PROXY, IN_LOCATION, 1, 1, false,
	  row_proxy_pass },
	{ "error_page", 0, SL, 2, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "try_files", 0, SL, 2, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "cors", 0, SL, 1, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "cors_methods", 0, SL, 1, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "cors_headers", 0, SL, 1, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "cors_expose_headers", 0, SL, 1, TW_OPTS_MAX_ARGS, false, row_pages },
	{ "cors_max_age", 0, SL, 1, 1, false, row_pages },
	{ "cors_credentials", 0, SL, 1, 1, false, row_pages },
	{ "auth_basic", 0, SL, 1, 1, false, row_access },
	{ "auth_basic_user_file", 0, SL, 1, 1, false, row_access },
	{ "allow", 0, SL, 1, 1, false, row_access },
	{ "deny", 0, SL, 1, 1, false, row_access },
	{ "listen", 0, IN_SERVER, 1, 3, false, row_listen },
	{ "tls_certificate", 0, IN_SERVER, 1, 1, false, row_tls_file },
	{ "tls_certificate_key", 0, IN_SERVER, 1, 1, false, row_tls_file },
	{ "server_name", 0, IN_SERVER, 1, TW_OPTS_MAX_ARGS, false,
	  row_server_name },
	{ "location", 0, IN_SERVER, 1, 2, true, row_location },
};

static const char *
where_name(unsigned where)
{
	return where == IN_SERVER ? "a server block" :
	       where == IN_LOCATION ? "a location block" :
	       "a server or location block";
}

static const struct scope_row *
find_row(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/* Once per block: the block's own set bits. */
static int
check_once(struct scope_ctx *x, const struct scope_row *r,
	   const struct tw_opt_origin *org)
{
	unsigned *set = &x->sc->set;

	if (r->bit == 0)
		return 0;
	if (*set & r->bit)
		return tw_opts_failf(x->px, org, "duplicate '%s' directive",
				     r->name);
	*set |= r->bit;
	return 0;
}

static int
apply_one(struct scope_ctx *x, const struct tw_conf_node *n, unsigned where)
{
	const struct scope_row *r = find_row(n->name);
	struct tw_opt_origin org;
	int err;

	tw_opts_where(&org, n);
	if ((strcmp(n->name, "server") == 0 && where == IN_SERVER) ||
	    (strcmp(n->name, "location") == 0 && where == IN_LOCATION))
		return tw_opts_failf(x->px, &org, "%s blocks do not nest",
				     n->name);
	if (r == NULL && tw_upstreams_directive(n->name))
		return tw_opts_failf(x->px, &org, "'%s' is allowed only in an "
				     "upstream block", n->name);
	if (r == NULL && tw_opts_find(n->name, false) != NULL)
		return tw_opts_failf(x->px, &org, "'%s' is allowed only at the "
				     "top level, not in %s", n->name,
				     where_name(where));
	if (r == NULL)
		return tw_opts_failf(x->px, &org, "unknown directive '%s' in "
				     "%s", n->name, where_name(where));
	if (!(r->where & where))
		return tw_opts_failf(x->px, &org, "'%s' is allowed only in %s",
				     n->name, where_name(r->where));
	if (r->block && !n->has_block)
		return tw_opts_failf(x->px, &org, "'%s' needs a block: %s PATH "
				     "{ ... }", n->name, n->name);
	if (!r->block && n->has_block)
		return tw_opts_failf(x->px, &org, "block not allowed here: "
				     "'%s' takes none", n->name);
	if (n->nargs < r->min_args || n->nargs > r->max_args)
		return tw_opts_failf(x->px, &org, "'%s' takes %s%u argument%s",
				     n->name, r->min_args == r->max_args ? "" :
				     "up to ", r->max_args,
				     r->max_args == 1 ? "" : "s");
	if ((err = check_once(x, r, &org)) < 0)
		return err;
	return r->parse(x, n, &org);
}

static int
apply_block(struct scope_ctx *x, const struct tw_conf_node *first,
	    unsigned where)
{
	int err;

	for (; first != NULL; first = first->next)
		if ((err = apply_one(x, first, where)) < 0)
			return err;
	return 0;
}

int
tw_scope_misplaced(struct tw_opt_ctx *px, const struct tw_opt_origin *o,
		   const char *name)
{
	const struct scope_row *r = find_row(name);

	if (r == NULL && tw_upstreams_directive(name))
		return tw_opts_failf(px, o, "'%s' is allowed only in an "
				     "upstream block", name);
	if (r == NULL)
		return 0;
	return tw_opts_failf(px, o, "'%s' is allowed only in %s", name,
			     where_name(r->where));
}

int
tw_scope_parse_server(const struct tw_opt_val *v, const struct tw_opt *o,
		      void *field)
{
	struct tw_config *c = v->px->c;
	struct tw_config_server *srv;
	struct scope_ctx x = { .px = v->px };

	(void)o;
	(void)field;
	if (c->nservers == TW_CONFIG_MAX_SERVERS)
		return tw_opts_failf(v->px, v->org, "at most %d server blocks",
				     TW_CONFIG_MAX_SERVERS);
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	c->servers[c->nservers++] = srv;
	srv->s.expires = -1;
	if ((srv->where = keep(&x, v->org->where)) == NULL)
		return oom(&x, v->org);
	x.srv = srv;
	x.sc = &srv->s;
	return apply_block(&x, v->node->child, IN_SERVER);
}

/* ---- after the whole file ------------------------------------------------ */

static bool
same_listen(const struct tw_listen *a, const struct tw_listen *b)
{
	return a->port == b->port && strcmp(a->addr, b->addr) == 0;
}

/* Two servers answer on a common address: the same listen, or both on
 * the top level's. */
static bool
share_listen(const struct tw_config *c, const struct tw_config_server *a,
	     const struct tw_config_server *b)
{
	size_t i, j;

	if (c->listens_from_cli || (a->nlistens == 0 && b->nlistens == 0))
		return true;
	for (i = 0; i < a->nlistens; i++)
		for (j = 0; j < b->nlistens; j++)
			if (same_listen(&a->listens[i].l, &b->listens[j].l))
				return true;
	return false;
}

static int
check_names(const struct tw_config *c, char *err, size_t errlen)
{
	size_t i, j, k, m;

	for (i = 0; i < c->nservers; i++) {
		const struct tw_config_server *b = c->servers[i];

		for (j = 0; j < i; j++) {
			const struct tw_config_server *a = c->servers[j];

			if (!share_listen(c, a, b))
				continue;
			for (k = 0; k < b->nnames; k++)
				for (m = 0; m < a->nnames; m++)
					if (strcmp(a->names[m], b->names[k]) == 0)
						goto dup;
		}
		continue;
dup:
		/* nginx warns and ignores the second; a name that can
		 * never be reached is a mistake worth stopping for. */
		(void)snprintf(err, errlen, "%s: server_name '%s' is already "
			       "in the server of %s on the same address",
			       b->name_where[k], b->names[k],
			       c->servers[j]->where);
		return TW_CONFIG_EFILE;
	}
	return 0;
}

/* At most one default_server per address. */
static int
check_defaults(const struct tw_config *c, char *err, size_t errlen)
{
	size_t i, j, k, m;

	for (i = 0; i < c->nservers; i++)
		for (k = 0; k < c->servers[i]->nlistens; k++) {
			const struct tw_config_listen *l =
				&c->servers[i]->listens[k];

			if (!l->default_server)
				continue;
			for (j = 0; j < i; j++)
				for (m = 0; m < c->servers[j]->nlistens; m++) {
					const struct tw_config_listen *p =
						&c->servers[j]->listens[m];

					if (!p->default_server ||
					    !same_listen(&p->l, &l->l))
						continue;
					(void)snprintf(err, errlen, "%s: a "
						       "second default_server "
						       "for %s:%u",
						       c->servers[i]->where,
						       l->l.addr, l->l.port);
					return TW_CONFIG_EFILE;
				}
		}
	return 0;
}

/* The pages settings in force at every level, whole (front/pages). */
static int
check_pages(const struct tw_config *c, char *err, size_t errlen)
{
	struct tw_config_scope eff;
	size_t i, j;
	int r;

	if ((r = tw_pages_check(&c->pages, err, errlen)) < 0)
		return r;
	for (i = 0; i < c->nservers; i++) {
		const struct tw_config_server *srv = c->servers[i];

		tw_scope_effective(c, srv, NULL, &eff);
		if ((r = tw_pages_check(&eff.pages, err, errlen)) < 0)
			return r;
		for (j = 0; j < srv->nlocs; j++) {
			tw_scope_effective(c, srv, &srv->locs[j], &eff);
			if ((r = tw_pages_check(&eff.pages, err, errlen)) < 0)
				return r;
		}
	}
	return 0;
}

int
tw_scope_finish(struct tw_config *c, char *err, size_t errlen)
{
	int r;

	if ((r = check_pages(c, err, errlen)) < 0)
		return r;
	/* -p alone moved every listen line's port and leaves each server
	 * its own addresses */
	c->listens_from_cli = c->ncli_binds > 0 || c->ncli_listens > 0;
	if ((r = check_defaults(c, err, errlen)) < 0 ||
	    (r = tw_access_finish(c, err, errlen)) < 0)
		return r;
	return check_names(c, err, errlen);
}

/* ---- inheritance -------------------------------------------------- */

/* Overlay what block b set on out. */
static void
overlay(struct tw_config_scope *out, const struct tw_config_scope *b)
{
	if (b->set & TW_SCOPE_ROOT) {
		out->root = b->root;
		out->alias = NULL;
	}
	if (b->set & TW_SCOPE_ALIAS)
		out->alias = b->alias;
	if (b->set & TW_SCOPE_INDEX) {
		memcpy(out->index, b->index, sizeof(out->index));
		out->nindex = b->nindex;
	}
	if (b->set & TW_SCOPE_LISTING)
		out->listing = b->listing;
	if (b->set & TW_SCOPE_HIDDEN)
		out->hidden = b->hidden;
	if (b->set & TW_SCOPE_EXPIRES)
		out->expires = b->expires;
	if (b->set & TW_SCOPE_COMPRESS)
		out->compress = b->compress;
	/* As in nginx: a block's add_header lines replace all the
	 * inherited ones. */
	if (b->set & TW_SCOPE_HEADERS) {
		memcpy(out->headers, b->headers, sizeof(out->headers));
		out->nheaders = b->nheaders;
	}
	if (b->set & TW_SCOPE_STATUS)
		out->status = b->status;
	if (b->set & TW_SCOPE_RETURN) {
		out->ret_code = b->ret_code;
		out->ret_arg = b->ret_arg;
	}
	if (b->set & TW_SCOPE_PROXY) {
		out->proxy_pass = b->proxy_pass;
		out->proxy = b->proxy;
	}
	tw_pages_overlay(&out->pages, &b->pages);
	tw_access_inherit(&out->auth, &b->auth);
	out->set |= b->set;
}

void
tw_scope_effective(const struct tw_config *c,
		   const struct tw_config_server *srv,
		   const struct tw_config_location *loc,
		   struct tw_config_scope *out)
{
	memset(out, 0, sizeof(*out));
	out->root = c->root;
	if (c->nindexes > 0) {
		memcpy(out->index, c->indexes, sizeof(out->index));
		out->nindex = c->nindexes;
	} else if (c->index != NULL && c->index[0] != '\0') {
		out->index[0] = c->index;
		out->nindex = 1;
	}
	out->listing = c->listing;
	out->hidden = c->hidden;
	out->expires = c->expires;
	out->compress = c->compress.on;
	memcpy(out->headers, c->headers, sizeof(out->headers));
	out->nheaders = c->nheaders;
	out->status = c->status;
	out->pages = c->pages;
	out->auth = c->auth;
	if (srv != NULL)
		overlay(out, &srv->s);
	if (loc != NULL)
		overlay(out, &loc->s);
	/* nginx runs a server's return before it looks for a location: it
	 * answers every request of the server, whatever the location. */
	if (srv != NULL && (srv->s.set & TW_SCOPE_RETURN)) {
		out->ret_code = srv->s.ret_code;
		out->ret_arg = srv->s.ret_arg;
	}
}

/* ---- printing ----------------------------------------------------- */

static void
put_line_start(FILE *out, int depth, const char *name)
{
	fprintf(out, "%*s%s", 4 * depth, "", name);
}

static void
print_scope(const struct tw_config_scope *sc, int depth, FILE *out)
{
	size_t i;

	if (sc->set & TW_SCOPE_ROOT) {
		put_line_start(out, depth, "root ");
		tw_opts_put_quoted(out, sc->root);
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_ALIAS) {
		put_line_start(out, depth, "alias ");
		tw_opts_put_quoted(out, sc->alias);
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_INDEX) {
		put_line_start(out, depth, "index");
		for (i = 0; i < sc->nindex; i++) {
			fputc(' ', out);
			tw_opts_put_quoted(out, sc->index[i]);
		}
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_LISTING)
		fprintf(out, "%*slisting %s;\n", 4 * depth, "",
			sc->listing ? "on" : "off");
	if (sc->set & TW_SCOPE_HIDDEN)
		fprintf(out, "%*shidden %s;\n", 4 * depth, "",
			sc->hidden ? "on" : "off");
	if (sc->set & TW_SCOPE_EXPIRES) {
		if (sc->expires < 0)
			fprintf(out, "%*sexpires off;\n", 4 * depth, "");
		else
			fprintf(out, "%*sexpires %llds;\n", 4 * depth, "",
				sc->expires);
	}
	if (sc->set & TW_SCOPE_COMPRESS)
		fprintf(out, "%*scompress %s;\n", 4 * depth, "",
			sc->compress ? "on" : "off");
	for (i = 0; i < sc->nheaders; i++) {
		fprintf(out, "%*sadd_header %s ", 4 * depth, "",
			sc->headers[i].name);
		tw_opts_put_quoted(out, sc->headers[i].value);
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_STATUS) {
		put_line_start(out, depth, "status ");
		tw_opts_put_quoted(out, sc->status);
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_RETURN) {
		fprintf(out, "%*sreturn %d", 4 * depth, "", sc->ret_code);
		if (sc->ret_arg != NULL) {
			fputc(' ', out);
			tw_opts_put_quoted(out, sc->ret_arg);
		}
		fputs(";\n", out);
	}
	if (sc->set & TW_SCOPE_PROXY) {
		put_line_start(out, depth, "proxy_pass ");
		tw_opts_put_quoted(out, sc->proxy_pass);
		fputs(";\n", out);
	}
	tw_pages_print(&sc->pages, depth, out);
	tw_access_print(&sc->auth, depth, out);
}

static void
print_server(const struct tw_config_server *srv, FILE *out)
{
	size_t i;

	fputs("server {\n", out);
	for (i = 0; i < srv->nlistens; i++) {
		const struct tw_config_listen *l = &srv->listens[i];
		bool v6 = strchr(l->l.addr, ':') != NULL;

		fprintf(out, "    listen %s%s%s:%u%s%s;\n", v6 ? "[" : "",
			l->l.addr, v6 ? "]" : "", l->l.port,
			l->default_server ? " default_server" : "",
			l->l.tls ? " tls" : "");
	}
	for (i = 0; i < srv->ntls_certs; i++) {
		fputs("    tls_certificate ", out);
		tw_opts_put_quoted(out, srv->tls_certs[i]);
		fputs(";\n", out);
	}
	for (i = 0; i < srv->ntls_keys; i++) {
		fputs("    tls_certificate_key ", out);
		tw_opts_put_quoted(out, srv->tls_keys[i]);
		fputs(";\n", out);
	}
	for (i = 0; i < srv->nnames; i++)
		fprintf(out, "    server_name %s;\n", srv->names[i]);
	print_scope(&srv->s, 1, out);
	for (i = 0; i < srv->nlocs; i++) {
		const struct tw_config_location *loc = &srv->locs[i];

		fputs("    location ", out);
		if (loc->exact)
			fputs("= ", out);
		tw_opts_put_quoted(out, loc->path);
		fputs(" {\n", out);
		print_scope(&loc->s, 2, out);
		fputs("    }\n", out);
	}
	fputs("}\n", out);
}



void
tw_scope_print(const struct tw_config *c, FILE *out)
{
	size_t i;

	tw_upstreams_print(c, out);
	for (i = 0; i < c->nservers; i++)
		print_server(c->servers[i], out);
}

void
tw_scope_free(struct tw_config *c)
{
	size_t i;

	tw_upstreams_free(c);
	for (i = 0; i < c->nservers; i++) {
		free(c->servers[i]->locs);
		free(c->servers[i]);
	}
	c->nservers = 0;
}
