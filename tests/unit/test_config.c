/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for config: duration vectors (units, bad input, overflow at
 * the uint64 boundary), and the command line: defaults, the serve
 * command and DIR, every flag's field, value checks, last-wins pairs,
 * help/version, unknown flags, missing values, stray arguments, and a
 * second parse that must not see the first one's getopt state. The file
 * parser: a row per error kind with the exact "NAME:LINE: " and what it
 * says, good files and the values they set, escapes, CRLF, include
 * (missing, loops, depth, globs, relative to the including file,
 * duplicates across files), long lines, NUL bytes, binary input,
 * types blocks and mime_types files, and check-config output that reads
 * back to itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/config.h"
#include "front/scope.h"
#include "parse/mime.h"
#include "support/guard.h"

static const struct {
	const char *in;
	int err;
	uint64_t ms;
} dur_vectors[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1000 },
	{ "10", 0, 10000 },
	{ "10s", 0, 10000 },
	{ "250ms", 0, 250 },
	{ "0ms", 0, 0 },
	{ "5m", 0, 300000 },
	{ "2h", 0, 7200000 },
	{ "1d", 0, 86400000 },
	{ "007s", 0, 7000 },
	{ "", -EINVAL, 0 },
	{ "s", -EINVAL, 0 },
	{ "ms", -EINVAL, 0 },
	{ "10x", -EINVAL, 0 },
	{ "10S", -EINVAL, 0 },		/* units are lowercase */
	{ "10 s", -EINVAL, 0 },
	{ "10s ", -EINVAL, 0 },
	{ "10sec", -EINVAL, 0 },
	{ "10mss", -EINVAL, 0 },
	{ "1.5s", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "99999999999999999999", -EINVAL, 0 },
	{ "99999999999999999999ms", -EINVAL, 0 },
	{ "18446744073709551616ms", -EINVAL, 0 },	/* 2^64 */
	{ "18446744073709551615s", -EINVAL, 0 },	/* x1000 overflows */
	{ "18446744073709551s", 0, 18446744073709551000u },
	{ "18446744073709552s", -EINVAL, 0 },
	{ "213503982335d", -EINVAL, 0 },		/* just over */
	{ "213503982334d", 0, 213503982334u * 86400000u },
	{ "1844674407370955161ms", 0, 1844674407370955161u },
};

/* Values that fit in uint64 exactly: the contract says only overflow is
 * refused. */
static const struct {
	const char *in;
	uint64_t ms;
} dur_max_vectors[] = {
	{ "18446744073709551615ms", UINT64_MAX },
	{ "18446744073709551610ms", UINT64_MAX - 5 },
	{ "18446744073709551609ms", UINT64_MAX - 6 },
};

static void
duration_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dur_vectors) / sizeof(dur_vectors[0]); i++) {
		struct guard g;
		size_t n = strlen(dur_vectors[i].in) + 1;
		/* The NUL is the last byte before the guard page. */
		const char *s = guard_copy(&g, dur_vectors[i].in, n);
		uint64_t ms = 12345;
		int err = tw_config_parse_duration(s, &ms);

		guard_free(&g);
		if (err != dur_vectors[i].err)
			fail_msg("\"%s\": got %d, want %d", dur_vectors[i].in,
				 err, dur_vectors[i].err);
		if (err == 0 && ms != dur_vectors[i].ms)
			fail_msg("\"%s\": got %ju ms, want %ju",
				 dur_vectors[i].in, (uintmax_t)ms,
				 (uintmax_t)dur_vectors[i].ms);
		if (err != 0 && ms != 12345)
			fail_msg("\"%s\": *ms written on error",
				 dur_vectors[i].in);
	}
}

static void
duration_accepts_uint64_max(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dur_max_vectors) / sizeof(dur_max_vectors[0]);
	     i++) {
		uint64_t ms = 0;
		int err = tw_config_parse_duration(dur_max_vectors[i].in, &ms);

		if (err != 0 || ms != dur_max_vectors[i].ms)
			fail_msg("\"%s\": got %d / %ju, want 0 / %ju",
				 dur_max_vectors[i].in, err, (uintmax_t)ms,
				 (uintmax_t)dur_max_vectors[i].ms);
	}
}

/* argv as the program sees it: writable strings, freed afterwards. */
struct args {
	int argc;
	char *argv[48];
	struct tw_config c;
	enum tw_config_cmd cmd;
};

static void
args_make(struct args *a, const char *const *v)
{
	a->argc = 0;
	while (v[a->argc] != NULL) {
		assert_true(a->argc < 47);
		a->argv[a->argc] = strdup(v[a->argc]);
		assert_non_null(a->argv[a->argc]);
		a->argc++;
	}
	a->argv[a->argc] = NULL;
}

/* Parse v over fresh defaults into a->c. Strings in a->c may point into
 * a->argv, so both live until done(). */
static int
parse(struct args *a, const char *const *v)
{
	args_make(a, v);
	assert_int_equal(tw_config_init(&a->c), 0);
	a->cmd = (enum tw_config_cmd)-1;
	return tw_config_parse_args(&a->c, a->argc, a->argv, &a->cmd);
}

static void
done(struct args *a)
{
	int i;

	tw_config_free(&a->c);
	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

#define ARGV(...) ((const char *const[]){ "tinyweb", __VA_ARGS__, NULL })

static void
defaults_are_documented_values(void **state)
{
	struct tw_config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(tw_config_init(&c), 0);
	assert_string_equal(c.root, ".");
	assert_string_equal(c.index, "index.html");
	assert_true(c.listing);
	assert_false(c.hidden);
	assert_int_equal(c.symlinks, TW_FS_SYMLINKS_INSIDE);
	assert_true(c.charset);
	assert_true(c.gzip_static);
	assert_string_equal(c.access_log, "-");
	assert_false(c.quiet);
	assert_int_equal(c.keepalive_timeout_ms, 30000);
	assert_int_equal(c.header_timeout_ms, 10000);
	assert_int_equal(c.send_timeout_ms, 60000);
	assert_int_equal(c.send_min_rate, 1024);
	assert_int_equal(c.max_connections, 10000);
	/* Not given: setup may fit it to the descriptors. */
	assert_false(c.max_connections_set);
	assert_int_equal(c.max_keepalive_requests, 1000);
	assert_null(c.conf_file);
	assert_false(c.test_only);
	tw_config_free(&c);
}

static void
serve_alone_keeps_defaults(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, ARGV("serve")), 0);
	assert_int_equal(a.cmd, TW_CMD_SERVE);
	assert_string_equal(a.c.root, ".");
	assert_int_equal(a.c.nlistens, 1);
	assert_string_equal(a.c.listens[0].addr, "*");
	assert_int_equal(a.c.listens[0].port, 8080);
	assert_string_equal(a.c.index, "index.html");
	assert_true(a.c.listing);
	assert_false(a.c.hidden);
	assert_int_equal(a.c.symlinks, TW_FS_SYMLINKS_INSIDE);
	assert_true(a.c.charset);
	assert_true(a.c.gzip_static);
	assert_string_equal(a.c.access_log, "-");
	assert_false(a.c.quiet);
	assert_int_equal(a.c.keepalive_timeout_ms, 30000);
	assert_int_equal(a.c.header_timeout_ms, 10000);
	assert_int_equal(a.c.send_timeout_ms, 60000);
	assert_int_equal(a.c.max_connections, 10000);
	assert_int_equal(a.c.max_keepalive_requests, 1000);
	done(&a);
}

static void
serve_dir_sets_root(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, ARGV("serve", "/srv/www")), 0);
	assert_int_equal(a.cmd, TW_CMD_SERVE);
	assert_string_equal(a.c.root, "/srv/www");
	done(&a);

	/* Options before and after DIR. */
	assert_int_equal(parse(&a, ARGV("serve", "-p", "81", "pub", "-q")), 0);
	assert_string_equal(a.c.root, "pub");
	assert_int_equal(a.c.listens[0].port, 81);
	assert_true(a.c.quiet);
	done(&a);

	/* "--" ends options: a DIR may start with '-'. */
	assert_int_equal(parse(&a, ARGV("serve", "--", "-dir")), 0);
	assert_string_equal(a.c.root, "-dir");
	done(&a);
}

/* One row: argv after "serve", and whether it must be accepted. */
struct flag_row {
	const char *argv[8];
	bool ok;
};

static const struct flag_row flag_rows[] = {
	{ { "-p", "0" }, true },
	{ { "-p", "65535" }, true },
	{ { "--port", "8081" }, true },
	{ { "--port=8082" }, true },
	{ { "-p8083" }, true },
	{ { "-p", "65536" }, false },
	{ { "-p", "x" }, false },
	{ { "-p", "" }, false },
	{ { "-p", "-1" }, false },
	{ { "-p", "80x" }, false },
	{ { "-p", " 80" }, false },
	{ { "-p", "99999999999999999999999" }, false },
	{ { "-b", "not-an-address" }, false },
	{ { "-b", "" }, false },
	{ { "--index", "" }, false },
	{ { "--symlinks", "bogus" }, false },
	{ { "--symlinks", "" }, false },
	{ { "--symlinks", "Never" }, false },
	{ { "--charset", "bogus" }, false },
	{ { "--charset", "" }, false },
	{ { "--keepalive-timeout", "0" }, false },
	{ { "--keepalive-timeout", "abc" }, false },
	{ { "--header-timeout", "5x" }, false },
	{ { "--send-timeout", "-5s" }, false },
	{ { "--max-connections", "0" }, false },
	{ { "--max-connections", "-1" }, false },
	{ { "--max-connections", "x" }, false },
	{ { "--max-connections", "4294967296" }, false },
	{ { "--max-keepalive-requests", "0" }, false },
	{ { "--access-log", "" }, false },
	{ { "--listing=yes" }, false },		/* takes no value */
	{ { "-x" }, false },
	{ { "--bogus" }, false },
	{ { "--port" }, false },		/* missing value */
	{ { "-p" }, false },
	{ { "--index" }, false },
	{ { "--symlinks" }, false },
	{ { "--keepalive-timeout" }, false },
	{ { "dir1", "dir2" }, false },
	{ { "-q", "dir1", "-p", "1", "dir2" }, false },
};

static void
flag_rows_accept_or_reject(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flag_rows) / sizeof(flag_rows[0]); i++) {
		const char *v[12] = { "tinyweb", "serve" };
		struct args a;
		size_t j;
		int err;

		for (j = 0; flag_rows[i].argv[j] != NULL; j++)
			v[2 + j] = flag_rows[i].argv[j];
		v[2 + j] = NULL;
		err = parse(&a, v);
		if (flag_rows[i].ok ? err != 0 : err != -EINVAL)
			fail_msg("row %zu (%s %s): got %d", i,
				 flag_rows[i].argv[0],
				 flag_rows[i].argv[1] ? flag_rows[i].argv[1] : "",
				 err);
		done(&a);
	}
}

static void
each_flag_sets_its_field(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, ARGV("serve", "-p", "0")), 0);
	assert_int_equal(a.c.nlistens, 1);
	assert_int_equal(a.c.listens[0].port, 0);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "-p", "65535")), 0);
	assert_int_equal(a.c.listens[0].port, 65535);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--port=443", "-p", "444")), 0);
	assert_int_equal(a.c.nlistens, 1);
	assert_int_equal(a.c.listens[0].port, 444);
	done(&a);

	/* -b twice: two addresses on the -p port. */
	assert_int_equal(parse(&a, ARGV("serve", "-b", "127.0.0.1", "--bind",
					"::1", "-p", "9000")), 0);
	assert_int_equal(a.c.nlistens, 2);
	assert_string_equal(a.c.listens[0].addr, "127.0.0.1");
	assert_int_equal(a.c.listens[0].port, 9000);
	assert_string_equal(a.c.listens[1].addr, "::1");
	assert_int_equal(a.c.listens[1].port, 9000);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "-b::")), 0);
	assert_int_equal(a.c.nlistens, 1);
	assert_string_equal(a.c.listens[0].addr, "::");
	assert_int_equal(a.c.listens[0].port, 8080);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--index", "home.htm")), 0);
	assert_string_equal(a.c.index, "home.htm");
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--no-listing")), 0);
	assert_false(a.c.listing);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--no-listing",
					"--listing")), 0);
	assert_true(a.c.listing);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--listing",
					"--no-listing")), 0);
	assert_false(a.c.listing);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--hidden")), 0);
	assert_true(a.c.hidden);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--symlinks", "never")), 0);
	assert_int_equal(a.c.symlinks, TW_FS_SYMLINKS_NEVER);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--symlinks=always")), 0);
	assert_int_equal(a.c.symlinks, TW_FS_SYMLINKS_ALWAYS);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--symlinks=always",
					"--symlinks", "inside")), 0);
	assert_int_equal(a.c.symlinks, TW_FS_SYMLINKS_INSIDE);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--charset", "off")), 0);
	assert_false(a.c.charset);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--charset", "off",
					"--charset=auto")), 0);
	assert_true(a.c.charset);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--no-gzip-static")), 0);
	assert_false(a.c.gzip_static);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--no-gzip-static",
					"--gzip-static")), 0);
	assert_true(a.c.gzip_static);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--access-log",
					"/tmp/a.log")), 0);
	assert_string_equal(a.c.access_log, "/tmp/a.log");
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--access-log=off")), 0);
	assert_string_equal(a.c.access_log, "off");
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "-q")), 0);
	assert_true(a.c.quiet);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--quiet")), 0);
	assert_true(a.c.quiet);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--keepalive-timeout", "5",
					"--header-timeout", "250ms",
					"--send-timeout=2m")), 0);
	assert_int_equal(a.c.keepalive_timeout_ms, 5000);
	assert_int_equal(a.c.header_timeout_ms, 250);
	assert_int_equal(a.c.send_timeout_ms, 120000);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--send-min-rate", "64k")), 0);
	assert_int_equal(a.c.send_min_rate, 65536);
	done(&a);
	assert_int_equal(parse(&a, ARGV("serve", "--send-min-rate=0")), 0);
	assert_int_equal(a.c.send_min_rate, 0);
	done(&a);

	assert_int_equal(parse(&a, ARGV("serve", "--max-connections", "1",
					"--max-keepalive-requests",
					"4294967295")), 0);
	assert_int_equal(a.c.max_connections, 1);
	assert_true(a.c.max_connections_set);
	assert_int_equal(a.c.max_keepalive_requests, 4294967295u);
	done(&a);
}

static void
too_many_binds_rejected(void **state)
{
	const char *v[2 + 2 * (TW_CONFIG_MAX_LISTEN + 1) + 1] = { "tinyweb",
								 "serve" };
	struct args a;
	size_t i;

	(void)state;
	for (i = 0; i < TW_CONFIG_MAX_LISTEN; i++) {
		v[2 + 2 * i] = "-b";
		v[3 + 2 * i] = "::1";
	}
	v[2 + 2 * i] = NULL;
	assert_int_equal(parse(&a, v), 0);
	assert_int_equal(a.c.nlistens, TW_CONFIG_MAX_LISTEN);
	done(&a);
	v[2 + 2 * i] = "-b";
	v[3 + 2 * i] = "::1";
	v[4 + 2 * i] = NULL;
	assert_int_equal(parse(&a, v), -EINVAL);
	done(&a);
}

static void
help_and_version_set_cmd(void **state)
{
	static const struct {
		const char *argv[5];
		enum tw_config_cmd cmd;
	} rows[] = {
		{ { "--help" }, TW_CMD_HELP },
		{ { "-h" }, TW_CMD_HELP },
		{ { "--version" }, TW_CMD_VERSION },
		{ { "-V" }, TW_CMD_VERSION },
		{ { "serve", "--help" }, TW_CMD_HELP },
		{ { "serve", "-V" }, TW_CMD_VERSION },
		{ { "serve", "-p", "80", "-h" }, TW_CMD_HELP },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *v[6] = { "tinyweb" };
		struct args a;
		size_t j;
		int err;

		for (j = 0; rows[i].argv[j] != NULL; j++)
			v[1 + j] = rows[i].argv[j];
		v[1 + j] = NULL;
		err = parse(&a, v);
		if (err != 0 || a.cmd != rows[i].cmd)
			fail_msg("row %zu: %d, cmd %d, want cmd %d", i, err,
				 (int)a.cmd, (int)rows[i].cmd);
		done(&a);
	}
}

/* tinyweb DIR is tinyweb serve DIR, options before or after it. */
static void
dir_alone_is_serve(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, ARGV(".")), 0);
	assert_int_equal(a.cmd, TW_CMD_SERVE);
	assert_string_equal(a.c.root, ".");
	done(&a);
	assert_int_equal(parse(&a, ARGV("-p", "81", "/", "-q")), 0);
	assert_int_equal(a.cmd, TW_CMD_SERVE);
	assert_string_equal(a.c.root, "/");
	assert_int_equal(a.c.listens[0].port, 81);
	done(&a);
}

static void
command_required(void **state)
{
	const char *const *const rows[] = {
		(const char *const[]){ "tinyweb", NULL },
		ARGV("./no-such-dir"),
		ARGV("/dev/null"),		/* not a directory */
		ARGV("serv"),
		ARGV("SERVE"),
		ARGV("-p", "80"),
		ARGV("-p", "80", "serve"),	/* the command comes first */
		ARGV("--bogus"),
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct args a;

		if (parse(&a, rows[i]) != -EINVAL)
			fail_msg("row %zu accepted", i);
		done(&a);
	}
}

static void
missing_config_file_is_file_error(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, ARGV("serve", "-c",
					"/nonexistent/tinyweb.conf")),
			 TW_CONFIG_EFILE);
	done(&a);
}

/* getopt keeps state between calls (the position inside "-xh" after the
 * unknown 'x'); a second parse must start afresh and never look at the
 * first argv. The first argv stays alive until the end so a stale read
 * shows up as a wrong result rather than as garbage. */
static void
second_parse_starts_fresh(void **state)
{
	const char *const *const first[] = {
		ARGV("serve", "-hq"),
		ARGV("serve", "-Vq"),
		ARGV("serve", "-xq"),
		ARGV("serve", "-qx"),
		ARGV("serve", "-qp"),
		ARGV("serve", "-xh"),
		ARGV("serve", "-xt"),
		ARGV("serve", "-xV"),
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		struct args a, old;
		bool bad;

		(void)parse(&old, first[i]);
		assert_int_equal(parse(&a, ARGV("serve", "d")), 0);
		done(&old);
		bad = a.cmd != TW_CMD_SERVE || a.c.test_only || a.c.quiet ||
		      a.c.nlistens != 1 || a.c.listens[0].port != 8080 ||
		      strcmp(a.c.root, "d") != 0;
		done(&a);
		if (bad)
			fail_msg("row %zu: state leaked into the next parse", i);
	}
}

/* ---- the config file parser ------------------------------------------ */

#define NAME	"t.conf"

/* Load text[0..len) as NAME into c (fresh defaults), with the text ending
 * at a guard page so the lexer cannot read past it. */
static int
load_text(struct tw_config *c, const char *text, size_t len, bool inc,
	  char *err, size_t errlen)
{
	struct guard g;
	const char *buf;
	int r;

	assert_int_equal(tw_config_init(c), 0);
	err[0] = '\0';
	buf = guard_copy(&g, text, len);
	r = tw_config_load_buf(c, NAME, buf, len, inc, err, errlen);
	guard_free(&g);
	return r;
}

/* Whether err is one line "WHERE:LINE: ...what..."; says why not. */
static bool
err_ok(const char *where, const char *err, size_t line, const char *what,
       const char *ctx)
{
	char prefix[PATH_MAX + 32];
	int n;

	n = snprintf(prefix, sizeof(prefix), "%s:%zu: ", where, line);
	assert_true(n > 0 && (size_t)n < sizeof(prefix));
	if (strncmp(err, prefix, strlen(prefix)) != 0) {
		print_error("%s: error \"%s\" does not start with \"%s\"\n",
			    ctx, err, prefix);
		return false;
	}
	if (strstr(err + strlen(prefix), what) == NULL) {
		print_error("%s: error \"%s\" does not say \"%s\"\n", ctx,
			    err, what);
		return false;
	}
	if (strchr(err, '\n') != NULL) {
		print_error("%s: error \"%s\" is more than one line\n", ctx,
			    err);
		return false;
	}
	return true;
}

static void
check_err(const char *where, const char *err, size_t line, const char *what,
	  const char *ctx)
{
	if (!err_ok(where, err, line, what, ctx))
		fail();
}

struct bad_row {
	const char *text;
	size_t len;		/* 0: strlen(text) */
	size_t line;
	const char *what;
};

static const struct bad_row bad_rows[] = {
	/* unknown directives; the CLI-only flags have none */
	{ "bogus on;\n", 0, 1, "unknown directive 'bogus'" },
	{ "index a;\n\n  frob;\n", 0, 3, "unknown directive 'frob'" },
	{ "port 80;\n", 0, 1, "unknown directive 'port'" },
	{ "bind 127.0.0.1;\n", 0, 1, "unknown directive 'bind'" },
	{ "config x;\n", 0, 1, "unknown directive 'config'" },
	{ "Index a;\n", 0, 1, "unknown directive 'Index'" },
	{ "max-connections 5;\n", 0, 1, "unknown directive" },
	{ "\"index\" a;\nnope;\n", 0, 2, "unknown directive 'nope'" },

	/* argument counts */
	{ "index;\n", 0, 1, "'index' takes up to 8 arguments" },
	{ "pidfile a b;\n", 0, 1, "'pidfile' takes 1 argument" },
	{ "root;\n", 0, 1, "'root' takes 1 argument" },
	{ "listing;\n", 0, 1, "'listing' takes 1 argument" },
	{ "listing on off;\n", 0, 1, "'listing' takes 1 argument" },
	{ "keepalive_timeout 1 2;\n", 0, 1, "takes 1 argument" },
	{ "access_log;\n", 0, 1, "'access_log' takes up to 2 arguments" },
	{ "access_log a json x;\n", 0, 1, "'access_log' takes up to 2" },
	{ "error_log e warn x;\n", 0, 1, "'error_log' takes up to 2" },
	{ "user;\n", 0, 1, "'user' takes up to 2" },
	{ "add_header X-A;\n", 0, 1, "'add_header' takes 2 arguments" },
	{ "add_header X-A b c;\n", 0, 1, "'add_header' takes 2 arguments" },
	{ "include;\n", 0, 1, "'include' takes 1 argument" },
	{ "mime_types;\n", 0, 1, "'mime_types' takes 1 argument" },
	{ "listen 80 81;\n", 0, 1, "listen 80 '81': the only flag is tls" },
	{ "listen 80 tls tls;\n", 0, 1, "'listen' takes up to 2 arguments" },
	{ "index a b c d e f g h i;\n", 0, 1, "too many arguments to 'index'" },
	/* the line of a directive is where its name is */
	{ "\nroot\n a\n b;\n", 0, 2, "'root' takes 1 argument" },

	/* wrong types */
	{ "listing yes;\n", 0, 1, "'listing' takes on or off, not 'yes'" },
	{ "hidden ON;\n", 0, 1, "'hidden' takes on or off, not 'ON'" },
	{ "gzip_static 1;\n", 0, 1, "takes on or off" },
	{ "compress yes;\n", 0, 1, "takes on or off" },
	{ "compress_types text;\n", 0, 1, "is not a type" },
	{ "compress_types ,;\n", 0, 1, "needs a type" },
	{ "compress_level gzip=13;\n", 0, 1, "is not gzip=0..12" },
	{ "compress_level deflate=1;\n", 0, 1, "is not gzip=0..12" },
	{ "compress_level gzip;\n", 0, 1, "is not gzip=0..12" },
	{ "compress_min_length 1x;\n", 0, 1, "is not a size" },
	{ "daemon \"\";\n", 0, 1, "takes on or off, not ''" },
	{ "symlinks sometimes;\n", 0, 1,
	  "'symlinks' takes never, inside or always, not 'sometimes'" },
	{ "mode fork;\n", 0, 1, "'mode' takes epoll, prefork or threads" },
	{ "charset latin1;\n", 0, 1, "'charset' takes off or auto" },
	{ "log_format xml;\n", 0, 1, "'log_format' takes combined, common" },
	{ "log_level trace;\n", 0, 1, "'log_level' takes error, warn, info" },
	{ "accept fifo;\n", 0, 1, "'accept' takes exclusive, reuseport" },
	{ "access_log a.log xml;\n", 0, 1, "access_log format 'xml'" },
	{ "error_log e.log loud;\n", 0, 1, "error_log level 'loud'" },
	{ "max_connections many;\n", 0, 1, "'many' is not a positive number" },
	{ "max_connections 0;\n", 0, 1, "'0' is not a positive number" },
	{ "max_connections -1;\n", 0, 1, "not a positive number" },
	{ "max_connections 10k;\n", 0, 1, "not a positive number" },
	{ "max_keepalive_requests 4294967296;\n", 0, 1,
	  "'4294967296' is not a positive number" },
	{ "max_keepalive_requests 99999999999999999999999;\n", 0, 1,
	  "not a positive number" },
	{ "workers 0;\n", 0, 1, "'0' is not auto or a number from 1 to 1024" },
	{ "workers 1025;\n", 0, 1, "not auto or a number" },
	{ "workers many;\n", 0, 1, "not auto or a number" },
	{ "keepalive_timeout 1x;\n", 0, 1, "'1x' is not a duration" },
	{ "header_timeout 0;\n", 0, 1, "'0' is not a duration" },
	{ "send_timeout 0ms;\n", 0, 1, "is not a duration" },
	{ "send_timeout 1h30m;\n", 0, 1, "'1h30m' is not a duration" },
	{ "send_min_rate fast;\n", 0, 1, "'fast' is not a size" },
	{ "send_min_rate -1k;\n", 0, 1, "is not a size" },
	{ "keepalive_timeout 1.5s;\n", 0, 1, "is not a duration" },
	{ "keepalive_timeout -1;\n", 0, 1, "is not a duration" },
	{ "keepalive_timeout 99999999999999999999;\n", 0, 1,
	  "is not a duration" },
	{ "keepalive_timeout 18446744073709552s;\n", 0, 1,
	  "is not a duration" },			/* x1000 overflows */
	{ "keepalive_timeout 213503982335d;\n", 0, 1, "is not a duration" },
	{ "expires 11y;\n", 0, 1, "expires '11y': expected a duration" },
	{ "expires 3651d;\n", 0, 1, "up to 10 years" },
	{ "expires 315360001;\n", 0, 1, "up to 10 years" },
	{ "expires on;\n", 0, 1, "expected a duration" },
	{ "max_request_body 1q;\n", 0, 1, "'1q' is not a size" },
	{ "max_request_body 1.5m;\n", 0, 1, "is not a size" },
	{ "max_request_body -1;\n", 0, 1, "is not a size" },
	{ "max_request_body 1kb;\n", 0, 1, "is not a size" },
	{ "max_request_body 18446744073709551616;\n", 0, 1, "is not a size" },
	{ "max_request_body 17179869184g;\n", 0, 1, "is not a size" },
	{ "max_request_body 17592186044416m;\n", 0, 1, "is not a size" },
	{ "max_request_body 18014398509481984k;\n", 0, 1, "is not a size" },
	{ "index \"\";\n", 0, 1, "'index' needs a non-empty value" },
	{ "root '';\n", 0, 1, "'root' needs a non-empty value" },
	{ "pidfile \"\";\n", 0, 1, "'pidfile' needs a non-empty value" },
	{ "access_log \"\";\n", 0, 1, "'access_log' needs a file, - or off" },
	{ "error_log \"\";\n", 0, 1, "'error_log' needs a file or -" },
	{ "user no-such-user-tw;\n", 0, 1, "user 'no-such-user-tw' does not" },
	{ "user root no-such-group-tw;\n", 0, 1,
	  "group 'no-such-group-tw' does not exist" },

	/* listen */
	{ "listen ::1;\n", 0, 1, "listen '::1': expected PORT, ADDR" },
	{ "listen ::;\n", 0, 1, "listen '::'" },
	{ "listen 65536;\n", 0, 1, "listen '65536'" },
	{ "listen 127.0.0.1:65536;\n", 0, 1, "listen '127.0.0.1:65536'" },
	{ "listen 127.0.0.1:;\n", 0, 1, "listen '127.0.0.1:'" },
	{ "listen 127.0.0.1:80x;\n", 0, 1, "listen '127.0.0.1:80x'" },
	{ "listen 127.0.0.1:-1;\n", 0, 1, "listen '127.0.0.1:-1'" },
	{ "listen :80;\n", 0, 1, "listen ':80'" },
	{ "listen [::1;\n", 0, 1, "listen '[::1'" },
	{ "listen [::1]x;\n", 0, 1, "listen '[::1]x'" },
	{ "listen [::1]:;\n", 0, 1, "listen '[::1]:'" },
	{ "listen []:80;\n", 0, 1, "listen '[]:80'" },
	{ "listen [127.0.0.1:80;\n", 0, 1, "listen '[127.0.0.1:80'" },
	{ "listen [nothing]:80;\n", 0, 1, "listen '[nothing]:80'" },
	{ "listen 1.2.3.4.5:80;\n", 0, 1, "listen '1.2.3.4.5:80'" },
	{ "listen 256.0.0.1;\n", 0, 1, "listen '256.0.0.1'" },
	{ "listen localhost:80;\n", 0, 1, "listen 'localhost:80'" },
	{ "listen \"\";\n", 0, 1, "listen ''" },
	{ "listen 99999999999999999999999;\n", 0, 1, "listen '9999" },
	{ "listen \" 80\";\n", 0, 1, "listen ' 80'" },

	/* add_header */
	{ "add_header \"X A\" b;\n", 0, 1, "add_header: 'X A' is not a header" },
	{ "add_header X:A b;\n", 0, 1, "add_header: 'X:A' is not a header" },
	{ "add_header \"\" b;\n", 0, 1, "add_header: '' is not a header" },
	{ "add_header X(A) b;\n", 0, 1, "is not a header name" },
	{ "add_header X-A \"a\\nb\";\n", 0, 1, "the value holds control" },
	{ "add_header X-A \"a\\rb\";\n", 0, 1, "the value holds control" },
	{ "add_header X-A \"a\nb\";\n", 0, 1, "the value holds control" },
	{ "add_header X-A \"a\x7f\";\n", 0, 1, "the value holds control" },
	{ "add_header X-A \"a\x01\";\n", 0, 1, "the value holds control" },

	/* duplicates; repeatable directives are tested as good files */
	{ "index a;\nindex b;\n", 0, 2, "duplicate 'index' directive" },
	{ "listing on;\n\n\nlisting on;\n", 0, 4, "duplicate 'listing'" },
	{ "mode epoll; # a\n# b\nmode epoll;\n", 0, 3, "duplicate 'mode'" },
	{ "access_log a;\naccess_log b;\n", 0, 2, "duplicate 'access_log'" },
	{ "expires 1h; expires 2h;\n", 0, 1, "duplicate 'expires'" },
	{ "root /a;\n\"root\" /b;\n", 0, 2, "duplicate 'root'" },

	/* include from a buffer that may not include */
	{ "\ninclude x.conf;\n", 0, 2, "include is not allowed here" },

	/* the lexer */
	{ "ind\0ex a;\n", 10, 1, "NUL byte" },
	{ "root a;\n\nindex\0 a;\n", 18, 3, "NUL byte" },
	{ "root a;\n\nindex a\0;\n", 18, 3, "NUL byte" },
	{ "index \"a\0b\";\n", 13, 1, "NUL byte" },
	{ "index a;\nroot 'x\0';\n", 20, 2, "NUL byte" },
	{ "\0", 1, 1, "NUL byte" },
	{ "index a;\n\0", 10, 2, "NUL byte" },
	{ "index a\x01;\n", 0, 1, "control character" },
	{ "\nindex a\x7f" "b;\n", 0, 2, "control character" },
	{ "index a\x0c" "b;\n", 0, 1, "control character" },
	{ "index a;\nroot \"abc\n\ndef;\n", 0, 2, "unterminated quoted string" },
	{ "index a;\n\n'abc\n", 0, 3, "unterminated quoted string" },
	{ "index \"a\\", 0, 1, "unterminated quoted string" },
	{ "index \"a\\\"", 0, 1, "unterminated quoted string" },
	{ "index 'a\"b;\n", 0, 1, "unterminated quoted string" },
	{ "index \"a\\qb\";\n", 0, 1, "unknown escape in a quoted string" },
	/* inside a string over several lines: the line of the bad byte */
	{ "index \"a\nb\n\\q\";\n", 0, 3, "unknown escape" },
	{ "index 'a\n\nb\0';\n", 15, 3, "NUL byte" },
	{ "index a;\nroot \"\\x41\";\n", 0, 2, "unknown escape" },
	{ "index '\\0';\n", 0, 1, "unknown escape" },
	/* an unclosed block: at the line of its '{' */
	{ "types {\n text/x a;\n", 0, 1, "block 'types' is not closed: no "
	  "'}' before the end of the file (line 3)" },
	{ "types {", 0, 1, "block 'types' is not closed" },
	{ "\ntypes\n{\n text/x a;\n\n", 0, 3, "block 'types' is not "
	  "closed: no '}' before the end of the file (line 6)" },
	/* the ';' missing at the end belongs to the type's line */
	{ "types {\n text/x a\n", 0, 2, "expecting ';' after 'text/x'" },
	{ "types { text/x a }\n", 0, 1, "expected ';' after 'text/x'" },
	{ "types { text/x a {\n", 0, 1,
	  "block 'text/x' is not closed" },
	{ "types { text/x a { }\n}\n", 0, 1, "expected ';' after the "
	  "extensions of 'text/x', not a block" },
	{ "types text/x a;\n", 0, 1, "'types' needs a block" },
	{ "types;\n", 0, 1, "'types' needs a block" },
	{ "types { ; }\n", 0, 1, "unexpected ';'" },
	{ "types {\n\n notatype a; }\n", 0, 3, "'notatype' is not a type/subtype" },
	{ "types { text/x a/b; }\n", 0, 1, "types: bad type 'text/x' or "
	  "extension 'a/b'" },
	{ "types { text/x \"a\0\"; }\n", 22, 1, "NUL byte" },
	{ "types { text/x a; }\ntypes {\n\"x\n", 0, 3, "unterminated quoted" },
	{ "index a;\n}\n", 0, 2, "unexpected '}'" },
	{ "\n;\n", 0, 2, "unexpected ';'" },
	{ ";", 0, 1, "unexpected ';'" },
	{ "{ index a; }\n", 0, 1, "unexpected '{'" },
	{ "index a {\n", 0, 1, "block 'index' is not closed" },
	{ "index a {\n}\n", 0, 1, "block not allowed here: 'index' takes" },
	{ "root /;\nserver {\n listen 80;\n bogus 1;\n}\n", 0, 4,
	  "unknown directive 'bogus' in a server block" },
	{ "server {\n location /a {\n  listen 80;\n }\n}\n", 0, 3,
	  "'listen' is allowed only in a server block" },
	{ "server {\n location /a {\n  index a;\n  index b;\n }\n}\n", 0,
	  4, "duplicate 'index'" },
	{ "\nlocation /a { }\n", 0, 2,
	  "'location' is allowed only in a server block" },
	{ "server {\n location /a {\n  return 304;\n }\n}\n", 0, 3,
	  "return '304'" },
	{ "upstream u {\n server h:1 weight=0;\n}\n", 0, 2,
	  "weight=N (1-1000)" },
	{ "include a { }\n", 0, 1, "block not allowed here: 'include'" },
	{ "index a;\n\n}\n", 0, 3, "unexpected '}' (no block is open)" },
	{ "index a }\n", 0, 1, "expected ';' after 'index'" },
	{ "index a", 0, 1, "unexpected end of file, expecting ';' after 'index'" },
	{ "root /;\nindex\n a\n", 0, 2, "expecting ';' after 'index'" },
	{ "index a;\nlisting off", 0, 2, "expecting ';' after 'listing'" },
	/* CRLF line endings count lines like LF */
	{ "index a;\r\n\r\nbogus;\r\n", 0, 3, "unknown directive 'bogus'" },
	{ "index a;\r\n# c\r\nlisting maybe;\r\n", 0, 3, "on or off, not 'maybe'" },
	/* a quoted string spanning lines moves the line count on */
	{ "index \"a\nb\nc\";\nbogus;\n", 0, 4, "unknown directive" },
	/* comments */
	{ "# one\n# two ; { } \" '\nbogus; # three\n", 0, 3, "unknown directive" },
	{ "index a;# x\nlisting #;\n maybe;\n", 0, 2, "on or off, not 'maybe'" },
};

/* Every row is checked; the failures are listed together. */
static void
load_bad_rows(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad_row *row = &bad_rows[i];
		size_t len = row->len ? row->len : strlen(row->text);
		struct tw_config c;
		char err[512], ctx[96];
		int r;

		r = load_text(&c, row->text, len, false, err, sizeof(err));
		tw_config_free(&c);
		(void)snprintf(ctx, sizeof(ctx), "row %zu", i);
		if (r != TW_CONFIG_EFILE) {
			print_error("%s: got %d, want %d; err \"%s\"\n", ctx,
				    r, TW_CONFIG_EFILE, err);
			bad++;
		} else if (!err_ok(NAME, err, row->line, row->what, ctx)) {
			bad++;
		}
	}
	if (bad > 0)
		fail_msg("%zu of %zu rows failed", bad,
			 sizeof(bad_rows) / sizeof(bad_rows[0]));
}

/* A NUL byte in a comment is as wrong as anywhere else, and on its own
 * line. */
static void
load_nul_in_comment_line(void **state)
{
	static const char text[] = "index a;\n\n# com\0ment\nlisting off;\n";
	struct tw_config c;
	char err[256];

	(void)state;
	assert_int_equal(load_text(&c, text, sizeof(text) - 1, false, err,
				   sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 3, "NUL byte", "NUL in a comment");
}

/* Texts that must load, and what they set. */
static void
load_good_values(void **state)
{
	static const char text[] =
		"# a comment line\n"
		"listen 80;\n"
		"listen 127.0.0.1;\n"
		"listen 127.0.0.1:0;\n"
		"listen *:81;\n"
		"listen [::1];\n"
		"listen [::]:82;\n"
		"listen \"0.0.0.0:65535\";\n"
		"root /srv/www;\n"
		"index home.htm;listing off;hidden on;\n"
		"symlinks\talways\t;\n"
		"charset utf-8;\n"
		"gzip_static off;\n"
		"add_header X-A 1;\n"
		"add_header X-B \"two words\";\n"
		"add_header X-Tab \"a\\tb\";\n"
		"expires max;\n"
		"access_log /tmp/a.log common;\n"
		"log_level warn;\n"
		"error_log /tmp/e.log debug;\n"
		"quiet on;\n"
		"daemon on;\n"
		"mode threads;\n"
		"workers 1024;\n"
		"accept mutex-file;\n"
		"user root;\n"
		"keepalive_timeout 250ms;\n"
		"header_timeout 2m;\n"
		"send_timeout 1d;\n"
		"max_connections 4294967295;\n"
		"max_keepalive_requests 1;\n"
		"max_request_body 0;\n"
		"pidfile /run/t.pid;\n";
	struct tw_config c;
	char err[256];

	(void)state;
	if (load_text(&c, text, sizeof(text) - 1, false, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nlistens, 7);
	assert_string_equal(c.listens[0].addr, "*");
	assert_int_equal(c.listens[0].port, 80);
	assert_string_equal(c.listens[1].addr, "127.0.0.1");
	assert_int_equal(c.listens[1].port, 8080);
	assert_int_equal(c.listens[2].port, 0);
	assert_string_equal(c.listens[3].addr, "*");
	assert_int_equal(c.listens[3].port, 81);
	assert_string_equal(c.listens[4].addr, "::1");
	assert_int_equal(c.listens[4].port, 8080);
	assert_string_equal(c.listens[5].addr, "::");
	assert_int_equal(c.listens[5].port, 82);
	assert_int_equal(c.listens[6].port, 65535);
	assert_string_equal(c.root, "/srv/www");
	assert_string_equal(c.index, "home.htm");
	assert_false(c.listing);
	assert_true(c.hidden);
	assert_int_equal(c.symlinks, TW_FS_SYMLINKS_ALWAYS);
	assert_true(c.charset);
	assert_false(c.gzip_static);
	assert_int_equal(c.nheaders, 3);
	assert_string_equal(c.headers[0].name, "X-A");
	assert_string_equal(c.headers[0].value, "1");
	assert_string_equal(c.headers[1].name, "X-B");
	assert_string_equal(c.headers[1].value, "two words");
	assert_string_equal(c.headers[2].value, "a\tb");
	assert_int_equal(c.expires, 315360000);
	assert_string_equal(c.access_log, "/tmp/a.log");
	assert_int_equal(c.log_format, TW_LOG_FORMAT_COMMON);
	assert_string_equal(c.error_log, "/tmp/e.log");
	assert_int_equal(c.log_level, TW_LOG_DEBUG);	/* the later wins */
	assert_true(c.quiet);
	assert_true(c.daemon);
	assert_int_equal(c.mode, TW_MODE_THREADS);
	assert_int_equal(c.workers, 1024);
	assert_int_equal(c.accept, 3);		/* mutex-file */
	assert_string_equal(c.user, "root");
	assert_null(c.group);
	assert_int_equal(c.keepalive_timeout_ms, 250);
	assert_int_equal(c.header_timeout_ms, 120000);
	assert_int_equal(c.send_timeout_ms, 86400000);
	assert_int_equal(c.max_connections, 4294967295u);
	assert_int_equal(c.max_keepalive_requests, 1);
	assert_int_equal(c.max_request_body, 0);
	assert_string_equal(c.pidfile, "/run/t.pid");
	tw_config_free(&c);
}

static void
load_sizes_and_expires(void **state)
{
	static const struct {
		const char *text;
		uint64_t body;
		long long expires;
	} rows[] = {
		{ "max_request_body 512; expires 0;", 512, 0 },
		{ "max_request_body 64k; expires 1500ms;", 65536, 1 },
		{ "max_request_body 64K; expires 90m;", 65536, 5400 },
		{ "max_request_body 10m; expires 1h;", 10485760, 3600 },
		{ "max_request_body 10M; expires 3650d;", 10485760, 315360000 },
		{ "max_request_body 1g; expires off;", 1073741824, -1 },
		{ "max_request_body 2G; expires 999ms;", 2147483648u, 0 },
		{ "max_request_body 17179869183g;", 17179869183u << 30, -1 },
		{ "max_request_body 18446744073709551615;", UINT64_MAX, -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tw_config c;
		char err[256];

		if (load_text(&c, rows[i].text, strlen(rows[i].text), false,
			      err, sizeof(err)) != 0)
			fail_msg("row %zu: %s", i, err);
		if (c.max_request_body != rows[i].body ||
		    c.expires != rows[i].expires)
			fail_msg("row %zu: body %ju expires %lld", i,
				 (uintmax_t)c.max_request_body, c.expires);
		tw_config_free(&c);
	}
}

static void
load_listen_and_header_limits(void **state)
{
	char text[4096];
	size_t i, n = 0;
	struct tw_config c;
	char err[256];

	(void)state;
	for (i = 0; i < TW_CONFIG_MAX_LISTEN; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "listen %zu;\n", 1000 + i);
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)), 0);
	assert_int_equal(c.nlistens, TW_CONFIG_MAX_LISTEN);
	tw_config_free(&c);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "listen 2000;\n");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, TW_CONFIG_MAX_LISTEN + 1, "at most 16 listen",
		  "17 listens");

	n = 0;
	for (i = 0; i < TW_CONFIG_MAX_HEADERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "add_header X-%zu v;\n", i);
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)), 0);
	assert_int_equal(c.nheaders, TW_CONFIG_MAX_HEADERS);
	tw_config_free(&c);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "add_header Y v;\n");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, TW_CONFIG_MAX_HEADERS + 1, "at most 32 add_header",
		  "33 headers");
}

static void
load_escapes(void **state)
{
	static const struct {
		const char *text;
		const char *index;
	} rows[] = {
		{ "index \"a\\\"b\";", "a\"b" },
		{ "index \"a\\\\b\";", "a\\b" },
		{ "index \"a\\nb\";", "a\nb" },
		{ "index \"a\\tb\";", "a\tb" },
		{ "index \"a\\rb\";", "a\rb" },
		{ "index \"a\\$b\";", "a$b" },
		{ "index \"a\\'b\";", "a'b" },
		{ "index \"a\\ b\";", "a b" },
		{ "index 'a\\'b';", "a'b" },
		{ "index 'a\\\"b';", "a\"b" },
		{ "index 'a\\\\b';", "a\\b" },
		{ "index 'a\\nb';", "a\nb" },
		{ "index 'a\"b';", "a\"b" },
		{ "index \"a'b\";", "a'b" },
		{ "index \"a;b {c} #d\";", "a;b {c} #d" },
		{ "index 'a;b {c} #d';", "a;b {c} #d" },
		{ "index \"a\nb\";", "a\nb" },
		{ "index \"\\\\\";", "\\" },
		/* in a bare word a backslash is an ordinary character */
		{ "index a\\qb;", "a\\qb" },
		{ "index a\\;", "a\\" },
		/* a quoted directive name */
		{ "\"index\" 'x';", "x" },
		{ "index\t\r\n  x  \r\n;", "x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tw_config c;
		char err[256];

		if (load_text(&c, rows[i].text, strlen(rows[i].text), false,
			      err, sizeof(err)) != 0)
			fail_msg("row %zu (%s): %s", i, rows[i].text, err);
		if (strcmp(c.index, rows[i].index) != 0)
			fail_msg("row %zu (%s): index \"%s\", want \"%s\"", i,
				 rows[i].text, c.index, rows[i].index);
		tw_config_free(&c);
	}
}

static void
load_crlf_and_empty(void **state)
{
	static const char crlf[] = "index a.html;\r\n# c\r\nlisting off;\r\n"
				   "types {\r\n text/x-q q;\r\n}\r\n"
				   "hidden on;\r\n";
	static const char *const empty[] = {
		"", "\n", "   \t\r\n", "# only a comment", "# c\n\n# d\n",
	};
	struct tw_config c;
	char err[256];
	size_t i;

	(void)state;
	if (load_text(&c, crlf, sizeof(crlf) - 1, false, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c.index, "a.html");
	assert_false(c.listing);
	assert_true(c.hidden);
	assert_string_equal(tw_mime_table_lookup(c.types, "x.q", 3), "text/x-q");
	tw_config_free(&c);
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		if (load_text(&c, empty[i], strlen(empty[i]), false, err,
			      sizeof(err)) != 0)
			fail_msg("empty row %zu: %s", i, err);
		assert_string_equal(c.index, "index.html");
		tw_config_free(&c);
	}
}

/* Repeatable directives may repeat; their lines add up in order. */
static void
load_repeatable(void **state)
{
	static const char text[] =
		"add_header X-A 1;\nadd_header X-B 2;\n"
		"listen 1; listen 2;\n"
		"types { a/b q; }\ntypes { c/d q; e/f r; }\n";
	struct tw_config c;
	char err[256];

	(void)state;
	if (load_text(&c, text, sizeof(text) - 1, false, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.nheaders, 2);
	assert_string_equal(c.headers[1].name, "X-B");
	assert_int_equal(c.nlistens, 2);
	assert_int_equal(c.listens[1].port, 2);
	assert_string_equal(tw_mime_table_lookup(c.types, "x.q", 3), "c/d");
	assert_string_equal(tw_mime_table_lookup(c.types, "x.r", 3), "e/f");
	tw_config_free(&c);
}

static void
load_types_block(void **state)
{
	static const char text[] =
		"types {\n"
		"\ttext/x-foo foo FOO2;   # a comment\n"
		"\tapplication/x-bar \"bar\" 'baz';\n"
		"\ttext/x-html html;\n"
		"\timage/x-empty;\n"
		"}\n";
	struct tw_config c;
	char err[256];

	(void)state;
	assert_int_equal(tw_config_init(&c), 0);
	/* built-in before */
	assert_string_equal(tw_mime_table_lookup(c.types, "a.html", 6),
			    "text/html");
	assert_null(tw_mime_table_lookup(c.types, "a.foo", 5));
	tw_config_free(&c);
	if (load_text(&c, text, sizeof(text) - 1, false, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(tw_mime_table_lookup(c.types, "a.foo", 5),
			    "text/x-foo");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.FOO", 5),
			    "text/x-foo");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.foo2", 6),
			    "text/x-foo");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.bar", 5),
			    "application/x-bar");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.baz", 5),
			    "application/x-bar");
	/* overrides the built-in table */
	assert_string_equal(tw_mime_table_lookup(c.types, "a.html", 6),
			    "text/x-html");
	/* untouched built-ins stay */
	assert_string_equal(tw_mime_table_lookup(c.types, "a.css", 5),
			    "text/css");
	tw_config_free(&c);
}

/* ---- files on disk: include, mime_types ------------------------------- */

static char tmp_base[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
tmp_setup(void **state)
{
	(void)state;
	(void)snprintf(tmp_base, sizeof(tmp_base), "/tmp/tw-config-XXXXXX");
	return mkdtemp(tmp_base) == NULL ? -1 : 0;
}

static int
tmp_teardown(void **state)
{
	(void)state;
	return nftw(tmp_base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp_base/rel (directories are made as needed); returns the path. */
static const char *
put_file(const char *rel, const void *data, size_t len)
{
	static char path[PATH_MAX];
	char *slash;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", tmp_base, rel);
	for (slash = strchr(path + strlen(tmp_base) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		(void)mkdir(path, 0700);
		*slash = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *
put_text(const char *rel, const char *text)
{
	return put_file(rel, text, strlen(text));
}

static const char *
tmp_path(const char *rel)
{
	static char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", tmp_base, rel);
	return path;
}

static int
load_path_file(struct tw_config *c, const char *rel, char *err, size_t len)
{
	char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", tmp_base, rel);
	assert_int_equal(tw_config_init(c), 0);
	err[0] = '\0';
	return tw_config_load_file(c, path, err, len);
}

static void
include_missing_plain_name(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512];

	(void)state;
	put_text("miss/main.conf", "index a;\n\ninclude nothere.conf;\n");
	assert_int_equal(load_path_file(&c, "miss/main.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("miss/main.conf"), err, 3,
		  "nothere.conf: No such file or directory", "missing include");

	/* A directory is not a config file. */
	put_text("miss/d/x", "");
	put_text("miss/dir.conf", "include d;\n");
	assert_int_equal(load_path_file(&c, "miss/dir.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("miss/dir.conf"), err, 1, "Is a directory",
		  "include a directory");

	/* The top file itself. */
	assert_int_equal(load_path_file(&c, "miss/none.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	assert_non_null(strstr(err, "none.conf: No such file or directory"));
}

static void
include_loops(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512];

	(void)state;
	/* a file including itself */
	put_text("loop/self.conf", "index a;\n#\ninclude self.conf;\n");
	assert_int_equal(load_path_file(&c, "loop/self.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("loop/self.conf"), err, 3, "include loop",
		  "self include");

	/* ... through a glob that matches itself */
	put_text("loop/g/one.conf", "\ninclude *.conf;\n");
	assert_int_equal(load_path_file(&c, "loop/g/one.conf", err,
					sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("loop/g/one.conf"), err, 2, "include loop",
		  "glob self include");

	/* A -> B -> A: reported at B's line */
	put_text("loop/a.conf", "index a;\ninclude b.conf;\n");
	put_text("loop/b.conf", "\n\ninclude a.conf;\n");
	assert_int_equal(load_path_file(&c, "loop/a.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("loop/b.conf"), err, 3, "include loop", "A->B->A");

	/* ... also when B names A by another path */
	put_text("loop/sub/c.conf", "include ../sub/../d.conf;\n");
	put_text("loop/d.conf", "include sub/c.conf;\n");
	assert_int_equal(load_path_file(&c, "loop/d.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("loop/sub/c.conf"), err, 1, "include loop",
		  "A->B->A by another name");

	/* The same file twice side by side is no loop (but a duplicate
	 * directive would be, so it holds a repeatable one). */
	put_text("loop/h.conf", "add_header X-A 1;\n");
	put_text("loop/twice.conf", "include h.conf;\ninclude h.conf;\n");
	if (load_path_file(&c, "loop/twice.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nheaders, 2);
	tw_config_free(&c);
}

/* n0.conf includes n1.conf ... up to n{last}.conf. */
static void
make_chain(const char *dir, int last)
{
	char rel[64], text[64];
	int i;

	for (i = 0; i <= last; i++) {
		(void)snprintf(rel, sizeof(rel), "%s/n%d.conf", dir, i);
		if (i < last)
			(void)snprintf(text, sizeof(text), "add_header X-%d v;\n"
				       "include n%d.conf;\n", i, i + 1);
		else
			(void)snprintf(text, sizeof(text), "add_header X-%d v;\n",
				       i);
		put_text(rel, text);
	}
}

static void
include_nesting_depth(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512];

	(void)state;
	/* 16 files deep (the top file and 15 nested) load. */
	make_chain("deep16", 15);
	if (load_path_file(&c, "deep16/n0.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nheaders, 16);
	tw_config_free(&c);
	/* One more is too deep, reported where the 16th includes it. */
	make_chain("deep17", 16);
	assert_int_equal(load_path_file(&c, "deep17/n0.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("deep17/n15.conf"), err, 2,
		  "includes nested more than 16 deep", "17 deep");
}

static void
include_globs(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512];

	(void)state;
	/* Created out of order: read in sorted order. */
	put_text("glob/conf.d/b.conf", "add_header X-B 2;\n");
	put_text("glob/conf.d/a.conf", "add_header X-A 1;\n");
	put_text("glob/conf.d/c.txt", "bogus;\n");
	put_text("glob/conf.d/empty/.keep", "");
	put_text("glob/main.conf",
		 "include conf.d/*.conf;\n"
		 "include empty.d/*.conf;\n"	/* matches nothing */
		 "include conf.d/empty/*.conf;\n"
		 "include /nonexistent-dir-tw/*.conf;\n"
		 "include nodir/sub/x?.conf;\n"
		 "include conf.d/[z].conf;\n"
		 "index x;\n");
	if (load_path_file(&c, "glob/main.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nheaders, 2);
	assert_string_equal(c.headers[0].name, "X-A");
	assert_string_equal(c.headers[1].name, "X-B");
	assert_string_equal(c.index, "x");
	tw_config_free(&c);

	/* An error in a globbed file names that file and its line. */
	put_text("glob/bad.d/a.conf", "index a;\n");
	put_text("glob/bad.d/b.conf", "\nlisting maybe;\n");
	put_text("glob/bad.conf", "include bad.d/*;\n");
	assert_int_equal(load_path_file(&c, "glob/bad.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("glob/bad.d/b.conf"), err, 2, "on or off",
		  "error in a globbed file");
}

static void
include_duplicate_across_files(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512];

	(void)state;
	put_text("dup/inc.conf", "listing on;\n\nindex y;\n");
	put_text("dup/main.conf", "index x;\ninclude inc.conf;\n");
	assert_int_equal(load_path_file(&c, "dup/main.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("dup/inc.conf"), err, 3,
		  "duplicate 'index' directive", "duplicate in include");

	/* and the other way round: the include first */
	put_text("dup/main2.conf", "include inc.conf;\n\nlisting off;\n");
	assert_int_equal(load_path_file(&c, "dup/main2.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("dup/main2.conf"), err, 3, "duplicate 'listing'",
		  "duplicate after include");

	/* An error after an include is on the including file's line. */
	put_text("dup/ok.conf", "hidden on;\n");
	put_text("dup/main3.conf", "include ok.conf;\nbogus;\n");
	assert_int_equal(load_path_file(&c, "dup/main3.conf", err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(tmp_path("dup/main3.conf"), err, 2, "unknown directive",
		  "after include");
}

static void
include_relative_to_including_file(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512], cwd[PATH_MAX];

	(void)state;
	put_text("rel/main.conf", "include sub/inc.conf;\n");
	put_text("rel/sub/inc.conf", "include deeper.conf;\nlisting off;\n");
	put_text("rel/sub/deeper.conf", "index right.html;\n");
	/* Decoys where a cwd-relative lookup would land. */
	put_text("cwd/sub/inc.conf", "index wrong.html;\n");
	put_text("cwd/deeper.conf", "index wrong.html;\n");
	put_text("cwd/sub/deeper.conf", "index wrong.html;\n");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmp_path("cwd")), 0);
	if (load_path_file(&c, "rel/main.conf", err, sizeof(err)) != 0) {
		(void)chdir(cwd);
		fail_msg("%s", err);
	}
	assert_string_equal(c.index, "right.html");
	assert_false(c.listing);
	tw_config_free(&c);

	/* The top file named relative to the cwd works the same. */
	assert_int_equal(chdir(tmp_path("rel")), 0);
	assert_int_equal(tw_config_init(&c), 0);
	if (tw_config_load_file(&c, "main.conf", err, sizeof(err)) != 0) {
		(void)chdir(cwd);
		fail_msg("%s", err);
	}
	assert_string_equal(c.index, "right.html");
	tw_config_free(&c);
	assert_int_equal(chdir(cwd), 0);
}

static void
long_lines(void **state)
{
	const size_t big = 100 * 1024;
	char *text = malloc(big + 64);
	struct tw_config c;
	char err[256];
	size_t n;

	(void)state;
	if (text == NULL) {
		fail();
		return;
	}
	/* 100 KiB of one token */
	n = (size_t)sprintf(text, "root /;\nindex ");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, ";\n");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 2, "token longer than 4096 bytes", "long word");

	/* ... also quoted */
	n = (size_t)sprintf(text, "\n\nindex \"");
	memset(text + n, 'y', big);
	n += big;
	n += (size_t)sprintf(text + n, "\";\n");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 3, "token longer than 4096 bytes", "long quoted");

	/* 4096 bytes is the limit, 4097 is over. */
	n = (size_t)sprintf(text, "index ");
	memset(text + n, 'z', 4096);
	n += 4096;
	n += (size_t)sprintf(text + n, ";");
	if (load_text(&c, text, n, false, err, sizeof(err)) != 0)
		fail_msg("4096-byte word: %s", err);
	assert_int_equal(strlen(c.index), 4096);
	tw_config_free(&c);
	n = (size_t)sprintf(text, "index '");
	memset(text + n, 'z', 4097);
	n += 4097;
	n += (size_t)sprintf(text + n, "';");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 1, "token longer than 4096", "4097 quoted");

	free(text);

	/* 100 KiB of blanks, then of a comment, on one line each: fine,
	 * and the lines after them are counted right. */
	text = malloc(2 * big + 64);
	if (text == NULL) {
		fail();
		return;
	}
	memset(text, ' ', big);
	n = big;
	text[n++] = '\n';
	memset(text + n, '#', big);
	n += big;
	n += (size_t)sprintf(text + n, "\nindex a;\n");
	if (load_text(&c, text, n, false, err, sizeof(err)) != 0)
		fail_msg("blanks and comments: %s", err);
	assert_string_equal(c.index, "a");
	tw_config_free(&c);
	n += (size_t)sprintf(text + n, "bogus;\n");
	assert_int_equal(load_text(&c, text, n, false, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 4, "unknown directive", "after long lines");
	free(text);
}

/* xorshift: the same "random" bytes on every run. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
not_text(void **state)
{
	struct tw_config c;
	char err[512];
	uint32_t seed;
	size_t i;
	char *buf;
	FILE *f;
	long n;
	int r;

	(void)state;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	for (seed = 1; seed <= 64; seed++) {
		uint32_t s = seed * 2654435761u;
		size_t len = 64 + rnd(&s) % 4096;
		bool nul = false;

		for (i = 0; i < len; i++) {
			buf[i] = (char)(rnd(&s) & 0xff);
			nul |= buf[i] == '\0';
		}
		if (!nul)
			buf[len / 2] = '\0';
		r = load_text(&c, buf, len, true, err, sizeof(err));
		tw_config_free(&c);
		if (r != TW_CONFIG_EFILE)
			fail_msg("seed %u: got %d", seed, r);
		if (strncmp(err, NAME ":", strlen(NAME ":")) != 0 ||
		    strchr(err, '\n') != NULL)
			fail_msg("seed %u: error \"%s\"", seed, err);
	}

	/* An ELF binary: its first byte is DEL, a control character. */
	f = fopen("/bin/true", "rb");
	if (f == NULL) {
		free(buf);
		skip();
	}
	n = (long)fread(buf, 1, 1 << 20, f);
	(void)fclose(f);
	assert_true(n > 4);
	assert_int_equal(load_text(&c, buf, (size_t)n, true, err, sizeof(err)),
			 TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 1, "(not a text file?)", "/bin/true");
	free(buf);
}

/* An error message longer than the buffer is cut, not overrun. */
static void
error_buffer_small(void **state)
{
	static const char text[] = "bogus_directive_with_a_long_name;\n";
	struct tw_config c;
	char err[16];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(tw_config_init(&c), 0);
	assert_int_equal(tw_config_load_buf(&c, NAME, text, sizeof(text) - 1,
					    false, err, 12), TW_CONFIG_EFILE);
	assert_int_equal(strlen(err), 11);
	assert_memory_equal(err, "t.conf:1: u", 11);
	assert_int_equal(err[12], 'Z');
	tw_config_free(&c);
}

static void
mime_types_files(void **state)
{
	struct tw_config c;
	char err[PATH_MAX + 512], text[PATH_MAX + 128];
	char good[PATH_MAX], bad[PATH_MAX];

	(void)state;
	(void)snprintf(good, sizeof(good), "%s",
		       put_text("mime/good.types", "# comment\n"
				"text/x-one one ONE1\r\n"
				"application/x-two two html\n"
				"image/x-none\n"));
	(void)snprintf(bad, sizeof(bad), "%s",
		       put_text("mime/bad.types", "text/html html\n\n"
				"# x\ntext/x-bad ok b!d\n"));

	(void)snprintf(text, sizeof(text), "types { text/x-t one; }\n"
		       "mime_types \"%s\";\ntypes { text/x-t two; }\n", good);
	if (load_text(&c, text, strlen(text), false, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* later entries win: the file over types before it, and types
	 * after it over the file */
	assert_string_equal(tw_mime_table_lookup(c.types, "a.one", 5),
			    "text/x-one");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.one1", 6),
			    "text/x-one");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.two", 5),
			    "text/x-t");
	assert_string_equal(tw_mime_table_lookup(c.types, "a.html", 6),
			    "application/x-two");
	tw_config_free(&c);

	/* a malformed line: the mime file's name and line */
	(void)snprintf(text, sizeof(text), "index a;\nmime_types '%s';\n", bad);
	assert_int_equal(load_text(&c, text, strlen(text), false, err,
				   sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(bad, err, 4, "malformed mime.types line", "bad mime file");

	/* a missing one: the config file's line */
	(void)snprintf(text, sizeof(text), "\n\nmime_types \"%s/none.types\";\n",
		       tmp_base);
	assert_int_equal(load_text(&c, text, strlen(text), false, err,
				   sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 3, "none.types: No such file or directory",
		  "missing mime file");

	/* a directory */
	(void)snprintf(text, sizeof(text), "mime_types \"%s\";\n", tmp_base);
	assert_int_equal(load_text(&c, text, strlen(text), false, err,
				   sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(NAME, err, 1, "not a regular file", "mime dir");

	/* a NUL byte in a mime file */
	(void)snprintf(bad, sizeof(bad), "%s",
		       put_file("mime/nul.types", "text/x a\nte\0xt/y b\n", 18));
	(void)snprintf(text, sizeof(text), "mime_types \"%s\";\n", bad);
	assert_int_equal(load_text(&c, text, strlen(text), false, err,
				   sizeof(err)), TW_CONFIG_EFILE);
	tw_config_free(&c);
	check_err(bad, err, 2, "malformed", "NUL in a mime file");
}

/* A location takes what it does not set from its server, the server
 * from the top level, whatever the order in the file; add_header lines
 * as a whole; a location never from another location. */
static void
scope_inheritance(void **state)
{
	static const char text[] =
		"server {\n"
		" listing off;\n"
		" add_header X-S s;\n"
		" location /a/ { root /ra; index x.html y.html; }\n"
		" location /a/b/ { add_header X-B b; expires off; }\n"
		" location /c/ { alias /rc/; hidden on; compress off; }\n"
		"}\n"
		"root /top;\n"
		"index first.html second.html;\n"
		"expires 1h;\n"
		"add_header X-T t;\n"
		"add_header X-U u;\n";
	const struct tw_config_server *srv;
	struct tw_config_scope e;
	struct tw_config c;
	char err[512];

	(void)state;
	if (load_text(&c, text, sizeof(text) - 1, false, err,
		      sizeof(err)) != 0)
		fail_msg("%s", err);
	srv = c.servers[0];

	tw_scope_effective(&c, srv, NULL, &e);
	assert_string_equal(e.root, "/top");
	assert_int_equal(e.nindex, 2);
	assert_string_equal(e.index[1], "second.html");
	assert_false(e.listing);
	assert_int_equal(e.expires, 3600);
	assert_int_equal(e.nheaders, 1);
	assert_string_equal(e.headers[0].name, "X-S");

	tw_scope_effective(&c, srv, &srv->locs[0], &e);
	assert_string_equal(e.root, "/ra");
	assert_null(e.alias);
	assert_int_equal(e.nindex, 2);
	assert_string_equal(e.index[0], "x.html");
	assert_false(e.listing);
	assert_int_equal(e.expires, 3600);
	assert_string_equal(e.headers[0].name, "X-S");

	/* /a/b/ is inside /a/ by path, not by block: the server's root */
	tw_scope_effective(&c, srv, &srv->locs[1], &e);
	assert_string_equal(e.root, "/top");
	assert_string_equal(e.index[0], "first.html");
	assert_int_equal(e.expires, -1);
	assert_int_equal(e.nheaders, 1);
	assert_string_equal(e.headers[0].name, "X-B");

	tw_scope_effective(&c, srv, &srv->locs[2], &e);
	assert_string_equal(e.alias, "/rc/");
	assert_true(e.hidden);
	assert_false(c.hidden);
	assert_false(e.compress);
	tw_scope_effective(&c, srv, &srv->locs[1], &e);
	assert_true(e.compress);	/* the top level's default */

	/* the implicit server: the top level alone */
	tw_scope_effective(&c, NULL, NULL, &e);
	assert_true(e.listing);
	assert_int_equal(e.nheaders, 2);
	tw_config_free(&c);
}

/* check-config prints a configuration that reads back to itself. */
static char *
print_config(const struct tw_config *c, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	assert_non_null(f);
	tw_config_print(c, f);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void
print_reparses_to_same(void **state)
{
	char text[2 * PATH_MAX + 2048], err[PATH_MAX + 512];
	const char *mime;
	struct tw_config c1, c2, d;
	char *out1, *out2, *def, *line, *save;
	size_t len1, len2, dlen;

	(void)state;
	mime = put_text("print/my mime.types", "text/x-pm pm\n");
	(void)snprintf(text, sizeof(text),
		"listen 127.0.0.1:81;\n"
		"listen [::1]:82;\n"
		"listen 0;\n"
		"root \"/srv/w w/\\\"q\\\"\";\n"
		"index \"home page\\t.htm\";\n"
		"listing off;\n"
		"hidden on;\n"
		"symlinks never;\n"
		"charset off;\n"
		"gzip_static off;\n"
		"compress off;\n"
		"compress_types text/css application/*;\n"
		"compress_min_length 1k;\n"
		"compress_max_size 2m;\n"
		"compress_cache 5m;\n"
		"compress_level gzip=4 br=0,zstd=19;\n"
		"add_header X-A \"v \\\"q\\\" \\\\ 1 ; {}#\";\n"
		"add_header X-B '2';\n"
		"expires 90m;\n"
		"mime_types \"%s\";\n"
		"types { text/x-foo foo \"x-y\"; }\n"
		"access_log \"/tmp/a b.log\" json;\n"
		"quiet on;\n"
		"error_log /tmp/e.log debug;\n"
		"pidfile /tmp/p.pid;\n"
		"daemon on;\n"
		"mode prefork;\n"
		"workers 3;\n"
		"accept mutex;\n"
		"defer_accept off;\n"
		"aio off;\n"
		"aio_threads 7;\n"
		"sendfile off;\n"
		"user root root;\n"
		"keepalive_timeout 1500ms;\n"
		"header_timeout 7s;\n"
		"send_timeout 2m;\n"
		"send_min_rate 2k;\n"
		"max_connections 77;\n"
		"max_keepalive_requests 5;\n"
		"max_request_body 3k;\n"
		"status /tw-status;\n"
		"status_allow 10.0.0.0/8;\n"
		"status_allow ::1;\n"
		"balance consistent;\n"
		"proxy_connect_timeout 3s;\n"
		"proxy_read_timeout 4s;\n"
		"proxy_send_timeout 5s;\n"
		"proxy_next_upstream_tries 2;\n"
		"proxy_next_upstream error,non_idempotent;\n"
		"proxy_max_body 10m;\n"
		"proxy_buffer_size 8k;\n"
		"proxy_pass_request_headers off;\n"
		"proxy_set_header X-P \"a b\";\n"
		"proxy_keepalive 7;\n"
		"sandbox off;\n"
		"server {\n"
		" listen 127.0.0.1:81 default_server;\n"
		" listen [::1]:82;\n"
		" server_name A.example \"*.b.example\";\n"
		" root \"/srv/a b\";\n"
		" index i.htm \"two words.html\";\n"
		" add_header X-S \"s;{}\";\n"
		" expires max;\n"
		" location = /exact { return 404 \"not \\\"here\\\"\"; }\n"
		" location /img/ { alias /srv/img/; listing on; hidden off; "
		"compress off; }\n"
		" location /old { return 308 http://b.example/new; }\n"
		" location /api/ { proxy_pass http://backend/v1/; status /st; }\n"
		"}\n"
		"server { server_name c.example; location / { expires off; } }\n"
		"upstream backend {\n"
		" server 10.0.0.1:8080 weight=3 max_fails=2 fail_timeout=30s;\n"
		" server [::1]:81 backup;\n"
		" balance hash $request_uri consistent;\n"
		" keepalive 16;\n"
		" health_check uri=/health interval=2s fails=3 passes=2;\n"
		"}\n"
		"upstream other { server 10.0.0.2; balance least_conn; }\n",
		mime);
	if (load_text(&c1, text, strlen(text), false, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	out1 = print_config(&c1, &len1);
	if (load_text(&c2, out1, len1, false, err, sizeof(err)) != 0)
		fail_msg("re-parse: %s\n%s", err, out1);
	out2 = print_config(&c2, &len2);
	assert_string_equal(out1, out2);

	/* The values themselves survived. */
	assert_string_equal(c2.root, "/srv/w w/\"q\"");
	assert_string_equal(c2.index, "home page\t.htm");
	assert_string_equal(c2.headers[0].value, "v \"q\" \\ 1 ; {}#");
	assert_int_equal(c2.nlistens, 3);
	assert_string_equal(c2.listens[1].addr, "::1");
	assert_int_equal(c2.listens[2].port, 0);
	assert_int_equal(c2.expires, 5400);
	assert_int_equal(c2.keepalive_timeout_ms, 1500);
	assert_int_equal(c2.max_request_body, 3072);
	assert_int_equal(c2.send_min_rate, 2048);
	assert_int_equal(c2.log_format, TW_LOG_FORMAT_JSON);
	assert_int_equal(c2.log_level, TW_LOG_DEBUG);
	assert_string_equal(c2.group, "root");
	assert_int_equal(c2.aio, 0);
	assert_int_equal(c2.sendfile, TW_SENDFILE_OFF);
	assert_int_equal(c2.aio_threads, 7);
	assert_string_equal(c2.status, "/tw-status");
	assert_int_equal(c2.nstatus_allow, 2);
	assert_int_equal(c2.balance, 4);
	assert_int_equal(c2.proxy_connect_timeout_ms, 3000);
	assert_int_equal(c2.proxy_next_upstream, 0x21);
	assert_int_equal(c2.proxy_max_body, 10 << 20);
	assert_false(c2.proxy_pass_request_headers);
	assert_int_equal(c2.nproxy_set_headers, 1);
	assert_string_equal(c2.proxy_set_headers[0].value, "a b");
	assert_int_equal(c2.proxy_keepalive, 7);
	assert_false(c2.compress.on);
	assert_int_equal(c2.ncompress_types, 2);
	assert_string_equal(c2.compress_types[1], "application/*");
	assert_int_equal(c2.compress.min_length, 1024);
	assert_int_equal(c2.compress.max_size, 2 << 20);
	assert_int_equal(c2.compress.cache, 5 << 20);
	assert_int_equal(c2.compress.level[TW_CODING_GZIP], 4);
	assert_int_equal(c2.compress.level[TW_CODING_BR], 0);
	assert_int_equal(c2.compress.level[TW_CODING_ZSTD], 19);
	assert_int_equal(c2.sandbox, TW_CONFIG_SANDBOX_OFF);
	assert_string_equal(tw_mime_table_lookup(c2.types, "a.pm", 4),
			    "text/x-pm");
	assert_string_equal(tw_mime_table_lookup(c2.types, "a.x-y", 5),
			    "text/x-foo");
	/* ... blocks included */
	assert_int_equal(c2.nservers, 2);
	assert_int_equal(c2.servers[0]->nlistens, 2);
	assert_true(c2.servers[0]->listens[0].default_server);
	assert_false(c2.servers[0]->listens[1].default_server);
	assert_string_equal(c2.servers[0]->names[0], "a.example");
	assert_string_equal(c2.servers[0]->names[1], "*.b.example");
	assert_int_equal(c2.servers[0]->s.nindex, 2);
	assert_string_equal(c2.servers[0]->s.index[1], "two words.html");
	assert_int_equal(c2.servers[0]->nlocs, 4);
	assert_true(c2.servers[0]->locs[0].exact);
	assert_string_equal(c2.servers[0]->locs[0].s.ret_arg,
			    "not \"here\"");
	assert_string_equal(c2.servers[0]->locs[1].s.alias, "/srv/img/");
	assert_int_equal(c2.servers[0]->locs[2].s.ret_code, 308);
	assert_string_equal(c2.servers[0]->locs[3].s.proxy_pass,
			    "http://backend/v1/");
	assert_int_equal(c2.servers[1]->locs[0].s.expires, -1);
	assert_int_equal(c2.servers[1]->locs[0].s.set, TW_SCOPE_EXPIRES);
	assert_int_equal(c2.nupstreams, 2);
	assert_int_equal(c2.upstreams[0]->nsrv, 2);
	assert_int_equal(c2.upstreams[0]->srv[0].conf.weight, 3);
	assert_int_equal(c2.upstreams[0]->srv[0].conf.max_fails, 2);
	assert_int_equal(c2.upstreams[0]->srv[0].conf.fail_timeout_ms, 30000);
	assert_true(c2.upstreams[0]->srv[1].conf.backup);
	assert_string_equal(c2.upstreams[0]->srv[1].conf.name, "[::1]:81");
	assert_int_equal(c2.upstreams[0]->balance, TW_BALANCE_HASH_CONSISTENT);
	assert_string_equal(c2.upstreams[0]->hash_key, "$request_uri");
	assert_int_equal(c2.upstreams[0]->keepalive, 16);
	assert_string_equal(c2.upstreams[0]->check.uri, "/health");
	assert_int_equal(c2.upstreams[0]->check.interval_ms, 2000);
	assert_int_equal(c2.upstreams[0]->check.fails, 3);
	assert_int_equal(c2.upstreams[1]->balance, TW_BALANCE_LEAST_CONN);
	assert_int_equal(c2.upstreams[1]->srv[0].port, 80);

	/* Every directive was set away from its default: no line of the
	 * defaults' output is in this one. */
	assert_int_equal(tw_config_init(&d), 0);
	def = print_config(&d, &dlen);
	for (line = strtok_r(def, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char needle[512];

		if (line[0] == '#')
			continue;
		(void)snprintf(needle, sizeof(needle), "\n%s\n", line);
		if (strstr(out1, needle) != NULL)
			fail_msg("default line \"%s\" in\n%s", line, out1);
	}
	free(def);
	tw_config_free(&d);
	free(out1);
	free(out2);
	tw_config_free(&c1);
	tw_config_free(&c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_vectors),
		cmocka_unit_test(duration_accepts_uint64_max),
		cmocka_unit_test(defaults_are_documented_values),
		cmocka_unit_test(serve_alone_keeps_defaults),
		cmocka_unit_test(serve_dir_sets_root),
		cmocka_unit_test(flag_rows_accept_or_reject),
		cmocka_unit_test(each_flag_sets_its_field),
		cmocka_unit_test(too_many_binds_rejected),
		cmocka_unit_test(help_and_version_set_cmd),
		cmocka_unit_test(command_required),
		cmocka_unit_test(dir_alone_is_serve),
		cmocka_unit_test(missing_config_file_is_file_error),
		cmocka_unit_test(second_parse_starts_fresh),
		cmocka_unit_test(load_bad_rows),
		cmocka_unit_test(load_nul_in_comment_line),
		cmocka_unit_test(load_good_values),
		cmocka_unit_test(load_sizes_and_expires),
		cmocka_unit_test(load_listen_and_header_limits),
		cmocka_unit_test(load_escapes),
		cmocka_unit_test(load_crlf_and_empty),
		cmocka_unit_test(load_repeatable),
		cmocka_unit_test(load_types_block),
		cmocka_unit_test(include_missing_plain_name),
		cmocka_unit_test(include_loops),
		cmocka_unit_test(include_nesting_depth),
		cmocka_unit_test(include_globs),
		cmocka_unit_test(include_duplicate_across_files),
		cmocka_unit_test(include_relative_to_including_file),
		cmocka_unit_test(long_lines),
		cmocka_unit_test(not_text),
		cmocka_unit_test(error_buffer_small),
		cmocka_unit_test(mime_types_files),
		cmocka_unit_test(print_reparses_to_same),
		cmocka_unit_test(scope_inheritance),
	};

	return cmocka_run_group_tests_name("config", tests, tmp_setup,
					   tmp_teardown);
}
