# SPDX-License-Identifier: MIT
"""--aio threads: the parts of files that are not in the page cache are
read by a pool of threads per event loop, not by the loop.

Every test that needs a cold file drops the file's pages with
posix_fadvise(POSIX_FADV_DONTNEED) just before the request and, when
fincore(1) is installed, checks that none is left (pages a socket still
holds are not dropped: then a fresh copy of the file is used); on a
filesystem where eviction does not work the test is skipped, not failed.

Checked here: bodies byte for byte (files of 1 B to 5 MiB, ranges across
the 512 KiB windows, HEAD, keep-alive and pipelining); the status counters
(aio.reads and aio.bytes, in JSON, Prometheus and HTML) grow for cold
files, within what the windows allow, and not for warm ones, HEAD or
--aio off; 16 cold downloads at once beside hot requests; clients that
vanish while their window is being read (no descriptor left open, the
server goes on); the prefork and threads modes; a graceful stop (SIGQUIT)
with cold downloads in flight; the pool size per loop; the aio and
aio_threads directives and flags, their errors included.

A cold file need not cost a pool read every time: the probe's own
RWF_NOWAIT read starts the kernel's readahead, which on a fast disk
sometimes lands before the probe looks. So the counters are checked over
several files, never one by one.

The classes with one shared server honour $TINYWEB_MODE_ARGS; the tests of
the prefork and threads modes, of the pool size and of SIGQUIT pick their
mode themselves. Assertions are on behaviour, never on timing.
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness
from harness import (Conn, build, check_common, fd_count, fd_report,
                     first_diff,
                     process_tree, request, run, start, status_json,
                     tinyweb_cmd, unique_tmpdir, wait_until)

KIB = 1024
MIB = 1024 * 1024
WINDOW = 512 * KIB              # what one pool read covers at most
STATUS = "/st"

# name -> size. .bin is a known extension: the server reads no byte of
# these files to find their type, so only the body sends touch the disk.
FILES = {
    "small.bin": 3 * KIB,
    "k100.bin": 100 * KIB,
    "m1p7.bin": MIB + 7,
    "m5.bin": 5 * MIB,
}
# 16 more files of 1 MiB for the concurrent clients.
CONCURRENT = ["c%02d.bin" % i for i in range(16)]
# Around 16 KiB: files up to that size are served from memory once read.
TINY = {"t1.bin": 1, "t3k.bin": 3 * KIB, "t16k.bin": 16 * KIB,
        "t16k1.bin": 16 * KIB + 1}

_mod = {}


def setUpModule():
    tmp = unique_tmpdir("tinyweb-aio-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    data = {}
    sizes = dict(FILES)
    sizes.update((n, MIB) for n in CONCURRENT)
    sizes.update(TINY)
    for name, size in sizes.items():
        # Random bytes: a window sent twice or out of order never matches.
        body = os.urandom(size)
        with open(os.path.join(root, name), "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        data[name] = body
    _mod.update(tmp=tmp, root=root, data=data, copies=0)


def tearDownModule():
    shutil.rmtree(_mod["tmp"], ignore_errors=True)


# ------------------------------------------------------------ page cache

def resident_bytes(path):
    """Bytes of path in the page cache, by fincore(1) (mincore without
    touching the pages), or None when fincore is not installed."""
    if shutil.which("fincore") is None:
        return None
    r = subprocess.run(["fincore", "--bytes", "--noheadings", "--output",
                        "RES", path], capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0 or not r.stdout.strip().isdigit():
        return None
    return int(r.stdout.strip())


def _drop(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _evicted(path, wait):
    """Drop path's pages; True once none is left (or fincore is
    missing), False if some stay for wait seconds."""
    deadline = time.monotonic() + wait
    while True:
        _drop(path)
        left = resident_bytes(path)
        if left is None or left == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def cold(name):
    """ROOT/name, or a copy of it, with none of its pages in memory;
    returns the name to request.

    A socket that sent a file with sendfile can hold references to some
    of its pages for a while (seen on loopback while the connection is
    open), and DONTNEED does not drop a page in use: then the file is
    copied to a fresh name, which no socket has touched. If even the copy
    stays in memory, DONTNEED does not work on this filesystem (tmpfs,
    say) and the calling test is skipped: a test of cold reads means
    nothing there."""
    path = os.path.join(_mod["root"], name)
    if _evicted(path, 0.5):
        return name
    _mod["copies"] += 1
    new = "copy%d-%s" % (_mod["copies"], name)
    path = os.path.join(_mod["root"], new)
    with open(path, "wb") as f:
        f.write(_mod["data"][name])
        f.flush()
        os.fsync(f.fileno())
    _mod["data"][new] = _mod["data"][name]
    if _evicted(path, 3.0):
        return new
    raise unittest.SkipTest("cannot evict %s from the page cache here: "
                            "%d bytes stay after POSIX_FADV_DONTNEED"
                            % (new, resident_bytes(path)))


def drop_some(name):
    """Drop what can be dropped of name's pages now (pages being read
    or sent stay)."""
    _drop(os.path.join(_mod["root"], name))


# ------------------------------------------------------------- helpers

def aio_counters(port):
    """(aio.reads, aio.bytes) of the status page."""
    a = status_json(port, STATUS)[0]["aio"]
    return a["reads"], a["bytes"]


def thread_count(pid):
    """Threads of the server's whole process tree."""
    n = 0
    for p in process_tree(pid):
        try:
            n += len(os.listdir("/proc/%d/task" % p))
        except OSError:
            pass
    return n


class AioCase(unittest.TestCase):
    """Helpers shared by the classes below."""

    def body(self, name):
        return _mod["data"][name]

    def fetch(self, port, name, method="GET", headers=(), timeout=30.0):
        r = request(port, method, "/" + name, headers, timeout=timeout)
        check_common(self, r, method)
        return r

    def assertWhole(self, r, name):
        """r is a 200 with exactly the file's bytes."""
        want = self.body(name)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.header("Content-Length"), str(len(want)))
        if r.body != want:
            self.fail("%s: body differs from byte %d (got %d bytes, want "
                      "%d)" % (name, first_diff(r.body, want), len(r.body),
                               len(want)))

    def cold_get(self, port, name, **kw):
        """GET name (or its copy) from a cold page cache, check the body;
        returns the deltas of (aio.reads, aio.bytes)."""
        name = cold(name)
        r0, b0 = aio_counters(port)
        r = self.fetch(port, name, **kw)
        self.assertWhole(r, name)
        r1, b1 = aio_counters(port)
        return r1 - r0, b1 - b0


# ------------------------------------------------------- --aio threads

class TestColdFiles(AioCase):
    """One server with --aio threads (and $TINYWEB_MODE_ARGS)."""

    @classmethod
    def setUpClass(cls):
        cls.server = start(_mod["root"], "--aio", "threads", "--status",
                           STATUS)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.assertTrue(self.server.alive(), "server died:\n" +
                        self.server.stderr_text())

    def test_cold_files_byte_identical(self):
        for name in FILES:
            with self.subTest(file=name):
                self.cold_get(self.port, name)

    def test_cold_files_are_read_by_the_pool(self):
        """aio.reads and aio.bytes grow when cold files are sent, within
        what windows of 512 KiB allow.

        Not every cold file must cost a pool read: the probe's own
        RWF_NOWAIT read starts the kernel's readahead, and on a fast disk
        that sometimes lands before the probe looks (seen in about 1 of
        30 fetches here); then the loop sends at once. So each file is
        only held to the bounds, and the pool must have read something
        over them all."""
        total_reads = total_bytes = 0
        for _ in range(2):
            for name in ("k100.bin", "m1p7.bin", "m5.bin"):
                with self.subTest(file=name):
                    size = len(self.body(name))
                    windows = -(-size // WINDOW)
                    reads, nbytes = self.cold_get(self.port, name)
                    total_reads += reads
                    total_bytes += nbytes
                    self.assertLessEqual(reads, windows)
                    self.assertLessEqual(nbytes, reads * WINDOW)
                    self.assertLessEqual(nbytes, size)
                    if size <= WINDOW:
                        # one window: the pool reads the whole file
                        self.assertEqual(nbytes, reads * size)
        self.assertGreater(total_reads, 0, "no pool read for 6 cold files")
        self.assertGreater(total_bytes, 0)

    def test_warm_file_needs_no_pool_read(self):
        self.fetch(self.port, "m1p7.bin")          # now in the page cache
        for name in ("m1p7.bin", "k100.bin"):
            self.fetch(self.port, name)
            r0, b0 = aio_counters(self.port)
            self.assertWhole(self.fetch(self.port, name), name)
            self.assertEqual(aio_counters(self.port), (r0, b0),
                             "%s is in memory, yet the pool read it" % name)

    def test_ranges_and_head_on_cold_file(self):
        data = self.body("m1p7.bin")
        size = len(data)
        cases = [
            ("bytes=1000000-1000999", 1000000, 1000999),
            ("bytes=-700", size - 700, size - 1),
            # longer than a window, through the 512 KiB and 1 MiB marks
            ("bytes=%d-%d" % (WINDOW - 3, 2 * WINDOW + 5), WINDOW - 3,
             2 * WINDOW + 5),
            ("bytes=%d-" % (size - WINDOW - 1), size - WINDOW - 1, size - 1),
        ]
        reads0, _ = aio_counters(self.port)
        for rng, first, last in cases:
            with self.subTest(range=rng):
                name = cold("m1p7.bin")
                r = self.fetch(self.port, name, headers=[("Range", rng)])
                self.assertEqual(r.status, 206, r.describe())
                self.assertEqual(r.header("Content-Range"),
                                 "bytes %d-%d/%d" % (first, last, size))
                self.assertTrue(r.body == data[first:last + 1],
                                "%s: wrong bytes" % rng)
        self.assertGreater(aio_counters(self.port)[0], reads0,
                           "the pool read none of 4 cold ranges")
        name = cold("m1p7.bin")
        r0 = aio_counters(self.port)
        r = self.fetch(self.port, name, method="HEAD")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.header("Content-Length"), str(size))
        self.assertEqual(r.body, b"")
        self.assertEqual(aio_counters(self.port), r0,
                         "HEAD sends no body, yet the pool read the file")
        # and a GET after it still gets every byte
        self.assertWhole(self.fetch(self.port, name), name)

    def test_window_with_a_cold_end(self):
        """A window whose first page is in memory and whose last page is
        not goes to the pool too: probing the first page alone would let
        sendfile wait for the disk on the loop."""
        data = self.body("m1p7.bin")
        name = cold("m1p7.bin")
        path = os.path.join(_mod["root"], name)
        fd = os.open(path, os.O_RDONLY)
        try:
            # RANDOM: no readahead, only the first page comes in.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
            os.pread(fd, 4096, 0)
        finally:
            os.close(fd)
        left = resident_bytes(path)
        if left is None:
            self.skipTest("fincore is needed to see what is resident")
        if left == 0 or left >= WINDOW // 2:
            self.skipTest("%d bytes resident: not a window with a warm "
                          "start and a cold end" % left)
        r0, _ = aio_counters(self.port)
        r = self.fetch(self.port, name,
                       headers=[("Range", "bytes=0-%d" % (WINDOW - 1))])
        self.assertEqual(r.status, 206, r.describe())
        self.assertTrue(r.body == data[:WINDOW], "wrong bytes")
        self.assertGreater(aio_counters(self.port)[0], r0,
                           "a window with a cold end went without the pool")

    def test_small_cold_files(self):
        """Small files not in memory go by sendfile, so through the pool
        too; once read they are served from memory."""
        with start(_mod["root"], "--aio", "threads", "--status", STATUS) as s:
            small = 0
            for name, size in TINY.items():
                with self.subTest(file=name):
                    reads, _ = self.cold_get(s.port, name)
                    if size <= 16 * KIB:
                        small += reads
                    self.assertWhole(self.fetch(s.port, name), name)
            self.assertGreater(small, 0, "the pool read none of the cold "
                               "files of 16 KiB or less")
            reads1, _ = aio_counters(s.port)
            # hot now: no pool read
            for name in TINY:
                self.assertWhole(self.fetch(s.port, name), name)
            self.assertEqual(aio_counters(s.port)[0], reads1)

    def test_keepalive_and_pipelining(self):
        files = ["m1p7.bin", "small.bin", "k100.bin", "m5.bin"]
        reads0, _ = aio_counters(self.port)
        with Conn(self.port, timeout=30) as c:
            for name in files:
                name = cold(name)
                r = c.request("GET", "/" + name)
                self.assertWhole(r, name)
                self.assertFalse(r.closes())
        # All four at once: each waits for its windows in turn.
        names = [cold(n) for n in files]
        with Conn(self.port, timeout=30) as c:
            c.send(b"".join(build("GET", "/" + n) for n in names))
            for name in names:
                self.assertWhole(c.read_response(), name)
        self.assertGreater(aio_counters(self.port)[0], reads0,
                           "the pool read none of the cold files")

    def test_concurrent_cold_clients(self):
        names = [cold(n) for n in CONCURRENT]
        self.fetch(self.port, "small.bin")         # the hot one
        r0, _ = aio_counters(self.port)
        results = {}

        def one(name):
            try:
                r = request(self.port, "GET", "/" + name, timeout=60)
                results[name] = (r.status, r.body)
            except Exception as e:  # reported below, with its name
                results[name] = e

        def hot(i):
            try:
                got = []
                with Conn(self.port, timeout=60) as c:
                    for _ in range(5):
                        r = c.request("GET", "/small.bin")
                        got.append((r.status, r.body))
                results["hot%d" % i] = got
            except Exception as e:
                results["hot%d" % i] = e

        threads = [threading.Thread(target=one, args=(n,)) for n in names]
        threads += [threading.Thread(target=hot, args=(i,))
                    for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertFalse(any(t.is_alive() for t in threads),
                         "a client hung")
        for name in names:
            got = results.get(name)
            self.assertNotIsInstance(got, Exception, "%s: %s" % (name, got))
            self.assertEqual(got[0], 200, name)
            self.assertTrue(got[1] == self.body(name),
                            "%s: body differs (%d bytes)" % (name,
                                                             len(got[1])))
        small = self.body("small.bin")
        for i in range(4):
            got = results.get("hot%d" % i)
            self.assertNotIsInstance(got, Exception, "hot%d: %s" % (i, got))
            self.assertEqual(got, [(200, small)] * 5)
        r1, _ = aio_counters(self.port)
        # Most cold files cost a pool read (see the test above for why
        # not every one must).
        self.assertGreaterEqual(r1 - r0, len(names) // 2,
                                "too few pool reads for %d cold files"
                                % len(names))

    def test_status_formats_agree(self):
        for name in ("k100.bin", "m1p7.bin"):
            self.cold_get(self.port, name)
        reads, nbytes = aio_counters(self.port)
        self.assertGreater(reads, 0)
        self.assertGreater(nbytes, 0)
        prom = request(self.port, "GET", STATUS + "?format=prometheus")
        self.assertEqual(prom.status, 200)
        text = prom.body.decode()
        self.assertIn("# TYPE tinyweb_aio_reads_total counter\n", text)
        self.assertIn("# TYPE tinyweb_aio_read_bytes_total counter\n", text)
        self.assertRegex(text, r"(?m)^tinyweb_aio_reads_total %d$" % reads)
        self.assertRegex(text, r"(?m)^tinyweb_aio_read_bytes_total %d$"
                         % nbytes)
        html = request(self.port, "GET", STATUS + "?format=html")
        self.assertEqual(html.status, 200)
        self.assertIn("<tr><th>Cold reads by the aio pool</th><td>%d</td>"
                      % reads, html.body.decode())

    def _disconnect(self, how, name):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(30)
        s.connect(("127.0.0.1", self.port))
        s.sendall(build("GET", "/" + name))
        if how == "read-some":
            got = 0
            while got < 100 * KIB:
                d = s.recv(65536)
                self.assertTrue(d, "closed before 100 KiB")
                got += len(d)
        if how == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()

    def test_client_gone_during_cold_fetch(self):
        pid = self.server.pid
        victims = ["m5.bin", "m1p7.bin"] + CONCURRENT[:3]
        # The open-file cache keeps what it opened: warm it up first.
        for name in victims:
            self.fetch(self.port, name)
        base = fd_count(pid)
        reads0, _ = aio_counters(self.port)
        for how in ("read-some", "close", "reset"):
            with self.subTest(how=how):
                names = [cold(n) for n in victims]
                for name in names:
                    self._disconnect(how, name)
                ok = wait_until(lambda: fd_count(pid) <= base, 5.0)
                self.assertTrue(ok, "fd count %d, was %d before; open "
                                "now:\n%s" % (fd_count(pid), base,
                                              fd_report(pid)))
                self.assertTrue(self.server.alive())
                # The pool is not stuck: cold files still come whole.
                self.cold_get(self.port, "m1p7.bin")
                self.assertWhole(self.fetch(self.port, "small.bin"),
                                 "small.bin")
        self.assertGreater(aio_counters(self.port)[0], reads0,
                           "the pool read none of the cold files")


# --------------------------------------------------------- --aio off

class TestAioOff(AioCase):
    def test_counters_stay_zero(self):
        for args in (["--aio", "off"], ["--aio", "threads", "--aio", "off"]):
            with self.subTest(args=args):
                with start(_mod["root"], *args, "--status", STATUS) as s:
                    for name in FILES:
                        self.assertEqual(self.cold_get(s.port, name), (0, 0),
                                         "a pool read without --aio "
                                         "threads")
                    self.assertEqual(status_json(s.port, STATUS)[0]["aio"],
                                     {"reads": 0, "bytes": 0})

    def test_default_is_threads(self):
        with start(_mod["root"], "--status", STATUS) as s:
            reads = sum(self.cold_get(s.port, name)[0] for name in FILES)
            self.assertGreater(reads, 0, "no pool read without --aio: "
                               "the default should be threads")


# -------------------------------------------------------------- modes

class TestModes(AioCase):
    """--aio threads in the prefork and threads modes, 2 workers."""

    def cold_load(self, mode):
        s = start(_mod["root"], "--aio", "threads", "-m", mode, "-w", "2",
                  "--status", STATUS, modes=False)
        with s:
            total = 0
            for name in FILES:
                with self.subTest(mode=mode, file=name):
                    total += self.cold_get(s.port, name)[0]
            # Several at once, so that both workers get some.
            names = [cold(n) for n in CONCURRENT[:8]]
            results = {}

            def one(name):
                try:
                    results[name] = request(s.port, "GET", "/" + name,
                                            timeout=60)
                except Exception as e:
                    results[name] = e

            threads = [threading.Thread(target=one, args=(n,))
                       for n in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join(90)
            for name in names:
                r = results.get(name)
                self.assertNotIsInstance(r, (Exception, type(None)),
                                         "%s: %s" % (name, r))
                self.assertWhole(r, name)
            reads, nbytes = aio_counters(s.port)
            self.assertGreater(reads, total, "no pool read for 8 cold "
                               "files")
            self.assertGreater(nbytes, 0)

    def test_prefork_two_workers(self):
        self.cold_load("prefork")

    def test_threads_two_workers(self):
        self.cold_load("threads")

    def test_pool_size_per_loop(self):
        """--aio-threads N adds N threads to each event loop: the
        difference from the same server with --aio off."""
        for mode, loops in (("epoll", 1), ("prefork", 2), ("threads", 2)):
            margs = ["-m", mode] + (["-w", "2"] if loops > 1 else [])
            # Without aio: the main thread, and a process (prefork) or a
            # thread (threads, and epoll's sandboxed loop) per worker once
            # they are all up.
            least = 1 + loops
            with start(_mod["root"], *margs, "--aio", "off",
                       modes=False) as off:
                wait_until(lambda: thread_count(off.pid) >= least, 5.0)
                base = thread_count(off.pid)
            self.assertGreaterEqual(base, least)
            for n in (1, 3):
                with self.subTest(mode=mode, aio_threads=n):
                    want = base + loops * n
                    with start(_mod["root"], *margs, "--aio", "threads",
                               "--aio-threads", str(n), modes=False) as on:
                        ok = wait_until(lambda: thread_count(on.pid) == want,
                                        5.0)
                        self.assertTrue(ok, "%d threads, want %d (%d without "
                                        "aio + %d loops x %d)" % (
                                            thread_count(on.pid), want, base,
                                            loops, n))


# ------------------------------------------------------ graceful stop

class TestGracefulStop(AioCase):
    def quit_with_cold_downloads(self, mode):
        names = ["m5.bin", "m1p7.bin", "k100.bin"] + CONCURRENT[:2]
        margs = ["-m", mode] + (["-w", "2"] if mode != "epoll" else [])
        names = [cold(n) for n in names]
        s = start(_mod["root"], "--aio", "threads", "--status", STATUS, *margs,
                  modes=False)
        self.addCleanup(lambda: s.alive() and s.stop(signal.SIGKILL, -9))
        socks = []
        for name in names:
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            c.settimeout(30)
            c.connect(("127.0.0.1", s.port))
            c.sendall(build("GET", "/" + name))
            socks.append((name, c))
        bufs = {}
        # Every response has started (head and a first piece) before QUIT.
        for name, c in socks:
            buf = b""
            while b"\r\n\r\n" not in buf or len(buf) < 8 * KIB:
                d = c.recv(65536)
                self.assertTrue(d, "%s: closed early" % name)
                buf += d
            bufs[name] = buf
        self.assertGreater(aio_counters(s.port)[0], 0,
                           "the pool read none of the cold files")
        s.send_signal(signal.SIGQUIT)
        # Most of what is left is cold again (the pages in flight stay):
        # the pool must go on reading after the stop began.
        for name in names:
            drop_some(name)
        for name, c in socks:
            buf = bufs[name]
            while True:
                try:
                    d = c.recv(1 << 20)
                except ConnectionResetError:
                    self.fail("%s: reset after %d bytes" % (name, len(buf)))
                if not d:
                    break
                buf += d
            c.close()
            resp = harness.parse_responses(buf)
            self.assertEqual(len(resp), 1, name)
            self.assertWhole(resp[0], name)
        rc = s.wait_exit(10)
        self.assertEqual(rc, 0, "exit status after QUIT\n" +
                         s.stderr_text())
        self.assertNotRegex(s.stderr_text(), harness.SANITIZER_RE)

    def test_quit_epoll(self):
        self.quit_with_cold_downloads("epoll")

    def test_quit_prefork(self):
        self.quit_with_cold_downloads("prefork")

    def test_quit_threads(self):
        self.quit_with_cold_downloads("threads")


# ------------------------------------------------------------- config


class TestConfig(harness.ConfigFileCase, AioCase):
    def test_directives_in_a_file(self):
        path = self.conf("# pool of 2\naio threads;\naio_threads 2;\n")
        r = self.check("-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        lines = r.stdout.splitlines()
        self.assertIn("aio threads;", lines)
        self.assertIn("aio_threads 2;", lines)
        # The printed configuration reads back the same.
        back = self.conf(r.stdout, "back.conf")
        r2 = self.check("-c", back)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r2.stdout, r.stdout)
        # and the server started with it reads cold files in its pool
        with start(_mod["root"], "-c", path, "--status", STATUS) as s:
            reads, nbytes = self.cold_get(s.port, "k100.bin")
            self.assertEqual((reads, nbytes), (1, 100 * KIB))

    def test_defaults_and_flags(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("aio threads;", r.stdout.splitlines())
        self.assertIn("aio_threads 4;", r.stdout.splitlines())
        # flags win over the file
        path = self.conf("aio threads;\naio_threads 2;\n")
        r = self.check("-c", path, "--aio", "off", "--aio-threads", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("aio off;", r.stdout.splitlines())
        self.assertIn("aio_threads 64;", r.stdout.splitlines())
        for text in ("aio_threads 1;\n", "aio_threads 64;\n", "aio off;\n"):
            r = self.check("-c", self.conf(text))
            self.assertEqual(r.returncode, 0, "%r: %s" % (text, r.stderr))
            self.assertIn(text.strip(), r.stdout.splitlines())

    def test_bad_values_in_a_file(self):
        rows = [
            ("aio maybe;", r"'aio' takes off or threads, not 'maybe'"),
            ("aio_threads 0;", r"'0' is not a positive number"),
            ("aio_threads 65;", r"'aio_threads' takes 1 to 64 threads, "
                                r"not 65"),
            ("aio_threads many;", r"'many' is not a positive number"),
            ("aio_threads -1;", r"'-1' is not a positive number"),
            ("aio;", r"'aio' takes 1 argument"),
        ]
        harness.check_bad_lines(self, self.dir, rows)

    def test_bad_values_on_the_command_line(self):
        rows = [
            (["--aio", "maybe"], "--aio"),
            (["--aio", ""], "--aio"),
            (["--aio-threads", "0"], "--aio-threads"),
            (["--aio-threads", "65"], "--aio-threads"),
            (["--aio-threads", "x"], "--aio-threads"),
            (["--aio-threads"], "--aio-threads"),
        ]
        for args, flag in rows:
            with self.subTest(args=args):
                r = run(tinyweb_cmd("serve", self.dir, "-p", "0", "-b",
                                    "127.0.0.1", *args), timeout=5)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")
                lines = r.stderr.splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertRegex(lines[0], r"^tinyweb: .*%s\b"
                                 % re.escape(flag))


if __name__ == "__main__":
    unittest.main()
