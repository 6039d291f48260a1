/* SPDX-License-Identifier: MIT */
/*
 * config: reads config files into trees (parse/conf_parse), splices the
 * files of include directives into them, and hands every directive and
 * every flag to its row of the option table (front/opts); --help and
 * check-config walk the same table. Layer 5: it may see every module's
 * options; no module below includes it.
 */
#include "front/config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/opts.h"
#include "http/proxy.h"
#include "front/scope.h"
#include "net/listener.h"
#include "parse/conf_parse.h"
#include "parse/mime.h"

#define MAX_CONF_BYTES	(16 * 1024 * 1024)

/* ---- values ---------------------------------------------------------- */

int
tw_config_init(struct tw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->root = ".";
	c->index = "index.html";
	c->listing = true;
	c->symlinks = TW_FS_SYMLINKS_INSIDE;
	c->charset = TW_CHARSET_AUTO;
	c->gzip_static = true;
	tw_compress_opts_default(&c->compress);
	c->access_log = "-";
	c->log_format = TW_LOG_FORMAT_COMBINED;
	c->error_log = "-";
	c->log_level = TW_LOG_INFO;
	c->mode = TW_MODE_EPOLL;
	c->accept = TW_ACCEPT_EXCLUSIVE;
	/* The client's connect wakes no server, and its request comes
	 * with the accept (row b of bench/README.md); the final graceful
	 * stop lingers for the clients it would otherwise reset (worker). */
	c->defer_accept = true;
	c->keepalive_timeout_ms = 30000;
	c->header_timeout_ms = 10000;
	c->send_timeout_ms = 60000;
	c->send_min_rate = 1024;
	c->max_connections = 10000;
	c->max_keepalive_requests = 1000;
	c->max_request_body = 1024 * 1024;
	/* threads: measured to keep the disk off the loop */
	c->aio = TW_AIO_THREADS;
	c->aio_threads = 4;
	c->sendfile = TW_SENDFILE_AUTO;
	c->expires = -1;
	c->proxy_connect_timeout_ms = 10000;
	c->proxy_read_timeout_ms = 60000;
	c->proxy_send_timeout_ms = 60000;
	c->proxy_next_upstream = TW_PROXY_NEXT_ERROR | TW_PROXY_NEXT_TIMEOUT;
	c->proxy_buffer_size = 16 * 1024;
	c->proxy_pass_request_headers = true;
	c->proxy_keepalive = 32;
	c->sandbox = TW_CONFIG_SANDBOX_ON;
	c->cli_port = -1;
	c->types = tw_mime_table_create();
	return c->types ? 0 : -ENOMEM;
}

void
tw_config_free(struct tw_config *c)
{
	tw_scope_free(c);
	tw_opts_free(c);
	tw_mime_table_destroy(c->types);
	c->types = NULL;
}

/* ---- applying a tree --------------------------------------------------- */

/* Hand each directive of a level to its row. Blocks are the rows'. */
static int
apply_level(struct tw_opt_ctx *px, const struct tw_conf_node *n)
{
	for (; n != NULL; n = n->next) {
		struct tw_opt_origin org;
		const struct tw_opt *o = tw_opts_find(n->name, false);
		struct tw_opt_val v = {
			.px = px, .org = &org, .args = n->args,
			.nargs = n->nargs, .node = n,
		};
		int err;

		tw_opts_where(&org, n);
		if (o == NULL && (err = tw_scope_misplaced(px, &org,
							   n->name)) < 0)
			return err;
		if (o == NULL)
			return tw_opts_failf(px, &org, "unknown directive "
					     "'%s'", n->name);
		if ((err = tw_opts_set(&v, o)) < 0)
			return err;
	}
	return 0;
}

/* ---- reading files and splicing includes -------------------------------- */

static int
read_file(const char *path, char **out, size_t *len)
{
	return tw_opts_read_file(path, MAX_CONF_BYTES, out, len, NULL);
}

/* Parse text into a tree the load owns; real is the file's realpath,
 * or NULL for text that is not a file. */
static int
add_tree(struct tw_opt_ctx *px, const char *name, const char *real,
	 const char *buf, size_t len, struct tw_opt_file **out)
{
	struct tw_opt_file *f = calloc(1, sizeof(*f));
	int err;

	if (f == NULL) {
		(void)snprintf(px->err, px->errlen, "%s: out of memory", name);
		return TW_CONFIG_EFILE;
	}
	f->next = px->files;
	px->files = f;
	err = tw_conf_parse(&f->tree, name, buf, len, px->err, px->errlen);
	if (err < 0)
		return TW_CONFIG_EFILE;
	/* Every node's file is the tree's own copy of name: it tells
	 * relative paths which file they were written in. */
	f->tree_name = f->tree.file;
	f->real = real;
	*out = f;
	return 0;
}

static void
free_trees(struct tw_opt_ctx *px)
{
	while (px->files != NULL) {
		struct tw_opt_file *f = px->files;

		px->files = f->next;
		tw_conf_tree_free(&f->tree);
		free(f);
	}
}

static int splice_includes(struct tw_opt_ctx *px, struct tw_conf_node **pp);

/* The nodes of one included file, their own includes spliced, go
 * between *first and *last (both NULL if it has none). */
static int
include_one(struct tw_opt_ctx *px, const char *path,
	    const struct tw_opt_origin *o, struct tw_conf_node **first,
	    struct tw_conf_node **last)
{
	char real[PATH_MAX];
	struct tw_opt_file *f;
	const char *kept;
	char *buf = NULL;
	size_t len = 0;
	int i, err;

	*first = *last = NULL;
	if (realpath(path, real) == NULL)
		err = -errno;
	else
		err = read_file(path, &buf, &len);
	if (err < 0)
		return tw_opts_failf(px, o, "include %s: %s", path,
				     strerror(-err));
	for (i = 0; i < px->depth; i++) {
		if (strcmp(px->stack[i], real) == 0) {
			free(buf);
			return tw_opts_failf(px, o, "include loop: %s includes "
					     "itself", path);
		}
	}
	if (px->depth == TW_OPTS_MAX_INCLUDE) {
		free(buf);
		return tw_opts_failf(px, o, "includes nested more than %d "
				     "deep", TW_OPTS_MAX_INCLUDE);
	}
	kept = tw_opts_keep(px->c, real, strlen(real));
	err = kept ? add_tree(px, path, kept, buf, len, &f) : -ENOMEM;
	free(buf);
	if (err == -ENOMEM)
		return tw_opts_failf(px, o, "out of memory");
	if (err < 0)
		return err;
	px->stack[px->depth++] = kept;
	err = splice_includes(px, &f->tree.first);
	px->depth--;
	if (err < 0)
		return err;
	*first = f->tree.first;
	for (*last = *first; *last != NULL && (*last)->next != NULL;
	     *last = (*last)->next)
		;
	return 0;
}

/* Append the nodes of one file to the list first..last. */
static int
include_append(struct tw_opt_ctx *px, const char *path,
	       const struct tw_opt_origin *o, struct tw_conf_node **first,
	       struct tw_conf_node **last)
{
	struct tw_conf_node *f, *l;
	int err = include_one(px, path, o, &f, &l);

	if (err < 0 || f == NULL)
		return err;
	if (*last != NULL)
		(*last)->next = f;
	else
		*first = f;
	*last = l;
	return 0;
}

/* include PATTERN: relative to the including file; a glob may match
 * nothing (as in nginx), a plain name must exist. */
static int
include_path(struct tw_opt_ctx *px, const struct tw_conf_node *n,
	     const struct tw_opt_origin *o, struct tw_conf_node **first,
	     struct tw_conf_node **last)
{
	const char *pattern = n->args[0];
	char full[PATH_MAX];
	glob_t g;
	size_t i;
	int err = 0, r;

	*first = *last = NULL;
	if (!px->allow_include)
		return tw_opts_failf(px, o, "include is not allowed here");
	if (tw_opts_resolve(px, n->file, pattern, full, sizeof(full)) < 0)
		return tw_opts_failf(px, o, "include path too long");
	if (strpbrk(pattern, "*?[") == NULL)
		return include_append(px, full, o, first, last);
	r = glob(full, 0, NULL, &g);
	/* Like nginx, a pattern that matches nothing is not an error, even
	 * when its directory does not exist (yet). */
	if (r == GLOB_NOMATCH || r == GLOB_ABORTED)
		return 0;
	if (r != 0)
		return tw_opts_failf(px, o, "include %s: cannot read the "
				     "directory", pattern);
	for (i = 0; i < g.gl_pathc && err == 0; i++)
		err = include_append(px, g.gl_pathv[i], o, first, last);
	globfree(&g);
	return err;
}

/*
 * Replace each include directive of the list at *pp, in blocks too, by
 * the directives of its files, so that an include works wherever the
 * directives it holds would.
 */
static int
splice_includes(struct tw_opt_ctx *px, struct tw_conf_node **pp)
{
	while (*pp != NULL) {
		struct tw_conf_node *n = *pp, *first, *last;
		struct tw_opt_origin org;
		int err;

		if (strcmp(n->name, "include") != 0) {
			if (n->child != NULL &&
			    (err = splice_includes(px, &n->child)) < 0)
				return err;
			pp = &n->next;
			continue;
		}
		tw_opts_where(&org, n);
		if (n->nargs != 1)
			return tw_opts_failf(px, &org, "'include' takes 1 "
					     "argument");
		if (n->has_block)
			return tw_opts_failf(px, &org, "block not allowed "
					     "here: 'include' takes none");
		if ((err = include_path(px, n, &org, &first, &last)) < 0)
			return err;
		if (first == NULL) {
			*pp = n->next;
			continue;
		}
		last->next = n->next;
		*pp = first;
		pp = &last->next;
	}
	return 0;
}

/* Parse, splice and apply one text. */
static int
load_text(struct tw_opt_ctx *px, const char *name, const char *real,
	  const char *buf, size_t len)
{
	struct tw_opt_file *f;
	int err;

	err = add_tree(px, name, real, buf, len, &f);
	if (err == 0) {
		if (real != NULL)
			px->stack[px->depth++] = real;
		err = splice_includes(px, &f->tree.first);
		if (err == 0)
			err = apply_level(px, f->tree.first);
	}
	free_trees(px);
	return err;
}

int
tw_config_load_buf(struct tw_config *c, const char *name, const char *buf,
		   size_t len, bool allow_include, char *err, size_t errlen)
{
	struct tw_opt_ctx px = {
		.c = c, .err = err, .errlen = errlen,
		.allow_include = allow_include,
	};

	return load_text(&px, name, NULL, buf, len);
}

int
tw_config_load_file(struct tw_config *c, const char *path, char *err,
		    size_t errlen)
{
	struct tw_opt_ctx px = {
		.c = c, .err = err, .errlen = errlen, .allow_include = true,
	};
	char real[PATH_MAX];
	const char *kept;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (realpath(path, real) == NULL)
		r = -errno;
	else
		r = read_file(path, &buf, &len);
	if (r < 0) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return TW_CONFIG_EFILE;
	}
	kept = tw_opts_keep(c, real, strlen(real));
	if (kept == NULL) {
		free(buf);
		(void)snprintf(err, errlen, "%s: out of memory", path);
		return TW_CONFIG_EFILE;
	}
	r = load_text(&px, path, kept, buf, len);
	free(buf);
	return r;
}

/* ---- the command line ---------------------------------------------------- */

static void (*error_sink)(const char *msg);

void
tw_config_set_error_sink(void (*fn)(const char *msg))
{
	error_sink = fn;
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One error line of the command line or the file it names. */
static void
say(const char *fmt, ...)
{
	char msg[PATH_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error_sink != NULL)
		error_sink(msg);
	else
		fprintf(stderr, "tinyweb: %s\n", msg);
}

/* The long flag of a row: the directive with '-' for '_'. */
static void
flag_name(const struct tw_opt *o, char *out, size_t len)
{
	size_t i;

	(void)snprintf(out, len, "%s", o->name);
	for (i = 0; out[i]; i++)
		if (out[i] == '_')
			out[i] = '-';
}

struct cli {
	struct option longopts[2 * TW_OPTS_MAX_ROWS + 3];
	char names[2 * TW_OPTS_MAX_ROWS][48];
	char shortopts[2 * TW_OPTS_MAX_ROWS + 8];
};

static void
build_cli(struct cli *cl)
{
	size_t i, n = 0, ns = 0;

	cl->shortopts[ns++] = ':';	/* we print our own errors */
	for (i = 0; i < tw_nopts; i++) {
		const struct tw_opt *o = &tw_opts[i];
		bool has_arg = !(o->flags & TW_OPT_NOARG);

		if (o->flags & TW_OPT_FILE)
			continue;
		flag_name(o, cl->names[n], sizeof(cl->names[n]));
		cl->longopts[n] = (struct option){ cl->names[n],
			has_arg ? required_argument : no_argument, NULL,
			256 + 2 * (int)i };
		n++;
		if (o->flags & TW_OPT_NEG) {
			char base[44];

			memcpy(base, cl->names[n - 1], sizeof(base) - 1);
			base[sizeof(base) - 1] = '\0';
			(void)snprintf(cl->names[n], sizeof(cl->names[n]),
				       "no-%s", base);
			cl->longopts[n] = (struct option){ cl->names[n],
				no_argument, NULL, 257 + 2 * (int)i };
			n++;
		}
		if (o->shortopt) {
			cl->shortopts[ns++] = o->shortopt;
			if (has_arg)
				cl->shortopts[ns++] = ':';
		}
	}
	cl->longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	cl->longopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	cl->longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	memcpy(cl->shortopts + ns, "hV", 3);
}

static const struct tw_opt *
short_to_opt(int ch)
{
	size_t i;

	for (i = 0; i < tw_nopts; i++)
		if (tw_opts[i].shortopt == ch)
			return &tw_opts[i];
	return NULL;
}

/*
 * One pass over the options. With apply_all false only -c, -t, --help
 * and --version are taken (the file must be read before the flags that
 * override it); with it true, everything but those.
 */
static int
scan_args(struct tw_opt_ctx *px, struct cli *cl, int argc, char **argv,
	  bool apply_all, enum tw_config_cmd *cmd)
{
	int ch, idx;

	/* 0, not 1: glibc then also forgets where it was inside a bundle
	 * of short options ("-xh") from an earlier, failed parse. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, cl->shortopts, cl->longopts,
				 &idx)) != -1) {
		const struct tw_opt *o;
		struct tw_opt_origin org = { .cli = true };
		const char *arg = optarg;
		struct tw_opt_val v = {
			.px = px, .org = &org, .args = &arg,
			.nargs = arg ? 1 : 0,
		};
		int err;

		if (ch == 'h' || ch == 'V') {
			if (!apply_all)
				*cmd = ch == 'h' ? TW_CMD_HELP : TW_CMD_VERSION;
			continue;
		}
		if (ch == '?') {
			if (optopt)
				say("unknown option '-%c' (try --help)", optopt);
			else
				say("unknown option '%s' (try --help)",
				    argv[optind - 1]);
			return TW_CONFIG_EUSAGE;
		}
		if (ch == ':') {
			say("option '%s' needs a value",
				argv[optind - 1]);
			return TW_CONFIG_EUSAGE;
		}
		if (ch >= 256) {
			o = &tw_opts[(ch - 256) / 2];
			v.neg = (ch - 256) % 2 == 1;
		} else {
			o = short_to_opt(ch);
		}
		if (o == NULL)
			return TW_CONFIG_EUSAGE;
		if (!!(o->flags & TW_OPT_EARLY) == apply_all)
			continue;
		flag_name(o, org.where, sizeof(org.where) - 4);
		memmove(org.where + 2, org.where, strlen(org.where) + 1);
		memcpy(org.where, "--", 2);
		err = tw_opts_set(&v, o);
		if (err < 0) {
			say("%s", px->err);
			/* A file a flag names may be at fault, not the flag
			 * (--auth-file): exit status 1 then. */
			return err == TW_CONFIG_EFILE ? err : TW_CONFIG_EUSAGE;
		}
	}
	return 0;
}

/* A server before the i-th is the default on l's address already. */
static bool
default_before(const struct tw_config *c, size_t i, const struct tw_listen *l)
{
	size_t k, j;

	for (k = 0; k < i; k++)
		for (j = 0; j < c->servers[k]->nlistens; j++) {
			const struct tw_config_listen *p =
				&c->servers[k]->listens[j];

			if (p->default_server && p->l.port == l->port &&
			    strcmp(p->l.addr, l->addr) == 0)
				return true;
		}
	return false;
}

/*
 * -p alone: the file's listen lines, its servers' too, on another port,
 * each keeping its address and tls ("the file, but on port 9000"), so a
 * loopback-only file is never opened to the network by a port. Lines
 * that became the same address are one.
 */
static void
move_ports(struct tw_config *c, uint16_t port)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->nlistens; i++) {
		struct tw_listen l = c->listens[i];

		l.port = port;
		l.tls |= c->cli_tls;
		for (j = 0; j < n; j++)
			if (strcmp(c->listens[j].addr, l.addr) == 0)
				break;
		if (j < n)
			c->listens[j].tls |= l.tls;
		else
			c->listens[n++] = l;
	}
	c->nlistens = n;
	for (i = 0; i < c->nservers; i++)
		for (j = 0; j < c->servers[i]->nlistens; j++) {
			struct tw_config_listen *l = &c->servers[i]->listens[j];

			l->l.port = port;
			/* Two ports' default servers now meet on one: the
			 * first keeps it, as when -p replaced the lines. */
			if (l->default_server && default_before(c, i, &l->l))
				l->default_server = false;
		}
}

static int
finish_listens(struct tw_config *c)
{
	size_t i;
	uint16_t port = c->cli_port >= 0 ? (uint16_t)c->cli_port : 8080;

	/* -b and --listen replace the file's listen lines: a flag wins.
	 * -p alone moves them to its port. */
	if (c->ncli_listens > 0 && c->cli_port < 0 && c->ncli_binds == 0) {
		c->nlistens = 0;
	} else if (c->ncli_binds > 0) {
		c->nlistens = 0;
		for (i = 0; i < c->ncli_binds; i++)
			c->listens[c->nlistens++] = (struct tw_listen){
				c->cli_binds[i], port, c->cli_tls };
	} else if (c->cli_port >= 0) {
		move_ports(c, port);
	}
	/* None given: every IPv4 and IPv6 address */
	if (c->nlistens == 0 &&
	    (c->ncli_listens == 0 || c->cli_port >= 0 || c->ncli_binds > 0))
		c->listens[c->nlistens++] = (struct tw_listen){
			TW_LISTENER_EVERY, port, c->cli_tls };
	if (c->nlistens + c->ncli_listens > TW_CONFIG_MAX_LISTEN) {
		say("-p/-b and --listen: at most %d addresses together",
		    TW_CONFIG_MAX_LISTEN);
		return TW_CONFIG_EUSAGE;
	}
	for (i = 0; i < c->ncli_listens; i++)
		c->listens[c->nlistens++] = c->cli_listens[i];
	return 0;
}

/* http://HOST[:PORT][/PATH]: resolved when the generation is built. */
static bool
proxy_url_ok(const char *u)
{
	const char *host, *end, *colon;
	char *stop;
	long port;

	if (strncasecmp(u, "http://", 7) != 0)
		return false;
	host = u + 7;
	end = host + strcspn(host, "/");
	if (end == host)
		return false;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (rb == NULL)
			return false;
		colon = rb + 1;
		if (colon == end)
			return true;
		if (*colon != ':')
			return false;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		if (colon == NULL)
			return true;
		if (colon == host)
			return false;
	}
	port = strtol(colon + 1, &stop, 10);
	return colon + 1 < end && stop == end && port > 0 && port < 65536;
}

/*
 * The words after the options: serve's DIR, or proxy's URLs and DIR
 * (files that exist are served from DIR, the rest goes upstream).
 */
static int
take_operands(struct tw_config *c, int argc, char **argv, bool proxy)
{
	bool dir = false;

	while (optind < argc) {
		const char *a = argv[optind++];

		if (proxy && strncasecmp(a, "http", 4) == 0 &&
		    strstr(a, "://") != NULL) {
			if (!proxy_url_ok(a)) {
				say("proxy: '%s' is not a URL such as "
				    "http://HOST:PORT", a);
				return TW_CONFIG_EUSAGE;
			}
			if (c->nproxy_urls == TW_CONFIG_MAX_PROXY_URLS) {
				say("proxy: at most %d upstream URLs",
				    TW_CONFIG_MAX_PROXY_URLS);
				return TW_CONFIG_EUSAGE;
			}
			c->proxy_urls[c->nproxy_urls++] = a;
			continue;
		}
		if (dir) {
			say("unexpected argument '%s'", a);
			return TW_CONFIG_EUSAGE;
		}
		c->root = a;
		dir = true;
	}
	if (proxy && c->nproxy_urls == 0) {
		say("proxy: an upstream is needed: tinyweb proxy "
		    "http://HOST:PORT... [DIR]");
		return TW_CONFIG_EUSAGE;
	}
	c->proxy_dir = proxy && dir;
	return 0;
}

/* TLS settings that only make sense together. 0 or -1 (said). */
static int
finish_tls(const struct tw_config *c)
{
	bool servers_certs = false;
	size_t i, j;

	if (c->ntls_certs != c->ntls_keys) {
		say("tls_certificate and tls_certificate_key (--tls-cert, "
		    "--tls-key) come in pairs: %zu certificate%s, %zu key%s",
		    c->ntls_certs, c->ntls_certs == 1 ? "" : "s",
		    c->ntls_keys, c->ntls_keys == 1 ? "" : "s");
		return -1;
	}
	for (i = 0; i < c->nservers; i++) {
		const struct tw_config_server *srv = c->servers[i];

		if (srv->ntls_certs != srv->ntls_keys) {
			say("%s: tls_certificate and tls_certificate_key come "
			    "in pairs: %zu certificate%s, %zu key%s",
			    srv->tls_where, srv->ntls_certs,
			    srv->ntls_certs == 1 ? "" : "s", srv->ntls_keys,
			    srv->ntls_keys == 1 ? "" : "s");
			return -1;
		}
		servers_certs |= srv->ntls_certs > 0;
	}
	for (i = 0; i < c->nlistens; i++) {
		if (c->listens[i].tls && c->ntls_certs == 0 &&
		    !servers_certs) {
			say("listen %s:%u tls needs tls_certificate and "
			    "tls_certificate_key", c->listens[i].addr,
			    c->listens[i].port);
			return -1;
		}
	}
	/* A server's tls listen: its own pairs, or the top level's. */
	for (i = 0; i < c->nservers; i++) {
		const struct tw_config_server *srv = c->servers[i];

		for (j = 0; j < srv->nlistens; j++)
			if (srv->listens[j].l.tls && srv->ntls_certs == 0 &&
			    c->ntls_certs == 0) {
				say("%s: listen %s:%u tls needs "
				    "tls_certificate and tls_certificate_key "
				    "in this server or at the top level",
				    srv->listens[j].where,
				    srv->listens[j].l.addr,
				    srv->listens[j].l.port);
				return -1;
			}
	}
	return 0;
}

/* "tinyweb DIR" is "tinyweb serve DIR", as with darkhttpd; a command
 * word wins over a directory of that name (./serve serves it). */
static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
tw_config_parse_args(struct tw_config *c, int argc, char **argv,
		     enum tw_config_cmd *cmd)
{
	struct cli *cl;
	char err[PATH_MAX + 512];
	struct tw_opt_ctx px = {
		.c = c, .err = err, .errlen = sizeof(err),
		.allow_include = true,
	};
	bool have_cmd = false, proxy = false;
	int r;

	*cmd = TW_CMD_SERVE;
	if (argc > 1 && (strcmp(argv[1], "serve") == 0 ||
			 strcmp(argv[1], "proxy") == 0 ||
			 strcmp(argv[1], "check-config") == 0)) {
		have_cmd = true;
		if (argv[1][0] == 'c')
			*cmd = TW_CMD_CHECK;
		proxy = argv[1][0] == 'p';
		argv++;
		argc--;
	}
	cl = malloc(sizeof(*cl));
	if (cl == NULL)
		return TW_CONFIG_EUSAGE;
	build_cli(cl);
	r = scan_args(&px, cl, argc, argv, false, cmd);
	if (r < 0 || *cmd == TW_CMD_HELP || *cmd == TW_CMD_VERSION)
		goto out;
	if (c->test_only)
		*cmd = TW_CMD_CHECK;
	if (!have_cmd && *cmd != TW_CMD_CHECK &&
	    !(optind < argc && is_dir(argv[optind]))) {
		if (optind < argc)
			say("'%s' is neither a command nor a directory "
			    "(try --help)", argv[optind]);
		else
			say("a command or a directory is needed: tinyweb "
			    "serve [DIR], or tinyweb DIR (try --help)");
		r = TW_CONFIG_EUSAGE;
		goto out;
	}
	if (c->conf_file != NULL) {
		r = tw_config_load_file(c, c->conf_file, err, sizeof(err));
		if (r < 0) {
			say("%s", err);
			r = TW_CONFIG_EFILE;
			goto out;
		}
	}
	r = scan_args(&px, cl, argc, argv, true, cmd);
	if (r < 0)
		goto out;
	r = take_operands(c, argc, argv, proxy);
	if (r < 0)
		goto out;
	if ((r = finish_listens(c)) < 0)
		goto out;
	if ((r = tw_scope_finish(c, err, sizeof(err))) < 0 ||
	    (r = tw_config_resolve(c, err, sizeof(err))) < 0) {
		say("%s", err);
		r = TW_CONFIG_EFILE;
	} else if (finish_tls(c) < 0) {
		r = TW_CONFIG_EFILE;
	}
out:
	free(cl);
	return r;
}

void
tw_config_usage(FILE *out)
{
	size_t i;

	fputs("Usage: tinyweb serve [OPTIONS] [DIR]\n"
	      "       tinyweb [OPTIONS] DIR\n"
	      "       tinyweb proxy URL... [OPTIONS] [DIR]\n"
	      "       tinyweb check-config [-c FILE] [OPTIONS] [DIR]\n"
	      "       tinyweb stop|quit|reload|reopen --pidfile FILE | -c FILE\n"
	      "       tinyweb --help | --version\n\n"
	      "Serve the files under DIR (default: the current directory, or "
	      "the config\nfile's root) over HTTP/1.1. proxy forwards "
	      "requests to the upstream servers\nat URL... (http://HOST:PORT"
	      "[/PATH], balanced), after the files under DIR if\ngiven.\n\n"
	      "Options:\n", out);
	for (i = 0; i < tw_nopts; i++) {
		const struct tw_opt *o = &tw_opts[i];
		int pass;

		if (o->flags & TW_OPT_FILE)
			continue;
		for (pass = 0; pass < (o->flags & TW_OPT_NEG ? 2 : 1); pass++) {
			const char *h = pass ? o->neg_help : o->help, *nl;
			char name[48];
			int col;

			flag_name(o, name, sizeof(name));
			if (o->shortopt && pass == 0)
				col = fprintf(out, "  -%c, --%s", o->shortopt, name);
			else
				col = fprintf(out, "      --%s%s", pass ? "no-" : "",
					      name);
			if (!(o->flags & TW_OPT_NOARG))
				col += fprintf(out, " %s", o->arg);
			if (col > 30) {
				fputc('\n', out);
				col = 0;
			}
			for (;;) {
				nl = strchr(h, '\n');
				fprintf(out, "%*s%.*s\n", 32 - col, "",
					(int)(nl ? nl - h : (long)strlen(h)), h);
				if (nl == NULL)
					break;
				h = nl + 1;
				col = 0;
			}
		}
	}
	fputs("  -h, --help                    print this help and exit\n"
	      "  -V, --version                 print the version and exit\n\n"
	      "Every option is also a config file directive: --max-connections "
	      "N is\n\"max_connections N;\"; -p and -b are \"listen ADDR:PORT;\". "
	      "See tinyweb.conf(5).\nTIME is a number with an optional unit: ms, "
	      "s (default), m, h or d.\nSIZE is a number with an optional k, m "
	      "or g.\nExit status: 0 after a clean stop, 1 on a startup or "
	      "config file error,\n2 on a bad command line.\n", out);
}

/* ---- check-config output ------------------------------------------------ */

void
tw_config_print(const struct tw_config *c, FILE *out)
{
	size_t i;

	fputs("# tinyweb: effective configuration\n", out);
	for (i = 0; i < tw_nopts; i++)
		if (tw_opts[i].print != NULL)
			tw_opts[i].print(c, &tw_opts[i], out);
	tw_scope_print(c, out);
}
