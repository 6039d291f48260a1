/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for shmtx, the accept mutex: mutual exclusion between real
 * processes (four forked children increment a plain, non-atomic counter in
 * shared memory under the lock; a single lost update shows in the total),
 * for the atomic, the fcntl file and the semaphore variants (whose
 * children sleep on the semaphore when they miss); trylock never blocks and
 * fails while anyone holds the lock, the holder included; unlock by a
 * non-owner does nothing; force_unlock frees only a dead owner's lock; the
 * kernel drops a dead process's file lock; init_file leaves no file
 * behind and reports bad directories; an unlock posts the semaphore
 * exactly when someone sleeps on it, a sleeper gets the lock when it is
 * dropped, and a wait on a held lock ends empty-handed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/shm.h"
#include "base/shmtx.h"

#define NCHILD 4

/* What the children share: the lock word and the counter it protects,
 * on separate cache lines. */
struct shared {
	_Atomic int32_t lock;
	char pad[60];
	long counter;
	char pad2[56];
	struct tw_shmtx_sleep sleep;
};

static struct shared *
shared_new(struct tw_shm_header **shm)
{
	int err = 0;

	*shm = tw_shm_create(sizeof(struct shared), &err);
	assert_non_null(*shm);
	assert_int_equal(err, 0);
	return tw_shm_data(*shm);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child: iters times take the lock (spinning, yielding so a preempted
 * holder gets the CPU back), bump the counter in two plain steps, release.
 * Exits 0; 2 if the lock let it in while held (the counter's low bit
 * tracks the "inside" flag: odd means someone is inside); 4 if it could
 * not get the lock for 20 s (a broken lock must fail the test, not hang
 * it). */
static void
child_loop(struct tw_shmtx *m, struct shared *sh, int iters)
{
	/* The semaphore variant sleeps instead of yielding. */
	bool sleepy = m->sleep != NULL;
	int32_t me = (int32_t)getpid();
	double deadline = now_s() + 20;
	unsigned long spins = 0;
	int i;

	for (i = 0; i < iters; i++) {
		long v;

		while (!(sleepy ? tw_shmtx_wait(m, me, 1000) :
				  tw_shmtx_trylock(m, me))) {
			if ((sleepy || ++spins % 1024 == 0) &&
			    now_s() > deadline)
				_exit(4);
			if (!sleepy)
				sched_yield();
		}
		v = sh->counter;
		if (v & 1) {
			tw_shmtx_unlock(m, me);
			_exit(2);
		}
		sh->counter = v + 1;	/* odd: inside */
		if (i % 64 == 0)
			sched_yield();	/* invite the others in, if they can */
		v = sh->counter;
		sh->counter = v + 1;	/* even again */
		tw_shmtx_unlock(m, me);
	}
	_exit(0);
}

static void
run_children(struct tw_shmtx *m, struct shared *sh, int iters)
{
	pid_t pids[NCHILD];
	int i, status;

	for (i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child_loop(m, sh, iters);
	}
	for (i = 0; i < NCHILD; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* Two increments per iteration. */
	assert_int_equal(sh->counter, 2L * NCHILD * iters);
}

static void
shmtx_atomic_contention_loses_nothing(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;

	(void)state;
	tw_shmtx_init_atomic(&m, &sh->lock);
	run_children(&m, sh, 20000);
	assert_int_equal(atomic_load(&sh->lock), 0);
	/* Free after all that: the parent can take it. */
	assert_true(tw_shmtx_trylock(&m, 1));
	tw_shmtx_unlock(&m, 1);
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static void
shmtx_file_contention_loses_nothing(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;

	(void)state;
	assert_int_equal(tw_shmtx_init_file(&m, "/tmp"), 0);
	assert_true(m.fd >= 0);
	run_children(&m, sh, 2000);
	assert_true(tw_shmtx_trylock(&m, 1));
	tw_shmtx_unlock(&m, 1);
	tw_shmtx_destroy(&m);
	assert_int_equal(m.fd, -1);
	tw_shm_destroy(shm);
}

static void
shmtx_sem_contention_loses_nothing(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;

	(void)state;
	assert_int_equal(tw_shmtx_init_sem(&m, &sh->lock, &sh->sleep), 0);
	run_children(&m, sh, 20000);
	assert_int_equal(atomic_load(&sh->lock), 0);
	assert_int_equal(atomic_load(&sh->sleep.waiters), 0);
	assert_true(tw_shmtx_trylock(&m, 1));
	tw_shmtx_unlock(&m, 1);
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static int
sem_value(struct tw_shmtx_sleep *sl)
{
	int v = -1;

	assert_int_equal(sem_getvalue(&sl->sem, &v), 0);
	return v;
}

static void
shmtx_sem_unlock_posts_only_for_sleepers(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;

	(void)state;
	assert_int_equal(tw_shmtx_init_sem(&m, &sh->lock, &sh->sleep), 0);
	/* Nobody sleeps: an unlock posts nothing. */
	assert_true(tw_shmtx_trylock(&m, 7));
	tw_shmtx_unlock(&m, 7);
	assert_int_equal(sem_value(&sh->sleep), 0);
	/* Someone sleeps: the unlock posts once. */
	atomic_store(&sh->sleep.waiters, 1);
	assert_true(tw_shmtx_trylock(&m, 7));
	tw_shmtx_unlock(&m, 7);
	assert_int_equal(sem_value(&sh->sleep), 1);
	/* A non-owner's unlock releases nothing and posts nothing. */
	assert_true(tw_shmtx_trylock(&m, 7));
	tw_shmtx_unlock(&m, 8);
	assert_int_equal(sem_value(&sh->sleep), 1);
	/* A dead owner's lock freed by the master wakes a sleeper too. */
	assert_true(tw_shmtx_force_unlock(&m, 7));
	assert_int_equal(sem_value(&sh->sleep), 2);
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static void
shmtx_sem_sleeper_gets_the_dropped_lock(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;
	double deadline;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(tw_shmtx_init_sem(&m, &sh->lock, &sh->sleep), 0);
	assert_true(tw_shmtx_trylock(&m, (int32_t)getpid()));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(tw_shmtx_wait(&m, (int32_t)getpid(), 20000) ? 0 : 3);
	/* Drop the lock only once the child sleeps on it. */
	deadline = now_s() + 20;
	while (atomic_load(&sh->sleep.waiters) == 0 && now_s() < deadline)
		sched_yield();
	assert_int_equal(atomic_load(&sh->sleep.waiters), 1);
	tw_shmtx_unlock(&m, (int32_t)getpid());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* It left holding it, and stopped counting itself a sleeper. */
	assert_int_equal(atomic_load(&sh->lock), pid);
	assert_int_equal(atomic_load(&sh->sleep.waiters), 0);
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static void
shmtx_sem_wait_on_held_lock_ends_empty(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;

	(void)state;
	assert_int_equal(tw_shmtx_init_sem(&m, &sh->lock, &sh->sleep), 0);
	assert_true(tw_shmtx_trylock(&m, 5));
	assert_false(tw_shmtx_wait(&m, 6, 20));
	assert_false(tw_shmtx_wait(&m, 6, 0));
	assert_int_equal(atomic_load(&sh->lock), 5);
	assert_int_equal(atomic_load(&sh->sleep.waiters), 0);
	tw_shmtx_unlock(&m, 5);
	/* Free: the wait takes it at once. */
	assert_true(tw_shmtx_wait(&m, 6, 20));
	tw_shmtx_unlock(&m, 6);
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static void
shmtx_atomic_trylock_fails_while_held(void **state)
{
	_Atomic int32_t word = 12345;	/* init must clear it */
	struct tw_shmtx m;

	(void)state;
	tw_shmtx_init_atomic(&m, &word);
	assert_int_equal(atomic_load(&word), 0);
	assert_int_equal(m.fd, -1);
	assert_true(tw_shmtx_trylock(&m, 7));
	assert_int_equal(atomic_load(&word), 7);
	assert_false(tw_shmtx_trylock(&m, 8));
	/* Not recursive: the holder does not get it twice. */
	assert_false(tw_shmtx_trylock(&m, 7));
	/* Only the owner's unlock counts. */
	tw_shmtx_unlock(&m, 8);
	assert_int_equal(atomic_load(&word), 7);
	assert_false(tw_shmtx_trylock(&m, 9));
	tw_shmtx_unlock(&m, 7);
	assert_int_equal(atomic_load(&word), 0);
	assert_true(tw_shmtx_trylock(&m, 8));
	assert_int_equal(atomic_load(&word), 8);
	tw_shmtx_unlock(&m, 8);
	/* Unlocking a free lock leaves it free. */
	tw_shmtx_unlock(&m, 8);
	assert_int_equal(atomic_load(&word), 0);
	tw_shmtx_destroy(&m);
}

/* A child that takes the lock and dies holding it (no unlock). */
static pid_t
die_holding(struct tw_shmtx *m)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(tw_shmtx_trylock(m, (int32_t)getpid()) ? 0 : 3);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return pid;
}

static void
shmtx_force_unlock_frees_dead_owner_only(void **state)
{
	struct tw_shm_header *shm;
	struct shared *sh = shared_new(&shm);
	struct tw_shmtx m;
	pid_t dead;

	(void)state;
	tw_shmtx_init_atomic(&m, &sh->lock);
	dead = die_holding(&m);
	assert_int_equal(atomic_load(&sh->lock), dead);
	/* The dead owner's lock stays taken until the master frees it. */
	assert_false(tw_shmtx_trylock(&m, (int32_t)getpid()));
	/* Another pid's force_unlock leaves it alone. */
	assert_false(tw_shmtx_force_unlock(&m, dead + 1));
	assert_false(tw_shmtx_force_unlock(&m, (int32_t)getpid()));
	assert_int_equal(atomic_load(&sh->lock), dead);
	assert_true(tw_shmtx_force_unlock(&m, dead));
	assert_int_equal(atomic_load(&sh->lock), 0);
	/* Once is enough: a second one finds nothing to free. */
	assert_false(tw_shmtx_force_unlock(&m, dead));
	assert_true(tw_shmtx_trylock(&m, (int32_t)getpid()));

	/* A live holder's lock is not the dead one's to free. */
	assert_false(tw_shmtx_force_unlock(&m, dead));
	assert_int_equal(atomic_load(&sh->lock), getpid());
	tw_shmtx_unlock(&m, (int32_t)getpid());
	tw_shmtx_destroy(&m);
	tw_shm_destroy(shm);
}

static void
shmtx_file_held_by_other_process(void **state)
{
	struct tw_shmtx m;
	int go[2], held[2], status;
	char c = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(tw_shmtx_init_file(&m, "/tmp"), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(held), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ok;

		/* Only the parent may hold the write end, so that the parent
		 * failing (and exiting) ends the child's wait. */
		close(go[1]);
		ok = tw_shmtx_trylock(&m, (int32_t)getpid());

		(void)!write(held[1], ok ? "y" : "n", 1);
		(void)!read(go[0], &c, 1);
		_exit(0);	/* still holding: the kernel drops it */
	}
	assert_int_equal(read(held[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	/* Held by a live process: fails at once, never waits. */
	assert_false(tw_shmtx_trylock(&m, (int32_t)getpid()));
	/* The file variant has nothing to force. */
	assert_false(tw_shmtx_force_unlock(&m, pid));
	assert_false(tw_shmtx_trylock(&m, (int32_t)getpid()));
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Its owner died, so the lock is free again. */
	assert_true(tw_shmtx_trylock(&m, (int32_t)getpid()));
	tw_shmtx_unlock(&m, (int32_t)getpid());
	close(go[0]);
	close(go[1]);
	close(held[0]);
	close(held[1]);
	tw_shmtx_destroy(&m);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
shmtx_init_file_leaves_no_file(void **state)
{
	char dir[] = "/tmp/test_shmtx-XXXXXX";
	struct tw_shmtx m;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tw_shmtx_init_file(&m, dir), 0);
	assert_null(m.lock);
	assert_true(m.fd > STDERR_FILENO);
	/* Close-on-exec: a worker exec'ing an upgrade must not keep it. */
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(count_entries(dir), 0);
	tw_shmtx_destroy(&m);
	/* Destroy twice is harmless. */
	tw_shmtx_destroy(&m);
	assert_int_equal(rmdir(dir), 0);
}

static void
shmtx_init_file_bad_dir(void **state)
{
	struct tw_shmtx m = { .lock = NULL, .fd = -1 };
	char *longdir;

	(void)state;
	assert_int_equal(tw_shmtx_init_file(&m, "/nonexistent-tinyweb-dir"),
			 -ENOENT);
	assert_int_equal(m.fd, -1);
	longdir = malloc(5000);
	assert_non_null(longdir);
	memset(longdir, 'a', 4999);
	longdir[0] = '/';
	longdir[4999] = '\0';
	assert_int_equal(tw_shmtx_init_file(&m, longdir), -ENAMETOOLONG);
	assert_int_equal(m.fd, -1);
	free(longdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shmtx_atomic_contention_loses_nothing),
		cmocka_unit_test(shmtx_file_contention_loses_nothing),
		cmocka_unit_test(shmtx_sem_contention_loses_nothing),
		cmocka_unit_test(shmtx_sem_unlock_posts_only_for_sleepers),
		cmocka_unit_test(shmtx_sem_sleeper_gets_the_dropped_lock),
		cmocka_unit_test(shmtx_sem_wait_on_held_lock_ends_empty),
		cmocka_unit_test(shmtx_atomic_trylock_fails_while_held),
		cmocka_unit_test(shmtx_force_unlock_frees_dead_owner_only),
		cmocka_unit_test(shmtx_file_held_by_other_process),
		cmocka_unit_test(shmtx_init_file_leaves_no_file),
		cmocka_unit_test(shmtx_init_file_bad_dir),
	};

	return cmocka_run_group_tests_name("shmtx", tests, NULL, NULL);
}
