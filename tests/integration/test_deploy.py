# SPDX-License-Identifier: MIT
"""A deploy that swaps the root: the root is given as a symlink
`current -> releases/1`, and a new link is renamed over it, as deploy
tools do (`ln -s releases/2 current.tmp && mv -T current.tmp current`).

Each loop looks at the root path again at most once per validity period
of the open-file cache (VALID_S), so once a period has passed after the
swap every request is served from release 2: v.txt says "2", a file
only release 2 has is served, one only release 1 had is 404, and that
stays so after release 1 is deleted. A download under way at the swap
finishes with release 1's bytes. Each in epoll mode, threads -w 2 and
prefork -w 2.
"""

import os
import shutil
import socket
import time
import unittest

from harness import (get, make_tree, start, unique_tmpdir, wait_until)

# The open-file cache's validity period (FILE_CACHE_VALID_MS in
# modules/http/static.c): every loop sees the swap within it.
VALID_S = 1.0
# A loop's clock is read once per event batch: room for a slow batch.
MARGIN_S = 0.5
BIG = 16 << 20


class DeployBase:
    mode_args = ()

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.big1 = os.urandom(BIG)
        self.big2 = os.urandom(BIG)
        make_tree(self.tmp, {"releases": {
            "1": {"v.txt": b"1", "only1.txt": b"one", "big.bin": self.big1},
            "2": {"v.txt": b"2", "only2.txt": b"two", "big.bin": self.big2},
        }})
        self.current = os.path.join(self.tmp, "current")
        os.symlink("releases/1", self.current)
        self.server = start(self.current, *self.mode_args, modes=False)
        self.port = self.server.port

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def swap(self, target):
        """Atomically point current at target; returns when it was."""
        tmp = self.current + ".tmp"
        os.symlink(target, tmp)
        os.replace(tmp, self.current)
        return time.monotonic()

    def body(self, target):
        r = get(self.port, target)
        return r.status, r.body

    def settle(self, swapped_at):
        """Every loop's period that began before the swap is over: from
        now on each of them serves the new root."""
        left = swapped_at + VALID_S + MARGIN_S - time.monotonic()
        if left > 0:
            time.sleep(left)

    def test_swap_is_seen_and_old_release_may_go(self):
        self.assertEqual(self.body("/v.txt"), (200, b"1"))
        self.assertEqual(self.body("/only1.txt"), (200, b"one"))
        self.assertEqual(self.body("/only2.txt")[0], 404)
        at = self.swap("releases/2")
        seen = wait_until(lambda: self.body("/v.txt") == (200, b"2"),
                          timeout=3.0)
        self.assertTrue(seen, "release 2 not served 3 s after the swap")
        self.settle(at)
        for _ in range(10):
            self.assertEqual(self.body("/v.txt"), (200, b"2"))
        shutil.rmtree(os.path.join(self.tmp, "releases", "1"))
        for _ in range(10):
            self.assertEqual(self.body("/v.txt"), (200, b"2"))
            self.assertEqual(self.body("/only2.txt"), (200, b"two"))
            self.assertEqual(self.body("/only1.txt")[0], 404)
        # Release 1 went in no loop's open-file cache: a period later too.
        time.sleep(VALID_S + MARGIN_S)
        for _ in range(10):
            self.assertEqual(self.body("/v.txt"), (200, b"2"))
            self.assertEqual(self.body("/only2.txt"), (200, b"two"))
        self.assertIn("names another directory now",
                      self.server.stderr_text())

    def test_vanished_root_keeps_the_old_one(self):
        self.assertEqual(self.body("/v.txt"), (200, b"1"))
        os.unlink(self.current)
        gone = time.monotonic()
        self.settle(gone)
        for _ in range(10):
            self.assertEqual(self.body("/v.txt"), (200, b"1"))
        warned = wait_until(lambda: "cannot be opened" in
                            self.server.stderr_text())
        self.assertTrue(warned, self.server.stderr_text())
        # Once a warning per loop, not one per request.
        time.sleep(VALID_S + MARGIN_S)
        for _ in range(10):
            self.assertEqual(self.body("/v.txt"), (200, b"1"))
        loops = 2 if "-w" in self.mode_args else 1
        self.assertLessEqual(
            self.server.stderr_text().count("cannot be opened"), loops,
            self.server.stderr_text())
        at = self.swap("releases/2")
        self.settle(at)
        self.assertEqual(self.body("/v.txt"), (200, b"2"))

    def test_download_under_way_finishes_with_old_bytes(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "closed before the headers")
                got += chunk
            head, body = got.split(b"\r\n\r\n", 1)
            self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
            self.assertIn(b"\r\ncontent-length: %d" % BIG, head.lower())
            while len(body) < 64 * 1024:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "closed early")
                body += chunk
            at = self.swap("releases/2")
            shutil.rmtree(os.path.join(self.tmp, "releases", "1"))
            seen = wait_until(lambda: self.body("/v.txt") == (200, b"2"),
                              timeout=3.0)
            self.assertTrue(seen, "release 2 not served 3 s after the swap")
            self.settle(at)
            self.assertEqual(self.body("/v.txt"), (200, b"2"))
            # The new release's file, for a new request.
            r = get(self.port, "/big.bin", [("Range", "bytes=0-4095")])
            self.assertEqual((r.status, r.body), (206, self.big2[:4096]))
            while len(body) < BIG:
                chunk = s.recv(1 << 16)
                self.assertTrue(chunk, "closed after %d bytes" % len(body))
                body += chunk
            self.assertEqual(len(body), BIG)
            self.assertTrue(body == self.big1,
                            "the download under way changed release")
        finally:
            s.close()


class DeployEpoll(DeployBase, unittest.TestCase):
    mode_args = ("-m", "epoll")


class DeployThreads(DeployBase, unittest.TestCase):
    mode_args = ("-m", "threads", "-w", "2")


class DeployPrefork(DeployBase, unittest.TestCase):
    mode_args = ("-m", "prefork", "-w", "2")


if __name__ == "__main__":
    unittest.main()
