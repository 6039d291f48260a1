# SPDX-License-Identifier: MIT
"""Sandboxed workers (issue 16): every serving loop enters Landlock,
seccomp and no_new_privs (run/sandbox), while the process or thread that
reloads, upgrades and cleans up stays outside. In each mode (epoll,
prefork -w 2, threads -w 2):

- the serving tasks show Seccomp: 2 and NoNewPrivs: 1 in /proc, the
  master (prefork) or main thread (epoll, threads) 0 and 0; with
  --sandbox off, every task shows 0; the start-up log says what was
  applied;
- a symlink inside the root to a file outside it, with --symlinks
  always, is 403 under the sandbox and 200 with --sandbox off
  (Landlock, not the server's own checks, refuses it);
- a system call off the seccomp list, made from a serving thread by the
  fault library's probe, fails with ENOSYS and is logged, and the
  request is still answered; with --sandbox off it succeeds;
- a HUP reload onto a root outside the old one serves the new root;
  a USR2 upgrade starts a sandboxed new process; USR1 re-opens a
  rotated access log;
- the proxy connects to its upstream (Landlock's network rules allow
  the upstream ports).

Tests that need Landlock skip with a message where the kernel lacks it.
These tests pick their modes themselves ($TINYWEB_MODE_ARGS ignored).
"""

import ctypes
import os
import re
import shutil
import signal
import time
import unittest

import harness
from harness import (alive, get, make_tree, process_tree, read_pid, start,
                     unique_tmpdir, wait_until, Symlink)

MODES = {
    "epoll": ["-m", "epoll"],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}
SECRET = b"outside every root\n"
FAULT_LIB = os.path.join(harness.REPO, "build", "test", "libfault.so")
SYS_landlock_create_ruleset = 444	# the same on every architecture
# The probe's call, as the refusal line numbers it.
SYS_GETPPID = {"x86_64": 110, "aarch64": 173}.get(os.uname().machine, -1)


def start_conf(conf, *args):
    """`tinyweb serve -c CONF ARGS`: the root is the file's, so that a
    reload can change it."""
    orig = harness.tinyweb_cmd

    def cmd(*a):
        a = list(a)
        del a[1]	# ["serve", ROOT, ...]: no ROOT
        return orig(*a)

    harness.tinyweb_cmd = cmd
    saved, harness.MODE_ARGS = harness.MODE_ARGS, []
    try:
        return harness.Server("-", "-c", conf, *args)
    finally:
        harness.tinyweb_cmd = orig
        harness.MODE_ARGS = saved


def landlock_abi():
    """The kernel's Landlock ABI, or 0 without Landlock."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    libc.syscall.restype = ctypes.c_long
    r = libc.syscall(ctypes.c_long(SYS_landlock_create_ruleset), None,
                     ctypes.c_size_t(0), ctypes.c_uint32(1))
    return r if r > 0 else 0


ABI = landlock_abi()
needs_landlock = unittest.skipUnless(
    ABI > 0, "the kernel has no Landlock (Linux 5.13+ with landlock in "
    "its lsm list): nothing confines the file system")


def task_status(pid, tid):
    """(Seccomp, NoNewPrivs) of one task, or None if it has gone."""
    try:
        with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
            text = f.read()
    except OSError:
        return None
    sec = re.search(r"^Seccomp:\s+(\d+)", text, re.M)
    nnp = re.search(r"^NoNewPrivs:\s+(\d+)", text, re.M)
    return (int(sec.group(1)) if sec else None,
            int(nnp.group(1)) if nnp else None)


def tasks(pid):
    try:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return []


def outside_and_inside(pid, mode):
    """The tasks that must stay outside the sandbox and those that serve:
    prefork's master and its workers' tasks; epoll's and threads' main
    thread and the other threads (loops and their aio pools)."""
    if mode == "prefork":
        inside = [(c, t) for c in process_tree(pid)[1:] if alive(c)
                  for t in tasks(c)]
        return [(pid, t) for t in tasks(pid)], inside
    ts = tasks(pid)
    return [(pid, pid)], [(pid, t) for t in ts if t != pid]


class SandboxCase(unittest.TestCase):
    def setUp(self):
        self.tmp = unique_tmpdir("tinyweb-sandbox-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        make_tree(self.tmp, {
            "root": {"a.txt": b"inside\n",
                     "out.txt": Symlink("../secret.txt")},
            "other": {"b.txt": b"other root\n"},
            "secret.txt": SECRET,
        })
        self.root = os.path.join(self.tmp, "root")
        self.extra_pids = []
        self.addCleanup(self.stop_extra)

    def p(self, *parts):
        return os.path.join(self.tmp, *parts)

    def stop_extra(self):
        for pid in self.extra_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                continue
            wait_until(lambda: not alive(pid), 5.0)

    def start(self, mode, *args, **kw):
        return start(self.root, *MODES[mode], *args, modes=False, **kw)

    def assertServes(self, port, target, body):
        r = get(port, target)
        self.assertEqual((r.status, r.body), (200, body), r.describe())


class TestApplied(SandboxCase):
    def check_applied(self, mode):
        with self.start(mode) as s:
            self.assertServes(s.port, "/a.txt", b"inside\n")
            # Prefork: two workers, each a loop and 4 aio threads; epoll:
            # the loop's thread and its 4; threads: 2 x 5.
            want = 10 if mode != "epoll" else 5

            def statuses():
                return [task_status(p, t)
                        for p, t in outside_and_inside(s.pid, mode)[1]]
            # A worker just forked has not set up its loop yet: wait
            # until every one has.
            ok = wait_until(lambda: len(statuses()) >= want and
                            set(statuses()) == {(2, 1)}, 5.0)
            self.assertTrue(ok, "%s: serving tasks' (Seccomp, NoNewPrivs) "
                            "%r" % (mode, statuses()))
            outside, inside = outside_and_inside(s.pid, mode)
            for pid, tid in outside:
                self.assertEqual(task_status(pid, tid), (0, 0),
                                 "%s: the task that reloads (%d) is "
                                 "sandboxed" % (mode, tid))
            err = s.stderr_text()
        line = re.search(r"sandbox: .*", err)
        self.assertIsNotNone(line, err)
        if ABI > 0:
            self.assertRegex(line.group(0), r"^sandbox: landlock ABI %d "
                             r"\(fs.*\); seccomp on; no new privileges$"
                             % ABI)
        else:
            self.assertRegex(line.group(0), r"^sandbox: no landlock")

    def test_applied_epoll(self):
        self.check_applied("epoll")

    def test_applied_prefork(self):
        self.check_applied("prefork")

    def test_applied_threads(self):
        self.check_applied("threads")

    def test_off_applies_nothing(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                with self.start(mode, "--sandbox", "off") as s:
                    self.assertServes(s.port, "/a.txt", b"inside\n")
                    outside, inside = outside_and_inside(s.pid, mode)
                    for pid, tid in outside + inside:
                        st = task_status(pid, tid)
                        if st is not None:
                            self.assertEqual(st, (0, 0), "%s: task %d"
                                             % (mode, tid))
                    # Each prefork worker says it as its loop starts,
                    # which may come after another worker's answer.
                    wait_until(lambda: "sandbox: off" in s.stderr_text(),
                               5.0)
                    err = s.stderr_text()
                self.assertIn("sandbox: off", err)


class TestFiles(SandboxCase):
    @needs_landlock
    def test_symlink_out_of_the_root(self):
        """--symlinks always lets the server follow the link; only
        Landlock stands between the worker and the file."""
        for mode in MODES:
            with self.subTest(mode=mode, sandbox="on"):
                with self.start(mode, "--symlinks", "always") as s:
                    self.assertServes(s.port, "/a.txt", b"inside\n")
                    r = get(s.port, "/out.txt")
                    self.assertEqual(r.status, 403, r.describe())
                    self.assertNotIn(SECRET, r.body)
            with self.subTest(mode=mode, sandbox="off"):
                with self.start(mode, "--symlinks", "always",
                                "--sandbox", "off") as s:
                    self.assertServes(s.port, "/out.txt", SECRET)

    def test_reload_onto_another_root(self):
        """The new root lies outside the old one: the process (epoll,
        threads) or the workers (prefork) that serve it are sandboxed to
        it by a reload, from outside the old sandbox."""
        for mode in MODES:
            with self.subTest(mode=mode):
                self.reload_case(mode)

    def reload_case(self, mode):
        conf = self.p("tw-%s.conf" % mode)
        pidfile = self.p("tw-%s.pid" % mode)
        with open(conf, "w") as f:
            f.write("root %s;\n" % self.root)
        s = start_conf(conf, *MODES[mode], "--pidfile", pidfile,
                       "--error-log", self.p("error-%s.log" % mode))
        try:
            self.assertServes(s.port, "/a.txt", b"inside\n")
            with open(conf, "w") as f:
                f.write("root %s;\n" % self.p("other"))
            s.send_signal(signal.SIGHUP)
            # Until the old generation stops accepting, either may
            # answer (prefork): wait for the new root several times in
            # a row.
            ok = wait_until(lambda: all(get(s.port, "/b.txt").status == 200
                                        for _ in range(8)), 10.0)
            self.assertTrue(ok, "%s: the new root is not served after "
                            "HUP\n%s" % (mode, open(self.p(
                                "error-%s.log" % mode)).read()))
            self.assertServes(s.port, "/b.txt", b"other root\n")
            self.assertEqual(get(s.port, "/a.txt").status, 404)
            pid = read_pid(pidfile)
            if mode == "prefork":
                self.assertEqual(pid, s.pid)
                s.stop()
                return
            self.assertNotEqual(pid, s.pid)
            self.extra_pids.append(pid)
            self.assertEqual(s.wait_exit(10.0), 0, "%s: the old process"
                             % mode)
            # The new process serves from its own sandbox.
            _, inside = outside_and_inside(pid, mode)
            self.assertTrue(inside)
            self.assertEqual(task_status(*inside[0]), (2, 1))
        finally:
            if s.alive():
                s.stop()

    def test_usr1_reopens_a_rotated_log(self):
        """The loop re-opens the access log under the sandbox (prefork
        workers and epoll's loop do it themselves): creating the file in
        its directory is allowed."""
        for mode in MODES:
            with self.subTest(mode=mode):
                log = self.p("access-%s.log" % mode)
                with self.start(mode, "--access-log", log) as s:
                    self.assertServes(s.port, "/a.txt", b"inside\n")
                    self.assertTrue(wait_until(
                        lambda: os.path.getsize(log) > 0, 3.0))
                    os.rename(log, log + ".1")
                    s.send_signal(signal.SIGUSR1)
                    self.assertTrue(wait_until(
                        lambda: os.path.exists(log), 5.0),
                        "%s: no new log after USR1" % mode)

                    def logged():
                        get(s.port, "/a.txt?after")
                        with open(log, "rb") as f:
                            return b"/a.txt?after" in f.read()
                    # Prefork: every worker re-opens, each on its own.
                    self.assertTrue(wait_until(logged, 5.0),
                                    "%s: nothing in the new log" % mode)
                    err = s.stderr_text()
                self.assertNotIn("re-opening the logs failed", err)


class TestUpgrade(SandboxCase):
    def test_usr2_upgrade(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                pidfile = self.p("tw-%s.pid" % mode)
                s = self.start(mode, "--pidfile", pidfile)
                try:
                    s.send_signal(signal.SIGUSR2)
                    new = wait_until(lambda: read_pid(pidfile) not in
                                     (None, s.pid) and read_pid(pidfile),
                                     10.0)
                    self.assertTrue(new, "%s: no new process" % mode)
                    self.extra_pids.append(new)
                    s.send_signal(signal.SIGQUIT)
                    self.assertEqual(s.wait_exit(10.0), 0)
                    self.assertServes(s.port, "/a.txt", b"inside\n")
                    inside = wait_until(
                        lambda: outside_and_inside(new, mode)[1], 5.0)
                    self.assertTrue(inside)
                    self.assertEqual(task_status(*inside[0]), (2, 1))
                finally:
                    if s.alive():
                        s.stop()


class TestSyscalls(SandboxCase):
    @unittest.skipUnless(os.path.exists(FAULT_LIB), "build/test/libfault.so "
                         "is not built (make fault-lib)")
    @unittest.skipIf("asan" in os.path.basename(harness.BIN),
                     "the fault library cannot be preloaded before the "
                     "ASan runtime")
    def test_refused_call_fails_and_is_logged(self):
        """The fault library's probe makes getppid(), which serving never
        needs, from the loop that reads a request."""
        for mode in MODES:
            for sandbox in ("on", "off"):
                with self.subTest(mode=mode, sandbox=sandbox):
                    self.probe(mode, sandbox)

    def probe(self, mode, sandbox):
        flog = self.p("faults-%s-%s" % (mode, sandbox))
        arm = self.p("arm-%s-%s" % (mode, sandbox))
        env = dict(os.environ, LD_PRELOAD=FAULT_LIB,
                   TW_FAULT="reads:sock=probe@always", TW_FAULT_ARM=arm,
                   TW_FAULT_LOG=flog)
        s = self.start(mode, "--sandbox", sandbox, env=env)
        try:
            open(arm, "w").close()
            self.assertServes(s.port, "/a.txt", b"inside\n")
            os.unlink(arm)
            with open(flog) as f:
                probes = set(re.findall(r"probe (\w+)", f.read()))
            want = "ENOSYS" if sandbox == "on" else "ok"
            self.assertEqual(probes, {want}, mode)
        finally:
            s.send_signal(signal.SIGTERM)
            self.assertEqual(s.wait_exit(5.0), 0)
        err = s.stderr_text()
        refused = re.findall(r"sandbox: system call (\d+) refused", err)
        if sandbox == "on":
            self.assertTrue(refused, err)
            self.assertEqual(set(refused), {str(SYS_GETPPID)}, err)
        else:
            self.assertEqual(refused, [], err)


class TestProxy(SandboxCase):
    def test_proxy_reaches_its_upstream(self):
        """Landlock's network rules (ABI 4) allow connecting to the
        upstream's port; the start-up line counts it."""
        from test_proxy import Proxy
        with start(self.root, modes=False) as up:
            url = "http://127.0.0.1:%d" % up.port
            for mode in MODES:
                with self.subTest(mode=mode):
                    with Proxy([url], *MODES[mode]) as px:
                        self.assertServes(px.port, "/a.txt", b"inside\n")
                        err = px.stderr_text()
                    if ABI >= 4:
                        self.assertIn("network: connect to 1 port,", err)


if __name__ == "__main__":
    unittest.main()
