# SPDX-License-Identifier: MIT
"""The connection cap sheds the idle first (nginx's reusable connections):
at --max-connections a new connection closes the accepting worker's
longest idle one (nothing sent yet, or idle in keep-alive) and is served;
503 only when every connection of that worker is busy.

Each check is exact: which connections are closed is told by asking each
one for a page (a shed one answers with its end, a kept one with 200), and
the shed counter is read on a connection already inside the cap. The
per-loop order is checked in epoll mode (one loop); with two workers each
sheds its own oldest, so there only the counts are exact."""

import json
import re
import shutil
import subprocess
import sys
import unittest

import harness
from harness import Conn, make_tree, start, unique_tmpdir

SMALL = b"small file\n"


def served(c):
    """200 on c, or False if the server had closed c (shed)."""
    try:
        r = c.request("GET", "/small.txt", timeout=5)
    except (AssertionError, OSError):
        return False
    if r.status != 200 or r.body != SMALL:
        raise AssertionError("kept connection: " + r.describe())
    return True


def keepalive_get(port):
    """A fresh connection that gets /small.txt and stays open."""
    c = Conn(port, timeout=5)
    r = c.request("GET", "/small.txt")
    if r.status != 200 or r.closes():
        c.close()
        raise AssertionError("fresh client: " + r.describe())
    return c


def connections(c, name):
    """connections.NAME from the status page, asked on c (admitted)."""
    r = c.request("GET", "/status?format=json", timeout=5)
    if r.status != 200:
        raise AssertionError("status page: " + r.describe())
    return json.loads(r.body.decode())["connections"][name]


def shed_count(c):
    return connections(c, "shed")


class ShedCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = unique_tmpdir()
        make_tree(cls.root, {"small.txt": SMALL})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def serve(self, cap, *args):
        # The mode is the test's (modes=False): the order checks need one
        # loop, the worker checks two.
        return start(self.root, "--max-connections", str(cap), "--status",
                     "/status", "--header-timeout", "60s", *args,
                     modes=False)

    def setUp(self):
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()

    def open_idle(self, port, n):
        """n connections that send nothing."""
        out = [Conn(port, timeout=5) for _ in range(n)]
        self.conns += out
        return out

    def open_keepalive(self, port, n):
        """n connections, each served once and left idle in keep-alive,
        in that order."""
        out = []
        for _ in range(n):
            out.append(keepalive_get(port))
            self.conns.append(out[-1])
        return out


class TestShedEpoll(ShedCase):
    def test_fresh_idle_flood_sheds_oldest(self):
        # Deferral off: the silent clients are the server's at once, not
        # the kernel's for a second (test_defer has that case).
        with self.serve(300, "--no-defer-accept") as s:
            idle = self.open_idle(s.port, 500)
            # Every fresh client is served, though the cap was full of
            # connections that never sent a byte.
            fresh = self.open_keepalive(s.port, 50)
            # 500 + 50 in, 300 kept: the 250 opened first went, oldest
            # first; asking each one tells it (shed ones end, kept ones
            # answer, and the cap is not passed by asking).
            kept = [served(c) for c in idle]
            self.assertEqual(kept, [False] * 250 + [True] * 250)
            self.assertEqual(shed_count(fresh[-1]), 250)

    def test_keepalive_idle_sheds_longest_idle(self):
        with self.serve(300) as s:
            old = self.open_keepalive(s.port, 300)
            fresh = self.open_keepalive(s.port, 50)
            kept = [served(c) for c in old]
            self.assertEqual(kept, [False] * 50 + [True] * 250)
            self.assertTrue(all(served(c) for c in fresh))
            self.assertEqual(shed_count(fresh[0]), 50)

    def test_all_busy_is_503(self):
        with self.serve(20) as s:
            conns = self.open_keepalive(s.port, 20)
            # A second round trip on each: its first run (and its watch
            # by the loop) is over, so the part of a head sent below is
            # read before a connection that comes after it is accepted.
            for c in conns:
                self.assertTrue(served(c))
            for c in conns:
                c.send(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n")
            # Part of a head is busy (nginx's rule), not idle: nothing to
            # shed, so the new one is refused.
            probe = Conn(s.port, timeout=5)
            self.conns.append(probe)
            r = probe.read_response()
            self.assertEqual(r.status, 503, r.describe())
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(probe.at_eof(5.0))
            # The refused one lingers (reads what its client still
            # sends) and would be the first to go; its client closes
            # it, so the server is back to the 20 busy ones.
            probe.close()
            # The first finishes its head, is answered and idles: now it
            # is the one a new connection takes the place of.
            conns[0].send(b"\r\n")
            r = conns[0].read_response()
            self.assertEqual(r.status, 200, r.describe())
            self.assertTrue(harness.wait_until(
                lambda: connections(conns[0], "active") == 20, timeout=10))
            fresh = keepalive_get(s.port)
            self.conns.append(fresh)
            self.assertFalse(served(conns[0]))
            # The busy ones were left alone: each gets its answer.
            for c in conns[1:]:
                c.send(b"\r\n")
                r = c.read_response()
                self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(shed_count(fresh), 1)


class TestShedWorkers(ShedCase):
    """Two workers share the count but shed only their own connections;
    reuseport spreads the connections over both, so each has idle ones."""

    def check(self, mode):
        with self.serve(300, "-m", mode, "-w", "2", "--accept",
                        "reuseport") as s:
            old = self.open_keepalive(s.port, 300)
            fresh = self.open_keepalive(s.port, 50)
            kept = [served(c) for c in old]
            self.assertEqual(kept.count(False), 50)
            self.assertTrue(all(served(c) for c in fresh))
            self.assertEqual(shed_count(fresh[0]), 50)

    def test_prefork(self):
        self.check("prefork")

    def test_threads(self):
        self.check("threads")


# Run the binary with RLIMIT_NOFILE soft:hard, as a shell's ulimit would.
LIMITED = ("import os, resource, sys\n"
           "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 1024))\n"
           "os.execv(sys.argv[1], sys.argv[1:])\n")


class TestDefaultCap(ShedCase):
    """Unset, the cap fits the descriptors: the soft limit is raised to
    the hard one (1024) and the cap is half of it less 64; set, it is
    kept. The start-up log says which, at level info."""

    def start_limited(self, *args):
        cmd = [sys.executable, "-c", LIMITED] + harness.tinyweb_cmd(
            "serve", self.root, "-p", "0", "-b", "127.0.0.1", "-q", *args)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            lines = [p.stderr.readline() for _ in range(2)]
            with open("/proc/%d/limits" % p.pid) as f:
                limits = f.read()
        finally:
            p.terminate()
            p.communicate(timeout=10)
        self.assertTrue(lines[0].startswith("tinyweb: serving "), lines)
        nofile = re.search(r"(?m)^Max open files +(\d+) +(\d+)", limits)
        self.assertEqual(nofile.groups(), ("1024", "1024"))
        return lines[1].rstrip("\n")

    def test_default_fits_nofile(self):
        self.assertRegex(self.start_limited(), r"\[info\] \d+ setup: "
                         r"max_connections 480 \(default; RLIMIT_NOFILE "
                         r"1024\)$")

    def test_given_is_kept(self):
        self.assertRegex(self.start_limited("--max-connections", "5000"),
                         r"\[info\] \d+ setup: max_connections 5000 "
                         r"\(as given; RLIMIT_NOFILE 1024\)$")


if __name__ == "__main__":
    unittest.main()
