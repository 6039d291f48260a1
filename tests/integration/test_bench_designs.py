# SPDX-License-Identifier: MIT
"""The benchmark's blocking baselines (bench/blocking.c, built by
`make bench-build`): each design serves files correctly over keep-alive,
and the iterative one really serves one client at a time while fork and
thread serve a second client beside an idle first one."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import REPO, Conn, build

BLOCKING = os.path.join(REPO, "build", "bench", "blocking")
PAGE = b"<p>tinyweb bench designs</p>\n" * 40
# Larger than a socket buffer, so sendfile goes out in several pieces.
DATA = bytes((i * 7 + 3) % 251 for i in range(300000))


class Blocking:
    """One running build/bench/blocking on a free port."""

    def __init__(self, design, root):
        self.proc = subprocess.Popen(
            [BLOCKING, "--design", design, "-p", "0", "--timeout", "5",
             root], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode("utf-8", "replace")
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("no startup line from %s: %r" %
                                 (BLOCKING, line))
        self.port = int(m.group(1))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("blocking did not stop on SIGTERM")
        self.proc.stderr.close()


class DesignCase:
    design = None

    @classmethod
    def setUpClass(cls):
        if not os.access(BLOCKING, os.X_OK):
            raise unittest.SkipTest("%s is not built (make bench-build)" %
                                    BLOCKING)
        cls.root = tempfile.mkdtemp(prefix="tinyweb-designs.")
        with open(os.path.join(cls.root, "page.html"), "wb") as f:
            f.write(PAGE)
        with open(os.path.join(cls.root, "data.bin"), "wb") as f:
            f.write(DATA)
        cls.srv = Blocking(cls.design, cls.root)
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_get_200_with_the_file_bytes(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/data.bin")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Length"), str(len(DATA)))
            self.assertEqual(r.header("Content-Type"),
                             "application/octet-stream")
            self.assertTrue(r.body == DATA, "body differs from the file")

    def test_missing_file_404(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/no-such-file.html")
            self.assertEqual(r.status, 404)
            self.assertEqual(r.header("Content-Length"), str(len(r.body)))

    def test_dot_segments_above_root_400_and_close(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/../page.html")
            self.assertEqual(r.status, 400)
            self.assertTrue(r.closes())
            self.assertTrue(c.at_eof(2.0), "open after Connection: close")

    def test_keep_alive_requests_on_one_socket(self):
        with Conn(self.port) as c:
            r1 = c.request("GET", "/page.html")
            self.assertEqual((r1.status, r1.body), (200, PAGE))
            self.assertEqual(r1.header("Content-Type"), "text/html")
            self.assertFalse(r1.closes())
            r2 = c.request("HEAD", "/data.bin")
            self.assertEqual((r2.status, r2.body), (200, b""))
            self.assertEqual(r2.header("Content-Length"), str(len(DATA)))
            # Pipelined: both answers in order on the same socket.
            c.send(build("GET", "/data.bin") +
                   build("GET", "/page.html", [("Connection", "close")]))
            r3 = c.read_response()
            r4 = c.read_response()
            self.assertEqual((r3.status, len(r3.body)), (200, len(DATA)))
            self.assertTrue(r3.body == DATA, "pipelined body differs")
            self.assertEqual((r4.status, r4.body), (200, PAGE))
            self.assertTrue(r4.closes())
            self.assertTrue(c.at_eof(2.0), "open after Connection: close")

    def second_client_answered(self):
        """With one idle keep-alive client connected, whether a second
        client's request is answered within a second."""
        with Conn(self.port) as idle:
            r = idle.request("GET", "/page.html")
            self.assertEqual(r.status, 200)
            with Conn(self.port, timeout=1.0) as c:
                c.send(build("GET", "/page.html"))
                try:
                    r = c.read_response(timeout=1.0)
                except AssertionError:
                    answered = False
                else:
                    self.assertEqual(r.status, 200)
                    answered = True
                if not answered:
                    # Its turn comes once the first client leaves.
                    idle.close()
                    r = c.read_response(timeout=3.0)
                    self.assertEqual((r.status, r.body), (200, PAGE))
        return answered


class TestIterative(DesignCase, unittest.TestCase):
    design = "iterative"

    def test_serves_one_client_at_a_time(self):
        self.assertFalse(self.second_client_answered(),
                         "a second client was served beside an idle one")


class TestFork(DesignCase, unittest.TestCase):
    design = "fork"

    def test_serves_clients_side_by_side(self):
        self.assertTrue(self.second_client_answered(),
                        "a second client waited for an idle one")


class TestThread(DesignCase, unittest.TestCase):
    design = "thread"

    def test_serves_clients_side_by_side(self):
        self.assertTrue(self.second_client_answered(),
                        "a second client waited for an idle one")


if __name__ == "__main__":
    unittest.main()
