/* SPDX-License-Identifier: MIT */
/*
 * config: the option table, the config file lexer and parser, the command
 * line, --help and check-config. Layer 5: it may see every module's
 * options; no module below includes it.
 */
#include "front/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/status.h"
#include "parse/mime.h"

#define MAX_ARGS	8
#define MAX_TOKEN	4096
#define MAX_DEPTH	16		/* include nesting */
#define MAX_CONF_BYTES	(16 * 1024 * 1024)

/* ---- string arena: config strings live until tw_config_free ---------- */

struct tw_config_arena {
	struct tw_config_arena *next;
	char data[];
};

static const char *
keep(struct tw_config *c, const char *s, size_t n)
{
	struct tw_config_arena *a = malloc(sizeof(*a) + n + 1);

	if (a == NULL)
		return NULL;
	memcpy(a->data, s, n);
	a->data[n] = '\0';
	a->next = c->arena;
	c->arena = a;
	return a->data;
}

/* mime_types and types entries, kept in order for check-config. */
struct config_mime_op {
	const char *type;	/* NULL: a mime_types file */
	const char *arg;	/* the file, or the extension */
};

/* ---- the option table --------------------------------------------------- */

enum opt_type {
	OPT_LISTEN,	/* file: [ADDR:]PORT, [IPv6]:PORT, ADDR */
	OPT_PORT,	/* -p */
	OPT_BIND,	/* -b */
	OPT_ROOT,
	OPT_STR,
	OPT_BOOL,	/* file: on|off; flags: --x, --no-x */
	OPT_ENUM,
	OPT_DURATION,
	OPT_COUNT,
	OPT_SIZE,
	OPT_WORKERS,
	OPT_ACCESS_LOG,	/* PATH|off [FORMAT] */
	OPT_ERROR_LOG,	/* PATH [LEVEL] */
	OPT_HEADER,	/* NAME VALUE; flag: "NAME: VALUE" */
	OPT_EXPIRES,
	OPT_USER,	/* USER [GROUP] */
	OPT_MIME_TYPES,
	OPT_TYPES,	/* block */
	OPT_INCLUDE,
	OPT_STATUS_ALLOW,	/* repeatable ADDR[/BITS] or all */
	OPT_CONFIG,	/* -c */
	OPT_TEST,	/* -t */
};

#define F_REPEAT	0x1u	/* may appear more than once */
#define F_FILE_ONLY	0x2u	/* no command-line flag */
#define F_CLI_ONLY	0x4u	/* no directive */

struct opt {
	const char *name;	/* directive; the flag is the same with '-' */
	const char *flag;	/* long flag when it differs, or NULL */
	char shortopt;
	enum opt_type type;
	size_t off;		/* offsetof(struct tw_config, field) */
	unsigned flags;
	const char *const *values;	/* OPT_ENUM names, index = value */
	const char *arg;	/* metavariable in --help */
	const char *help;	/* '\n' continues on the next line */
	const char *neg_help;	/* OPT_BOOL: help of --no-x */
};

#define OFF(f) offsetof(struct tw_config, f)

static const char *const symlink_names[] = { "never", "inside", "always", NULL };
static const char *const charset_names[] = { "off", "auto", NULL };
static const char *const format_names[] = { "combined", "common", "json", NULL };
static const char *const level_names[] = {
	"error", "warn", "info", "debug", NULL,
};
static const char *const aio_names[] = { "off", "threads", NULL };
/* Order as enum tw_sendfile. */
static const char *const sendfile_names[] = { "auto", "on", "off", NULL };

#define AIO_THREADS_MAX 64

static const struct opt opts[] = {
	{ "listen", NULL, 0, OPT_LISTEN, 0, F_REPEAT | F_FILE_ONLY, NULL,
	  NULL, NULL, NULL },
	{ "port", NULL, 'p', OPT_PORT, 0, F_CLI_ONLY, NULL, "N",
	  "TCP port (default 8080; 0 picks a free port);\n"
	  "with -b, replaces the file's listen lines", NULL },
	{ "bind", NULL, 'b', OPT_BIND, 0, F_CLI_ONLY | F_REPEAT, NULL, "ADDR",
	  "IPv4 or IPv6 address to listen on; repeatable\n(default 0.0.0.0)",
	  NULL },
	{ "root", NULL, 0, OPT_ROOT, OFF(root), F_FILE_ONLY, NULL, NULL, NULL,
	  NULL },
	{ "config", NULL, 'c', OPT_CONFIG, 0, F_CLI_ONLY, NULL, "FILE",
	  "read directives from FILE; flags win over it", NULL },
	{ "test-config", NULL, 't', OPT_TEST, 0, F_CLI_ONLY, NULL, NULL,
	  "check the configuration, print it and exit\n(as check-config)",
	  NULL },
	{ "index", NULL, 0, OPT_STR, OFF(index), 0, NULL, "NAME",
	  "index file of a directory (default index.html)", NULL },
	{ "listing", NULL, 0, OPT_BOOL, OFF(listing), 0, NULL, NULL,
	  "list directories that have no index file\n(default)",
	  "answer 403 for directories without an index" },
	{ "hidden", NULL, 0, OPT_BOOL, OFF(hidden), 0, NULL, NULL,
	  "serve and list dotfiles (default: 404, except\n/.well-known/)",
	  "hide dotfiles (default)" },
	{ "symlinks", NULL, 0, OPT_ENUM, OFF(symlinks), 0, symlink_names,
	  "MODE", "never, inside (default) or always", NULL },
	{ "charset", NULL, 0, OPT_ENUM, OFF(charset), 0, charset_names, "MODE",
	  "auto (default): charset=utf-8 on UTF-8 text\n"
	  "files; off: bare content types", NULL },
	{ "gzip_static", NULL, 0, OPT_BOOL, OFF(gzip_static), 0, NULL, NULL,
	  "send FILE.gz/FILE.br beside FILE to clients\n"
	  "that accept them (default)",
	  "never send the .gz/.br sidecars" },
	{ "add_header", NULL, 0, OPT_HEADER, 0, F_REPEAT, NULL, "'NAME: VALUE'",
	  "add a header to every response; repeatable", NULL },
	{ "expires", NULL, 0, OPT_EXPIRES, OFF(expires), 0, NULL, "TIME",
	  "Cache-Control max-age and Expires on files:\n"
	  "a TIME, max (10 years) or off (default)", NULL },
	{ "mime_types", NULL, 0, OPT_MIME_TYPES, 0, F_REPEAT, NULL, "FILE",
	  "read extension types from FILE (mime.types\n"
	  "format) over the built-in table", NULL },
	{ "types", NULL, 0, OPT_TYPES, 0, F_REPEAT | F_FILE_ONLY, NULL, NULL,
	  NULL, NULL },
	{ "access_log", NULL, 0, OPT_ACCESS_LOG, OFF(access_log), 0, NULL,
	  "FILE", "access log: FILE, - for stdout (default), or\noff", NULL },
	{ "log_format", NULL, 0, OPT_ENUM, OFF(log_format), 0, format_names,
	  "FORMAT", "access log format: combined (default), common\nor json",
	  NULL },
	{ "quiet", NULL, 'q', OPT_BOOL, OFF(quiet), 0, NULL, NULL,
	  "no access log on stdout", "log to stdout unless --access-log says\n"
	  "otherwise (default)" },
	{ "error_log", NULL, 0, OPT_ERROR_LOG, OFF(error_log), 0, NULL, "FILE",
	  "error log: FILE or - for stderr (default)", NULL },
	{ "log_level", NULL, 0, OPT_ENUM, OFF(log_level), 0, level_names,
	  "LEVEL", "error, warn, info (default) or debug", NULL },
	{ "pidfile", NULL, 0, OPT_STR, OFF(pidfile), 0, NULL, "FILE",
	  "write the server's pid to FILE (locked)", NULL },
	{ "daemon", NULL, 'd', OPT_BOOL, OFF(daemon), 0, NULL, NULL,
	  "detach into the background once listening",
	  "stay in the foreground (default)" },
	{ "mode", NULL, 'm', OPT_ENUM, OFF(mode), 0, tw_mode_names, "MODE",
	  "epoll (default), prefork or threads", NULL },
	{ "workers", NULL, 'w', OPT_WORKERS, OFF(workers), 0, NULL, "N",
	  "processes or threads for prefork/threads, or\n"
	  "auto (one per CPU, default)", NULL },
	{ "status", NULL, 0, OPT_STR, OFF(status), 0, NULL, "PATH",
	  "answer PATH with live counters (off by default)", NULL },
	{ "status_allow", NULL, 0, OPT_STATUS_ALLOW, 0, F_REPEAT, NULL, "NET",
	  "clients that may see the status page:\n"
	  "ADDR[/BITS] or all; repeatable (default loopback)", NULL },
	{ "accept", NULL, 0, OPT_ENUM, OFF(accept), 0,
	  tw_mode_accept_names, "HOW",
	  "prefork/threads accept: exclusive (default),\n"
	  "reuseport, mutex or mutex-file", NULL },
	{ "aio", NULL, 0, OPT_ENUM, OFF(aio), 0, aio_names, "HOW",
	  "cold file reads: threads (default): a pool per\n"
	  "worker reads pages not in memory so the event\n"
	  "loop never waits for the disk; or off", NULL },
	{ "aio_threads", NULL, 0, OPT_COUNT, OFF(aio_threads), 0, NULL, "N",
	  "threads in each worker's aio pool, 1 to 64\n(default 4)", NULL },
	{ "sendfile", NULL, 0, OPT_ENUM, OFF(sendfile), 0, sendfile_names,
	  "HOW", "file bodies: auto (default): sendfile below\n"
	  "2 MiB, pread + send through a buffer above\n"
	  "(faster there on loopback); on; or off", NULL },
	{ "user", NULL, 0, OPT_USER, OFF(user), 0, NULL, "USER[:GROUP]",
	  "drop root privileges to USER after binding", NULL },
	{ "keepalive_timeout", NULL, 0, OPT_DURATION, OFF(keepalive_timeout_ms),
	  0, NULL, "TIME", "idle keep-alive wait (default 30s)", NULL },
	{ "header_timeout", NULL, 0, OPT_DURATION, OFF(header_timeout_ms), 0,
	  NULL, "TIME", "deadline for a request's headers (default 10s)",
	  NULL },
	{ "send_timeout", NULL, 0, OPT_DURATION, OFF(send_timeout_ms), 0, NULL,
	  "TIME", "longest a client may stall a response\n(default 60s)",
	  NULL },
	{ "max_connections", NULL, 0, OPT_COUNT, OFF(max_connections), 0, NULL,
	  "N", "open connections at most (default 10000)", NULL },
	{ "max_keepalive_requests", NULL, 0, OPT_COUNT,
	  OFF(max_keepalive_requests), 0, NULL, "N",
	  "requests on one connection (default 1000)", NULL },
	{ "max_request_body", NULL, 0, OPT_SIZE, OFF(max_request_body), 0, NULL,
	  "SIZE", "request bodies read and discarded at most;\n"
	  "larger get 413 (default 1m)", NULL },
	{ "include", NULL, 0, OPT_INCLUDE, 0, F_REPEAT | F_FILE_ONLY, NULL,
	  NULL, NULL, NULL },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

_Static_assert(NOPTS <= 64 * 8, "seen[] has a bit per option");

/* ---- values ---------------------------------------------------------- */

int
tw_config_init(struct tw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->root = ".";
	c->index = "index.html";
	c->listing = true;
	c->symlinks = TW_FS_SYMLINKS_INSIDE;
	c->charset = true;
	c->gzip_static = true;
	c->access_log = "-";
	c->log_format = TW_LOG_FORMAT_COMBINED;
	c->error_log = "-";
	c->log_level = TW_LOG_INFO;
	c->mode = TW_MODE_EPOLL;
	c->keepalive_timeout_ms = 30000;
	c->header_timeout_ms = 10000;
	c->send_timeout_ms = 60000;
	c->max_connections = 10000;
	c->max_keepalive_requests = 1000;
	c->max_request_body = 1024 * 1024;
	c->aio = 1;	/* threads: measured to keep the disk off the loop */
	c->aio_threads = 4;
	c->expires = -1;
	c->cli_port = -1;
	c->types = tw_mime_table_create();
	return c->types ? 0 : -ENOMEM;
}

void
tw_config_free(struct tw_config *c)
{
	while (c->arena != NULL) {
		struct tw_config_arena *a = c->arena;

		c->arena = a->next;
		free(a);
	}
	free(c->mime_ops);
	tw_mime_table_destroy(c->types);
	c->types = NULL;
	c->mime_ops = NULL;
}

static int
parse_number(const char *s, uint64_t max, uint64_t *out, const char **rest)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*rest = s;
	return 0;
}

static int
scaled(const char *s, const char *const *units, const uint64_t *mul,
       uint64_t *out)
{
	const char *rest;
	uint64_t v;
	size_t i;

	if (parse_number(s, UINT64_MAX, &v, &rest) < 0)
		return -EINVAL;
	for (i = 0; units[i] != NULL; i++) {
		if (strcmp(rest, units[i]) != 0)
			continue;
		if (mul[i] != 0 && v > UINT64_MAX / mul[i])
			return -EINVAL;
		*out = v * mul[i];
		return 0;
	}
	return -EINVAL;
}

int
tw_config_parse_duration(const char *s, uint64_t *ms)
{
	static const char *const units[] = { "ms", "", "s", "m", "h", "d", NULL };
	static const uint64_t mul[] = { 1, 1000, 1000, 60000, 3600000,
					86400000 };

	return scaled(s, units, mul, ms);
}

int
tw_config_parse_size(const char *s, uint64_t *bytes)
{
	static const char *const units[] = { "", "k", "K", "m", "M", "g", "G",
					     NULL };
	static const uint64_t mul[] = { 1, 1u << 10, 1u << 10, 1u << 20,
					1u << 20, 1u << 30, 1u << 30 };

	return scaled(s, units, mul, bytes);
}

static int
parse_listen(const char *s, const char **addr, size_t *addrlen,
	     uint16_t *port)
{
	const char *colon, *p = s;
	uint64_t v;
	unsigned char tmp[16];
	char host[INET6_ADDRSTRLEN];

	*port = 8080;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		*addr = s + 1;
		*addrlen = (size_t)(end - s - 1);
		p = end[1] == ':' ? end + 2 : NULL;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		if (strchr(s, ':') != colon)
			return -EINVAL;	/* bare IPv6 needs brackets */
		*addr = s;
		*addrlen = (size_t)(colon - s);
		p = colon + 1;
	} else if (strspn(s, "0123456789") == strlen(s)) {
		*addr = "0.0.0.0";
		*addrlen = 7;
	} else {
		*addr = s;
		*addrlen = strlen(s);
		p = NULL;
	}
	if (p == s) {
		if (parse_number(p, 65535, &v, &p) < 0 || *p != '\0')
			return -EINVAL;
		*port = (uint16_t)v;
		return 0;
	}
	if (p != NULL) {
		if (parse_number(p, 65535, &v, &p) < 0 || *p != '\0')
			return -EINVAL;
		*port = (uint16_t)v;
	}
	if (*addrlen == 1 && **addr == '*') {
		*addr = "0.0.0.0";
		*addrlen = 7;
	}
	if (*addrlen == 0 || *addrlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, *addr, *addrlen);
	host[*addrlen] = '\0';
	if (inet_pton(AF_INET, host, tmp) != 1 &&
	    inet_pton(AF_INET6, host, tmp) != 1)
		return -EINVAL;
	return 0;
}

static bool
valid_header_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", ch) != NULL) || ch == '\0')
			return false;
	}
	return true;
}

static bool
valid_header_value(const char *s)
{
	/* A CR or LF would let a config line split the response. */
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

/* Where a value comes from, for messages: "--flag" or "FILE:LINE". */
struct origin {
	char where[PATH_MAX + 32];
	bool cli;
};

struct parse_ctx {
	struct tw_config *c;
	char *err;
	size_t errlen;
	bool allow_include;
	int depth;
	const char *stack[MAX_DEPTH];	/* files being read, for loops */
};

static int
failf(struct parse_ctx *px, const struct origin *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
failf(struct parse_ctx *px, const struct origin *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(px->err, px->errlen, "%s: ", o->where);
	if (n < 0 || (size_t)n >= px->errlen)
		return o->cli ? TW_CONFIG_EUSAGE : TW_CONFIG_EFILE;
	va_start(ap, fmt);
	(void)vsnprintf(px->err + n, px->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return o->cli ? TW_CONFIG_EUSAGE : TW_CONFIG_EFILE;
}

static int load_path(struct parse_ctx *px, const char *path,
		     const struct origin *o);

/* A relative path in a file is relative to that file's directory. */
static int
resolve_rel(const struct parse_ctx *px, const char *path, char *full,
	    size_t len)
{
	int n;

	if (path[0] != '/' && px->depth > 0) {
		const char *cur = px->stack[px->depth - 1];
		const char *slash = strrchr(cur, '/');

		n = snprintf(full, len, "%.*s/%s", (int)(slash - cur), cur, path);
	} else if (path[0] != '/') {
		/* From the command line: the working directory, kept
		 * absolute so check-config's output reads back the same
		 * from anywhere. */
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -errno;
		n = snprintf(full, len, "%s/%s", cwd, path);
	} else {
		n = snprintf(full, len, "%s", path);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
add_mime_op(struct tw_config *c, const char *type, const char *arg)
{
	struct config_mime_op *ops;

	ops = reallocarray(c->mime_ops, c->nmime_ops + 1, sizeof(*ops));
	if (ops == NULL)
		return -ENOMEM;
	c->mime_ops = ops;
	ops[c->nmime_ops].type = type;
	ops[c->nmime_ops].arg = arg;
	c->nmime_ops++;
	return 0;
}

static int
load_mime_file(struct parse_ctx *px, const struct origin *o, const char *path)
{
	struct tw_config *c = px->c;
	size_t errline = 0, len = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, err;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(px, o, "mime_types %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_CONF_BYTES) {
		(void)close(fd);
		return failf(px, o, "mime_types %s: not a regular file of "
			     "at most 16 MiB", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		(void)close(fd);
		return failf(px, o, "out of memory");
	}
	while (len < (size_t)st.st_size &&
	       (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	(void)close(fd);
	err = tw_mime_table_load_buf(c->types, buf, len, &errline);
	free(buf);
	if (err == -EINVAL) {
		struct origin mo = { .cli = o->cli };

		(void)snprintf(mo.where, sizeof(mo.where), "%s:%zu", path,
			       errline);
		return failf(px, &mo, "malformed mime.types line");
	}
	if (err < 0)
		return failf(px, o, "mime_types %s: %s", path, strerror(-err));
	return 0;
}

/* Give a value to one option. args[0..nargs) are its arguments. */
static int
apply(struct parse_ctx *px, const struct opt *o, const struct origin *org,
      char **args, size_t nargs, bool neg)
{
	struct tw_config *c = px->c;
	char *field = (char *)c + o->off;
	const char *s;
	uint64_t v;
	size_t i, want_min = 1, want_max = 1;

	switch (o->type) {
	case OPT_BOOL:
		want_min = org->cli ? 0 : 1;
		want_max = org->cli ? 0 : 1;
		break;
	case OPT_ACCESS_LOG:
	case OPT_ERROR_LOG:
	case OPT_USER:
		want_max = org->cli ? 1 : 2;
		break;
	case OPT_HEADER:
		want_min = want_max = org->cli ? 1 : 2;
		break;
	case OPT_TEST:
		want_min = want_max = 0;
		break;
	case OPT_MIME_TYPES:
	case OPT_INCLUDE:
		break;
	default:
		break;
	}
	if (nargs < want_min || nargs > want_max)
		return failf(px, org, "'%s' takes %s%zu argument%s", o->name,
			     want_min == want_max ? "" : "up to ", want_max,
			     want_max == 1 ? "" : "s");
	s = nargs ? args[0] : "";
	switch (o->type) {
	case OPT_LISTEN: {
		const char *addr;
		size_t alen;
		uint16_t port;

		if (parse_listen(s, &addr, &alen, &port) < 0)
			return failf(px, org, "listen '%s': expected PORT, "
				     "ADDR, ADDR:PORT or [IPv6]:PORT", s);
		if (c->nlistens == TW_CONFIG_MAX_LISTEN)
			return failf(px, org, "at most %d listen lines",
				     TW_CONFIG_MAX_LISTEN);
		c->listens[c->nlistens].addr = keep(c, addr, alen);
		c->listens[c->nlistens].port = port;
		if (c->listens[c->nlistens].addr == NULL)
			return failf(px, org, "out of memory");
		c->nlistens++;
		return 0;
	}
	case OPT_PORT:
		if (parse_number(s, 65535, &v, &s) < 0 || *s != '\0')
			return failf(px, org, "'%s' is not a port from 0 to "
				     "65535", args[0]);
		c->cli_port = (int)v;
		return 0;
	case OPT_BIND: {
		unsigned char tmp[16];

		if (inet_pton(AF_INET, s, tmp) != 1 &&
		    inet_pton(AF_INET6, s, tmp) != 1)
			return failf(px, org, "'%s' is not an IPv4 or IPv6 "
				     "address", s);
		if (c->ncli_binds == TW_CONFIG_MAX_LISTEN)
			return failf(px, org, "at most %d addresses",
				     TW_CONFIG_MAX_LISTEN);
		c->cli_binds[c->ncli_binds++] = s;
		return 0;
	}
	case OPT_ROOT:
	case OPT_STR:
		if (*s == '\0')
			return failf(px, org, "'%s' needs a non-empty value",
				     o->name);
		if (o->off == OFF(status) && *s != '/')
			return failf(px, org, "status '%s': a path starting "
				     "with '/' is needed", s);
		if (org->cli)
			*(const char **)(void *)field = s;
		else if ((*(const char **)(void *)field = keep(c, s, strlen(s))) == NULL)
			return failf(px, org, "out of memory");
		return 0;
	case OPT_BOOL:
		if (org->cli) {
			*(bool *)(void *)field = !neg;
		} else if (strcmp(s, "on") == 0) {
			*(bool *)(void *)field = true;
		} else if (strcmp(s, "off") == 0) {
			*(bool *)(void *)field = false;
		} else {
			return failf(px, org, "'%s' takes on or off, not '%s'",
				     o->name, s);
		}
		return 0;
	case OPT_ENUM:
		for (i = 0; o->values[i] != NULL; i++) {
			if (strcmp(s, o->values[i]) != 0)
				continue;
			/* Every enum field in struct tw_config is an int-sized
			 * enum, and charset is a bool whose values list is
			 * ordered off, auto. */
			if (o->off == OFF(charset))
				c->charset = i == 1;
			else
				*(int *)(void *)field = (int)i;
			return 0;
		}
		if (o->off == OFF(charset) && strcmp(s, "utf-8") == 0) {
			c->charset = true;
			return 0;
		}
		{
			char list[128] = "";

			for (i = 0; o->values[i] != NULL; i++) {
				strcat(list, i ? (o->values[i + 1] ? ", " : " or ") : "");
				strcat(list, o->values[i]);
			}
			return failf(px, org, "'%s' takes %s, not '%s'", o->name,
				     list, s);
		}
	case OPT_DURATION:
		if (tw_config_parse_duration(s, &v) < 0 || v == 0)
			return failf(px, org, "'%s' is not a duration such as "
				     "30s, 500ms or 2m", s);
		*(uint64_t *)(void *)field = v;
		return 0;
	case OPT_COUNT:
		if (parse_number(s, UINT32_MAX, &v, &s) < 0 || *s != '\0' ||
		    v == 0)
			return failf(px, org, "'%s' is not a positive number",
				     args[0]);
		if (o->off == OFF(aio_threads) && v > AIO_THREADS_MAX)
			return failf(px, org, "'%s' takes 1 to %d threads, "
				     "not %llu", o->name, AIO_THREADS_MAX,
				     (unsigned long long)v);
		*(uint64_t *)(void *)field = v;
		return 0;
	case OPT_SIZE:
		if (tw_config_parse_size(s, &v) < 0)
			return failf(px, org, "'%s' is not a size such as "
				     "512, 64k, 10m or 1g", s);
		*(uint64_t *)(void *)field = v;
		return 0;
	case OPT_WORKERS:
		if (strcmp(s, "auto") == 0) {
			c->workers = 0;
			return 0;
		}
		if (parse_number(s, 1024, &v, &s) < 0 || *s != '\0' || v == 0)
			return failf(px, org, "'%s' is not auto or a number "
				     "from 1 to 1024", args[0]);
		c->workers = (unsigned)v;
		return 0;
	case OPT_ACCESS_LOG:
		if (*s == '\0')
			return failf(px, org, "'%s' needs a file, - or off",
				     o->name);
		c->access_log = org->cli ? s : keep(c, s, strlen(s));
		if (c->access_log == NULL)
			return failf(px, org, "out of memory");
		if (nargs == 2) {
			for (i = 0; format_names[i] != NULL; i++)
				if (strcmp(args[1], format_names[i]) == 0)
					break;
			if (format_names[i] == NULL)
				return failf(px, org, "access_log format '%s': "
					     "expected combined, common or json",
					     args[1]);
			c->log_format = (enum tw_log_format)i;
		}
		return 0;
	case OPT_ERROR_LOG:
		if (*s == '\0')
			return failf(px, org, "'%s' needs a file or -", o->name);
		c->error_log = org->cli ? s : keep(c, s, strlen(s));
		if (c->error_log == NULL)
			return failf(px, org, "out of memory");
		if (nargs == 2) {
			for (i = 0; level_names[i] != NULL; i++)
				if (strcmp(args[1], level_names[i]) == 0)
					break;
			if (level_names[i] == NULL)
				return failf(px, org, "error_log level '%s': "
					     "expected error, warn, info or "
					     "debug", args[1]);
			c->log_level = (enum tw_log_level)i;
		}
		return 0;
	case OPT_HEADER: {
		const char *name = s, *value;
		size_t nlen;

		if (org->cli) {
			const char *colon = strchr(s, ':');

			if (colon == NULL)
				return failf(px, org, "'%s': expected "
					     "'NAME: VALUE'", s);
			nlen = (size_t)(colon - s);
			value = colon + 1;
			while (*value == ' ' || *value == '\t')
				value++;
		} else {
			nlen = strlen(name);
			value = args[1];
		}
		if (!valid_header_name(name, nlen))
			return failf(px, org, "add_header: '%.*s' is not a "
				     "header name", (int)nlen, name);
		if (!valid_header_value(value))
			return failf(px, org, "add_header: the value holds "
				     "control characters");
		if (c->nheaders == TW_CONFIG_MAX_HEADERS)
			return failf(px, org, "at most %d add_header lines",
				     TW_CONFIG_MAX_HEADERS);
		c->headers[c->nheaders].name = keep(c, name, nlen);
		c->headers[c->nheaders].value = keep(c, value, strlen(value));
		if (c->headers[c->nheaders].name == NULL ||
		    c->headers[c->nheaders].value == NULL)
			return failf(px, org, "out of memory");
		c->nheaders++;
		return 0;
	}
	case OPT_EXPIRES:
		if (strcmp(s, "off") == 0) {
			c->expires = -1;
		} else if (strcmp(s, "max") == 0) {
			c->expires = 315360000;
		} else if (tw_config_parse_duration(s, &v) == 0 &&
			   v / 1000 <= 315360000ull) {
			c->expires = (long long)(v / 1000);
		} else {
			return failf(px, org, "expires '%s': expected a "
				     "duration up to 10 years, max or off", s);
		}
		return 0;
	case OPT_USER: {
		const char *colon = org->cli ? strchr(s, ':') : NULL;
		size_t ulen = colon ? (size_t)(colon - s) : strlen(s);
		const char *group = colon ? colon + 1 : nargs == 2 ? args[1] : NULL;
		char uname[256];

		if (ulen == 0 || ulen >= sizeof(uname))
			return failf(px, org, "user: a user name is needed");
		memcpy(uname, s, ulen);
		uname[ulen] = '\0';
		if (getpwnam(uname) == NULL)
			return failf(px, org, "user '%s' does not exist", uname);
		if (group != NULL && getgrnam(group) == NULL)
			return failf(px, org, "group '%s' does not exist", group);
		c->user = keep(c, uname, ulen);
		c->group = group ? keep(c, group, strlen(group)) : NULL;
		if (c->user == NULL || (group && c->group == NULL))
			return failf(px, org, "out of memory");
		return 0;
	}
	case OPT_MIME_TYPES: {
		char full[PATH_MAX];
		const char *kept;
		int err;

		if (resolve_rel(px, s, full, sizeof(full)) < 0)
			return failf(px, org, "mime_types path too long");
		kept = keep(c, full, strlen(full));
		if (kept == NULL || add_mime_op(c, NULL, kept) < 0)
			return failf(px, org, "out of memory");
		err = load_mime_file(px, org, kept);
		return err;
	}
	case OPT_INCLUDE:
		return load_path(px, s, org);
	case OPT_STATUS_ALLOW: {
		struct tw_status_net n;

		if (tw_status_parse_net(s, &n) < 0)
			return failf(px, org, "status_allow '%s': expected an "
				     "address, ADDR/BITS or all", s);
		if (c->nstatus_allow == TW_CONFIG_MAX_HEADERS)
			return failf(px, org, "at most %d status_allow lines",
				     TW_CONFIG_MAX_HEADERS);
		c->status_allow[c->nstatus_allow] = keep(c, s, strlen(s));
		if (c->status_allow[c->nstatus_allow] == NULL)
			return failf(px, org, "out of memory");
		c->nstatus_allow++;
		return 0;
	}
	case OPT_CONFIG:
		c->conf_file = s;
		return 0;
	case OPT_TEST:
		c->test_only = true;
		return 0;
	case OPT_TYPES:
		break;
	}
	return failf(px, org, "'%s' cannot be used here", o->name);
}

/* ---- the file lexer --------------------------------------------------- */

enum tok {
	TOK_EOF,
	TOK_WORD,
	TOK_SEMI,
	TOK_OPEN,
	TOK_CLOSE,
	TOK_ERROR,
};

struct lexer {
	const char *p;
	const char *end;
	size_t line;
	size_t tok_line;	/* line where the last token started */
	char word[MAX_TOKEN + 1];
	size_t wlen;
	const char *why;	/* for TOK_ERROR */
};

static bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static enum tok
lex_quoted(struct lexer *lx, char q)
{
	lx->p++;
	while (lx->p < lx->end && *lx->p != q) {
		char ch = *lx->p++;

		if (ch == '\0') {
			lx->tok_line = lx->line;
			lx->why = "NUL byte (not a text file?)";
			return TOK_ERROR;
		}
		if (ch == '\n')
			lx->line++;
		if (ch == '\\') {
			if (lx->p == lx->end)
				break;
			ch = *lx->p++;
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case '\\': case '"': case '\'': case '$': case ' ':
				break;
			default:
				lx->tok_line = lx->line;
				lx->why = "unknown escape in a quoted string";
				return TOK_ERROR;
			}
		}
		if (lx->wlen == MAX_TOKEN) {
			lx->why = "token longer than 4096 bytes";
			return TOK_ERROR;
		}
		lx->word[lx->wlen++] = ch;
	}
	if (lx->p == lx->end) {
		lx->line = lx->tok_line;
		lx->why = "unterminated quoted string";
		return TOK_ERROR;
	}
	lx->p++;
	lx->word[lx->wlen] = '\0';
	return TOK_WORD;
}

static enum tok
lex(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && is_ws(*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n') {
				if (*lx->p == '\0') {
					lx->tok_line = lx->line;
					lx->why = "NUL byte (not a text file?)";
					return TOK_ERROR;
				}
				lx->p++;
			}
			continue;
		}
		break;
	}
	lx->tok_line = lx->line;
	lx->wlen = 0;
	if (lx->p == lx->end)
		return TOK_EOF;
	switch (*lx->p) {
	case ';': lx->p++; return TOK_SEMI;
	case '{': lx->p++; return TOK_OPEN;
	case '}': lx->p++; return TOK_CLOSE;
	case '"': case '\'': return lex_quoted(lx, *lx->p);
	case '\0':
		lx->why = "NUL byte (not a text file?)";
		return TOK_ERROR;
	}
	/* strchr() finds the terminator too: a NUL must not end a word
	 * silently, it is reported below. */
	while (lx->p < lx->end && !is_ws(*lx->p) &&
	       (*lx->p == '\0' || !strchr(";{}\"'", *lx->p))) {
		if (*lx->p == '\0') {
			lx->why = "NUL byte (not a text file?)";
			return TOK_ERROR;
		}
		if ((unsigned char)*lx->p < 0x20 || *lx->p == 0x7f) {
			lx->why = "control character (not a text file?)";
			return TOK_ERROR;
		}
		if (lx->wlen == MAX_TOKEN) {
			lx->why = "token longer than 4096 bytes";
			return TOK_ERROR;
		}
		lx->word[lx->wlen++] = *lx->p++;
	}
	lx->word[lx->wlen] = '\0';
	return TOK_WORD;
}

/* ---- the file parser --------------------------------------------------- */

static const struct opt *
find_directive(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (!(opts[i].flags & F_CLI_ONLY) && strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static void
set_where(struct origin *o, const char *name, size_t line)
{
	o->cli = false;
	(void)snprintf(o->where, sizeof(o->where), "%s:%zu", name, line);
}

/* types { TYPE EXT ...; ... } */
static int
parse_types_block(struct parse_ctx *px, struct lexer *lx, const char *name)
{
	struct tw_config *c = px->c;
	struct origin o;
	char type[MAX_TOKEN + 1];
	enum tok t;

	for (;;) {
		t = lex(lx);
		set_where(&o, name, lx->tok_line);
		if (t == TOK_CLOSE)
			return 0;
		if (t == TOK_ERROR)
			return failf(px, &o, "%s", lx->why);
		if (t == TOK_EOF)
			return failf(px, &o, "unexpected end of file, "
				     "expecting '}'");
		if (t != TOK_WORD)
			return failf(px, &o, "expected a type in 'types'");
		memcpy(type, lx->word, lx->wlen + 1);
		if (strchr(type, '/') == NULL)
			return failf(px, &o, "'%s' is not a type/subtype", type);
		while ((t = lex(lx)) == TOK_WORD) {
			const char *kt, *ke;
			int err;

			err = tw_mime_table_add(c->types, lx->word, lx->wlen,
						type, strlen(type));
			if (err == -EINVAL)
				return failf(px, &o, "types: bad type '%s' or "
					     "extension '%s'", type, lx->word);
			kt = keep(c, type, strlen(type));
			ke = keep(c, lx->word, lx->wlen);
			if (err < 0 || kt == NULL || ke == NULL ||
			    add_mime_op(c, kt, ke) < 0)
				return failf(px, &o, "out of memory");
		}
		if (t == TOK_ERROR)
			return failf(px, &o, "%s", lx->why);
		if (t != TOK_SEMI)
			return failf(px, &o, "expected ';' after the "
				     "extensions of '%s'", type);
	}
}

static int
parse_text(struct parse_ctx *px, const char *name, const char *buf,
	   size_t len)
{
	struct lexer *lx;
	char *args[MAX_ARGS];
	struct origin o;
	int err = 0;

	lx = malloc(sizeof(*lx));
	if (lx == NULL) {
		o.cli = false;
		(void)snprintf(o.where, sizeof(o.where), "%s", name);
		return failf(px, &o, "out of memory");
	}
	lx->p = buf;
	lx->end = buf + len;
	lx->line = 1;
	for (;;) {
		const struct opt *opt;
		size_t nargs = 0, line, idx;
		enum tok t = lex(lx);

		set_where(&o, name, lx->tok_line);
		if (t == TOK_EOF)
			break;
		if (t == TOK_ERROR) {
			err = failf(px, &o, "%s", lx->why);
			break;
		}
		if (t != TOK_WORD) {
			err = failf(px, &o, "unexpected '%c'",
				    t == TOK_SEMI ? ';' : t == TOK_OPEN ? '{' : '}');
			break;
		}
		line = lx->tok_line;
		opt = find_directive(lx->word);
		if (opt == NULL) {
			err = failf(px, &o, "unknown directive '%s'", lx->word);
			break;
		}
		idx = (size_t)(opt - opts);
		if (!(opt->flags & F_REPEAT) &&
		    (px->c->seen[idx / 8] & (1u << (idx % 8)))) {
			err = failf(px, &o, "duplicate '%s' directive",
				    opt->name);
			break;
		}
		px->c->seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
		if (opt->type == OPT_TYPES) {
			t = lex(lx);
			if (t != TOK_OPEN) {
				err = failf(px, &o, "'types' needs a block: "
					    "types { TYPE EXT ...; }");
				break;
			}
			err = parse_types_block(px, lx, name);
			if (err < 0)
				break;
			continue;
		}
		while ((t = lex(lx)) == TOK_WORD) {
			if (nargs == MAX_ARGS) {
				err = failf(px, &o, "too many arguments to '%s'",
					    opt->name);
				break;
			}
			args[nargs] = strdup(lx->word);
			if (args[nargs] == NULL) {
				err = failf(px, &o, "out of memory");
				break;
			}
			nargs++;
		}
		if (err < 0) {
			/* the arguments are freed below */
		} else if (t != TOK_SEMI) {
			set_where(&o, name, t == TOK_EOF ? line : lx->tok_line);
			if (t == TOK_ERROR)
				err = failf(px, &o, "%s", lx->why);
			else if (t == TOK_EOF)
				err = failf(px, &o, "unexpected end of file, "
					    "expecting ';' after '%s'", opt->name);
			else
				err = failf(px, &o, "expected ';' after '%s'",
					    opt->name);
		} else {
			set_where(&o, name, line);
			err = apply(px, opt, &o, args, nargs, false);
		}
		while (nargs > 0)
			free(args[--nargs]);
		if (err < 0)
			break;
	}
	free(lx);
	return err;
}

static int
read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto out_close;
	}
	if (st.st_size > MAX_CONF_BYTES) {
		err = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		err = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	(void)close(fd);
	*out = buf;
	*len = got;
	return 0;
out_close:
	(void)close(fd);
	return err;
}

static int
load_one(struct parse_ctx *px, const char *path, const struct origin *o)
{
	char real[PATH_MAX];
	struct origin top;
	char *buf = NULL;
	size_t len = 0;
	int i, err;

	if (realpath(path, real) == NULL)
		err = -errno;
	else
		err = read_file(path, &buf, &len);
	if (err < 0) {
		if (o != NULL)
			return failf(px, o, "include %s: %s", path,
				     strerror(-err));
		(void)snprintf(px->err, px->errlen, "%s: %s", path,
			       strerror(-err));
		return TW_CONFIG_EFILE;
	}
	if (o == NULL) {
		top.cli = false;
		(void)snprintf(top.where, sizeof(top.where), "%s", path);
		o = &top;
	}
	for (i = 0; i < px->depth; i++) {
		if (strcmp(px->stack[i], real) == 0) {
			free(buf);
			return failf(px, o, "include loop: %s includes itself",
				     path);
		}
	}
	if (px->depth == MAX_DEPTH) {
		free(buf);
		return failf(px, o, "includes nested more than %d deep",
			     MAX_DEPTH);
	}
	px->stack[px->depth] = keep(px->c, real, strlen(real));
	if (px->stack[px->depth] == NULL) {
		free(buf);
		return failf(px, o, "out of memory");
	}
	px->depth++;
	err = parse_text(px, path, buf, len);
	px->depth--;
	free(buf);
	return err;
}

/* include PATTERN: relative to the including file; a glob may match
 * nothing (as in nginx), a plain name must exist. */
static int
load_path(struct parse_ctx *px, const char *pattern, const struct origin *o)
{
	char full[PATH_MAX];
	glob_t g;
	size_t i;
	int err = 0, r;

	if (!px->allow_include)
		return failf(px, o, "include is not allowed here");
	if (resolve_rel(px, pattern, full, sizeof(full)) < 0)
		return failf(px, o, "include path too long");
	if (strpbrk(pattern, "*?[") == NULL)
		return load_one(px, full, o);
	r = glob(full, 0, NULL, &g);
	/* Like nginx, a pattern that matches nothing is not an error, even
	 * when its directory does not exist (yet). */
	if (r == GLOB_NOMATCH || r == GLOB_ABORTED)
		return 0;
	if (r != 0)
		return failf(px, o, "include %s: cannot read the directory",
			     pattern);
	for (i = 0; i < g.gl_pathc && err == 0; i++)
		err = load_one(px, g.gl_pathv[i], o);
	globfree(&g);
	return err;
}

int
tw_config_load_buf(struct tw_config *c, const char *name, const char *buf,
		   size_t len, bool allow_include, char *err, size_t errlen)
{
	struct parse_ctx px = {
		.c = c, .err = err, .errlen = errlen,
		.allow_include = allow_include,
	};

	return parse_text(&px, name, buf, len);
}

int
tw_config_load_file(struct tw_config *c, const char *path, char *err,
		    size_t errlen)
{
	struct parse_ctx px = {
		.c = c, .err = err, .errlen = errlen, .allow_include = true,
	};

	return load_one(&px, path, NULL);
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

/* The long flag of a row: its own, or the directive with '-' for '_'. */
static void
flag_name(const struct opt *o, char *out, size_t len)
{
	size_t i;

	(void)snprintf(out, len, "%s", o->flag ? o->flag : o->name);
	for (i = 0; out[i]; i++)
		if (out[i] == '_')
			out[i] = '-';
}

struct cli {
	struct option longopts[2 * NOPTS + 3];
	char names[2 * NOPTS][48];
	char shortopts[2 * NOPTS + 8];
};

static void
build_cli(struct cli *cl)
{
	size_t i, n = 0, ns = 0;

	cl->shortopts[ns++] = ':';	/* we print our own errors */
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		bool has_arg = o->type != OPT_BOOL && o->type != OPT_TEST;

		if (o->flags & F_FILE_ONLY)
			continue;
		flag_name(o, cl->names[n], sizeof(cl->names[n]));
		cl->longopts[n] = (struct option){ cl->names[n],
			has_arg ? required_argument : no_argument, NULL,
			256 + 2 * (int)i };
		n++;
		if (o->type == OPT_BOOL) {
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

static const struct opt *
short_to_opt(int ch)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].shortopt == ch)
			return &opts[i];
	return NULL;
}

/*
 * One pass over the options. With apply_all false only -c, -t, --help
 * and --version are taken (the file must be read before the flags that
 * override it); with it true, everything but those.
 */
static int
scan_args(struct parse_ctx *px, struct cli *cl, int argc, char **argv,
	  bool apply_all, enum tw_config_cmd *cmd)
{
	int ch, idx;

	/* 0, not 1: glibc then also forgets where it was inside a bundle
	 * of short options ("-xh") from an earlier, failed parse. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, cl->shortopts, cl->longopts,
				 &idx)) != -1) {
		const struct opt *o;
		struct origin org = { .cli = true };
		bool neg = false;
		char *arg = optarg;
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
			o = &opts[(ch - 256) / 2];
			neg = (ch - 256) % 2 == 1;
		} else {
			o = short_to_opt(ch);
		}
		if (o == NULL)
			return TW_CONFIG_EUSAGE;
		if ((o->type == OPT_CONFIG || o->type == OPT_TEST) == apply_all)
			continue;
		flag_name(o, org.where, sizeof(org.where) - 4);
		memmove(org.where + 2, org.where, strlen(org.where) + 1);
		memcpy(org.where, "--", 2);
		err = apply(px, o, &org, &arg, arg ? 1 : 0, neg);
		if (err < 0) {
			say("%s", px->err);
			return TW_CONFIG_EUSAGE;
		}
	}
	return 0;
}

static void
finish_listens(struct tw_config *c)
{
	size_t i;

	/* -p and -b replace the file's listen lines: a flag wins. */
	if (c->cli_port >= 0 || c->ncli_binds > 0) {
		uint16_t port = c->cli_port >= 0 ? (uint16_t)c->cli_port : 8080;

		c->nlistens = 0;
		for (i = 0; i < c->ncli_binds; i++)
			c->listens[c->nlistens++] =
				(struct tw_listen){ c->cli_binds[i], port };
		if (c->nlistens == 0)
			c->listens[c->nlistens++] =
				(struct tw_listen){ "0.0.0.0", port };
	} else if (c->nlistens == 0) {
		c->listens[c->nlistens++] = (struct tw_listen){ "0.0.0.0", 8080 };
	}
}

int
tw_config_parse_args(struct tw_config *c, int argc, char **argv,
		     enum tw_config_cmd *cmd)
{
	struct cli *cl;
	char err[PATH_MAX + 512];
	struct parse_ctx px = {
		.c = c, .err = err, .errlen = sizeof(err),
		.allow_include = true,
	};
	bool have_cmd = false;
	int r;

	*cmd = TW_CMD_SERVE;
	if (argc > 1 && (strcmp(argv[1], "serve") == 0 ||
			 strcmp(argv[1], "check-config") == 0)) {
		have_cmd = true;
		if (argv[1][0] == 'c')
			*cmd = TW_CMD_CHECK;
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
	if (!have_cmd && *cmd != TW_CMD_CHECK) {
		if (optind < argc)
			say("unknown command '%s' (try --help)", argv[optind]);
		else
			say("a command is needed: tinyweb serve [DIR] "
			    "(try --help)");
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
	if (optind < argc)
		c->root = argv[optind++];
	if (optind < argc) {
		say("unexpected argument '%s'",
			argv[optind]);
		r = TW_CONFIG_EUSAGE;
		goto out;
	}
	finish_listens(c);
out:
	free(cl);
	return r;
}

void
tw_config_usage(FILE *out)
{
	size_t i;

	fputs("Usage: tinyweb serve [OPTIONS] [DIR]\n"
	      "       tinyweb check-config [-c FILE] [OPTIONS] [DIR]\n"
	      "       tinyweb stop|quit|reload|reopen --pidfile FILE | -c FILE\n"
	      "       tinyweb --help | --version\n\n"
	      "Serve the files under DIR (default: the current directory, or "
	      "the config\nfile's root) over HTTP/1.1.\n\nOptions:\n", out);
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		int pass;

		if (o->flags & F_FILE_ONLY)
			continue;
		for (pass = 0; pass < (o->type == OPT_BOOL ? 2 : 1); pass++) {
			const char *h = pass ? o->neg_help : o->help, *nl;
			char name[48];
			int col;

			flag_name(o, name, sizeof(name));
			if (o->shortopt && pass == 0)
				col = fprintf(out, "  -%c, --%s", o->shortopt, name);
			else
				col = fprintf(out, "      --%s%s", pass ? "no-" : "",
					      name);
			if (o->type != OPT_BOOL && o->type != OPT_TEST)
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

static void
put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		switch (*s) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default: fputc(*s, out);
		}
	}
	fputc('"', out);
}

static void
put_duration(FILE *out, uint64_t ms)
{
	if (ms % 1000 == 0)
		fprintf(out, "%llus", (unsigned long long)(ms / 1000));
	else
		fprintf(out, "%llums", (unsigned long long)ms);
}

void
tw_config_print(const struct tw_config *c, FILE *out)
{
	size_t i, j;

	fputs("# tinyweb: effective configuration\n", out);
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *field = (const char *)c + o->off;

		switch (o->type) {
		case OPT_LISTEN:
			for (j = 0; j < c->nlistens; j++) {
				bool v6 = strchr(c->listens[j].addr, ':') != NULL;

				fprintf(out, "listen %s%s%s:%u;\n", v6 ? "[" : "",
					c->listens[j].addr, v6 ? "]" : "",
					c->listens[j].port);
			}
			continue;
		case OPT_ROOT:
		case OPT_STR:
		case OPT_ERROR_LOG:
			if (*(const char *const *)(const void *)field == NULL)
				continue;
			fprintf(out, "%s ", o->name);
			put_quoted(out, *(const char *const *)(const void *)field);
			if (o->type == OPT_ERROR_LOG)
				fprintf(out, " %s", level_names[c->log_level]);
			fputs(";\n", out);
			continue;
		case OPT_ACCESS_LOG:
			fprintf(out, "%s ", o->name);
			put_quoted(out, c->access_log);
			fprintf(out, " %s;\n", format_names[c->log_format]);
			continue;
		case OPT_BOOL:
			fprintf(out, "%s %s;\n", o->name,
				*(const bool *)(const void *)field ? "on" : "off");
			continue;
		case OPT_ENUM:
			if (o->off == OFF(log_format) || o->off == OFF(log_level))
				continue;	/* printed with their log line */
			fprintf(out, "%s %s;\n", o->name, o->off == OFF(charset) ?
				charset_names[c->charset] :
				o->values[*(const int *)(const void *)field]);
			continue;
		case OPT_DURATION:
			fprintf(out, "%s ", o->name);
			put_duration(out, *(const uint64_t *)(const void *)field);
			fputs(";\n", out);
			continue;
		case OPT_COUNT:
		case OPT_SIZE:
			fprintf(out, "%s %llu;\n", o->name, (unsigned long long)
				*(const uint64_t *)(const void *)field);
			continue;
		case OPT_WORKERS:
			if (c->workers == 0)
				fprintf(out, "workers auto;\n");
			else
				fprintf(out, "workers %u;\n", c->workers);
			continue;
		case OPT_HEADER:
			for (j = 0; j < c->nheaders; j++) {
				fprintf(out, "add_header %s ", c->headers[j].name);
				put_quoted(out, c->headers[j].value);
				fputs(";\n", out);
			}
			continue;
		case OPT_EXPIRES:
			if (c->expires < 0)
				fputs("expires off;\n", out);
			else
				fprintf(out, "expires %llds;\n", c->expires);
			continue;
		case OPT_STATUS_ALLOW:
			for (j = 0; j < c->nstatus_allow; j++) {
				fputs("status_allow ", out);
				put_quoted(out, c->status_allow[j]);
				fputs(";\n", out);
			}
			continue;
		case OPT_USER:
			if (c->user == NULL)
				continue;
			fputs("user ", out);
			put_quoted(out, c->user);
			if (c->group != NULL) {
				fputc(' ', out);
				put_quoted(out, c->group);
			}
			fputs(";\n", out);
			continue;
		case OPT_MIME_TYPES:
			/* Files and inline types keep their order: later
			 * entries override earlier ones. */
			for (j = 0; j < c->nmime_ops; j++) {
				const struct config_mime_op *m = &c->mime_ops[j];

				if (m->type == NULL) {
					fputs("mime_types ", out);
					put_quoted(out, m->arg);
					fputs(";\n", out);
					continue;
				}
				fputs("types { ", out);
				put_quoted(out, m->type);
				fputc(' ', out);
				put_quoted(out, m->arg);
				fputs("; }\n", out);
			}
			continue;
		default:
			continue;
		}
	}
}
