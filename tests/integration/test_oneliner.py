#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The one-liner a new user types, and what it does by default.

- `tinyweb DIR` serves DIR as `tinyweb serve DIR` does; `tinyweb` alone,
  a word that is neither a command nor a directory, and a file are usage
  errors (exit 2, one line); `tinyweb stop` keeps its meaning even where
  a directory named stop exists.
- Without -b or listen lines the server listens on every IPv4 and IPv6
  address through one dual-stack [::] socket: 127.0.0.1 and ::1 reach the
  same port; an IPv4 client is logged, allowed and forwarded as a.b.c.d,
  never ::ffff:a.b.c.d. HUP and USR2 hand that socket over (a new
  process would fail to bind it otherwise). All three run modes.
- On a machine without IPv6 (a network namespace with disable_ipv6, as
  root) the default still serves IPv4, and the terminal lists no IPv6
  address.
- The start-up line on a terminal (a pty) gives addresses to click, the
  loopback one first, never 0.0.0.0 or [::], and says how to stop;
  through a pipe it stays one line for programs.
- -p alone moves the config file's listen lines to its port and keeps
  their addresses (a loopback-only file stays loopback-only); with -b
  the addresses are replaced.
- `make serve` takes PORT= and BIND=.
- A HUP reload's log line says reload; USR2's says new binary.
"""

import ctypes
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import time
import unittest

import harness
from harness import (Server, get, read_lines, run, tinyweb_cmd,
                     unique_tmpdir, wait_until)
from test_proxy import Echo, Proxy

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}


def has_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def get6(port, target="/"):
    """GET over ::1."""
    s = socket.create_connection(("::1", port), timeout=3)
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  % target.encode())
        data = harness.read_until_close(s, 3)
    finally:
        s.close()
    return harness.parse_one(data, eof=True)[0]


def make_root():
    root = unique_tmpdir()
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello\n")
    return root


class TestDirAlone(unittest.TestCase):
    """`tinyweb DIR`, and the words that are not."""

    def setUp(self):
        self.root = make_root()

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_dir_serves_in_every_mode(self):
        for mode, args in MODES.items():
            with self.subTest(mode=mode):
                with Server(self.root, *args, command=None) as s:
                    r = get(s.port, "/hello.txt")
                    self.assertEqual(r.status, 200, r.describe())
                    self.assertEqual(r.body, b"hello\n")
                    self.assertIn(self.root, s.startup_line)

    def test_reload_reads_the_same_words(self):
        """HUP re-reads `tinyweb DIR` (no command word) as it started."""
        pidfile = os.path.join(self.root, "p.pid")
        s = Server(self.root, "--pidfile", pidfile, command=None,
                   quiet=False)
        new = None
        try:
            s.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "reloaded" in
                                       s.stderr_text(), 10),
                            s.stderr_text())
            new = wait_until(lambda: read_pid_other(pidfile, s.pid), 5)
            self.assertTrue(new)
            self.assertEqual(s.wait_exit(10), 0)
            self.assertEqual(get(s.port, "/hello.txt").status, 200)
        finally:
            if new:
                os.kill(new, signal.SIGTERM)
                wait_until(lambda: not harness.alive(new), 5)
            if s.proc.poll() is None:
                s.stop()

    def usage_error(self, args, want, cwd=None):
        p = subprocess.run([harness.BIN] + args, capture_output=True,
                           text=True, timeout=10, cwd=cwd,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(want, lines[0])
        self.assertEqual(p.stdout, "")

    def test_not_a_command_nor_a_directory(self):
        self.usage_error(["servee"], "'servee' is neither a command nor a "
                         "directory")
        self.usage_error([os.path.join(self.root, "hello.txt")],
                         "is neither a command nor a directory")
        self.usage_error([os.path.join(self.root, "nothing")],
                         "is neither a command nor a directory")

    def test_nothing_is_a_usage_error(self):
        self.usage_error([], "tinyweb DIR")
        self.usage_error(["-p", "0"], "tinyweb DIR")

    def test_control_command_wins_over_a_directory(self):
        os.mkdir(os.path.join(self.root, "stop"))
        os.mkdir(os.path.join(self.root, "serve"))
        self.usage_error(["stop"], "which server?", cwd=self.root)


class TestDualStack(unittest.TestCase):
    """The default listener: one [::] socket that takes IPv4 too."""

    def setUp(self):
        if not has_ipv6_loopback():
            self.skipTest("no ::1 on this machine (IPv6 off): the "
                          "fallback is TestWithoutIPv6's")
        self.root = make_root()

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_both_families_one_port_every_mode(self):
        for mode, args in MODES.items():
            with self.subTest(mode=mode):
                log = os.path.join(self.root, "access-%s.log" % mode)
                with Server(self.root, *args, "--access-log", log,
                            bind=None) as s:
                    self.assertRegex(s.startup_line,
                                     r" on http://\[::\]:%d/ " % s.port)
                    r4 = get(s.port, "/hello.txt")
                    r6 = get6(s.port, "/hello.txt")
                    self.assertEqual((r4.status, r6.status), (200, 200))
                    lines = wait_until(lambda: len(read_lines(log, True))
                                       >= 2 and read_lines(log, True))
                self.assertTrue(lines, "no access log lines")
                addrs = sorted(ln.split(" ", 1)[0] for ln in lines)
                self.assertEqual(addrs, ["127.0.0.1", "::1"], lines)

    def test_status_allow_takes_ipv4_networks(self):
        with Server(self.root, "--status", "/status", "--status-allow",
                    "127.0.0.0/8", bind=None) as s:
            self.assertEqual(get(s.port, "/status").status, 200)
            # ::1 is not in 127.0.0.0/8
            self.assertEqual(get6(s.port, "/status").status, 403)

    def test_forwarded_for_is_ipv4(self):
        echo = Echo()
        try:
            with Proxy([echo.url], bind=None) as p:
                r = get(p.port, "/headers")
                self.assertEqual(r.status, 200, r.describe())
                h = json.loads(r.body)
                self.assertEqual(h.get("x-forwarded-for"), "127.0.0.1")
                self.assertIn("for=127.0.0.1", h.get("forwarded", ""))
        finally:
            echo.close()

    def reload_keeps_socket(self, mode, args, sig):
        """HUP or USR2, then the old process gone (HUP drains it; after
        USR2 we QUIT it): the new one answers on the same port over both
        families, which it can only do on the socket handed over."""
        pidfile = os.path.join(self.root, "tw-%s.pid" % mode)
        s = Server(self.root, *args, "--pidfile", pidfile, bind=None,
                   quiet=False)
        pids = {s.pid}
        try:
            s.send_signal(sig)
            word = "new binary" if sig == signal.SIGUSR2 else "reloaded"
            self.assertTrue(wait_until(lambda: word in s.stderr_text(),
                                       10), s.stderr_text())
            self.assertNotIn("failed", s.stderr_text())
            self.assertNotIn("did not start", s.stderr_text())
            new = wait_until(lambda: read_pid_other(pidfile, s.pid), 5)
            if new:
                pids.add(new)
            if sig == signal.SIGUSR2:
                self.assertTrue(new, "no new pid in %s" % pidfile)
                s.send_signal(signal.SIGQUIT)
            if new:
                self.assertEqual(s.wait_exit(10), 0, s.stderr_text())
            self.assertEqual(get(s.port, "/hello.txt").status, 200)
            self.assertEqual(get6(s.port, "/hello.txt").status, 200)
            return s.stderr_text()
        finally:
            for p in pids:
                try:
                    os.kill(p, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            if s.proc.poll() is None:
                s.wait_exit(10)
            for p in pids - {s.pid}:
                wait_until(lambda: not harness.alive(p), 5)

    def test_hup_and_usr2_hand_the_socket_over(self):
        modes = dict(MODES)
        # a reuseport group: one [::] socket per worker, each dual-stack
        for m in ("prefork", "threads"):
            modes[m + "-reuseport"] = MODES[m] + ["--accept", "reuseport"]
        for mode, args in modes.items():
            for sig in (signal.SIGHUP, signal.SIGUSR2):
                with self.subTest(mode=mode, sig=sig.name):
                    err = self.reload_keeps_socket(mode, args, sig)
                    if sig == signal.SIGHUP:
                        self.assertNotIn("new binary", err)


def read_pid_other(path, old):
    pid = harness.read_pid(path)
    return pid if pid and pid != old else None


CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def no_ipv6_namespace():
    """In the child: a network namespace of its own with IPv6 off and lo
    up (IPv4 only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        os._exit(97)
    for conf in ("all", "default", "lo"):
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % conf,
                  "w") as f:
            f.write("1")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ifr = struct.pack("16sH14x", b"lo", 0)
    flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifr))[1]
    fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo",
                                             flags | IFF_UP))
    s.close()


def can_unshare():
    if os.geteuid() != 0 or not shutil.which("nsenter") or \
            not shutil.which("curl"):
        return False
    p = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return p.returncode == 0


class Tty:
    """tinyweb with a pty for stderr; its output up to "to stop"."""

    def __init__(self, args, preexec_fn=None):
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(tinyweb_cmd(*args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=slave, preexec_fn=preexec_fn)
        os.close(slave)
        self.text = ""
        deadline = time.monotonic() + 10
        while "to stop" not in self.text and time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    self.text += os.read(master, 4096).decode("utf-8",
                                                              "replace")
                except OSError:
                    break
            elif self.proc.poll() is not None:
                break
        self.text = self.text.replace("\r\n", "\n")

    def urls(self):
        return re.findall(r"^  (https?://\S+)$", self.text, re.M)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        os.close(self.master)
        return rc


def machine_addrs():
    """IPv4 and global IPv6 addresses of interfaces that are up, as
    `ip -o addr` lists them."""
    p = subprocess.run(["ip", "-o", "addr", "show", "up"],
                       capture_output=True, text=True)
    out = set()
    for line in p.stdout.splitlines():
        m = re.search(r" inet6? (\S+)/\d+ ", line)
        if m and not m.group(1).startswith("fe80") and \
                m.group(1) not in ("127.0.0.1", "::1"):
            out.add(m.group(1))
    return out


class TestTerminalLine(unittest.TestCase):
    """The start-up line for a person, and the one for programs."""

    def setUp(self):
        self.root = make_root()

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_every_address_gives_urls_to_click(self):
        for mode, args in MODES.items():
            with self.subTest(mode=mode):
                t = Tty([self.root, "-p", "0", "-q"] + args)
                try:
                    urls = t.urls()
                    self.assertTrue(urls, t.text)
                    m = re.match(r"http://127\.0\.0\.1:(\d+)/$", urls[0])
                    self.assertTrue(m, t.text)
                    port = int(m.group(1))
                    self.assertNotIn("0.0.0.0", t.text)
                    self.assertNotIn("[::]", t.text)
                    self.assertIn("Ctrl-C to stop", t.text)
                    self.assertIn("(%s, " % mode, t.text.splitlines()[0])
                    if has_ipv6_loopback():
                        self.assertIn("http://[::1]:%d/" % port, urls)
                    listed = {re.sub(r"^http://\[?(.*?)\]?:\d+/$", r"\1", u)
                              for u in urls}
                    self.assertEqual(listed - {"127.0.0.1", "::1"},
                                     machine_addrs(), t.text)
                    for u in urls:
                        host = re.sub(r"^http://\[?(.*?)\]?:\d+/$", r"\1", u)
                        s = socket.create_connection((host, port), 3)
                        s.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
                        data = harness.read_until_close(s, 3)
                        s.close()
                        self.assertTrue(data.startswith(b"HTTP/1.1 200"),
                                        (u, data[:100]))
                finally:
                    self.assertEqual(t.stop(), 0)

    def test_one_address_is_that_address(self):
        t = Tty(["serve", self.root, "-p", "0", "-b", "127.0.0.1", "-q"])
        try:
            self.assertEqual(len(t.urls()), 1, t.text)
            self.assertRegex(t.urls()[0], r"^http://127\.0\.0\.1:\d+/$")
        finally:
            self.assertEqual(t.stop(), 0)

    def test_pipe_gets_one_line(self):
        with Server(self.root, bind=None, quiet=True) as s:
            self.assertRegex(s.startup_line,
                             r"^tinyweb: serving %s on https?://\S+:%d/ "
                             r"\(\w+, \d+ workers?\)$"
                             % (re.escape(self.root), s.port))
            self.assertNotIn("Ctrl-C", s.stderr_text())


@unittest.skipUnless(can_unshare(), "needs root, unshare -n, nsenter and "
                     "curl for a network namespace without IPv6")
class TestWithoutIPv6(unittest.TestCase):
    """A machine whose IPv6 is off: the default listener still serves
    IPv4, and lists no IPv6 address."""

    def setUp(self):
        self.root = make_root()

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def curl_in(self, pid, url):
        p = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid,
                            "curl", "-s", "-o", "-", "-w", "%{http_code}",
                            url], capture_output=True, text=True, timeout=10)
        return p.stdout

    def test_every_mode_serves_ipv4(self):
        for mode, args in MODES.items():
            with self.subTest(mode=mode):
                t = Tty([self.root, "-p", "0", "-q"] + args,
                        preexec_fn=no_ipv6_namespace)
                try:
                    urls = t.urls()
                    self.assertEqual(len(urls), 1, t.text)
                    self.assertRegex(urls[0], r"^http://127\.0\.0\.1:\d+/$")
                    self.assertEqual(self.curl_in(t.proc.pid, urls[0] +
                                                  "hello.txt"),
                                     "hello\n200")
                finally:
                    self.assertEqual(t.stop(), 0)


class TestPortAlone(unittest.TestCase):
    """-p moves the file's listen lines; -b replaces them."""

    def setUp(self):
        self.root = make_root()
        self.conf = os.path.join(self.root, "t.conf")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def check_config(self, text, *args):
        with open(self.conf, "w") as f:
            f.write(text)
        p = run(tinyweb_cmd("check-config", "-c", self.conf, *args))
        self.assertEqual(p.returncode, 0, p.stderr)
        return re.findall(r"^\s*listen (.*);$", p.stdout, re.M)

    def test_port_keeps_addresses(self):
        self.assertEqual(self.check_config(
            "listen 127.0.0.1:8080;\nlisten [::1]:8081;\n", "-p", "9000"),
            ["127.0.0.1:9000", "[::1]:9000"])
        # two lines that become one address are one
        self.assertEqual(self.check_config(
            "listen 127.0.0.1:80;\nlisten 127.0.0.1:81;\n", "-p", "9000"),
            ["127.0.0.1:9000"])

    def test_server_blocks_keep_theirs(self):
        got = self.check_config(
            "server {\n  listen 127.0.0.1:8080;\n  server_name a;\n}\n"
            "server {\n  listen [::1]:8081;\n  server_name b;\n}\n",
            "-p", "9000")
        self.assertIn("127.0.0.1:9000", got)
        self.assertIn("[::1]:9000", got)
        # two ports' default servers meet on one: the first keeps it
        got = self.check_config(
            "server {\n  listen 127.0.0.1:80 default_server;\n"
            "  server_name a;\n}\n"
            "server {\n  listen 127.0.0.1:81 default_server;\n"
            "  server_name b;\n}\n", "-p", "9000")
        self.assertIn("127.0.0.1:9000 default_server", got)
        self.assertIn("127.0.0.1:9000", got)

    def test_bind_replaces(self):
        self.assertEqual(self.check_config(
            "listen 127.0.0.1:8080;\n", "-p", "9000", "-b", "::1"),
            ["[::1]:9000"])
        self.assertEqual(self.check_config("listen 127.0.0.1:8080;\n",
                                           "-b", "::1"), ["[::1]:8080"])

    def test_no_lines_is_every_address(self):
        self.assertEqual(self.check_config("", "-p", "9000"), ["*:9000"])
        self.assertEqual(self.check_config(""), ["*:8080"])
        self.assertEqual(self.check_config("listen 81;\n"), ["*:81"])

    def test_loopback_file_stays_loopback(self):
        with open(self.conf, "w") as f:
            f.write("listen 127.0.0.1:1;\nroot %s;\n" % self.root)
        s = Server.__new__(Server)
        orig = harness.tinyweb_cmd

        def cmd(*args):
            # Server builds ["serve", ROOT, "-p", "0", ...]: no -b
            return orig("serve", "-c", self.conf, *args[2:])
        harness.tinyweb_cmd = cmd
        try:
            s.__init__(self.root, bind=None)
        finally:
            harness.tinyweb_cmd = orig
        with s:
            self.assertIn("http://127.0.0.1:%d/" % s.port, s.startup_line)
            self.assertEqual(get(s.port, "/hello.txt").status, 200)
            if has_ipv6_loopback():
                with self.assertRaises(OSError):
                    socket.create_connection(("::1", s.port), 2).close()


class TestMakeServe(unittest.TestCase):
    """make serve PORT= BIND=."""

    def test_port_and_bind(self):
        if not os.path.exists(os.path.join(harness.REPO, "build",
                                           "tinyweb")):
            self.skipTest("build/tinyweb not built")
        root = make_root()
        port = harness.free_port()
        p = subprocess.Popen(["make", "-s", "-o", "deps", "-o", "all",
                              "-C", harness.REPO, "serve", "DIR=" + root,
                              "PORT=%d" % port, "BIND=127.0.0.1"],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            line = p.stderr.readline().decode()
            self.assertEqual(line.split(" on ")[1].split(" ")[0],
                             "http://127.0.0.1:%d/" % port, line)
            self.assertEqual(get(port, "/hello.txt").status, 200)
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
            p.stdout.close()
            p.stderr.close()
            shutil.rmtree(root, ignore_errors=True)


class TestReloadWords(unittest.TestCase):
    """HUP says reload, USR2 says new binary (epoll and threads start a
    process for both)."""

    def setUp(self):
        self.root = make_root()

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_words(self):
        for mode in ("epoll", "threads"):
            for sig, word, other in ((signal.SIGHUP, "reloaded",
                                      "new binary"),
                                     (signal.SIGUSR2, "new binary started",
                                      "reload")):
                with self.subTest(mode=mode, sig=sig.name):
                    pidfile = os.path.join(self.root, "p.pid")
                    s = Server(self.root, *MODES[mode], "--pidfile",
                               pidfile, quiet=False)
                    new = None
                    try:
                        s.send_signal(sig)
                        self.assertTrue(wait_until(
                            lambda: word in s.stderr_text(), 10),
                            s.stderr_text())
                        new = wait_until(lambda: read_pid_other(pidfile,
                                                                s.pid), 5)
                        tail = s.stderr_text().split("tinyweb: serving")[1]
                        self.assertNotIn(other, tail)
                    finally:
                        if new:
                            os.kill(new, signal.SIGTERM)
                        s.stop()
                        if new:
                            wait_until(lambda: not harness.alive(new), 5)


if __name__ == "__main__":
    unittest.main()
