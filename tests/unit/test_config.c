/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for config: duration vectors (units, bad input, overflow at
 * the uint64 boundary), and the command line: defaults, the serve
 * command and DIR, every flag's field, value checks, last-wins pairs,
 * help/version, unknown flags, missing values, stray arguments, and a
 * second parse that must not see the first one's getopt state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
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
	assert_int_equal(c.max_connections, 10000);
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
	assert_string_equal(a.c.listens[0].addr, "0.0.0.0");
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

	assert_int_equal(parse(&a, ARGV("serve", "--max-connections", "1",
					"--max-keepalive-requests",
					"4294967295")), 0);
	assert_int_equal(a.c.max_connections, 1);
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

static void
command_required(void **state)
{
	const char *const *const rows[] = {
		(const char *const[]){ "tinyweb", NULL },
		ARGV("."),
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
		cmocka_unit_test(missing_config_file_is_file_error),
		cmocka_unit_test(second_parse_starts_fresh),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
