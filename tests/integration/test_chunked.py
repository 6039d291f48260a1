# SPDX-License-Identifier: MIT
"""Chunked request bodies (RFC 9112 7.1): decoded and discarded, like a
Content-Length body, so a POST or PUT gets its 405 and the connection
stays in step for the next pipelined request.

Every exchange counts the responses exactly: one too many means bytes of
a body were read as a request (smuggling), one too few that the server
lost its place. Bad framing (RFC 9112 7.1: chunk-size not hex or past 64
bits, chunk data without its CRLF, bad extensions or trailer lines, a
bare LF) is 400 and a body over max_request_body is 413, each answered
once before any handler runs, and the connection closed. See
modules/parse/chunked.h.
"""

import socket
import time
import unittest

from harness import (Conn, ServerCase, build, check_common,
                     parse_responses, read_until_close)

HELLO = b"hello world\n"
LIMIT = 1024    # --max-request-body 1k


def chunked(method, body, target="/hello.txt"):
    return build(method, target, [("Transfer-Encoding", "chunked")],
                 body=body)


NEXT = build("GET", "/hello.txt")


class ChunkedCase(ServerCase):
    tree = {"index.html": b"<p>index</p>\n", "hello.txt": HELLO}
    server_args = ("--max-request-body", "1k")

    def statuses(self, data):
        return [r.status for r in self.exchange(data)]

    def refused(self, data, status):
        """Without the client's EOF: one answer, Connection: close, and
        the server closes by itself."""
        with Conn(self.port) as c:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = c.read_response()
            check_common(self, r)
            self.assertStatus(r, status)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(3), "open after %d" % status)


class TestDiscarded(ChunkedCase):
    def test_post_then_pipelined_get(self):
        self.assertEqual(self.statuses(
            chunked("POST", b"5\r\nhello\r\n0\r\n\r\n") + NEXT), [405, 200])

    def test_put_then_pipelined_get(self):
        self.assertEqual(self.statuses(
            chunked("PUT", b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n") + NEXT),
            [405, 200])

    def test_keeps_connection_open(self):
        with Conn(self.port) as c:
            c.send(chunked("POST", b"5\r\nhello\r\n0\r\n\r\n") + NEXT)
            a = c.read_response("POST")
            b = c.read_response()
            self.assertEqual((a.status, b.status, b.body), (405, 200, HELLO))
            self.assertFalse(a.closes(), a.describe())
            self.assertFalse(c.at_eof(0.3))
            r = c.request("GET", "/hello.txt")
            self.assertEqual((r.status, r.body), (200, HELLO))

    def test_extensions_trailers_uppercase_hex_leading_zeros(self):
        body = (b"00A;name=value;q=\"a \\\" b\"\r\n0123456789\r\n"
                b"1 ; x\r\nz\r\n"
                b"0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
        self.assertEqual(self.statuses(chunked("POST", body) + NEXT),
                         [405, 200])

    def test_requests_inside_chunk_data_are_not_requests(self):
        inner = NEXT + NEXT
        body = b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
        self.assertEqual(self.statuses(chunked("POST", body) + NEXT),
                         [405, 200])

    def test_get_with_chunked_body_is_served(self):
        self.assertEqual(self.statuses(
            chunked("GET", b"2\r\nab\r\n0\r\n\r\n") + NEXT), [200, 200])

    def test_body_at_the_limit(self):
        body = (b"200\r\n" + b"x" * 512 + b"\r\n" +
                b"200\r\n" + b"y" * 512 + b"\r\n0\r\n\r\n")
        self.assertEqual(self.statuses(chunked("POST", body) + NEXT),
                         [405, 200])

    def test_three_pipelined_chunked_requests(self):
        one = chunked("POST", b"1\r\na\r\n0\r\n\r\n")
        self.assertEqual(self.statuses(one + one + one + NEXT),
                         [405, 405, 405, 200])


class TestSlow(ChunkedCase):
    def test_body_in_pieces_then_next(self):
        pieces = [b"5\r\nhel", b"lo", b"\r", b"\n", b"1", b"0\r\n",
                  b"x" * 16, b"\r\n0", b"\r\nX-T: 1\r\n", b"\r", b"\n"]
        with Conn(self.port) as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.send(build("PUT", "/hello.txt",
                         [("Transfer-Encoding", "chunked")]))
            r = c.read_response("PUT")
            self.assertStatus(r, 405)
            self.assertFalse(r.closes(), r.describe())
            for p in pieces:
                time.sleep(0.02)
                c.send(p)
            time.sleep(0.05)
            c.send(NEXT)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, HELLO))
            self.assertFalse(c.at_eof(0.3))
            self.assertEqual(c.buf, b"")

    def test_one_byte_per_segment(self):
        data = chunked("POST", b"3;a=b\r\nabc\r\n0\r\nT: v\r\n\r\n") + NEXT
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3.0)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                if i % 8 == 0:
                    time.sleep(0.001)
            s.shutdown(socket.SHUT_WR)
            got = read_until_close(s, 5.0)
        finally:
            s.close()
        self.assertEqual([r.status for r in
                          parse_responses(got, ("POST", "GET"))], [405, 200])

    def test_bad_chunk_after_the_answer_closes_without_another(self):
        with Conn(self.port) as c:
            c.send(chunked("POST", b"3\r\nab"))
            r = c.read_response("POST")
            self.assertStatus(r, 405)
            time.sleep(0.05)
            c.send(b"cd\r\n0\r\n\r\n" + NEXT)
            self.assertTrue(c.at_eof(3), "answered after a bad chunk")


class TestRefused(ChunkedCase):
    BAD = [
        ("chunk-size not hex", b"zz\r\nhello\r\n0\r\n\r\n"),
        ("chunk-size 0x", b"0x5\r\nhello\r\n0\r\n\r\n"),
        ("chunk-size empty", b"\r\nhello\r\n0\r\n\r\n"),
        ("chunk-size past 2^64", b"10000000000000000\r\nx\r\n0\r\n\r\n"),
        ("no CRLF after the data", b"5\r\nhello0\r\n\r\n"),
        ("data longer than its size", b"3\r\nhello\r\n0\r\n\r\n"),
        ("bare LF after the size", b"5\nhello\r\n0\r\n\r\n"),
        ("bare LF after the data", b"5\r\nhello\n0\r\n\r\n"),
        ("bare LF ends the body", b"0\r\n\n"),
        ("bare CR", b"5\rhello\r\n0\r\n\r\n"),
        ("extension without a name", b"5;=x\r\nhello\r\n0\r\n\r\n"),
        ("extension value missing", b"5;a=\r\nhello\r\n0\r\n\r\n"),
        ("extension with a space in the name",
         b"5;a b\r\nhello\r\n0\r\n\r\n"),
        ("whitespace before the line end", b"5 \r\nhello\r\n0\r\n\r\n"),
        ("trailer without a colon", b"0\r\nX-T\r\n\r\n"),
        ("trailer with space before the colon", b"0\r\nX-T : v\r\n\r\n"),
        ("trailer folded", b"0\r\nX-T: v\r\n w\r\n\r\n"),
        ("trailer ends in bare LF", b"0\r\nX-T: v\n\r\n"),
        ("no final CRLF, next request instead", b"0\r\n" + NEXT),
    ]

    def test_malformed_400_once(self):
        for name, body in self.BAD:
            with self.subTest(row=name):
                self.assertEqual(
                    self.statuses(chunked("POST", body) + NEXT), [400])

    def test_malformed_400_and_close(self):
        for name, body in self.BAD:
            with self.subTest(row=name):
                self.refused(chunked("POST", body) + NEXT, 400)
        self.assertServes()

    def test_over_the_limit_413_and_close(self):
        for body in (b"%x\r\n" % (LIMIT + 1) + b"x" * (LIMIT + 1) +
                     b"\r\n0\r\n\r\n",
                     b"200\r\n" + b"x" * 512 + b"\r\n201\r\n" +
                     b"y" * 513 + b"\r\n0\r\n\r\n",
                     b"ffffffffffffffff\r\n"):
            with self.subTest(body=body[:24]):
                self.assertEqual(
                    self.statuses(chunked("POST", body) + NEXT), [413])
                self.refused(chunked("POST", body) + NEXT, 413)
        self.assertServes()

    def test_framing_still_refused(self):
        # Both framings, chunked not last, HTTP/1.0: 400; no chunked: 501.
        body = b"5\r\nhello\r\n0\r\n\r\n"
        rows = [
            (build("POST", "/hello.txt",
                   [("Transfer-Encoding", "chunked"),
                    ("Content-Length", "15")], body=body), 400),
            (build("POST", "/hello.txt",
                   [("Transfer-Encoding", "chunked, gzip")], body=body), 400),
            (build("POST", "/hello.txt",
                   [("Transfer-Encoding", "chunked")], version="HTTP/1.0",
                   body=body), 400),
            (build("POST", "/hello.txt",
                   [("Transfer-Encoding", "gzip")], body=body), 501),
        ]
        for data, status in rows:
            with self.subTest(data=data[:60]):
                self.assertEqual(self.statuses(data + NEXT), [status])


if __name__ == "__main__":
    unittest.main()
