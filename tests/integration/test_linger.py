# SPDX-License-Identifier: MIT
"""Lingering close (issue 11): a connection closed after a response while
the client's input is still unread (pipelined requests past
--max-keepalive-requests) is half-closed once the last response is written
and its input read and discarded for a bounded time (5 s) and size (1 MiB),
so the client gets every response and then EOF, never a reset that would
drop responses already delivered to its kernel.

Each test runs in epoll mode and in prefork with two workers (it picks the
mode itself). The only time check is the bound: a client that keeps sending
is closed within 5 s plus a margin, found by polling."""

import errno
import shutil
import time
import unittest

from harness import build, connect, make_tree, parse_responses, start, \
    unique_tmpdir

# Large enough that the last responses are still in the server's send
# buffer when it would close: a reset then throws them away.
BODY = b"linger test\n" * 20000
LIMIT = 10
LINGER_S = 5.0		# LINGER_MS in modules/http/http.c
MARGIN_S = 5.0
MODES = (("epoll", ("-m", "epoll")), ("prefork", ("-m", "prefork", "-w", "2")))


def read_to_eof(sock, timeout=10.0):
    """Every byte until EOF; ECONNRESET propagates (that is the bug)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


class LingerCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        make_tree(cls.tmp, {"a.txt": BODY})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def each_mode(self, fn):
        for name, args in MODES:
            with self.subTest(mode=name):
                srv = start(self.tmp, "--max-keepalive-requests", str(LIMIT),
                            *args, modes=False)
                try:
                    fn(srv.port)
                finally:
                    srv.stop()

    def test_pipelined_past_limit_get_all_then_eof(self):
        def check(port):
            s = connect(port)
            try:
                # Padded past the server's 32 KiB input buffer, so requests
                # are still unread in its kernel at the limit.
                s.sendall(build("GET", "/a.txt", [("X-Pad", "p" * 4000)]) * 30)
                # Read late, so the server is done writing before we are
                # done reading (no timing is asserted).
                time.sleep(0.3)
                try:
                    data = read_to_eof(s)
                except ConnectionResetError:
                    self.fail("connection reset instead of EOF")
            finally:
                s.close()
            rs = parse_responses(data)
            self.assertEqual(len(rs), LIMIT)
            for i, r in enumerate(rs):
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.body, BODY)
                conn = (r.header("Connection") or "").lower()
                if i == LIMIT - 1:
                    self.assertEqual(conn, "close", r.describe())
                else:
                    self.assertNotEqual(conn, "close", r.describe())
        self.each_mode(check)

    def keeps_sending(self, port, chunk, pause):
        """Reach the limit, then send chunk every pause seconds: the
        server must close the connection within the bound."""
        s = connect(port)
        try:
            s.sendall(build("GET", "/a.txt") * LIMIT)
            s.settimeout(10.0)
            data = b""
            while data.count(b"HTTP/1.1 200") < LIMIT or \
                    not data.endswith(BODY):
                more = s.recv(65536)
                self.assertTrue(more, "EOF before the %d responses" % LIMIT)
                data += more
            self.assertEqual(len(parse_responses(data)), LIMIT)
            s.setblocking(False)
            deadline = time.monotonic() + LINGER_S + MARGIN_S
            while time.monotonic() < deadline:
                try:
                    s.send(chunk)
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno in (errno.ECONNRESET, errno.EPIPE):
                        return
                    raise
                time.sleep(pause)
            self.fail("server still reading after %.0f s" %
                      (LINGER_S + MARGIN_S))
        finally:
            s.close()

    def test_slow_sender_closed_within_time_bound(self):
        self.each_mode(lambda port: self.keeps_sending(port, b"y" * 100, 0.05))

    def test_fast_sender_closed(self):
        self.each_mode(lambda port: self.keeps_sending(port, b"z" * 65536,
                                                       0.001))


if __name__ == "__main__":
    unittest.main()
