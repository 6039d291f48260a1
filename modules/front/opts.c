/* SPDX-License-Identifier: MIT */
/*
 * opts: the option table and the functions of its rows. A row's parse
 * function turns the words of a directive or a flag into its field,
 * its check function refuses values the field's type allows but the
 * option does not, and its print function writes the field back as
 * directives. Layer 5: it may see every module's options.
 */
#include "front/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/pages.h"
#include "front/access.h"
#include "front/scope.h"
#include "front/upstreams.h"
#include "http/status.h"
#include "net/listener.h"
#include "parse/mime.h"

#define MAX_MIME_BYTES	(16 * 1024 * 1024)
#define AIO_THREADS_MAX	64
#define EXPIRES_MAX	315360000ll	/* ten years, in seconds */

/* ---- string arena: config strings live until tw_config_free ---------- */

struct tw_config_arena {
	struct tw_config_arena *next;
	char data[];
};

const char *
tw_opts_keep(struct tw_config *c, const char *s, size_t n)
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

static const char *
keep_str(struct tw_config *c, const char *s)
{
	return tw_opts_keep(c, s, strlen(s));
}

/* mime_types and types entries, kept in order for check-config. */
struct config_mime_op {
	const char *type;	/* NULL: a mime_types file */
	const char *arg;	/* the file, or the extension */
};

void
tw_opts_free(struct tw_config *c)
{
	while (c->arena != NULL) {
		struct tw_config_arena *a = c->arena;

		c->arena = a->next;
		free(a);
	}
	free(c->mime_ops);
	c->mime_ops = NULL;
	c->nmime_ops = 0;
}

/* ---- messages and paths --------------------------------------------------- */

int
tw_opts_failf(struct tw_opt_ctx *px, const struct tw_opt_origin *o,
	      const char *fmt, ...)
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

void
tw_opts_where(struct tw_opt_origin *o, const struct tw_conf_node *n)
{
	o->cli = false;
	(void)snprintf(o->where, sizeof(o->where), "%s:%zu", n->file, n->line);
}

/* The realpath of the file a node came from, or NULL (a buffer). */
static const char *
real_of(const struct tw_opt_ctx *px, const char *file)
{
	const struct tw_opt_file *f;

	for (f = px->files; file != NULL && f != NULL; f = f->next)
		if (f->tree_name == file)
			return f->real;
	return NULL;
}

int
tw_opts_resolve(const struct tw_opt_ctx *px, const char *file,
		const char *path, char *full, size_t len)
{
	const char *cur = real_of(px, file);
	int n;

	if (path[0] != '/' && cur != NULL) {
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

/* ---- numbers ------------------------------------------------------------- */

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

/* The whole of s is a number from 0 to max. */
static bool
whole_number(const char *s, uint64_t max, uint64_t *out)
{
	return parse_number(s, max, out, &s) == 0 && *s == '\0';
}

bool
tw_opts_number(const char *s, uint64_t max, uint64_t *out)
{
	return whole_number(s, max, out);
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

/* Declared in config.h: part of config's public face. */
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

/* ---- field access ---------------------------------------------------------- */

#define STR_FIELD(p)	(*(const char **)(p))
#define CSTR_FIELD(p)	(*(const char *const *)(p))
#define U64_FIELD(p)	(*(uint64_t *)(p))
#define CU64_FIELD(p)	(*(const uint64_t *)(p))
#define BOOL_FIELD(p)	(*(bool *)(p))

/* Enum fields are read and written as int; the table's OFF()
 * checks at compile time that each one has an int's size. */
static void
enum_store(void *field, size_t v)
{
	int i = (int)v;

	memcpy(field, &i, sizeof(i));
}

static size_t
enum_load(const void *field)
{
	int i;

	memcpy(&i, field, sizeof(i));
	return (size_t)i;
}

/* "a, b or c" of a NULL-terminated list. */
static void
name_list(const char *const *names, char *out, size_t len)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; names[i] != NULL && n < len; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] ? ", " : " or ";
		int w = snprintf(out + n, len - n, "%s%s", sep, names[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* The index of s in names, or -1. */
static int
name_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* ---- parse, check and print functions of the rows --------------------- */

static int
parse_str(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	const char *s = v->args[0];

	if (*s == '\0')
		return tw_opts_failf(v->px, v->org, "'%s' needs a non-empty "
				     "value", o->name);
	if ((STR_FIELD(field) = keep_str(v->px->c, s)) == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	return 0;
}

static int
check_abs_path(const struct tw_opt_val *v, const struct tw_opt *o,
	       const void *field)
{
	if (*CSTR_FIELD(field) != '/')
		return tw_opts_failf(v->px, v->org, "%s '%s': a path starting "
				     "with '/' is needed", o->name,
				     CSTR_FIELD(field));
	return 0;
}

void
tw_opts_put_quoted(FILE *out, const char *s)
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
put_quoted(FILE *out, const char *s)
{
	tw_opts_put_quoted(out, s);
}

/* "name "VALUE";" for a string option that is set. */
static void
print_str(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	const char *s = CSTR_FIELD((const char *)c + o->off);

	if (s == NULL)
		return;
	fprintf(out, "%s ", o->name);
	put_quoted(out, s);
	fputs(";\n", out);
}

/* index NAME ...: the first that is a file (one name on the command
 * line, which replaces the file's list). */
static int
parse_index(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	struct tw_config *c = v->px->c;
	size_t i;

	(void)field;
	for (i = 0; i < v->nargs; i++) {
		if (*v->args[i] == '\0')
			return tw_opts_failf(v->px, v->org, "'%s' needs a "
					     "non-empty value", o->name);
		if ((c->indexes[i] = keep_str(c, v->args[i])) == NULL)
			return tw_opts_failf(v->px, v->org, "out of memory");
	}
	c->nindexes = v->nargs;
	c->index = c->indexes[0];
	return 0;
}

static void
print_index(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	size_t i;

	fputs(o->name, out);
	if (c->nindexes == 0) {
		fputc(' ', out);
		put_quoted(out, c->index);
	}
	for (i = 0; i < c->nindexes; i++) {
		fputc(' ', out);
		put_quoted(out, c->indexes[i]);
	}
	fputs(";\n", out);
}

/* File: on|off; flags: --x, --no-x. */
static int
parse_bool(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	if (v->org->cli)
		BOOL_FIELD(field) = !v->neg;
	else if (strcmp(v->args[0], "on") == 0)
		BOOL_FIELD(field) = true;
	else if (strcmp(v->args[0], "off") == 0)
		BOOL_FIELD(field) = false;
	else
		return tw_opts_failf(v->px, v->org, "'%s' takes on or off, "
				     "not '%s'", o->name, v->args[0]);
	return 0;
}

static void
print_bool(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	fprintf(out, "%s %s;\n", o->name,
		*(const bool *)((const char *)c + o->off) ? "on" : "off");
}

static int
parse_enum(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	int i = name_index(o->values, v->args[0]);
	char list[128];

	if (i >= 0) {
		enum_store(field, (size_t)i);
		return 0;
	}
	name_list(o->values, list, sizeof(list));
	return tw_opts_failf(v->px, v->org, "'%s' takes %s, not '%s'", o->name,
			     list, v->args[0]);
}

/* "utf-8" is an old name of auto. */
static int
parse_charset(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	if (strcmp(v->args[0], "utf-8") == 0) {
		enum_store(field, TW_CHARSET_AUTO);
		return 0;
	}
	return parse_enum(v, o, field);
}

static void
print_enum(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	fprintf(out, "%s %s;\n", o->name,
		o->values[enum_load((const char *)c + o->off)]);
}

static int
parse_duration(const struct tw_opt_val *v, const struct tw_opt *o,
	       void *field)
{
	uint64_t ms;

	(void)o;
	if (tw_config_parse_duration(v->args[0], &ms) < 0 || ms == 0)
		return tw_opts_failf(v->px, v->org, "'%s' is not a duration "
				     "such as 30s, 500ms or 2m", v->args[0]);
	U64_FIELD(field) = ms;
	return 0;
}

static void
print_duration(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	uint64_t ms = CU64_FIELD((const char *)c + o->off);

	if (ms % 1000 == 0)
		fprintf(out, "%s %llus;\n", o->name,
			(unsigned long long)(ms / 1000));
	else
		fprintf(out, "%s %llums;\n", o->name, (unsigned long long)ms);
}

static int
parse_count(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	uint64_t n;

	(void)o;
	if (!whole_number(v->args[0], UINT32_MAX, &n) || n == 0)
		return tw_opts_failf(v->px, v->org, "'%s' is not a positive "
				     "number", v->args[0]);
	U64_FIELD(field) = n;
	return 0;
}

static int
check_aio_threads(const struct tw_opt_val *v, const struct tw_opt *o,
		  const void *field)
{
	if (CU64_FIELD(field) > AIO_THREADS_MAX)
		return tw_opts_failf(v->px, v->org, "'%s' takes 1 to %d "
				     "threads, not %llu", o->name,
				     AIO_THREADS_MAX, (unsigned long long)
				     CU64_FIELD(field));
	return 0;
}

/* An explicit cap is the operator's: setup fits only the default one
 * to the descriptors. */
static int
check_max_connections(const struct tw_opt_val *v, const struct tw_opt *o,
		      const void *field)
{
	(void)o;
	(void)field;
	v->px->c->max_connections_set = true;
	return 0;
}

static int
parse_size(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	(void)o;
	if (tw_config_parse_size(v->args[0], (uint64_t *)field) < 0)
		return tw_opts_failf(v->px, v->org, "'%s' is not a size such "
				     "as 512, 64k, 10m or 1g", v->args[0]);
	return 0;
}

static void
print_u64(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	fprintf(out, "%s %llu;\n", o->name, (unsigned long long)
		CU64_FIELD((const char *)c + o->off));
}

static int
parse_workers(const struct tw_opt_val *v, const struct tw_opt *o,
	      void *field)
{
	uint64_t n;

	(void)o;
	if (strcmp(v->args[0], "auto") == 0) {
		*(unsigned *)field = 0;
		return 0;
	}
	if (!whole_number(v->args[0], 1024, &n) || n == 0)
		return tw_opts_failf(v->px, v->org, "'%s' is not auto or a "
				     "number from 1 to 1024", v->args[0]);
	*(unsigned *)field = (unsigned)n;
	return 0;
}

static void
print_workers(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	(void)o;
	if (c->workers == 0)
		fputs("workers auto;\n", out);
	else
		fprintf(out, "workers %u;\n", c->workers);
}

int
tw_opts_expires(const char *s, long long *out)
{
	uint64_t ms;

	if (strcmp(s, "off") == 0)
		*out = -1;
	else if (strcmp(s, "max") == 0)
		*out = EXPIRES_MAX;
	else if (tw_config_parse_duration(s, &ms) == 0 &&
		 ms / 1000 <= (uint64_t)EXPIRES_MAX)
		*out = (long long)(ms / 1000);
	else
		return -EINVAL;
	return 0;
}

static int
parse_expires(const struct tw_opt_val *v, const struct tw_opt *o,
	      void *field)
{
	const char *s = v->args[0];

	(void)o;
	if (tw_opts_expires(s, (long long *)field) < 0)
		return tw_opts_failf(v->px, v->org, "expires '%s': expected a "
				     "duration up to 10 years, max or off", s);
	return 0;
}

static void
print_expires(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	(void)o;
	if (c->expires < 0)
		fputs("expires off;\n", out);
	else
		fprintf(out, "expires %llds;\n", c->expires);
}

/* ---- listen, -p, -b ------------------------------------------------------ */

/* [ADDR:]PORT, [IPv6]:PORT or ADDR into addr[0..addrlen) and port. */
static int
split_listen(const char *s, const char **addr, size_t *addrlen,
	     uint16_t *port)
{
	const char *colon, *p = s;
	uint64_t v;

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
		*addr = TW_LISTENER_EVERY;
		*addrlen = 1;
	} else {
		*addr = s;
		*addrlen = strlen(s);
		p = NULL;
	}
	if (p != NULL) {
		if (!whole_number(p, 65535, &v))
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

static bool
is_ip(const char *s)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, s, tmp) == 1 ||
	       inet_pton(AF_INET6, s, tmp) == 1;
}

static int
parse_listen_addr(const char *s, const char **addr, size_t *addrlen,
		  uint16_t *port)
{
	char host[INET6_ADDRSTRLEN];

	if (split_listen(s, addr, addrlen, port) < 0)
		return -EINVAL;
	/* PORT alone and *:PORT: every IPv4 and IPv6 address */
	if (*addrlen == 1 && **addr == '*')
		return 0;
	if (*addrlen == 0 || *addrlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, *addr, *addrlen);
	host[*addrlen] = '\0';
	return is_ip(host) ? 0 : -EINVAL;
}

int
tw_opts_listen_addr(const char *s, const char **addr, size_t *addrlen,
		    uint16_t *port)
{
	return parse_listen_addr(s, addr, addrlen, port);
}

static int
parse_listen(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	struct tw_config *c = v->px->c;
	const char *s = v->args[0], *addr;
	size_t alen;
	uint16_t port;

	(void)o;
	(void)field;
	if (parse_listen_addr(s, &addr, &alen, &port) < 0)
		return tw_opts_failf(v->px, v->org, "listen '%s': expected "
				     "PORT, ADDR, ADDR:PORT or [IPv6]:PORT", s);
	if (v->nargs == 2 && strcmp(v->args[1], "tls") != 0)
		return tw_opts_failf(v->px, v->org, "listen %s '%s': the only "
				     "flag is tls", s, v->args[1]);
	/* A flag's listener is plain, beside -p/-b's (TLS with
	 * --tls-cert): the one-liner's HTTP port next to its HTTPS one. */
	if (v->org->cli) {
		struct tw_listen *l = &c->cli_listens[c->ncli_listens];

		if (c->ncli_listens == TW_CONFIG_MAX_LISTEN)
			return tw_opts_failf(v->px, v->org, "at most %d "
					     "addresses", TW_CONFIG_MAX_LISTEN);
		*l = (struct tw_listen){ tw_opts_keep(c, addr, alen), port,
					 false };
		if (l->addr == NULL)
			return tw_opts_failf(v->px, v->org, "out of memory");
		c->ncli_listens++;
		return 0;
	}
	if (c->nlistens == TW_CONFIG_MAX_LISTEN)
		return tw_opts_failf(v->px, v->org, "at most %d listen lines",
				     TW_CONFIG_MAX_LISTEN);
	c->listens[c->nlistens].addr = tw_opts_keep(c, addr, alen);
	c->listens[c->nlistens].port = port;
	c->listens[c->nlistens].tls = v->nargs == 2;
	if (c->listens[c->nlistens].addr == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	c->nlistens++;
	return 0;
}

static void
print_listen(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	size_t j;

	(void)o;
	for (j = 0; j < c->nlistens; j++) {
		bool v6 = strchr(c->listens[j].addr, ':') != NULL;

		fprintf(out, "listen %s%s%s:%u%s;\n", v6 ? "[" : "",
			c->listens[j].addr, v6 ? "]" : "", c->listens[j].port,
			c->listens[j].tls ? " tls" : "");
	}
}

static int
parse_port(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	uint64_t n;

	(void)o;
	(void)field;
	if (!whole_number(v->args[0], 65535, &n))
		return tw_opts_failf(v->px, v->org, "'%s' is not a port from "
				     "0 to 65535", v->args[0]);
	v->px->c->cli_port = (int)n;
	return 0;
}

static int
parse_bind(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	struct tw_config *c = v->px->c;

	(void)o;
	(void)field;
	if (!is_ip(v->args[0]))
		return tw_opts_failf(v->px, v->org, "'%s' is not an IPv4 or "
				     "IPv6 address", v->args[0]);
	if (c->ncli_binds == TW_CONFIG_MAX_LISTEN)
		return tw_opts_failf(v->px, v->org, "at most %d addresses",
				     TW_CONFIG_MAX_LISTEN);
	c->cli_binds[c->ncli_binds++] = v->args[0];
	return 0;
}

/* ---- TLS ------------------------------------------------------------------- */

/*
 * tls_certificate / tls_certificate_key FILE (and --tls-cert/--tls-key):
 * appended in order, the nth certificate paired with the nth key. The
 * first flag replaces the file's pairs (flags win) and puts TLS on the
 * -p/-b listeners.
 */
static int
parse_tls_file(const struct tw_opt_val *v, const struct tw_opt *o,
	       void *field)
{
	struct tw_config *c = v->px->c;
	bool key = strstr(o->name, "key") != NULL;
	const char **list = key ? c->tls_keys : c->tls_certs;
	size_t *n = key ? &c->ntls_keys : &c->ntls_certs;
	char full[PATH_MAX];

	(void)field;
	if (v->org->cli && !c->cli_tls) {
		c->cli_tls = true;
		c->ntls_certs = c->ntls_keys = 0;
	}
	if (*v->args[0] == '\0')
		return tw_opts_failf(v->px, v->org, "'%s' needs a file",
				     o->name);
	if (*n == TW_CONFIG_MAX_CERTS)
		return tw_opts_failf(v->px, v->org, "at most %d %s files",
				     TW_CONFIG_MAX_CERTS, o->name);
	if (tw_opts_resolve(v->px, v->node ? v->node->file : NULL, v->args[0],
			    full, sizeof(full)) < 0)
		return tw_opts_failf(v->px, v->org, "%s path too long",
				     o->name);
	if ((list[*n] = keep_str(c, full)) == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	(*n)++;
	return 0;
}

static void
print_tls_files(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	bool key = strstr(o->name, "key") != NULL;
	const char *const *list = key ? c->tls_keys : c->tls_certs;
	size_t i, n = key ? c->ntls_keys : c->ntls_certs;

	for (i = 0; i < n; i++) {
		fprintf(out, "%s ", o->name);
		put_quoted(out, list[i]);
		fputs(";\n", out);
	}
}

/* TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, as words or one flag value. */
static int
parse_tls_protocols(const struct tw_opt_val *v, const struct tw_opt *o,
		    void *field)
{
	static const char *const names[] = { "TLSv1", "TLSv1.1", "TLSv1.2",
					     "TLSv1.3", NULL };
	char joined[64] = "", word[16];
	size_t i;

	for (i = 0; i < v->nargs; i++) {
		const char *p = v->args[i];

		while (*p != '\0') {
			size_t n;

			p += strspn(p, " \t,");
			n = strcspn(p, " \t,");
			if (n == 0)
				break;
			if (n >= sizeof(word))
				n = sizeof(word) - 1;
			memcpy(word, p, n);
			word[n] = '\0';
			p += strcspn(p, " \t,");
			if (name_index(names, word) < 0)
				return tw_opts_failf(v->px, v->org, "%s '%s': "
						     "expected TLSv1, TLSv1.1, "
						     "TLSv1.2 or TLSv1.3",
						     o->name, word);
			if (strstr(joined, word) != NULL &&
			    strlen(word) == 7)	/* TLSv1.x: no dup */
				continue;
			if (strlen(joined) + n + 2 > sizeof(joined))
				break;
			if (joined[0] != '\0')
				strcat(joined, " ");
			strcat(joined, word);
		}
	}
	if (joined[0] == '\0')
		return tw_opts_failf(v->px, v->org, "'%s' needs a protocol",
				     o->name);
	if ((STR_FIELD(field) = keep_str(v->px->c, joined)) == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	return 0;
}

static void
print_tls_protocols(const struct tw_config *c, const struct tw_opt *o,
		    FILE *out)
{
	(void)o;
	if (c->tls_protocols != NULL)
		fprintf(out, "tls_protocols %s;\n", c->tls_protocols);
}

static int
parse_redirect_https(const struct tw_opt_val *v, const struct tw_opt *o,
		     void *field)
{
	uint64_t n;

	(void)o;
	if (strcmp(v->args[0], "off") == 0)
		n = 0;
	else if (!whole_number(v->args[0], 65535, &n) || n == 0)
		return tw_opts_failf(v->px, v->org, "redirect_https '%s': "
				     "expected a port from 1 to 65535 or off",
				     v->args[0]);
	U64_FIELD(field) = n;
	return 0;
}

static void
print_redirect_https(const struct tw_config *c, const struct tw_opt *o,
		     FILE *out)
{
	(void)o;
	if (c->redirect_https != 0)
		fprintf(out, "redirect_https %llu;\n",
			(unsigned long long)c->redirect_https);
}

/* ---- logs ------------------------------------------------------------------ */

static const char *const format_names[] = { "combined", "common", "json", NULL };
static const char *const level_names[] = {
	"error", "warn", "info", "debug", NULL,
};

/* PATH|-|off [FORMAT] */
static int
parse_access_log(const struct tw_opt_val *v, const struct tw_opt *o,
		 void *field)
{
	struct tw_config *c = v->px->c;
	int i = 0;

	if (*v->args[0] == '\0')
		return tw_opts_failf(v->px, v->org, "'%s' needs a file, - or "
				     "off", o->name);
	if (v->nargs == 2 && (i = name_index(format_names, v->args[1])) < 0)
		return tw_opts_failf(v->px, v->org, "access_log format '%s': "
				     "expected combined, common or json",
				     v->args[1]);
	if ((STR_FIELD(field) = keep_str(c, v->args[0])) == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	if (v->nargs == 2)
		c->log_format = (enum tw_log_format)i;
	return 0;
}

static void
print_access_log(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	fprintf(out, "%s ", o->name);
	put_quoted(out, c->access_log);
	fprintf(out, " %s;\n", format_names[c->log_format]);
}

/* PATH|- [LEVEL] */
static int
parse_error_log(const struct tw_opt_val *v, const struct tw_opt *o,
		void *field)
{
	struct tw_config *c = v->px->c;
	int i = 0;

	if (*v->args[0] == '\0')
		return tw_opts_failf(v->px, v->org, "'%s' needs a file or -",
				     o->name);
	if (v->nargs == 2 && (i = name_index(level_names, v->args[1])) < 0)
		return tw_opts_failf(v->px, v->org, "error_log level '%s': "
				     "expected error, warn, info or debug",
				     v->args[1]);
	if ((STR_FIELD(field) = keep_str(c, v->args[0])) == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	if (v->nargs == 2)
		c->log_level = (enum tw_log_level)i;
	return 0;
}

static void
print_error_log(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	fprintf(out, "%s ", o->name);
	put_quoted(out, c->error_log);
	fprintf(out, " %s;\n", level_names[c->log_level]);
}

/* ---- headers, status page, user ---------------------------------------- */

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

bool
tw_opts_header_ok(const char *name, size_t nlen, const char *value)
{
	return valid_header_name(name, nlen) && valid_header_value(value);
}

/*
 * A header line for list (n entries so far), named what for messages:
 * "NAME: VALUE" as one flag word, or NAME VALUE as two words of a
 * directive (a missing VALUE is "" where empty is allowed).
 */
static int
parse_header_into(const struct tw_opt_val *v, const char *what,
		  struct tw_config_header *list, size_t *n, bool empty_ok)
{
	struct tw_config *c = v->px->c;
	const char *name = v->args[0], *value;
	size_t nlen;

	if (v->org->cli) {
		const char *colon = strchr(name, ':');

		if (colon == NULL)
			return tw_opts_failf(v->px, v->org, "'%s': expected "
					     "'NAME: VALUE'", name);
		nlen = (size_t)(colon - name);
		value = colon + 1 + strspn(colon + 1, " \t");
	} else {
		nlen = strlen(name);
		value = v->nargs > 1 ? v->args[1] : empty_ok ? "" : NULL;
		if (value == NULL)
			return tw_opts_failf(v->px, v->org, "%s: a value is "
					     "needed", what);
	}
	if (!valid_header_name(name, nlen))
		return tw_opts_failf(v->px, v->org, "%s: '%.*s' is not a "
				     "header name", what, (int)nlen, name);
	if (!valid_header_value(value))
		return tw_opts_failf(v->px, v->org, "%s: the value holds "
				     "control characters", what);
	if (*n == TW_CONFIG_MAX_HEADERS)
		return tw_opts_failf(v->px, v->org, "at most %d %s lines",
				     TW_CONFIG_MAX_HEADERS, what);
	list[*n].name = tw_opts_keep(c, name, nlen);
	list[*n].value = keep_str(c, value);
	if (list[*n].name == NULL || list[*n].value == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	(*n)++;
	return 0;
}

static int
parse_header(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	struct tw_config *c = v->px->c;

	(void)o;
	(void)field;
	return parse_header_into(v, "add_header", c->headers, &c->nheaders,
				 false);
}

static void
print_headers(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	size_t j;

	(void)o;
	for (j = 0; j < c->nheaders; j++) {
		fprintf(out, "add_header %s ", c->headers[j].name);
		put_quoted(out, c->headers[j].value);
		fputs(";\n", out);
	}
}

static int
parse_status_allow(const struct tw_opt_val *v, const struct tw_opt *o,
		   void *field)
{
	struct tw_config *c = v->px->c;
	struct tw_net n;
	const char *s = v->args[0];

	(void)o;
	(void)field;
	if (tw_net_parse(s, &n) < 0)
		return tw_opts_failf(v->px, v->org, "status_allow '%s': "
				     "expected an address, ADDR/BITS or all", s);
	if (c->nstatus_allow == TW_CONFIG_MAX_HEADERS)
		return tw_opts_failf(v->px, v->org, "at most %d status_allow "
				     "lines", TW_CONFIG_MAX_HEADERS);
	c->status_allow[c->nstatus_allow] = keep_str(c, s);
	if (c->status_allow[c->nstatus_allow] == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	c->nstatus_allow++;
	return 0;
}

static void
print_status_allow(const struct tw_config *c, const struct tw_opt *o,
		   FILE *out)
{
	size_t j;

	(void)o;
	for (j = 0; j < c->nstatus_allow; j++) {
		fputs("status_allow ", out);
		put_quoted(out, c->status_allow[j]);
		fputs(";\n", out);
	}
}

int
tw_opts_read_file(const char *path, size_t max, char **out, size_t *len,
		  struct stat *stp)
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
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		err = -ENOMEM;
		goto out_close;
	}
	/* A file that shrinks meanwhile: what is there. */
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	(void)close(fd);
	*out = buf;
	*len = got;
	if (stp != NULL)
		*stp = st;
	return 0;
out_close:
	(void)close(fd);
	return err;
}

/* allow, deny, auth_basic, auth_basic_user_file at the top level (the
 * same rows serve server and location blocks: front/access). */
static int
parse_access(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	(void)field;
	return tw_access_set(v->px, v->org, v->node ? v->node->file : NULL,
			     o->name, v->args, v->nargs, &v->px->c->auth);
}

/* --auth-file FILE: the one-liner's users, realm "tinyweb". */
static int
parse_auth_file(const struct tw_opt_val *v, const struct tw_opt *o,
		void *field)
{
	(void)o;
	(void)field;
	return tw_access_set_file_flag(v->px, v->org, v->args[0],
				       &v->px->c->auth);
}

static void
print_access(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	(void)o;
	tw_access_print(&c->auth, 0, out);
}

/* File: USER [GROUP]; flag: USER[:GROUP]. */
static int
parse_user(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	struct tw_config *c = v->px->c;
	const char *s = v->args[0];
	const char *colon = v->org->cli ? strchr(s, ':') : NULL;
	size_t ulen = colon ? (size_t)(colon - s) : strlen(s);
	const char *group = colon ? colon + 1 : v->nargs == 2 ? v->args[1] : NULL;
	char uname[256];

	(void)o;
	(void)field;
	if (ulen == 0 || ulen >= sizeof(uname))
		return tw_opts_failf(v->px, v->org, "user: a user name is "
				     "needed");
	memcpy(uname, s, ulen);
	uname[ulen] = '\0';
	if (getpwnam(uname) == NULL)
		return tw_opts_failf(v->px, v->org, "user '%s' does not exist",
				     uname);
	if (group != NULL && getgrnam(group) == NULL)
		return tw_opts_failf(v->px, v->org, "group '%s' does not "
				     "exist", group);
	c->user = tw_opts_keep(c, uname, ulen);
	c->group = group ? keep_str(c, group) : NULL;
	if (c->user == NULL || (group && c->group == NULL))
		return tw_opts_failf(v->px, v->org, "out of memory");
	return 0;
}

static void
print_user(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	(void)o;
	if (c->user == NULL)
		return;
	fputs("user ", out);
	put_quoted(out, c->user);
	if (c->group != NULL) {
		fputc(' ', out);
		put_quoted(out, c->group);
	}
	fputs(";\n", out);
}

/* ---- mime_types and types { } ------------------------------------------- */

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

/* The text of a regular file of at most MAX_MIME_BYTES, or -errno. */
static int
slurp(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_MIME_BYTES) {
		(void)close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	*len = 0;
	while (*len < (size_t)st.st_size &&
	       (n = read(fd, *buf + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	(void)close(fd);
	return 0;
}

static int
load_mime_file(const struct tw_opt_val *v, const char *path)
{
	size_t errline = 0, len = 0;
	char *buf = NULL;
	int err;

	err = slurp(path, &buf, &len);
	if (err == -EFBIG)
		return tw_opts_failf(v->px, v->org, "mime_types %s: not a "
				     "regular file of at most 16 MiB", path);
	if (err == -ENOMEM)
		return tw_opts_failf(v->px, v->org, "out of memory");
	if (err < 0)
		return tw_opts_failf(v->px, v->org, "mime_types %s: %s", path,
				     strerror(-err));
	err = tw_mime_table_load_buf(v->px->c->types, buf, len, &errline);
	free(buf);
	if (err == -EINVAL) {
		struct tw_opt_origin mo = { .cli = v->org->cli };

		(void)snprintf(mo.where, sizeof(mo.where), "%s:%zu", path,
			       errline);
		return tw_opts_failf(v->px, &mo, "malformed mime.types line");
	}
	if (err < 0)
		return tw_opts_failf(v->px, v->org, "mime_types %s: %s", path,
				     strerror(-err));
	return 0;
}

static int
parse_mime_types(const struct tw_opt_val *v, const struct tw_opt *o,
		 void *field)
{
	struct tw_config *c = v->px->c;
	char full[PATH_MAX];
	const char *kept;

	(void)o;
	(void)field;
	if (tw_opts_resolve(v->px, v->node ? v->node->file : NULL, v->args[0],
			    full, sizeof(full)) < 0)
		return tw_opts_failf(v->px, v->org, "mime_types path too long");
	kept = keep_str(c, full);
	if (kept == NULL || add_mime_op(c, NULL, kept) < 0)
		return tw_opts_failf(v->px, v->org, "out of memory");
	return load_mime_file(v, kept);
}

/* One "TYPE EXT ...;" line of a types block. */
static int
add_types_line(const struct tw_opt_val *v, const struct tw_conf_node *n)
{
	struct tw_config *c = v->px->c;
	struct tw_opt_origin org;
	size_t i;

	tw_opts_where(&org, n);
	if (n->has_block)
		return tw_opts_failf(v->px, &org, "expected ';' after the "
				     "extensions of '%s', not a block", n->name);
	if (strchr(n->name, '/') == NULL)
		return tw_opts_failf(v->px, &org, "'%s' is not a type/subtype",
				     n->name);
	for (i = 0; i < n->nargs; i++) {
		const char *ext = n->args[i], *kt, *ke;
		int err;

		err = tw_mime_table_add(c->types, ext, strlen(ext), n->name,
					strlen(n->name));
		if (err == -EINVAL)
			return tw_opts_failf(v->px, &org, "types: bad type '%s' "
					     "or extension '%s'", n->name, ext);
		kt = keep_str(c, n->name);
		ke = keep_str(c, ext);
		if (err < 0 || kt == NULL || ke == NULL ||
		    add_mime_op(c, kt, ke) < 0)
			return tw_opts_failf(v->px, &org, "out of memory");
	}
	return 0;
}

/* types { TYPE EXT ...; ... } */
static int
parse_types(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	const struct tw_conf_node *n;
	int err;

	(void)o;
	(void)field;
	for (n = v->node->child; n != NULL; n = n->next)
		if ((err = add_types_line(v, n)) < 0)
			return err;
	return 0;
}

/* Files and inline types keep their order: later entries override
 * earlier ones. */
static void
print_mime(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	size_t j;

	(void)o;
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
}

/* ---- the proxy ------------------------------------------------------------ */

/* proxy_next_upstream's words, in the order of the TW_PROXY_NEXT_ bits. */
static const char *const next_names[] = {
	"error", "timeout", "http_502", "http_503", "http_504",
	"non_idempotent", NULL
};

/* Words in the file; one flag value with commas or spaces between. */
static int
next_word(const struct tw_opt_val *v, const char *w, size_t n,
	  unsigned *bits)
{
	size_t i;

	if (n == 3 && strncmp(w, "off", 3) == 0) {
		*bits = 0;
		return 0;
	}
	for (i = 0; next_names[i] != NULL; i++)
		if (strlen(next_names[i]) == n &&
		    strncmp(next_names[i], w, n) == 0) {
			*bits |= 1u << i;
			return 0;
		}
	return tw_opts_failf(v->px, v->org, "proxy_next_upstream takes error, "
			     "timeout, http_502, http_503, http_504, "
			     "non_idempotent or off, not '%.*s'", (int)n, w);
}

static int
parse_next_upstream(const struct tw_opt_val *v, const struct tw_opt *o,
		    void *field)
{
	unsigned bits = 0;
	size_t i;
	int err;

	(void)o;
	for (i = 0; i < v->nargs; i++) {
		const char *w = v->args[i];

		while (*w != '\0') {
			size_t n = strcspn(w, ", ");

			if (n > 0 && (err = next_word(v, w, n, &bits)) < 0)
				return err;
			w += n;
			w += strspn(w, ", ");
		}
	}
	*(unsigned *)field = bits;
	return 0;
}

static void
print_next_upstream(const struct tw_config *c, const struct tw_opt *o,
		    FILE *out)
{
	size_t i;

	fputs(o->name, out);
	if (c->proxy_next_upstream == 0)
		fputs(" off", out);
	for (i = 0; next_names[i] != NULL; i++)
		if (c->proxy_next_upstream & (1u << i))
			fprintf(out, " %s", next_names[i]);
	fputs(";\n", out);
}

/* A count where 0 means "no limit" (every server once). */
static int
parse_count0(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	uint64_t n;

	(void)o;
	if (!whole_number(v->args[0], UINT32_MAX, &n))
		return tw_opts_failf(v->px, v->org, "'%s' is not a number",
				     v->args[0]);
	U64_FIELD(field) = n;
	return 0;
}

/* The conn's read buffer holds a response head whole, or nothing. */
static int
check_buffer_size(const struct tw_opt_val *v, const struct tw_opt *o,
		  const void *field)
{
	uint64_t n = CU64_FIELD(field);

	if (n < 1024 || n > 32 * 1024)
		return tw_opts_failf(v->px, v->org, "'%s' takes 1k to 32k, "
				     "not %llu", o->name,
				     (unsigned long long)n);
	return 0;
}

static int
parse_set_header(const struct tw_opt_val *v, const struct tw_opt *o,
		 void *field)
{
	struct tw_config *c = v->px->c;

	(void)o;
	(void)field;
	return parse_header_into(v, "proxy_set_header", c->proxy_set_headers,
				 &c->nproxy_set_headers, true);
}

static void
print_set_headers(const struct tw_config *c, const struct tw_opt *o,
		  FILE *out)
{
	size_t j;

	(void)o;
	for (j = 0; j < c->nproxy_set_headers; j++) {
		fprintf(out, "proxy_set_header %s ",
			c->proxy_set_headers[j].name);
		put_quoted(out, c->proxy_set_headers[j].value);
		fputs(";\n", out);
	}
}

/* ---- error_page, try_files, cors (front/pages) ----------------------- */

static int
parse_pages(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	(void)field;
	return tw_pages_parse(v, o->name, &v->px->c->pages, false);
}

static int
parse_spa(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	(void)o;
	(void)field;
	return tw_pages_spa(v, &v->px->c->pages);
}

/* error_page's row prints the lines of every row of front/pages. */
static void
print_pages(const struct tw_config *c, const struct tw_opt *o, FILE *out)
{
	(void)o;
	tw_pages_print(&c->pages, 0, out);
}

/* ---- -c and -t ---------------------------------------------------------- */

static int
parse_conf_file(const struct tw_opt_val *v, const struct tw_opt *o,
		void *field)
{
	(void)o;
	(void)field;
	v->px->c->conf_file = v->args[0];
	return 0;
}

static int
parse_test(const struct tw_opt_val *v, const struct tw_opt *o, void *field)
{
	(void)o;
	(void)field;
	v->px->c->test_only = true;
	return 0;
}

/* ---- compression ------------------------------------------------------- */

/*
 * Words of a list directive, each of which may itself be a comma list
 * (the flag's one argument): fn(item, ctx) for each non-empty item.
 */
static int
each_item(const struct tw_opt_val *v, int (*fn)(const struct tw_opt_val *v,
						const char *item, size_t n),
	  size_t *count)
{
	size_t i;
	int err;

	*count = 0;
	for (i = 0; i < v->nargs; i++) {
		const char *p = v->args[i];

		while (*p != '\0') {
			size_t n = strcspn(p, ",");

			if (n > 0) {
				if ((err = fn(v, p, n)) < 0)
					return err;
				(*count)++;
			}
			p += n + (p[n] == ',');
		}
	}
	return 0;
}

static int
add_compress_type(const struct tw_opt_val *v, const char *item, size_t n)
{
	struct tw_config *c = v->px->c;
	const char *slash = memchr(item, '/', n);

	if (slash == NULL || slash == item || slash == item + n - 1)
		return tw_opts_failf(v->px, v->org, "compress_types: '%.*s' "
				     "is not a type such as text/css or "
				     "text/*", (int)n, item);
	if (c->ncompress_types == TW_COMPRESS_MAX_TYPES)
		return tw_opts_failf(v->px, v->org, "compress_types: at most "
				     "%d types", TW_COMPRESS_MAX_TYPES);
	c->compress_types[c->ncompress_types] = tw_opts_keep(c, item, n);
	if (c->compress_types[c->ncompress_types] == NULL)
		return tw_opts_failf(v->px, v->org, "out of memory");
	c->ncompress_types++;
	return 0;
}

/* compress_types TYPE...; or --compress-types T1,T2: replaces the list. */
static int
parse_compress_types(const struct tw_opt_val *v, const struct tw_opt *o,
		     void *field)
{
	size_t n;
	int err;

	(void)o;
	(void)field;
	v->px->c->ncompress_types = 0;
	if ((err = each_item(v, add_compress_type, &n)) < 0)
		return err;
	if (n == 0)
		return tw_opts_failf(v->px, v->org, "compress_types needs a "
				     "type");
	return 0;
}

static void
print_compress_types(const struct tw_config *c, const struct tw_opt *o,
		     FILE *out)
{
	const char *const *t = c->ncompress_types ? c->compress_types :
				tw_compress_default_types;
	size_t i, n = c->ncompress_types ? c->ncompress_types : SIZE_MAX;

	fputs(o->name, out);
	for (i = 0; i < n && t[i] != NULL; i++) {
		fputc(' ', out);
		put_quoted(out, t[i]);
	}
	fputs(";\n", out);
}

/* One CODING=LEVEL item of compress_level. */
static int
set_compress_level(const struct tw_opt_val *v, const char *item, size_t n)
{
	char word[32];
	const char *eq;
	uint64_t level;
	int c;

	if (n >= sizeof(word))
		n = sizeof(word) - 1;
	memcpy(word, item, n);
	word[n] = '\0';
	eq = strchr(word, '=');
	for (c = TW_CODING_GZIP; eq != NULL && c < TW_CODING_COUNT; c++) {
		const char *name = tw_coding_name((enum tw_coding)c);

		if ((size_t)(eq - word) == strlen(name) &&
		    memcmp(word, name, strlen(name)) == 0 &&
		    whole_number(eq + 1, 99, &level) &&
		    tw_compress_level_ok((enum tw_coding)c, (int)level)) {
			v->px->c->compress.level[c] = (int)level;
			return 0;
		}
	}
	return tw_opts_failf(v->px, v->org, "compress_level: '%s' is not "
			     "gzip=0..12, br=0..11 or zstd=0..19", word);
}

/* compress_level gzip=N br=N zstd=N; (or commas): the codings named
 * change, 0 turns one off. */
static int
parse_compress_level(const struct tw_opt_val *v, const struct tw_opt *o,
		     void *field)
{
	size_t n;
	int err;

	(void)o;
	(void)field;
	if ((err = each_item(v, set_compress_level, &n)) < 0)
		return err;
	if (n == 0)
		return tw_opts_failf(v->px, v->org, "compress_level needs "
				     "CODING=LEVEL");
	return 0;
}

static void
print_compress_level(const struct tw_config *c, const struct tw_opt *o,
		     FILE *out)
{
	int i;

	fputs(o->name, out);
	for (i = TW_CODING_GZIP; i < TW_CODING_COUNT; i++)
		fprintf(out, " %s=%d", tw_coding_name((enum tw_coding)i),
			c->compress.level[i]);
	fputs(";\n", out);
}

/* ---- the table ------------------------------------------------------------- */

static const char *const symlink_names[] = { "never", "inside", "always", NULL };
/* Order as enum tw_charset. */
static const char *const charset_names[] = { "off", "auto", NULL };
static const char *const aio_names[] = { "off", "threads", NULL };
/* Order as enum tw_config_sandbox. */
static const char *const sandbox_names[] = { "off", "on", NULL };
/* Order as enum tw_sendfile. */
static const char *const sendfile_names[] = { "auto", "on", "off", NULL };
/* Order as enum tw_balance; "consistent" is hash consistent on the URI. */
static const char *const balance_names[] = {
	"round_robin", "least_conn", "ip_hash", "hash", "consistent", NULL
};

#define OFF(f) offsetof(struct tw_config, f)

/* enum_store() writes an int: every enum field must be int-sized. */
#define INT_SIZED(f) _Static_assert(sizeof(((struct tw_config *)0)->f) == \
				    sizeof(int), #f " is not int-sized")
INT_SIZED(symlinks);
INT_SIZED(charset);
INT_SIZED(log_format);
INT_SIZED(log_level);
INT_SIZED(mode);
INT_SIZED(accept);
INT_SIZED(aio);
INT_SIZED(sendfile);
INT_SIZED(balance);

/* Rows by kind: NAME, short flag, flags, file words min..max. */
#define STR(n, s, fl, f) n, s, fl, 1, 1, parse_str, NULL, print_str, OFF(f), NULL
#define BOOL(n, s, f) n, s, TW_OPT_NOARG | TW_OPT_NEG, 1, 1, parse_bool, \
	NULL, print_bool, OFF(f), NULL
#define ENUM(n, s, f, names) n, s, 0, 1, 1, parse_enum, NULL, print_enum, \
	OFF(f), names
#define DURATION(n, f) n, 0, 0, 1, 1, parse_duration, NULL, print_duration, \
	OFF(f), NULL
#define COUNT(n, f, check) n, 0, 0, 1, 1, parse_count, check, print_u64, \
	OFF(f), NULL
/* A row with its own functions, its field or 0. */
#define OWN(n, s, fl, lo, hi, parse, print, f) n, s, fl, lo, hi, parse, NULL, \
	print, f, NULL

const struct tw_opt tw_opts[] = {
	{ OWN("port", 'p', TW_OPT_CLI, 1, 1, parse_port, NULL, 0), "N",
	  "TCP port (default 8080; 0 picks a free port);\n"
	  "alone, moves the file's listen lines to N,\n"
	  "keeping their addresses; with -b, replaces them", NULL },
	{ OWN("bind", 'b', TW_OPT_CLI | TW_OPT_REPEAT, 1, 1, parse_bind, NULL,
	      0), "ADDR",
	  "IPv4 or IPv6 address to listen on; repeatable\n"
	  "(default: every IPv4 and IPv6 address)",
	  NULL },
	{ OWN("listen", 0, TW_OPT_REPEAT, 1, 2, parse_listen, print_listen,
	      0), "ADDR:PORT",
	  "also listen for plain HTTP on PORT, ADDR or\n"
	  "ADDR:PORT; repeatable (beside TLS on -p, with\n"
	  "--redirect-https)", NULL },
	{ STR("root", 0, TW_OPT_FILE, root), NULL, NULL, NULL },
	{ OWN("config", 'c', TW_OPT_CLI | TW_OPT_EARLY, 1, 1, parse_conf_file,
	      NULL, 0), "FILE",
	  "read directives from FILE; flags win over it", NULL },
	{ OWN("test-config", 't', TW_OPT_CLI | TW_OPT_EARLY | TW_OPT_NOARG, 0,
	      0, parse_test, NULL, 0), NULL,
	  "check the configuration, print it and exit\n(as check-config)",
	  NULL },
	{ OWN("index", 0, 0, 1, TW_CONFIG_MAX_INDEX, parse_index, print_index,
	      0), "NAME",
	  "index file of a directory (default index.html)", NULL },
	{ BOOL("listing", 0, listing), NULL,
	  "list directories that have no index file\n(default)",
	  "answer 403 for directories without an index" },
	{ BOOL("hidden", 0, hidden), NULL,
	  "serve and list dotfiles (default: 404, except\n/.well-known/)",
	  "hide dotfiles (default)" },
	{ ENUM("symlinks", 0, symlinks, symlink_names), "MODE",
	  "never, inside (default) or always", NULL },
	{ "charset", 0, 0, 1, 1, parse_charset, NULL, print_enum,
	  OFF(charset), charset_names, "MODE",
	  "auto (default): charset=utf-8 on UTF-8 text\n"
	  "files; off: bare content types", NULL },
	{ BOOL("gzip_static", 0, gzip_static), NULL,
	  "send FILE.gz/FILE.br beside FILE to clients\n"
	  "that accept them (default)",
	  "never send the .gz/.br sidecars" },
	{ BOOL("compress", 0, compress.on), NULL,
	  "compress text on the fly (gzip, br, zstd) for\n"
	  "clients that accept it, once per file version\n"
	  "(default)",
	  "send files as they are on disk" },
	{ OWN("compress_types", 0, 0, 1, TW_OPTS_MAX_ARGS,
	      parse_compress_types, print_compress_types, 0), "TYPES",
	  "types to compress, comma-separated; type/* for\n"
	  "a whole kind (default text/*, JSON, JavaScript,\n"
	  "SVG, XML, wasm)", NULL },
	{ "compress_min_length", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(compress.min_length), NULL, "SIZE",
	  "smaller files are sent plain (default 256)", NULL },
	{ "compress_max_size", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(compress.max_size), NULL, "SIZE",
	  "larger files are sent plain (default 16m)", NULL },
	{ "compress_cache", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(compress.cache), NULL, "SIZE",
	  "compressed variants kept by each worker, least\n"
	  "recently used out first (default 32m)", NULL },
	{ OWN("compress_level", 0, 0, 1, 3, parse_compress_level,
	      print_compress_level, 0), "LEVELS",
	  "level per coding, comma-separated: gzip=1..12\n"
	  "br=1..11 zstd=1..19, 0 turns one off (default\n"
	  "gzip=9,br=6,zstd=9)", NULL },
	{ OWN("add_header", 0, TW_OPT_REPEAT, 2, 2, parse_header,
	      print_headers, 0), "'NAME: VALUE'",
	  "add a header to every response; repeatable", NULL },
	{ OWN("expires", 0, 0, 1, 1, parse_expires, print_expires,
	      OFF(expires)), "TIME",
	  "Cache-Control max-age and Expires on files:\n"
	  "a TIME, max (10 years) or off (default)", NULL },
	{ OWN("mime_types", 0, TW_OPT_REPEAT, 1, 1, parse_mime_types,
	      print_mime, 0), "FILE",
	  "read extension types from FILE (mime.types\n"
	  "format) over the built-in table", NULL },
	{ OWN("types", 0, TW_OPT_REPEAT | TW_OPT_FILE | TW_OPT_BLOCK, 0, 0,
	      parse_types, NULL, 0), NULL, NULL, NULL },
	/* Blocks (front/scope): config prints them after every row. */
	{ OWN("upstream", 0, TW_OPT_REPEAT | TW_OPT_FILE | TW_OPT_BLOCK, 1, 1,
	      tw_upstreams_parse, NULL, 0), NULL, NULL, NULL },
	{ OWN("server", 0, TW_OPT_REPEAT | TW_OPT_FILE | TW_OPT_BLOCK, 0, 0,
	      tw_scope_parse_server, NULL, 0), NULL, NULL, NULL },
	{ OWN("access_log", 0, 0, 1, 2, parse_access_log, print_access_log,
	      OFF(access_log)), "FILE",
	  "access log: FILE, - for stdout (default), or\noff", NULL },
	/* log_format and log_level print with their log lines. */
	{ "log_format", 0, 0, 1, 1, parse_enum, NULL, NULL,
	  OFF(log_format), format_names, "FORMAT",
	  "access log format: combined (default), common\nor json", NULL },
	{ BOOL("quiet", 'q', quiet), NULL,
	  "no access log on stdout", "log to stdout unless --access-log says\n"
	  "otherwise (default)" },
	{ OWN("error_log", 0, 0, 1, 2, parse_error_log, print_error_log,
	      OFF(error_log)), "FILE",
	  "error log: FILE or - for stderr (default)", NULL },
	{ "log_level", 0, 0, 1, 1, parse_enum, NULL, NULL,
	  OFF(log_level), level_names, "LEVEL",
	  "error, warn, info (default) or debug", NULL },
	{ STR("pidfile", 0, 0, pidfile), "FILE",
	  "write the server's pid to FILE (locked)", NULL },
	{ BOOL("daemon", 'd', daemon), NULL,
	  "detach into the background once listening",
	  "stay in the foreground (default)" },
	{ ENUM("mode", 'm', mode, tw_mode_names), "MODE",
	  "epoll (default), prefork or threads", NULL },
	{ OWN("workers", 'w', 0, 1, 1, parse_workers, print_workers,
	      OFF(workers)), "N",
	  "processes or threads for prefork/threads, or\n"
	  "auto (one per CPU, default)", NULL },
	{ "status", 0, 0, 1, 1, parse_str, check_abs_path, print_str,
	  OFF(status), NULL, "PATH",
	  "answer PATH with live counters (off by default)", NULL },
	{ OWN("status_allow", 0, TW_OPT_REPEAT, 1, 1, parse_status_allow,
	      print_status_allow, 0), "NET",
	  "clients that may see the status page:\n"
	  "ADDR[/BITS] or all; repeatable (default loopback)", NULL },
	/* Access control (front/access, http/auth) */
	{ OWN("auth_basic", 0, 0, 1, 1, parse_access, print_access, 0),
	  "REALM", "ask for a user and password (HTTP Basic) in\n"
	  "REALM, or off (default); needs --auth-file", NULL },
	{ OWN("auth_basic_user_file", 0, TW_OPT_FILE, 1, 1, parse_access,
	      NULL, 0), NULL, NULL, NULL },
	{ OWN("auth_file", 0, TW_OPT_CLI, 1, 1, parse_auth_file, NULL, 0),
	  "FILE", "require a user of FILE (made by htpasswd -B\n"
	  "or -5); realm \"tinyweb\" unless --auth-basic\n"
	  "names one", NULL },
	{ OWN("allow", 0, TW_OPT_REPEAT, 1, 1, parse_access, NULL, 0), "NET",
	  "let clients in ADDR[/BITS] or all; allow and\n"
	  "deny are tried in order, the first match wins;\n"
	  "repeatable", NULL },
	{ OWN("deny", 0, TW_OPT_REPEAT, 1, 1, parse_access, NULL, 0), "NET",
	  "answer 403 to clients in ADDR[/BITS] or all;\n"
	  "repeatable", NULL },
	{ "health", 0, 0, 1, 1, parse_str, check_abs_path, print_str,
	  OFF(health), NULL, "PATH",
	  "answer PATH 200 while serving, 503 once a\n"
	  "graceful stop (QUIT) began: for load balancers'\n"
	  "health checks (off by default)", NULL },
	{ ENUM("accept", 0, accept, tw_mode_accept_names), "HOW",
	  "prefork/threads accept: exclusive (default),\n"
	  "reuseport, mutex, mutex-file or mutex-sem", NULL },
	{ BOOL("defer_accept", 0, defer_accept), NULL,
	  "take a new connection once its request has\n"
	  "begun to arrive, a silent one after 1 s\n"
	  "(TCP_DEFER_ACCEPT; default): faster for many\n"
	  "short connections; a final graceful stop\n"
	  "keeps listening, 2 s at most, while the\n"
	  "kernel holds clients yet to send",
	  "take new connections as soon as they are made" },
	{ ENUM("aio", 0, aio, aio_names), "HOW",
	  "cold file reads: threads (default): a pool per\n"
	  "worker reads pages not in memory so the event\n"
	  "loop never waits for the disk; or off", NULL },
	{ COUNT("aio_threads", aio_threads, check_aio_threads), "N",
	  "threads in each worker's aio pool, 1 to 64\n(default 4)", NULL },
	{ ENUM("sendfile", 0, sendfile, sendfile_names), "HOW",
	  "file bodies: auto (default): sendfile up to\n"
	  "512 KiB, pread + send through a buffer above\n"
	  "(faster there on loopback); on; or off", NULL },
	{ OWN("user", 0, 0, 1, 2, parse_user, print_user, 0), "USER[:GROUP]",
	  "started as root, serve clients as USER; the\n"
	  "master (prefork) or a keeper process stays root\n"
	  "for reloads, log re-opening and the pidfile", NULL },
	{ DURATION("keepalive_timeout", keepalive_timeout_ms), "TIME",
	  "idle keep-alive wait (default 30s)", NULL },
	{ DURATION("header_timeout", header_timeout_ms), "TIME",
	  "deadline for a request's headers (default 10s)", NULL },
	{ DURATION("send_timeout", send_timeout_ms), "TIME",
	  "longest a client may stall a response\n(default 60s)", NULL },
	{ "send_min_rate", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(send_min_rate), NULL, "SIZE",
	  "bytes a second a client must take of a\n"
	  "response, on average over each send_timeout;\n"
	  "slower ones are closed (default 1k; 0: off)", NULL },
	{ COUNT("max_connections", max_connections, check_max_connections),
	  "N", "open connections at most (default 10000, or\n"
	  "fewer to fit RLIMIT_NOFILE); at the cap the\n"
	  "longest idle one is closed for a new one", NULL },
	{ COUNT("max_keepalive_requests", max_keepalive_requests, NULL), "N",
	  "requests on one connection (default 1000)", NULL },
	{ "max_request_body", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(max_request_body), NULL, "SIZE",
	  "request bodies read and discarded at most;\n"
	  "larger get 413 (default 1m)", NULL },
	{ ENUM("balance", 0, balance, balance_names), "METHOD",
	  "proxy: how a server is chosen: round_robin\n"
	  "(default), least_conn, ip_hash, hash or\n"
	  "consistent (of the request URI)", NULL },
	{ DURATION("proxy_connect_timeout", proxy_connect_timeout_ms), "TIME",
	  "proxy: longest wait for a connection to an\n"
	  "upstream server (default 10s)", NULL },
	{ DURATION("proxy_read_timeout", proxy_read_timeout_ms), "TIME",
	  "proxy: longest silence of an upstream server\n"
	  "(default 60s)", NULL },
	{ DURATION("proxy_send_timeout", proxy_send_timeout_ms), "TIME",
	  "proxy: longest stall sending a request\n"
	  "upstream (default 60s)", NULL },
	{ "proxy_next_upstream_tries", 0, 0, 1, 1, parse_count0, NULL,
	  print_u64, OFF(proxy_next_upstream_tries), NULL, "N",
	  "proxy: servers tried for one request (default\n"
	  "0: each server once)", NULL },
	{ OWN("proxy_next_upstream", 0, 0, 1, 6, parse_next_upstream,
	      print_next_upstream, OFF(proxy_next_upstream)), "LIST",
	  "proxy: when the next server gets a request:\n"
	  "error, timeout, http_502, http_503, http_504,\n"
	  "non_idempotent, or off (default error,timeout)", NULL },
	{ "proxy_max_body", 0, 0, 1, 1, parse_size, NULL, print_u64,
	  OFF(proxy_max_body), NULL, "SIZE",
	  "proxy: larger request bodies get 413\n"
	  "(default 0: no limit)", NULL },
	{ "proxy_buffer_size", 0, 0, 1, 1, parse_size, check_buffer_size,
	  print_u64, OFF(proxy_buffer_size), NULL, "SIZE",
	  "proxy: an upstream's response head above is\n"
	  "a 502 (1k to 32k, default 16k)", NULL },
	{ BOOL("proxy_pass_request_headers", 0, proxy_pass_request_headers),
	  NULL, "proxy: pass the client's header fields on\n(default)",
	  "proxy: send only the proxy's own fields" },
	{ OWN("proxy_set_header", 0, TW_OPT_REPEAT, 1, 2, parse_set_header,
	      print_set_headers, 0), "'NAME: VALUE'",
	  "proxy: set a request field upstream (an empty\n"
	  "value removes it); repeatable", NULL },
	{ COUNT("proxy_keepalive", proxy_keepalive, NULL), "N",
	  "proxy: idle upstream connections each worker\n"
	  "keeps for reuse (default 32)", NULL },
	{ OWN("tls_cert", 0, TW_OPT_CLI | TW_OPT_REPEAT, 1, 1, parse_tls_file,
	      NULL, 0), "FILE",
	  "serve HTTPS on the -p/-b listeners with the\n"
	  "certificate chain FILE (PEM); repeatable,\n"
	  "paired in order with --tls-key (RSA and ECDSA)", NULL },
	{ OWN("tls_key", 0, TW_OPT_CLI | TW_OPT_REPEAT, 1, 1, parse_tls_file,
	      NULL, 0), "FILE",
	  "the private key (PEM) of the --tls-cert\nbefore it", NULL },
	{ OWN("tls_certificate", 0, TW_OPT_FILE | TW_OPT_REPEAT, 1, 1,
	      parse_tls_file, print_tls_files, 0), NULL, NULL, NULL },
	{ OWN("tls_certificate_key", 0, TW_OPT_FILE | TW_OPT_REPEAT, 1, 1,
	      parse_tls_file, print_tls_files, 0), NULL, NULL, NULL },
	{ OWN("tls_protocols", 0, 0, 1, 4, parse_tls_protocols,
	      print_tls_protocols, OFF(tls_protocols)), "LIST",
	  "TLS versions: \"TLSv1.2 TLSv1.3\" (default); also\n"
	  "TLSv1 and TLSv1.1", NULL },
	{ STR("tls_ciphers", 0, 0, tls_ciphers), "LIST",
	  "OpenSSL cipher list for TLS 1.2 (default:\n"
	  "Mozilla intermediate); TLS 1.3 keeps its suites", NULL },
	{ OWN("redirect_https", 0, 0, 1, 1, parse_redirect_https,
	      print_redirect_https, OFF(redirect_https)), "PORT",
	  "plain-HTTP listeners answer every request with\n"
	  "301 to https://HOST:PORT/same/path (off by\ndefault)", NULL },
	/* Pages and headers (front/pages): error_page prints them all. */
	{ OWN("error_page", 0, TW_OPT_FILE | TW_OPT_REPEAT, 2,
	      TW_OPTS_MAX_ARGS, parse_pages, print_pages, 0), NULL, NULL,
	  NULL },
	{ OWN("try_files", 0, TW_OPT_FILE, 2, TW_OPTS_MAX_ARGS, parse_pages,
	      NULL, 0), NULL, NULL, NULL },
	{ OWN("spa", 0, TW_OPT_CLI | TW_OPT_NOARG, 0, 0, parse_spa, NULL, 0),
	  NULL, "single-page app: a path that is no file or\n"
	  "directory gets /index.html with 200\n"
	  "(try_files $uri $uri/ /index.html)", NULL },
	{ OWN("cors", 0, TW_OPT_REPEAT, 1, TW_OPTS_MAX_ARGS, parse_pages, NULL,
	      0), "ORIGIN",
	  "CORS: let pages of ORIGIN (https://HOST[:PORT])\n"
	  "read responses, or * for any; repeatable", NULL },
	{ OWN("cors_methods", 0, 0, 1, TW_OPTS_MAX_ARGS, parse_pages, NULL,
	      0), "LIST",
	  "CORS: methods a preflight allows (default\n"
	  "GET, HEAD, OPTIONS)", NULL },
	{ OWN("cors_headers", 0, 0, 1, TW_OPTS_MAX_ARGS, parse_pages, NULL,
	      0), "LIST",
	  "CORS: request fields a preflight allows, or *\n"
	  "(default): those it asks for", NULL },
	{ OWN("cors_expose_headers", 0, 0, 1, TW_OPTS_MAX_ARGS, parse_pages,
	      NULL, 0), "LIST",
	  "CORS: response fields scripts may read", NULL },
	{ OWN("cors_max_age", 0, 0, 1, 1, parse_pages, NULL, 0), "TIME",
	  "CORS: how long a preflight's answer is kept\n(default 1h)", NULL },
	{ OWN("cors_credentials", 0, TW_OPT_NOARG | TW_OPT_NEG, 1, 1,
	      parse_pages, NULL, 0), NULL,
	  "CORS: allow cookies and credentials (with\n"
	  "listed origins, not *)", "CORS: no credentials (default)" },
	{ ENUM("sandbox", 0, sandbox, sandbox_names), "MODE",
	  "on (default): each serving loop may read only\n"
	  "beneath the roots, write only the logs and\n"
	  "connect only to upstream ports (Landlock),\n"
	  "make only the system calls serving needs\n"
	  "(seccomp), with no new privileges; off: none\n"
	  "of it, for debugging", NULL },
};

const size_t tw_nopts = sizeof(tw_opts) / sizeof(tw_opts[0]);

_Static_assert(sizeof(tw_opts) / sizeof(tw_opts[0]) <= TW_OPTS_MAX_ROWS &&
	       TW_OPTS_MAX_ROWS <= sizeof(((struct tw_config *)0)->seen) * 8,
	       "seen[] has a bit per option");

/* ---- finding and applying rows ---------------------------------------- */

const struct tw_opt *
tw_opts_find(const char *name, bool cli)
{
	size_t i;

	for (i = 0; i < tw_nopts; i++)
		if (!(tw_opts[i].flags & (cli ? TW_OPT_FILE : TW_OPT_CLI)) &&
		    strcmp(tw_opts[i].name, name) == 0)
			return &tw_opts[i];
	return NULL;
}

/* A directive met twice that may be given once. */
static int
check_once(const struct tw_opt_val *v, const struct tw_opt *o)
{
	struct tw_config *c = v->px->c;
	size_t idx = (size_t)(o - tw_opts);

	if (!(o->flags & TW_OPT_REPEAT) &&
	    (c->seen[idx / 8] & (1u << (idx % 8))))
		return tw_opts_failf(v->px, v->org, "duplicate '%s' directive",
				     o->name);
	c->seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
	return 0;
}

/* The shape of a directive: its block and its number of words. */
static int
check_shape(const struct tw_opt_val *v, const struct tw_opt *o)
{
	bool has_block = v->node->has_block;

	if ((o->flags & TW_OPT_BLOCK) && !has_block)
		return tw_opts_failf(v->px, v->org, "'%s' needs a block: "
				     "%s { ... }", o->name, o->name);
	if (!(o->flags & TW_OPT_BLOCK) && has_block)
		return tw_opts_failf(v->px, v->org, "block not allowed here: "
				     "'%s' takes none", o->name);
	if (v->nargs > TW_OPTS_MAX_ARGS)
		return tw_opts_failf(v->px, v->org, "too many arguments to "
				     "'%s'", o->name);
	if (v->nargs < o->min_args || v->nargs > o->max_args)
		return tw_opts_failf(v->px, v->org, "'%s' takes %s%u "
				     "argument%s", o->name,
				     o->min_args == o->max_args ? "" : "up to ",
				     o->max_args, o->max_args == 1 ? "" : "s");
	return 0;
}

int
tw_opts_set(const struct tw_opt_val *v, const struct tw_opt *o)
{
	char *field = (char *)v->px->c + o->off;
	int err;

	if (!v->org->cli) {
		if ((err = check_once(v, o)) < 0 ||
		    (err = check_shape(v, o)) < 0)
			return err;
	}
	err = o->parse(v, o, field);
	if (err == 0 && o->check != NULL)
		err = o->check(v, o, field);
	return err;
}
