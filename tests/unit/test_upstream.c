/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for upstream, choosing a server of a group: the smooth round
 * robin's exact order and shares; least_conn by requests in flight per
 * weight; ip_hash keeping a client's /24 on one server and spreading
 * /24s by weight; hash by weight; consistent hashing moving only the
 * removed (or down) server's keys, about 1/N of them; backups only when
 * no primary can be chosen; the tried set; passive health's window; all
 * down gives -1; bad groups are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/upstream.h"

#define NKEYS 20000

static const char *const names[] = { "a:80", "b:80", "c:80", "d:80",
				     "e:80", "f:80" };

/* A group of n servers with these weights (backup where flagged). */
static struct tw_upstream *
group(enum tw_balance m, const unsigned *w, const bool *backup, size_t n,
      struct tw_upstream_shared *sh)
{
	struct tw_upstream_server_conf c[8];
	struct tw_upstream *u;
	size_t i;
	int err;

	memset(sh, 0, n * sizeof(*sh));
	for (i = 0; i < n; i++)
		c[i] = (struct tw_upstream_server_conf){
			.name = names[i], .weight = w[i], .max_fails = 1,
			.fail_timeout_ms = 10000,
			.backup = backup != NULL && backup[i] };
	u = tw_upstream_create(c, n, m, sh, &err);
	assert_non_null(u);
	assert_int_equal(err, 0);
	return u;
}

static int
pick(struct tw_upstream *u, uint64_t now)
{
	uint64_t tried = 0;

	return tw_upstream_pick(u, NULL, now, &tried);
}

static int
pick_key(struct tw_upstream *u, const char *key, uint64_t now)
{
	struct tw_upstream_key k = { .key = key, .key_len = strlen(key) };
	uint64_t tried = 0;

	return tw_upstream_pick(u, &k, now, &tried);
}

static int
pick_ip(struct tw_upstream *u, const uint8_t *ip, size_t len)
{
	struct tw_upstream_key k = { .addr = ip, .addr_len = len };
	uint64_t tried = 0;

	return tw_upstream_pick(u, &k, 0, &tried);
}

static void
rr_is_smooth_and_exact(void **state)
{
	const unsigned w[] = { 5, 1, 1 };
	const int order[] = { 0, 0, 1, 0, 2, 0, 0 };
	struct tw_upstream_shared sh[3];
	struct tw_upstream *u = group(TW_BALANCE_ROUND_ROBIN, w, NULL, 3, sh);
	int count[3] = { 0 };
	int i;

	(void)state;
	/* nginx's order for 5:1:1, not five a's in a row. */
	for (i = 0; i < 7; i++)
		assert_int_equal(pick(u, 0), order[i]);
	for (i = 0; i < 7000; i++)
		count[pick(u, 0)]++;
	assert_int_equal(count[0], 5000);
	assert_int_equal(count[1], 1000);
	assert_int_equal(count[2], 1000);
	tw_upstream_destroy(u);
}

static void
tried_and_down_servers_are_skipped(void **state)
{
	const unsigned w[] = { 1, 1, 1 };
	struct tw_upstream_shared sh[3];
	struct tw_upstream *u = group(TW_BALANCE_ROUND_ROBIN, w, NULL, 3, sh);
	uint64_t tried = 0;
	int i, a, b, c;

	(void)state;
	/* One request's retries: three different servers, then none. */
	a = tw_upstream_pick(u, NULL, 0, &tried);
	b = tw_upstream_pick(u, NULL, 0, &tried);
	c = tw_upstream_pick(u, NULL, 0, &tried);
	assert_true(a != b && b != c && a != c);
	assert_int_equal(tried, 7);
	assert_int_equal(tw_upstream_pick(u, NULL, 0, &tried), -1);
	/* max_fails 1: one failure takes server 1 out for 10 s. */
	tw_upstream_report(u, 1, false, 1000);
	assert_false(tw_upstream_usable(u, 1, 1000));
	for (i = 0; i < 100; i++)
		assert_int_not_equal(pick(u, 5000), 1);
	assert_true(tw_upstream_usable(u, 1, 11000));
	for (i = 0; i < 3; i++)
		if (pick(u, 11000) == 1)
			break;
	assert_true(i < 3);
	/* An active check's verdict too. */
	tw_upstream_set_check_down(u, 2, true);
	for (i = 0; i < 100; i++)
		assert_int_not_equal(pick(u, 20000), 2);
	tw_upstream_set_check_down(u, 2, false);
	assert_true(tw_upstream_usable(u, 2, 20000));
	tw_upstream_destroy(u);
}

static void
all_down_gives_none(void **state)
{
	const unsigned w[] = { 1, 2 };
	struct tw_upstream_shared sh[2];
	enum tw_balance m;

	(void)state;
	for (m = 0; m < TW_BALANCE_COUNT; m++) {
		struct tw_upstream *u = group(m, w, NULL, 2, sh);
		const uint8_t ip[4] = { 10, 0, 0, 1 };
		struct tw_upstream_key k = { .addr = ip, .addr_len = 4,
					     .key = "/x", .key_len = 2 };
		uint64_t tried = 0;

		tw_upstream_report(u, 0, false, 0);
		tw_upstream_set_check_down(u, 1, true);
		assert_int_equal(tw_upstream_pick(u, &k, 1, &tried), -1);
		assert_int_equal(tried, 0);
		tw_upstream_destroy(u);
	}
}

static void
backups_only_when_no_primary(void **state)
{
	const unsigned w[] = { 1, 1, 1 };
	const bool backup[] = { false, false, true };
	struct tw_upstream_shared sh[3];
	enum tw_balance m;
	int i;

	(void)state;
	for (m = 0; m < TW_BALANCE_COUNT; m++) {
		struct tw_upstream *u = group(m, w, backup, 3, sh);
		char key[16];

		for (i = 0; i < 300; i++) {
			snprintf(key, sizeof(key), "/k%d", i);
			assert_int_not_equal(pick_key(u, key, 0), 2);
		}
		tw_upstream_report(u, 0, false, 0);
		for (i = 0; i < 300; i++) {
			snprintf(key, sizeof(key), "/k%d", i);
			assert_int_equal(pick_key(u, key, 1), 1);
		}
		tw_upstream_report(u, 1, false, 0);
		for (i = 0; i < 30; i++)
			assert_int_equal(pick_key(u, "/k", 2), 2);
		/* The primaries back: the backup rests again. */
		for (i = 0; i < 30; i++)
			assert_int_not_equal(pick_key(u, "/k", 10000), 2);
		tw_upstream_destroy(u);
	}
}

static void
least_conn_follows_load_per_weight(void **state)
{
	const unsigned w[] = { 1, 2, 1 };
	struct tw_upstream_shared sh[3];
	struct tw_upstream *u = group(TW_BALANCE_LEAST_CONN, w, NULL, 3, sh);
	int count[3] = { 0 };
	int i, s;

	(void)state;
	/* Busy 0 and 2 (3 each), 1 at 4 for weight 2: 1 has the least. */
	for (i = 0; i < 3; i++) {
		tw_upstream_acquire(u, 0);
		tw_upstream_acquire(u, 2);
	}
	for (i = 0; i < 4; i++)
		tw_upstream_acquire(u, 1);
	assert_int_equal(pick(u, 0), 1);
	/* Requests that stay: each goes to the least loaded for its
	 * weight, so the counts end in the ratio of the weights. */
	for (i = 0; i < 3998; i++) {
		s = pick(u, 0);
		tw_upstream_acquire(u, s);
	}
	assert_int_equal(atomic_load(&sh[0].active) * 2,
			 atomic_load(&sh[1].active));
	assert_int_equal(atomic_load(&sh[0].active),
			 atomic_load(&sh[2].active));
	/* Requests that end at once: every server idle, ties go round by
	 * weight. */
	for (i = 0; i < 3; i++)
		while (atomic_load(&sh[i].active) > 0)
			tw_upstream_release(u, i);
	for (i = 0; i < 4000; i++) {
		s = pick(u, 0);
		count[s]++;
		tw_upstream_acquire(u, s);
		tw_upstream_release(u, s);
	}
	assert_int_equal(count[0], 1000);
	assert_int_equal(count[1], 2000);
	assert_int_equal(count[2], 1000);
	tw_upstream_destroy(u);
}

static void
ip_hash_keeps_a_client_and_spreads_many(void **state)
{
	const unsigned w[] = { 1, 1, 1 };
	struct tw_upstream_shared sh[3];
	struct tw_upstream *u = group(TW_BALANCE_IP_HASH, w, NULL, 3, sh);
	int count[3] = { 0 }, before[NKEYS / 10];
	uint8_t ip[4];
	int i, s;

	(void)state;
	/* Same /24, same server: the last byte does not count. */
	ip[0] = 192; ip[1] = 0; ip[2] = 2;
	ip[3] = 1;
	s = pick_ip(u, ip, 4);
	for (i = 0; i < 256; i++) {
		ip[3] = (uint8_t)i;
		assert_int_equal(pick_ip(u, ip, 4), s);
	}
	for (i = 0; i < NKEYS / 10; i++) {
		ip[0] = 10; ip[1] = (uint8_t)(i >> 8); ip[2] = (uint8_t)i;
		before[i] = pick_ip(u, ip, 4);
		count[before[i]]++;
	}
	for (i = 0; i < 3; i++) {
		assert_true(count[i] > NKEYS / 30 * 90 / 100);
		assert_true(count[i] < NKEYS / 30 * 110 / 100);
	}
	/* Server 0 down: its clients move, nobody else's does. */
	tw_upstream_set_check_down(u, 0, true);
	for (i = 0; i < NKEYS / 10; i++) {
		ip[0] = 10; ip[1] = (uint8_t)(i >> 8); ip[2] = (uint8_t)i;
		s = pick_ip(u, ip, 4);
		assert_int_not_equal(s, 0);
		if (before[i] != 0)
			assert_int_equal(s, before[i]);
	}
	tw_upstream_destroy(u);
}

static void
hash_spreads_by_weight(void **state)
{
	const unsigned w[] = { 3, 1 };
	struct tw_upstream_shared sh[2];
	struct tw_upstream *u = group(TW_BALANCE_HASH, w, NULL, 2, sh);
	int count[2] = { 0 };
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "/file/%d.html", i);
		count[pick_key(u, key, 0)]++;
		/* A key always lands on the same server. */
		assert_int_equal(pick_key(u, key, 0), pick_key(u, key, 0));
	}
	assert_true(count[0] > NKEYS * 3 / 4 * 97 / 100);
	assert_true(count[0] < NKEYS * 3 / 4 * 103 / 100);
	tw_upstream_destroy(u);
}

static void
consistent_hash_moves_only_the_removed_servers_keys(void **state)
{
	const unsigned w[] = { 1, 1, 1, 1, 1 };
	struct tw_upstream_shared sh5[5], sh4[4];
	struct tw_upstream *five = group(TW_BALANCE_HASH_CONSISTENT, w, NULL,
					 5, sh5);
	struct tw_upstream *four = group(TW_BALANCE_HASH_CONSISTENT, w, NULL,
					 4, sh4);
	int *at = calloc(NKEYS, sizeof(*at));
	int count[5] = { 0 }, moved = 0;
	char key[32];
	int i, s;

	(void)state;
	assert_non_null(at);
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "/img/%d.png", i);
		at[i] = pick_key(five, key, 0);
		count[at[i]]++;
	}
	for (i = 0; i < 5; i++) {
		assert_true(count[i] > NKEYS / 5 * 85 / 100);
		assert_true(count[i] < NKEYS / 5 * 115 / 100);
	}
	/* Server e removed from the configuration (the four-server group
	 * has the same names but e): only e's keys move, about 1/5. */
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "/img/%d.png", i);
		s = pick_key(four, key, 0);
		if (at[i] != 4)
			assert_int_equal(s, at[i]);
		else
			moved++;
	}
	assert_int_equal(moved, count[4]);
	assert_true(moved < NKEYS / 5 * 115 / 100);
	/* e down instead of removed: the same keys go the same way. */
	tw_upstream_set_check_down(five, 4, true);
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "/img/%d.png", i);
		assert_int_equal(pick_key(five, key, 0),
				 pick_key(four, key, 0));
	}
	free(at);
	tw_upstream_destroy(five);
	tw_upstream_destroy(four);
}

static void
consistent_hash_follows_weights(void **state)
{
	const unsigned w[] = { 2, 1, 1 };
	struct tw_upstream_shared sh[3];
	struct tw_upstream *u = group(TW_BALANCE_HASH_CONSISTENT, w, NULL,
				      3, sh);
	int count[3] = { 0 };
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		count[pick_key(u, key, 0)]++;
	}
	assert_true(count[0] > NKEYS / 2 * 90 / 100);
	assert_true(count[0] < NKEYS / 2 * 110 / 100);
	tw_upstream_destroy(u);
}

static void
passive_health_counts_within_the_window(void **state)
{
	struct tw_upstream_server_conf c = { .name = "a:80", .weight = 1,
		.max_fails = 3, .fail_timeout_ms = 10000 };
	struct tw_upstream_shared sh[1] = { 0 };
	struct tw_upstream *u;
	int err;

	(void)state;
	u = tw_upstream_create(&c, 1, TW_BALANCE_ROUND_ROBIN, sh, &err);
	assert_non_null(u);
	/* Two failures, then a success: the count starts again. */
	tw_upstream_report(u, 0, false, 100);
	tw_upstream_report(u, 0, false, 200);
	tw_upstream_report(u, 0, true, 300);
	tw_upstream_report(u, 0, false, 400);
	tw_upstream_report(u, 0, false, 500);
	assert_true(tw_upstream_usable(u, 0, 600));
	/* Failures further apart than fail_timeout never add up to 3. */
	tw_upstream_report(u, 0, false, 20000);
	tw_upstream_report(u, 0, false, 40000);
	tw_upstream_report(u, 0, false, 60000);
	assert_true(tw_upstream_usable(u, 0, 60001));
	/* Three within it: out for fail_timeout from the third. */
	tw_upstream_report(u, 0, false, 71000);
	tw_upstream_report(u, 0, false, 72000);
	assert_true(tw_upstream_usable(u, 0, 72001));
	tw_upstream_report(u, 0, false, 73000);
	assert_false(tw_upstream_usable(u, 0, 73000));
	assert_int_equal(pick(u, 82999), -1);
	assert_true(tw_upstream_usable(u, 0, 83000));
	assert_int_equal(pick(u, 83000), 0);
	/* max_fails 0: failures never take it out. */
	tw_upstream_destroy(u);
	c.max_fails = 0;
	memset(sh, 0, sizeof(sh));
	u = tw_upstream_create(&c, 1, TW_BALANCE_ROUND_ROBIN, sh, &err);
	assert_non_null(u);
	for (int i = 0; i < 100; i++)
		tw_upstream_report(u, 0, false, 100);
	assert_true(tw_upstream_usable(u, 0, 100));
	tw_upstream_destroy(u);
}

/*
 * The active check's "up again" ends a passive mark (a restarted server
 * is not kept out for the rest of fail_timeout); a check that only says
 * "still up" leaves the passive mark alone.
 */
static void
check_recovery_ends_passive_mark(void **state)
{
	struct tw_upstream_server_conf c = { .name = "a:80", .weight = 1,
		.max_fails = 1, .fail_timeout_ms = 10000 };
	struct tw_upstream_shared sh[1] = { 0 };
	struct tw_upstream *u;
	int err;

	(void)state;
	u = tw_upstream_create(&c, 1, TW_BALANCE_ROUND_ROBIN, sh, &err);
	assert_non_null(u);
	tw_upstream_report(u, 0, false, 1000);
	assert_false(tw_upstream_usable(u, 0, 1001));
	tw_upstream_set_check_down(u, 0, false);	/* was up: no change */
	assert_false(tw_upstream_usable(u, 0, 1002));
	tw_upstream_set_check_down(u, 0, true);
	assert_false(tw_upstream_usable(u, 0, 1003));
	tw_upstream_set_check_down(u, 0, false);	/* back up */
	assert_true(tw_upstream_usable(u, 0, 1004));
	assert_int_equal(pick(u, 1004), 0);
	tw_upstream_destroy(u);
}

static void
bad_groups_are_refused(void **state)
{
	struct tw_upstream_server_conf c[TW_UPSTREAM_MAX_SERVERS + 1];
	struct tw_upstream_shared sh[TW_UPSTREAM_MAX_SERVERS + 1];
	size_t i;
	int err = 0;

	(void)state;
	memset(sh, 0, sizeof(sh));
	for (i = 0; i <= TW_UPSTREAM_MAX_SERVERS; i++)
		c[i] = (struct tw_upstream_server_conf){ .name = "x:1",
							 .weight = 1 };
	assert_null(tw_upstream_create(c, 0, TW_BALANCE_ROUND_ROBIN, sh,
				       &err));
	assert_int_equal(err, -EINVAL);
	assert_null(tw_upstream_create(c, TW_UPSTREAM_MAX_SERVERS + 1,
				       TW_BALANCE_ROUND_ROBIN, sh, &err));
	assert_int_equal(err, -EINVAL);
	c[1].weight = 0;
	assert_null(tw_upstream_create(c, 2, TW_BALANCE_ROUND_ROBIN, sh,
				       &err));
	assert_int_equal(err, -EINVAL);
	c[1].weight = 1;
	assert_null(tw_upstream_create(c, 2, TW_BALANCE_COUNT, sh, &err));
	assert_int_equal(err, -EINVAL);
	/* Sixty-four is allowed, and every one can be tried. */
	{
		struct tw_upstream *u = tw_upstream_create(c,
			TW_UPSTREAM_MAX_SERVERS, TW_BALANCE_ROUND_ROBIN, sh,
			&err);
		uint64_t tried = 0;

		assert_non_null(u);
		for (i = 0; i < TW_UPSTREAM_MAX_SERVERS; i++)
			assert_true(tw_upstream_pick(u, NULL, 0, &tried) >= 0);
		assert_int_equal(tried, UINT64_MAX);
		assert_int_equal(tw_upstream_pick(u, NULL, 0, &tried), -1);
		tw_upstream_destroy(u);
	}
	assert_string_equal(tw_balance_names[TW_BALANCE_LEAST_CONN],
			    "least_conn");
	assert_null(tw_balance_names[TW_BALANCE_COUNT]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rr_is_smooth_and_exact),
		cmocka_unit_test(tried_and_down_servers_are_skipped),
		cmocka_unit_test(all_down_gives_none),
		cmocka_unit_test(backups_only_when_no_primary),
		cmocka_unit_test(least_conn_follows_load_per_weight),
		cmocka_unit_test(ip_hash_keeps_a_client_and_spreads_many),
		cmocka_unit_test(hash_spreads_by_weight),
		cmocka_unit_test(consistent_hash_moves_only_the_removed_servers_keys),
		cmocka_unit_test(consistent_hash_follows_weights),
		cmocka_unit_test(passive_health_counts_within_the_window),
		cmocka_unit_test(check_recovery_ends_passive_mark),
		cmocka_unit_test(bad_groups_are_refused),
	};

	return cmocka_run_group_tests_name("upstream", tests, NULL, NULL);
}
