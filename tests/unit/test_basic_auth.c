/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for basic_auth: a table of Authorization values with the
 * exact verdict and, for good ones, the user and password decoded; each
 * value right before a guard page, so an over-read faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "support/guard.h"
#include "parse/basic_auth.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct vec {
	const char *in;
	int ret;
	const char *user;	/* ret 0 */
	const char *pass;
};

static const struct vec vecs[] = {
	/* RFC 7617 2's example: Aladdin / open sesame */
	{ "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0, "Aladdin", "open sesame" },
	/* the scheme in any case, several spaces */
	{ "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0, "Aladdin", "open sesame" },
	{ "BASIC   QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0, "Aladdin", "open sesame" },
	/* a colon in the password stays in it; empty password; empty user */
	{ "Basic dTpwOnE=", 0, "u", "p:q" },
	{ "Basic dTo=", 0, "u", "" },
	{ "Basic OnA=", 0, "", "p" },
	/* UTF-8 user (RFC 7617 2.1's example: test / 123£) */
	{ "Basic dGVzdDoxMjPCow==", 0, "test", "123\xc2\xa3" },
	/* no padding needed */
	{ "Basic YWJjOmRlZg==", 0, "abc", "def" },
	{ "Basic YWI6Y2Q=", 0, "ab", "cd" },
	{ "Basic YTpi", 0, "a", "b" },
	/* other schemes: the challenge answers them */
	{ "Bearer abc", TW_BASIC_AUTH_OTHER, NULL, NULL },
	{ "Digest username=\"a\"", TW_BASIC_AUTH_OTHER, NULL, NULL },
	{ "Basicx YTpi", TW_BASIC_AUTH_OTHER, NULL, NULL },
	{ "", TW_BASIC_AUTH_OTHER, NULL, NULL },
	{ "Bas", TW_BASIC_AUTH_OTHER, NULL, NULL },
	/* Basic, malformed */
	{ "Basic", -EINVAL, NULL, NULL },
	{ "Basic ", -EINVAL, NULL, NULL },
	{ "Basic\tYTpi", -EINVAL, NULL, NULL },
	{ "Basic YTpi ", -EINVAL, NULL, NULL },		/* trailing space */
	{ "Basic YTp", -EINVAL, NULL, NULL },		/* not 4-aligned */
	{ "Basic YWI6Y2Q", -EINVAL, NULL, NULL },	/* padding missing */
	{ "Basic YWI6Y2R=", -EINVAL, NULL, NULL },	/* stray bits */
	{ "Basic YWJjOmRlZh==", -EINVAL, NULL, NULL },	/* stray bits */
	{ "Basic YT=i", -EINVAL, NULL, NULL },		/* '=' inside */
	{ "Basic =Tpi", -EINVAL, NULL, NULL },
	{ "Basic ====", -EINVAL, NULL, NULL },
	{ "Basic YTpi====", -EINVAL, NULL, NULL },
	{ "Basic YT-i", -EINVAL, NULL, NULL },		/* base64url */
	{ "Basic YT_i", -EINVAL, NULL, NULL },
	{ "Basic YWJj", -EINVAL, NULL, NULL },		/* "abc": no colon */
	{ "Basic YQphOmI=", -EINVAL, NULL, NULL },	/* "a\na:b": control */
	{ "Basic YTpiAA==", -EINVAL, NULL, NULL },	/* "a:b\0" */
	{ "Basic YTpifw==", -EINVAL, NULL, NULL },	/* "a:b\x7f" */
	{ "Basic YTpi YTpi", -EINVAL, NULL, NULL },
};

static void
vectors(void **state)
{
	char buf[TW_BASIC_AUTH_MAX];
	struct tw_basic_cred c;
	struct guard g;
	size_t i;

	(void)state;
	for (i = 0; i < N(vecs); i++) {
		const struct vec *v = &vecs[i];
		size_t len = strlen(v->in);
		const char *in = guard_copy(&g, v->in, len);
		int ret = tw_basic_auth_parse(in, len, buf, sizeof(buf), &c);

		guard_free(&g);
		if (ret != v->ret)
			fail_msg("\"%s\": ret %d, want %d", v->in, ret, v->ret);
		if (ret != 0)
			continue;
		if (c.user_len != strlen(v->user) ||
		    memcmp(c.user, v->user, c.user_len) != 0 ||
		    c.pass_len != strlen(v->pass) ||
		    memcmp(c.pass, v->pass, c.pass_len) != 0)
			fail_msg("\"%s\": user \"%.*s\" pass \"%.*s\"", v->in,
				 (int)c.user_len, c.user, (int)c.pass_len,
				 c.pass);
	}
}

/* A value decoding past the buffer is refused whole, never cut. */
static void
too_long_is_refused(void **state)
{
	char field[16 + 4 * 8], buf[12];
	struct tw_basic_cred c;

	(void)state;
	/* "Basic " + base64 of "aaaaaaa:bbbbbb..." (12 bytes -> 16 chars) */
	strcpy(field, "Basic YWFhYWFhYTpiYmJi");
	assert_int_equal(tw_basic_auth_parse(field, strlen(field), buf, 11,
					     &c), -E2BIG);
	assert_int_equal(tw_basic_auth_parse(field, strlen(field), buf,
					     sizeof(buf), &c), 0);
	assert_int_equal(c.pass_len, 4);
}

/* Every byte value round trips through the decoder: canonical base64
 * of 0..255 in each position of a 3-byte group. */
static void
decode_all_bytes(void **state)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[3], out[3];
	char enc[4];
	size_t n;
	int b, pos;

	(void)state;
	for (pos = 0; pos < 3; pos++)
		for (b = 0; b < 256; b++) {
			memset(in, 'x', 3);
			in[pos] = (unsigned char)b;
			enc[0] = a[in[0] >> 2];
			enc[1] = a[(in[0] & 3) << 4 | in[1] >> 4];
			enc[2] = a[(in[1] & 15) << 2 | in[2] >> 6];
			enc[3] = a[in[2] & 63];
			assert_int_equal(tw_basic_auth_b64decode(enc, 4,
				(char *)out, sizeof(out), &n), 0);
			assert_int_equal(n, 3);
			assert_memory_equal(in, out, 3);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(too_long_is_refused),
		cmocka_unit_test(decode_all_bytes),
	};

	return cmocka_run_group_tests_name("basic_auth", tests, NULL, NULL);
}
