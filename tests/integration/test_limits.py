# SPDX-License-Identifier: MIT
"""Request limits and malformed requests: 414, 431, 505, 400 — and the
server keeps serving afterwards."""

import unittest

from harness import Conn, ServerCase, check_common, parse_responses, raw

HELLO = b"hello world\n"


class LimitCase(ServerCase):
    tree = {"hello.txt": HELLO}

    def send_raw(self, data, timeout=2.0):
        """Send raw bytes, return the first response (fails if none)."""
        got = raw(self.port, data, timeout)
        self.assertTrue(got, "no response to %r" % data[:120])
        r = parse_responses(got)[0]
        check_common(self, r)
        return r

    def expect(self, data, status):
        r = self.send_raw(data)
        self.assertStatus(r, status)
        self.assertGreater(len(r.body), 0, "error without a body")
        self.assertServes()
        return r


class TestSizeLimits(LimitCase):
    def test_long_request_line_414(self):
        self.expect(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    414)

    def test_long_request_line_never_ending_414(self):
        # 20 KiB of a request line without a line end, then nothing more.
        self.expect(b"GET /" + b"a" * 20000, 414)

    def test_request_line_under_limit_ok(self):
        r = self.send_raw(b"GET /hello.txt?" + b"a" * 7000 +
                          b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertStatus(r, 200)

    def test_header_block_over_16k_431(self):
        hdrs = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 1000)
                        for i in range(20))
        self.expect(b"GET / HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n", 431)

    def test_single_huge_header_431(self):
        self.expect(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"c" * 17000 +
                    b"\r\n\r\n", 431)

    def test_header_block_under_limit_ok(self):
        hdrs = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 1000)
                        for i in range(12))
        r = self.send_raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n" + hdrs + b"\r\n")
        self.assertStatus(r, 200)

    def test_101_header_lines_431(self):
        hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(100))
        self.expect(b"GET / HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n", 431)

    def test_100_header_lines_ok(self):
        hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(98))
        r = self.send_raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n" + hdrs + b"\r\n")
        self.assertStatus(r, 200)


class TestVersions(LimitCase):
    def test_http2_505(self):
        self.expect(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)

    def test_http3_505(self):
        self.expect(b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505)

    def test_http09_style_505(self):
        self.expect(b"GET /\r\n", 505)

    def test_http09_version_505(self):
        self.expect(b"GET / HTTP/0.9\r\n\r\n", 505)

    def test_h2_preface_not_served(self):
        # The preface parses as a request line of version 2.0: 505, as
        # for any other HTTP/2 request.
        r = self.send_raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        self.assertStatus(r, 505)
        self.assertServes()


class TestMalformed(LimitCase):
    CASES = {
        "no version": b"GET / \r\nHost: x\r\n\r\n",
        "bad version HTTP/1": b"GET / HTTP/1\r\nHost: x\r\n\r\n",
        "bad version HTTP/1.": b"GET / HTTP/1.\r\nHost: x\r\n\r\n",
        "bad version lowercase": b"GET / http/1.1\r\nHost: x\r\n\r\n",
        "bad version junk": b"GET / FOO/1.1\r\nHost: x\r\n\r\n",
        "bad version digits": b"GET / HTTP/11.1\r\nHost: x\r\n\r\n",
        "too many parts": b"GET / x HTTP/1.1\r\nHost: x\r\n\r\n",
        "obs-fold": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        "obs-fold tab": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n",
        "space before colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "space before colon 2": b"GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n",
        "no colon": b"GET / HTTP/1.1\r\nHost: x\r\nJunk\r\n\r\n",
        "empty name": b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
        "bare CR in value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        "bare CR line end": b"GET / HTTP/1.1\rHost: x\r\n\r\n",
        "NUL in value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
        "NUL in target": b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
        "NUL in method": b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "control in name": b"GET / HTTP/1.1\r\nHost: x\r\nX\x01A: a\r\n\r\n",
        "space in name": b"GET / HTTP/1.1\r\nHost: x\r\nX A: a\r\n\r\n",
        "non-token method": b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "target without slash": b"GET hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    }

    def test_malformed_400(self):
        for name, data in self.CASES.items():
            with self.subTest(case=name):
                r = self.send_raw(data)
                self.assertStatus(r, 400)
        self.assertServes()

    def test_error_closes_connection(self):
        with Conn(self.port) as c:
            c.send(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"
                   b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertStatus(r, 400)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(2), "server answered after a 400")

    def test_binary_garbage(self):
        import random
        rnd = random.Random(1234)
        for i in range(20):
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600)))
            with self.subTest(i=i):
                # No such junk is a request: one 400, then the close.
                rs = parse_responses(raw(self.port, junk + b"\r\n\r\n", 1.0))
                self.assertEqual([r.status for r in rs], [400], junk[:200])
        self.assertTrue(self.server.alive())
        self.assertServes()

    def test_lf_only_line_ends_400(self):
        # Bare LF is no line end here (RFC 9112 2.2 allows either; a
        # server that may sit behind or before a proxy must frame as it
        # does): one 400, then the close (test_framing.py has the rest).
        got = raw(self.port, b"GET /hello.txt HTTP/1.1\nHost: x\n"
                  b"Connection: close\n\n")
        rs = parse_responses(got)
        self.assertEqual([r.status for r in rs], [400])
        check_common(self, rs[0])
        self.assertTrue(rs[0].closes(), rs[0].describe())
        self.assertServes()


if __name__ == "__main__":
    unittest.main()
