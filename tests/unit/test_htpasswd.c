/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for htpasswd: hashes made by Apache's htpasswd 2.4 (-B, -5,
 * -2, -s, -d, -p and its MD5 default) judged one by one, then whole
 * files read line by line with the number of the line refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "support/guard.h"
#include "parse/htpasswd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define BCRYPT "$2y$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw."
#define SHA512 "$6$HekudGWZ0xt9Qooc$QNN1K2R2Z8nc5tuXEa4teoGl.KF33niYGvhhpSl" \
	"l1UXGpbPjk02i5cePudwIqIKJbLQAgjnQZADP1sEdNaMq30"
#define SHA512R "$6$rounds=10000$dNaD6aeFYQysa435$Rz63WXZpf4/l3voNXWncneap" \
	"oz/uoOYIIdb9I2nfxcyAtpWrYv7YXeeKAhunbr2GGCP3ff200nunDXMDu33pW1"
#define SHA256 "$5$nxWHQMZTNg7Q6RYX$UlnhKJZJUd9HMEVnhy84SimOfvsZRlZ8w0F7d5MWyM/"
#define APR1 "$apr1$9b9pEDL4$aERx/TH7QLRMnrmJTNH4.1"

struct hvec {
	const char *hash;
	const char *why;	/* NULL: checkable; else a word of the reason */
};

static const struct hvec hvecs[] = {
	{ BCRYPT, NULL },
	{ "$2b$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw.", NULL },
	{ "$2a$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw.", NULL },
	{ SHA512, NULL },
	{ SHA512R, NULL },
	{ SHA256, NULL },
	{ APR1, "$apr1$" },
	{ "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", "{SHA}" },
	{ "$1$abcdefgh$abcdefghijklmnopqrstuv", "$1$" },
	{ "a12H1i0IoYoEw", "plain text or DES" },
	{ "pw", "plain text or DES" },
	{ "", "plain text or DES" },
	/* cut short, or bad characters */
	{ "$2y$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw", "cut" },
	{ "$2y$05$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbn!.", "cut" },
	{ "$2y$5$ksbIrULBrLWrswSRPuXLN.60m6s04rAlgLPXUm7xc9oypc.6wbnw..", "cut" },
	{ "$6$HekudGWZ0xt9Qooc$QNN1K2R2", "cut" },
	{ "$6$$QNN1K2R2Z8nc5tuXEa4teoGl.KF33niYGvhhpSll1UXGpbPjk02i5cePudwIq"
	  "IKJbLQAgjnQZADP1sEdNaMq30", "cut" },
	{ "$5$nxWHQMZTNg7Q6RYX$UlnhKJZJUd9HMEVnhy84SimOfvsZRlZ8w0F7d5MWyM", "cut" },
	{ "$6$rounds=$dNaD6aeFYQysa435$Rz63", "cut" },
};

static void
hash_vectors(void **state)
{
	struct guard g;
	size_t i;

	(void)state;
	for (i = 0; i < N(hvecs); i++) {
		const struct hvec *v = &hvecs[i];
		size_t len = strlen(v->hash);
		const char *in = guard_copy(&g, v->hash, len);
		const char *why = tw_htpasswd_check_hash(in, len);

		guard_free(&g);
		if ((why == NULL) != (v->why == NULL) ||
		    (why != NULL && strstr(why, v->why) == NULL))
			fail_msg("\"%s\": \"%s\", want \"%s\"", v->hash,
				 why ? why : "ok", v->why ? v->why : "ok");
	}
}

/* The lines a text yields: users in order, or the line refused. */
struct fvec {
	const char *text;
	int users;		/* users before the end or the error */
	int ret;		/* 0 at the end, or -EINVAL */
	unsigned line;		/* of the error */
};

static const struct fvec fvecs[] = {
	{ "alice:" BCRYPT "\nbob:" SHA512 "\n", 2, 0, 0 },
	/* CRLF, blank lines, comments, no final newline */
	{ "# users\r\n\r\nalice:" BCRYPT "\r\n\nbob:" SHA256, 2, 0, 0 },
	{ "", 0, 0, 0 },
	{ "\n\n# only comments\n", 0, 0, 0 },
	/* the line number of the refused line, blank ones counted */
	{ "alice:" BCRYPT "\n\ncarol:" APR1 "\n", 1, -EINVAL, 3 },
	{ "nocolon\n", 0, -EINVAL, 1 },
	{ ":" BCRYPT "\n", 0, -EINVAL, 1 },
	{ "a:b:" BCRYPT "\n", 0, -EINVAL, 1 },
	{ "a\tb:" BCRYPT "\n", 0, -EINVAL, 1 },
	{ "alice:" BCRYPT "\nbob:\n", 1, -EINVAL, 2 },
};

static void
file_vectors(void **state)
{
	struct tw_htpasswd_entry e;
	const char *why;
	struct guard g;
	size_t i;

	(void)state;
	for (i = 0; i < N(fvecs); i++) {
		const struct fvec *v = &fvecs[i];
		size_t len = strlen(v->text), pos = 0;
		const char *in = guard_copy(&g, v->text, len);
		unsigned line = 0;
		int users = 0, ret;

		while ((ret = tw_htpasswd_next(in, len, &pos, &line, &e,
					       &why)) > 0) {
			users++;
			assert_true(e.user_len > 0);
			assert_true(e.hash_len > 0);
		}
		guard_free(&g);
		if (ret != v->ret || users != v->users ||
		    (ret < 0 && line != v->line))
			fail_msg("text %zu: ret %d users %d line %u", i, ret,
				 users, line);
	}
}

static void
fields_are_split(void **state)
{
	static const char text[] = "alice:" BCRYPT "\n";
	struct tw_htpasswd_entry e;
	const char *why;
	size_t pos = 0;
	unsigned line = 0;

	(void)state;
	assert_int_equal(tw_htpasswd_next(text, sizeof(text) - 1, &pos, &line,
					  &e, &why), 1);
	assert_int_equal(e.user_len, 5);
	assert_memory_equal(e.user, "alice", 5);
	assert_int_equal(e.hash_len, strlen(BCRYPT));
	assert_memory_equal(e.hash, BCRYPT, e.hash_len);
	assert_int_equal(line, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_vectors),
		cmocka_unit_test(file_vectors),
		cmocka_unit_test(fields_are_split),
	};

	return cmocka_run_group_tests_name("htpasswd", tests, NULL, NULL);
}
