# SPDX-License-Identifier: MIT
"""--daemon and the pidfile (issue 4): the command returns only once the
server listens (exit 0) or failed (non-zero, the error on stderr); the
daemon is detached (its own session, no terminal, stdin/stdout/stderr on
/dev/null, cwd /); the pidfile holds its pid, is locked against a second
instance, replaces a stale file and goes away on exit; and the control
commands (stop, quit, reload, reopen) with their errors: missing pidfile,
stale pidfile, no pidfile given.

These tests choose their own mode, so $TINYWEB_MODE_ARGS is ignored.
"""

import os
import re
import shutil
import socket
import subprocess
import time
import unittest

import harness
from harness import (alive, free_port, get, kill_naming, proc_stat,
                     read_pid, unique_tmpdir, wait_until)

BODY = b"daemon test file\n"


class DaemonCase(unittest.TestCase):
    def setUp(self):
        self.tmp = unique_tmpdir("tinyweb-daemon-")
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        with open(os.path.join(self.root, "f.txt"), "wb") as f:
            f.write(BODY)
        self.pidfile = os.path.join(self.tmp, "tw.pid")
        self.holders = []

    def tearDown(self):
        # Every process started from this test's directory: the daemons
        # (their command lines name the root and the pidfile in it).
        kill_naming(self.tmp)
        for s in self.holders:
            s.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_tw(self, *args, timeout=15, cwd=None):
        """Run the binary to completion; (rc, stdout, stderr)."""
        try:
            r = subprocess.run([harness.BIN] + list(args),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired as e:
            self.fail("%s did not return within %d s (stderr %r)"
                      % (" ".join(args), timeout, e.stderr))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def daemon(self, port=None, *extra, pidfile=None, cwd=None, root=None):
        """Start a daemon; returns (rc, stderr, port)."""
        port = port or free_port()
        rc, out, err = self.run_tw("serve", root or self.root, "-d", "-q",
                                   "--pidfile", pidfile or self.pidfile,
                                   "-p", str(port), "-b", "127.0.0.1",
                                   *extra, cwd=cwd)
        return rc, err, port

    def where(self, pidfile, cwd):
        return os.path.join(cwd or ".", pidfile or self.pidfile)

    def started(self, *extra, **kw):
        rc, err, port = self.daemon(None, *extra, **kw)
        self.assertEqual(rc, 0, "daemon start failed: %s" % err)
        return port, read_pid(self.where(kw.get("pidfile"), kw.get("cwd")))

    def wait_gone(self, pid, timeout=5):
        self.assertTrue(wait_until(lambda: not alive(pid), timeout),
                        "pid %d still runs" % pid)

    def assertServes(self, port):
        r = get(port, "/f.txt")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, BODY)


class TestDaemon(DaemonCase):
    def test_ready_when_command_returns(self):
        t0 = time.monotonic()
        port, pid = self.started()
        self.assertLess(time.monotonic() - t0, 10)
        # No retry: listening before the command returned.
        self.assertServes(port)
        self.assertIsNotNone(pid, "no pid in the pidfile")
        self.assertTrue(alive(pid))
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(self.root.encode(), f.read())
        rc, out, err = self.run_tw("stop", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        self.wait_gone(pid)
        self.assertFalse(os.path.exists(self.pidfile),
                         "the pidfile outlived the daemon")

    def test_detached_stdio_dev_null_cwd_root(self):
        port, pid = self.started()
        for fd in (0, 1, 2):
            self.assertEqual(os.readlink("/proc/%d/fd/%d" % (pid, fd)),
                             "/dev/null", "fd %d" % fd)
        self.assertEqual(os.readlink("/proc/%d/cwd" % pid), "/")
        st = proc_stat(pid)
        # Fields after the name: state ppid pgrp session tty_nr ...
        ppid, session, tty = int(st[1]), int(st[3]), int(st[4])
        self.assertNotEqual(ppid, os.getpid(), "not detached")
        self.assertNotEqual(session, os.getsid(0), "same session as us")
        self.assertEqual(tty, 0, "the daemon has a controlling terminal")
        # Nothing else open on a terminal either.
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            self.assertFalse(re.match(r"/dev/(pts/|tty)", target),
                             "fd %s -> %s" % (fd, target))
        self.assertServes(port)

    def test_bind_failure_reported(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.holders.append(busy)
        port = busy.getsockname()[1]
        rc, err, _ = self.daemon(port)
        self.assertNotEqual(rc, 0, "started on a port in use")
        self.assertIn(str(port), err)
        self.assertRegex(err, r"(?i)address already in use|cannot listen")
        self.assertFalse(os.path.exists(self.pidfile),
                         "a failed start left its pidfile")
        self.assertIsNone(read_pid(self.pidfile))

    def test_second_instance_refused(self):
        port, pid = self.started()
        with open(self.pidfile) as f:
            before = f.read()
        # As a daemon and in the foreground: both refuse.
        rc, err, _ = self.daemon()
        self.assertEqual(rc, 1, err)
        self.assertIn("already running", err)
        self.assertIn(str(pid), err)
        rc, out, err = self.run_tw("serve", self.root, "-q", "--pidfile",
                                   self.pidfile, "-p", str(free_port()),
                                   "-b", "127.0.0.1", timeout=10)
        self.assertEqual(rc, 1, err)
        self.assertIn("already running", err)
        with open(self.pidfile) as f:
            self.assertEqual(f.read(), before, "the pidfile was touched")
        self.assertTrue(alive(pid))
        self.assertServes(port)

    def test_stale_pidfile_replaced(self):
        # Stale: a file nobody holds the lock of, whatever it says.
        for content in ("999999\n", str(os.getpid()) + "\n", "garbage"):
            with self.subTest(content=content):
                with open(self.pidfile, "w") as f:
                    f.write(content)
                port, pid = self.started()
                self.assertIsNotNone(pid)
                self.assertNotEqual(str(pid), content.strip())
                self.assertServes(port)
                rc, _, err = self.run_tw("stop", "--pidfile", self.pidfile)
                self.assertEqual(rc, 0, err)
                self.wait_gone(pid)
                self.assertFalse(os.path.exists(self.pidfile))

    def test_quit_removes_pidfile(self):
        port, pid = self.started()
        rc, _, err = self.run_tw("quit", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        self.wait_gone(pid)
        self.assertFalse(os.path.exists(self.pidfile))

    def test_relative_pidfile_survives_chdir(self):
        # The daemon moves to /; the pidfile named relative to where it
        # started must still be the one it removes.
        port, pid = self.started(pidfile="rel.pid", cwd=self.tmp)
        rel = os.path.join(self.tmp, "rel.pid")
        self.assertIsNotNone(pid)
        self.assertServes(port)
        rc, _, err = self.run_tw("stop", "--pidfile", rel)
        self.assertEqual(rc, 0, err)
        self.wait_gone(pid)
        self.assertFalse(os.path.exists(rel))

    def test_reload_with_relative_paths(self):
        # Started from its directory with a relative root and config
        # file; the daemon's chdir("/") must not make them unreadable
        # to a later reload.
        with open(os.path.join(self.tmp, "tw.conf"), "w") as f:
            f.write('add_header X-Gen "1";\n')
        port, pid = self.started("-c", "tw.conf", cwd=self.tmp, root="root")
        self.assertEqual(get(port, "/f.txt").header("X-Gen"), "1")
        with open(os.path.join(self.tmp, "tw.conf"), "w") as f:
            f.write('add_header X-Gen "2";\n')
        rc, _, err = self.run_tw("reload", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        gen = wait_until(lambda: get(port, "/f.txt").header("X-Gen") == "2",
                       3, 0.1)
        self.assertTrue(gen, "X-Gen still %r after reload"
                        % get(port, "/f.txt").header("X-Gen"))

    def test_prefork_daemon(self):
        port, pid = self.started("-m", "prefork", "-w", "2")
        self.assertServes(port)
        def children():
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return f.read().split()

        # The second fork may come a moment after the first on a loaded
        # machine: wait for both, not for any.
        wait_until(lambda: len(children()) == 2, 3)
        kids = children()
        self.assertEqual(len(kids), 2, "want 2 workers")
        rc, _, err = self.run_tw("stop", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        self.wait_gone(pid)
        for k in kids:
            self.wait_gone(int(k))
        self.assertFalse(os.path.exists(self.pidfile))

    def test_reopen_and_reload_by_pidfile(self):
        log = os.path.join(self.tmp, "access.log")
        port, pid = self.started("--access-log", log)
        self.assertServes(port)
        os.rename(log, log + ".1")
        rc, _, err = self.run_tw("reopen", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: (self.assertServes(port) or
                                          os.path.exists(log)), 3),
                        "USR1 did not re-open the access log")
        self.assertTrue(alive(pid))
        # reload: a new process takes over the sockets and the pidfile.
        rc, _, err = self.run_tw("reload", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        new = wait_until(lambda: read_pid(self.pidfile) not in (None, pid)
                       and read_pid(self.pidfile), 5)
        self.assertTrue(new, "the pidfile still holds the old pid")
        self.wait_gone(pid)
        self.assertServes(port)
        time.sleep(0.1)
        rc, _, err = self.run_tw("stop", "--pidfile", self.pidfile)
        self.assertEqual(rc, 0, err)
        self.wait_gone(new)
        self.assertFalse(os.path.exists(self.pidfile))
        self.assertFalse(os.path.exists(self.pidfile + ".oldbin"))


class TestControl(DaemonCase):
    def test_missing_pidfile(self):
        for cmd in ("stop", "quit", "reload", "reopen"):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_tw(cmd, "--pidfile", self.pidfile)
                self.assertEqual(rc, 1, err)
                self.assertIn(self.pidfile, err)
                self.assertIn("No such file", err)

    def test_stale_pidfile(self):
        with open(self.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())   # alive, but not a tinyweb
        for cmd in ("stop", "quit", "reload", "reopen"):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_tw(cmd, "--pidfile=" + self.pidfile)
                self.assertEqual(rc, 1, err)
                self.assertIn("stale", err)
        # And this process was not signalled (we would not be here).

    def test_no_pidfile_given(self):
        for cmd in ("stop", "quit", "reload", "reopen"):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_tw(cmd)
                self.assertEqual(rc, 2, err)
                self.assertIn("pidfile", err)

    def test_bad_arguments(self):
        rc, _, err = self.run_tw("stop", "--pidfile")
        self.assertEqual(rc, 2, err)
        rc, _, err = self.run_tw("stop", "--bogus", "--pidfile",
                                 self.pidfile)
        self.assertEqual(rc, 2, err)
        self.assertIn("--bogus", err)
        # A config file without a pidfile directive names no server.
        conf = os.path.join(self.tmp, "nopid.conf")
        with open(conf, "w") as f:
            f.write("index index.html;\n")
        rc, _, err = self.run_tw("stop", "-c", conf)
        self.assertEqual(rc, 2, err)
        # An unreadable config file is an error of its own.
        rc, _, err = self.run_tw("stop", "-c", conf + ".missing")
        self.assertEqual(rc, 1, err)

    def test_pidfile_from_config(self):
        conf = os.path.join(self.tmp, "tw.conf")
        with open(conf, "w") as f:
            f.write("pidfile %s;\n" % self.pidfile)
        port, pid = self.started()
        rc, _, err = self.run_tw("reopen", "-c", conf)
        self.assertEqual(rc, 0, err)
        time.sleep(0.1)
        self.assertTrue(alive(pid))
        self.assertServes(port)
        rc, _, err = self.run_tw("stop", "-c", conf)
        self.assertEqual(rc, 0, err)
        self.wait_gone(pid)
        self.assertFalse(os.path.exists(self.pidfile))


if __name__ == "__main__":
    unittest.main()
