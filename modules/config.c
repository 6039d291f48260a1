/* SPDX-License-Identifier: MIT */
/*
 * config: the option table, the command-line parser and --help. Layer 5.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum opt_type {
	OPT_PORT,	/* 0..65535 */
	OPT_STR,
	OPT_BIND,	/* repeatable address */
	OPT_TRUE,	/* flag sets a bool */
	OPT_FALSE,	/* flag clears a bool */
	OPT_DURATION,
	OPT_COUNT,	/* positive integer */
	OPT_SYMLINKS,
	OPT_CHARSET,
};

/* One row per setting: the command line, --help and the config file are
 * all read from here, so they cannot drift apart. */
struct opt {
	const char *name;	/* long flag without "--" */
	char shortopt;		/* or 0 */
	enum opt_type type;
	size_t off;		/* offsetof(struct tw_config, field) */
	const char *arg;	/* metavariable in --help, NULL: no value */
	const char *help;	/* may hold '\n' for continuation lines */
};

#define OFF(f) offsetof(struct tw_config, f)

static const struct opt opts[] = {
	{ "port", 'p', OPT_PORT, OFF(port), "N",
	  "TCP port (default 8080; 0 picks a free port)" },
	{ "bind", 'b', OPT_BIND, OFF(binds), "ADDR",
	  "IPv4 or IPv6 address to listen on; repeatable\n(default 0.0.0.0)" },
	{ "index", 0, OPT_STR, OFF(index), "NAME",
	  "index file of a directory (default index.html)" },
	{ "listing", 0, OPT_TRUE, OFF(listing), NULL,
	  "list directories that have no index file\n(default)" },
	{ "no-listing", 0, OPT_FALSE, OFF(listing), NULL,
	  "answer 403 for directories without an index" },
	{ "hidden", 0, OPT_TRUE, OFF(hidden), NULL,
	  "serve and list dotfiles (default: 404, except\n/.well-known/)" },
	{ "symlinks", 0, OPT_SYMLINKS, OFF(symlinks), "MODE",
	  "never, inside (default) or always" },
	{ "charset", 0, OPT_CHARSET, OFF(charset), "MODE",
	  "auto (default): charset=utf-8 on UTF-8 text\nfiles; off: bare content types" },
	{ "gzip-static", 0, OPT_TRUE, OFF(gzip_static), NULL,
	  "send FILE.gz/FILE.br beside FILE to clients\nthat accept them (default)" },
	{ "no-gzip-static", 0, OPT_FALSE, OFF(gzip_static), NULL,
	  "never send the .gz/.br sidecars" },
	{ "access-log", 0, OPT_STR, OFF(access_log), "FILE",
	  "access log: FILE, - for stdout (default), or\noff" },
	{ "quiet", 'q', OPT_TRUE, OFF(quiet), NULL,
	  "no access log on stdout" },
	{ "keepalive-timeout", 0, OPT_DURATION, OFF(keepalive_timeout_ms), "TIME",
	  "idle keep-alive wait (default 30s)" },
	{ "header-timeout", 0, OPT_DURATION, OFF(header_timeout_ms), "TIME",
	  "deadline for a request's headers (default 10s)" },
	{ "send-timeout", 0, OPT_DURATION, OFF(send_timeout_ms), "TIME",
	  "longest a client may stall a response\n(default 60s)" },
	{ "max-connections", 0, OPT_COUNT, OFF(max_connections), "N",
	  "open connections at most (default 10000)" },
	{ "max-keepalive-requests", 0, OPT_COUNT, OFF(max_keepalive_requests), "N",
	  "requests on one connection (default 1000)" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void
tw_config_defaults(struct tw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->root = ".";
	c->port = 8080;
	c->index = "index.html";
	c->listing = true;
	c->symlinks = TW_FS_SYMLINKS_INSIDE;
	c->charset = true;
	c->gzip_static = true;
	c->access_log = "-";
	c->keepalive_timeout_ms = 30000;
	c->header_timeout_ms = 10000;
	c->send_timeout_ms = 60000;
	c->max_connections = 10000;
	c->max_keepalive_requests = 1000;
}

int
tw_config_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{ "ms", 1 }, { "", 1000 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v = 0;
	const char *p = s;
	size_t i;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return -EINVAL;
		*ms = v * units[i].mul;
		return 0;
	}
	return -EINVAL;
}

static int
parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Apply one option's value; returns 0 or -EINVAL with *why set. */
static int
apply(struct tw_config *c, const struct opt *o, const char *v,
      const char **why)
{
	char *field = (char *)c + o->off;
	uint64_t n;

	switch (o->type) {
	case OPT_PORT:
		if (parse_count(v, 65535, &n) < 0) {
			*why = "a port from 0 to 65535";
			return -EINVAL;
		}
		c->port = (uint16_t)n;
		return 0;
	case OPT_STR:
		if (*v == '\0') {
			*why = "a non-empty value";
			return -EINVAL;
		}
		*(const char **)(void *)field = v;
		return 0;
	case OPT_BIND:
		if (c->nbinds == TW_CONFIG_MAX_BINDS) {
			*why = "at most 16 addresses";
			return -EINVAL;
		}
		c->binds[c->nbinds++] = v;
		return 0;
	case OPT_TRUE:
	case OPT_FALSE:
		*(bool *)(void *)field = o->type == OPT_TRUE;
		return 0;
	case OPT_DURATION:
		if (tw_config_parse_duration(v, &n) < 0 || n == 0) {
			*why = "a duration such as 30s, 500ms or 2m";
			return -EINVAL;
		}
		*(uint64_t *)(void *)field = n;
		return 0;
	case OPT_COUNT:
		if (parse_count(v, UINT32_MAX, &n) < 0 || n == 0) {
			*why = "a positive number";
			return -EINVAL;
		}
		*(uint64_t *)(void *)field = n;
		return 0;
	case OPT_SYMLINKS:
		if (strcmp(v, "never") == 0)
			c->symlinks = TW_FS_SYMLINKS_NEVER;
		else if (strcmp(v, "inside") == 0)
			c->symlinks = TW_FS_SYMLINKS_INSIDE;
		else if (strcmp(v, "always") == 0)
			c->symlinks = TW_FS_SYMLINKS_ALWAYS;
		else {
			*why = "never, inside or always";
			return -EINVAL;
		}
		return 0;
	case OPT_CHARSET:
		if (strcmp(v, "auto") == 0 || strcmp(v, "utf-8") == 0)
			c->charset = true;
		else if (strcmp(v, "off") == 0)
			c->charset = false;
		else {
			*why = "auto or off";
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

void
tw_config_usage(FILE *out)
{
	size_t i;

	fputs("Usage: tinyweb serve [OPTIONS] [DIR]\n"
	      "       tinyweb --help | --version\n\n"
	      "Serve the files under DIR (default: the current directory) "
	      "over HTTP/1.1.\n\nOptions:\n", out);
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *h = o->help, *nl;
		int col;

		if (o->shortopt)
			col = fprintf(out, "  -%c, --%s", o->shortopt, o->name);
		else
			col = fprintf(out, "      --%s", o->name);
		if (o->arg)
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
	fputs("  -h, --help                    print this help and exit\n"
	      "  -V, --version                 print the version and exit\n\n"
	      "TIME is a number with an optional unit: ms, s (default), m, h "
	      "or d.\nExit status: 0 after a clean stop, 1 on a startup error, "
	      "2 on a bad\ncommand line.\n", out);
}

int
tw_config_parse_args(struct tw_config *c, int argc, char **argv,
		     enum tw_config_cmd *cmd)
{
	struct option longopts[NOPTS + 3];
	char shortopts[2 * NOPTS + 8];
	size_t i, ns = 0;
	int ch, idx;
	bool serve = false;

	for (i = 0; i < NOPTS; i++) {
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
		if (opts[i].shortopt) {
			shortopts[ns++] = opts[i].shortopt;
			if (opts[i].arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[NOPTS + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[NOPTS + 2] = (struct option){ NULL, 0, NULL, 0 };
	/* ':' first: we print our own one-line errors. */
	memmove(shortopts + 1, shortopts, ns);
	shortopts[0] = ':';
	ns++;
	memcpy(shortopts + ns, "hV", 3);

	*cmd = TW_CMD_SERVE;
	if (argc > 1 && strcmp(argv[1], "serve") == 0) {
		serve = true;
		argv++;
		argc--;
	}
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct opt *o = NULL;
		const char *why = NULL;

		if (ch == 'h') {
			*cmd = TW_CMD_HELP;
			return 0;
		}
		if (ch == 'V') {
			*cmd = TW_CMD_VERSION;
			return 0;
		}
		if (ch == '?') {
			if (optopt)
				fprintf(stderr, "tinyweb: unknown option '-%c' "
					"(try --help)\n", optopt);
			else
				fprintf(stderr, "tinyweb: unknown option '%s' "
					"(try --help)\n", argv[optind - 1]);
			return -EINVAL;
		}
		if (ch == ':') {
			fprintf(stderr, "tinyweb: option '%s' needs a value\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (ch >= 256)
			o = &opts[ch - 256];
		else
			for (i = 0; i < NOPTS; i++)
				if (opts[i].shortopt == ch)
					o = &opts[i];
		if (o == NULL)
			return -EINVAL;
		if (apply(c, o, optarg ? optarg : "", &why) < 0) {
			fprintf(stderr, "tinyweb: --%s: '%s' is not valid; "
				"expected %s\n", o->name, optarg, why);
			return -EINVAL;
		}
	}
	if (!serve) {
		if (optind < argc && strcmp(argv[optind], "serve") != 0)
			fprintf(stderr, "tinyweb: unknown command '%s' "
				"(try --help)\n", argv[optind]);
		else
			fprintf(stderr, "tinyweb: a command is needed: "
				"tinyweb serve [DIR] (try --help)\n");
		return -EINVAL;
	}
	if (optind < argc)
		c->root = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "tinyweb: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}
