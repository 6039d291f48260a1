# SPDX-License-Identifier: MIT
"""The open-file cache within the descriptor limit (issue 11).

Under RLIMIT_NOFILE 1024 (a service's or a user's usual limit) a client
asking for 3,000 distinct files must get 3,000 answers of 200, not 503s
once the cache has filled the descriptor table; afterwards the cache holds
no more than its share (a quarter of the limit, split between the loops
that share one table), so a crowd of new connections is served. A lower
limit (256) shrinks the share. Each in every run mode, with the limit set
on the server process before it starts (its hard limit too: the server
raises its soft limit to the hard one)."""

import collections
import os
import re
import resource
import shutil
import threading
import unittest

from harness import (Conn, Incomplete, build, connect, parse_one,
                     process_tree, start,
                     unique_tmpdir, wait_until)

CLIENTS = 4		# keep-alive connections fetching the files
BATCH = 50		# requests pipelined per round trip
SINGLE = ("-m", "epoll")
PREFORK = ("-m", "prefork", "-w", "2")
THREADS = ("-m", "threads", "-w", "2")
SHARE_RE = re.compile(r"open-file cache (\d+) descriptors per loop")


def body_of(i):
    return b"file %d\n" % i


def limit_to(n):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return set_limit


def fetch_all(port, paths):
    """GET every path over CLIENTS keep-alive connections, BATCH requests
    pipelined at a time; returns a Counter of what came back (a status,
    a wrong body, or 'no answer' for a request whose connection ended)."""
    seen = collections.Counter()
    lock = threading.Lock()
    shares = [paths[k::CLIENTS] for k in range(CLIENTS)]

    def client(mine):
        got = collections.Counter()
        c = Conn(port, timeout=10)
        try:
            for at in range(0, len(mine), BATCH):
                batch = mine[at:at + BATCH]
                done = 0
                try:
                    c.send(b"".join(build("GET", p) for p, _ in batch))
                    for p, want in batch:
                        r = c.read_response()
                        done += 1
                        got[r.status if r.status != 200 or r.body == want
                            else "wrong body"] += 1
                except (AssertionError, OSError):
                    got["no answer"] += len(batch) - done
                    c.close()
                    c = Conn(port, timeout=10)
        finally:
            c.close()
            with lock:
                seen.update(got)

    threads = [threading.Thread(target=client, args=(m,)) for m in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return seen


def files_held(pid, root):
    """Per process of the server, descriptors of files under root."""
    held = {}
    for p in process_tree(pid):
        n = 0
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (p, fd)).startswith(
                        root + "/"):
                    n += 1
            except OSError:
                pass
        held[p] = n
    return held


def crowd(port, n, paths):
    """n connections open at once, then one request on each: the statuses
    (or 'no answer')."""
    socks, got = [], collections.Counter()
    try:
        for _ in range(n):
            socks.append(connect(port, timeout=10))
        for s, (p, _) in zip(socks, paths):
            s.sendall(build("GET", p, [("Connection", "close")]))
        for s, (_, want) in zip(socks, paths):
            buf = b""
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    buf += b
                r, _ = parse_one(buf, eof=True)
                got[r.status if r.status != 200 or r.body == want
                    else "wrong body"] += 1
            except (AssertionError, Incomplete, OSError):
                got["no answer"] += 1
    finally:
        for s in socks:
            s.close()
    return got


class FilesCase(unittest.TestCase):
    NFILES = 3000

    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        cls.root = os.path.join(cls.tmp, "root")
        os.makedirs(os.path.join(cls.root, "f"))
        for i in range(cls.NFILES):
            with open(os.path.join(cls.root, "f", "%d.txt" % i), "wb") as f:
                f.write(body_of(i))
        cls.root = os.path.realpath(cls.root)
        cls.paths = [("/f/%d.txt" % i, body_of(i))
                     for i in range(cls.NFILES)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class DescriptorCase(FilesCase):
    def check(self, nofile, nfiles, nnew, mode_args, loops):
        with start(self.root, *mode_args, modes=False,
                   preexec_fn=limit_to(nofile)) as s:
            self.assertTrue(wait_until(
                lambda: SHARE_RE.search(s.stderr_text()), 5),
                s.stderr_text())
            share = int(SHARE_RE.search(s.stderr_text()).group(1))
            self.assertEqual(share, nofile // 4 // loops, s.stderr_text())

            got = fetch_all(s.port, self.paths[:nfiles])
            self.assertEqual(got, collections.Counter({200: nfiles}))

            # The clients are gone: what stays is the caches'.
            for pid, n in files_held(s.pid, self.root).items():
                self.assertLessEqual(n, share * loops,
                                     "process %d holds %d files" % (pid, n))

            got = crowd(s.port, nnew, self.paths[-nnew:])
            self.assertEqual(got, collections.Counter({200: nnew}))
            self.assertTrue(s.alive(), s.stderr_text())

    # RLIMIT_NOFILE 1024: max_connections 480 by default, so 300 new
    # ones are within it.
    def test_1024_single(self):
        self.check(1024, 3000, 300, SINGLE, 1)

    def test_1024_prefork(self):
        self.check(1024, 3000, 300, PREFORK, 1)

    def test_1024_threads(self):
        self.check(1024, 3000, 300, THREADS, 2)

    # 256: max_connections 96, the cache 64 per table.
    def test_256_single(self):
        self.check(256, 1000, 80, SINGLE, 1)

    def test_256_prefork(self):
        self.check(256, 1000, 80, PREFORK, 1)

    def test_256_threads(self):
        self.check(256, 1000, 80, THREADS, 2)


class ReclaimCase(FilesCase):
    """Descriptors run out all the same (here the limit is cut, on the
    running server, to a little above what it holds): accepts and opens
    that hit EMFILE take them back from the cache's least recently used
    end instead of dropping the connection or answering 503. One worker,
    so that the loop out of descriptors is the one whose cache holds
    them."""

    def check(self, mode_args):
        with start(self.root, *mode_args, "-w", "1", modes=False,
                   preexec_fn=limit_to(1024)) as s:
            # Fill the cache (its share: 256) ...
            self.assertEqual(fetch_all(s.port, self.paths[:1000]),
                             collections.Counter({200: 1000}))
            # ... and leave 40 descriptors free below the limit.
            for p in process_tree(s.pid):
                try:
                    top = max(int(fd) for fd in
                              os.listdir("/proc/%d/fd" % p))
                    resource.prlimit(p, resource.RLIMIT_NOFILE,
                                     (top + 41, 1024))
                except (ProcessLookupError, FileNotFoundError):
                    pass	# a helper thread or process that ended
            got = crowd(s.port, 100, self.paths[1000:1100])
            self.assertEqual(got, collections.Counter({200: 100}))
            got = fetch_all(s.port, self.paths[1100:2100])
            self.assertEqual(got, collections.Counter({200: 1000}))
            self.assertTrue(s.alive(), s.stderr_text())

    def test_single(self):
        self.check(("-m", "epoll"))

    def test_prefork(self):
        self.check(("-m", "prefork"))

    def test_threads(self):
        self.check(("-m", "threads"))

if __name__ == "__main__":
    unittest.main()
