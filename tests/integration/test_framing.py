# SPDX-License-Identifier: MIT
"""Strict message framing (RFC 9112 2.2, 3, 5, 6; RFC 9110 8.6), as a
table of raw bytes sent over real sockets.

Each row gives the exact statuses of every response the server sends for
its bytes, in order, and whether the server closes by itself after the
last one. The count is what catches request smuggling: when the server
refuses a head's framing it must answer once and close, never read what
follows as a second request. Most rows end with a second request (NEXT)
for exactly that reason.

Decisions the table pins down (see modules/parse/http_parse.h and
check_body() in modules/http/http.c):
- every line of the head ends in CRLF; a bare LF anywhere is 400, also
  before the request line (only CRLF empty lines are skipped there);
- obs-fold, whitespace before the colon, an empty name, control bytes: 400;
- Content-Length is 1*DIGIT, so "007" is 7; duplicates, as fields or as a
  list, must agree; a sign, junk or more than 2^63-1 is 400;
- Transfer-Encoding: chunked last -> the body is decoded and discarded
  and the next request read after it (test_chunked.py has the rest);
  chunked anywhere else or twice, no coding at all, with Content-Length,
  or in HTTP/1.0 -> 400; codings without chunked -> 501. All of them close.
"""

import socket
import time
import unittest

from harness import (Conn, ServerCase, parse_responses,
                     read_until_close)

HELLO = b"hello world\n"
OTHER = b"not to be smuggled\n"


def req(target=b"/hello.txt", fields=b"", method=b"GET",
        version=b"HTTP/1.1", body=b""):
    """One request with Host: x, CRLF line ends."""
    return (method + b" " + target + b" " + version + b"\r\nHost: x\r\n" +
            fields + b"\r\n" + body)


REQ = req()
# The request after the one under test: a 200 for it means the server
# kept reading after that one.
NEXT = req(b"/other.txt")
CHUNKED_BODY = b"5\r\nhello\r\n0\r\n\r\n"

# (name, bytes, statuses of all responses in order, server closes itself)
ROWS = [
    # ---- RFC 9112 2.2: line ends -------------------------------------
    ("bare LF ends the request line",
     b"GET /hello.txt HTTP/1.1\nHost: x\r\n\r\n" + NEXT, [400], True),
    ("bare LF ends a field line",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\nX: y\r\n\r\n" + NEXT, [400], True),
    ("bare LF ends the head",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\n" + NEXT, [400], True),
    ("LF only",
     b"GET /hello.txt HTTP/1.1\nHost: x\n\n" + NEXT, [400], True),
    ("attack: Content-Length hidden behind a bare LF",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23"
     b"\r\n\r\n" + NEXT, [400], True),
    ("attack: head ended early by a bare LF",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nUseless:\n\n" + NEXT,
     [400], True),
    ("bare CR inside a field value",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX: a\rContent-Length: 5\r\n"
     b"\r\n" + NEXT, [400], True),
    ("bare CR ends the request line",
     b"GET /hello.txt HTTP/1.1\rHost: x\r\n\r\n" + NEXT, [400], True),
    ("bare CR ends the head",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r" + NEXT, [400], True),
    ("leading CRLF is skipped", b"\r\n" + REQ, [200], False),
    ("leading CRLF CRLF is skipped", b"\r\n\r\n" + REQ, [200], False),
    ("leading bare LF", b"\n" + REQ, [400], True),
    ("CRLF between pipelined requests", REQ + b"\r\n" + NEXT, [200, 200],
     False),
    ("bare LF between pipelined requests", REQ + b"\n" + NEXT, [200, 400],
     True),

    # ---- RFC 9112 5.2: obs-fold --------------------------------------
    ("obs-fold SP",
     req(fields=b"X: a\r\n b\r\n", body=NEXT), [400], True),
    ("obs-fold HTAB",
     req(fields=b"X: a\r\n\tb\r\n", body=NEXT), [400], True),
    ("obs-fold hiding Content-Length",
     req(fields=b"X: a\r\n Content-Length: 5\r\n", body=b"hello" + NEXT),
     [400], True),
    ("obs-fold continuing Transfer-Encoding",
     req(fields=b"Transfer-Encoding: gzip,\r\n chunked\r\n",
         body=CHUNKED_BODY + NEXT), [400], True),

    # ---- RFC 9112 3: request line ------------------------------------
    ("two spaces after the method",
     b"GET  /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, [400], True),
    ("two spaces before the version",
     b"GET /hello.txt  HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, [400], True),
    ("trailing space",
     b"GET /hello.txt HTTP/1.1 \r\nHost: x\r\n\r\n" + NEXT, [400], True),
    ("tab as separator",
     b"GET\t/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, [400], True),
    ("missing version", b"GET /hello.txt\r\nHost: x\r\n\r\n" + NEXT,
     [505], True),
    ("SP and no version", b"GET /hello.txt \r\nHost: x\r\n\r\n" + NEXT,
     [400], True),
    ("lowercase http/1.1", req(version=b"http/1.1") + NEXT, [400], True),
    ("HTTP/2.0", req(version=b"HTTP/2.0") + NEXT, [505], True),
    ("HTTP/1.2 is served as 1.1", req(version=b"HTTP/1.2") + NEXT,
     [200, 200], False),
    ("absolute-form", req(b"http://x/hello.txt") + NEXT, [200, 200], False),
    ("M-SEARCH: a token method we don't implement",
     req(b"/", method=b"M-SEARCH") + NEXT, [501, 200], False),
    ("M-SEARCH with a body",
     req(b"/", method=b"M-SEARCH", fields=b"Content-Length: 5\r\n",
         body=b"hello") + NEXT, [501, 200], False),
    ("lowercase get is another method", req(method=b"get") + NEXT,
     [501, 200], False),
    ("POST with a body is 405",
     req(method=b"POST", fields=b"Content-Length: 5\r\n", body=b"hello") +
     NEXT, [405, 200], False),
    ("method not a token", req(method=b"G(T") + NEXT, [400], True),

    # ---- RFC 9112 5: field lines -------------------------------------
    ("space before the colon",
     req(fields=b"Content-Length : 5\r\n", body=b"hello" + NEXT),
     [400], True),
    ("tab before the colon",
     req(fields=b"Transfer-Encoding\t: chunked\r\n",
         body=CHUNKED_BODY + NEXT), [400], True),
    ("empty field name", req(fields=b": x\r\n") + NEXT, [400], True),
    ("field without a colon", req(fields=b"X\r\n") + NEXT, [400], True),
    ("control byte in a value", req(fields=b"X: a\x01b\r\n") + NEXT,
     [400], True),
    ("NUL in a value", req(fields=b"X: a\x00b\r\n") + NEXT, [400], True),
    ("DEL in a name", req(fields=b"X\x7f: a\r\n") + NEXT, [400], True),
    ("obs-text in a value is fine", req(fields=b"X: caf\xe9\r\n") + NEXT,
     [200, 200], False),

    # ---- RFC 9110 8.6, RFC 9112 6.3: Content-Length -------------------
    ("Content-Length 0", req(fields=b"Content-Length: 0\r\n") + NEXT,
     [200, 200], False),
    ("Content-Length 007 is 7",
     req(fields=b"Content-Length: 007\r\n", body=b"1234567") + NEXT,
     [200, 200], False),
    ("Content-Length twice, same value",
     req(fields=b"Content-Length: 5\r\nContent-Length: 5\r\n",
         body=b"hello") + NEXT, [200, 200], False),
    ("Content-Length twice, 5 and 005",
     req(fields=b"Content-Length: 5\r\nContent-Length: 005\r\n",
         body=b"hello") + NEXT, [200, 200], False),
    ("Content-Length list 5, 5",
     req(fields=b"Content-Length: 5, 5\r\n", body=b"hello") + NEXT,
     [200, 200], False),
    ("Content-Length list 5, 6",
     req(fields=b"Content-Length: 5, 6\r\n", body=b"hello!") + NEXT,
     [400], True),
    ("Content-Length twice, 5 and 6",
     req(fields=b"Content-Length: 5\r\nContent-Length: 6\r\n",
         body=b"hello!") + NEXT, [400], True),
    ("Content-Length twice, 6 and 5",
     req(fields=b"Content-Length: 6\r\nContent-Length: 5\r\n",
         body=b"hello!") + NEXT, [400], True),
    ("Content-Length -1", req(fields=b"Content-Length: -1\r\n") + NEXT,
     [400], True),
    ("Content-Length +5",
     req(fields=b"Content-Length: +5\r\n", body=b"hello") + NEXT,
     [400], True),
    ("Content-Length empty", req(fields=b"Content-Length:\r\n") + NEXT,
     [400], True),
    ("Content-Length 5 5",
     req(fields=b"Content-Length: 5 5\r\n", body=b"hello") + NEXT,
     [400], True),
    ("Content-Length 0x5",
     req(fields=b"Content-Length: 0x5\r\n", body=b"hello") + NEXT,
     [400], True),
    ("Content-Length 5,",
     req(fields=b"Content-Length: 5,\r\n", body=b"hello") + NEXT,
     [400], True),
    ("Content-Length past 2^64",
     req(fields=b"Content-Length: 18446744073709551621\r\n",
         body=b"hello") + NEXT, [400], True),
    ("Content-Length 2^63",
     req(fields=b"Content-Length: 9223372036854775808\r\n") + NEXT,
     [400], True),
    ("Content-Length 2^63-1: too large to discard",
     req(fields=b"Content-Length: 9223372036854775807\r\n") + NEXT,
     [413], True),
    ("a request inside a body is not a request",
     req(fields=b"Content-Length: %d\r\n" % len(NEXT), body=NEXT),
     [200], False),
    ("body cut short by the client",
     req(fields=b"Content-Length: 10\r\n", body=b"abc"), [200], False),

    # ---- RFC 9112 6.1, 6.3: Transfer-Encoding -------------------------
    ("TE chunked",
     req(fields=b"Transfer-Encoding: chunked\r\n", body=CHUNKED_BODY) +
     NEXT, [200, 200], False),
    ("TE Chunked",
     req(fields=b"Transfer-Encoding: Chunked\r\n", body=CHUNKED_BODY) +
     NEXT, [200, 200], False),
    ("TE gzip, chunked",
     req(fields=b"Transfer-Encoding: gzip, chunked\r\n",
         body=CHUNKED_BODY) + NEXT, [200, 200], False),
    ("TE gzip then chunked, two fields",
     req(fields=b"Transfer-Encoding: gzip\r\n"
         b"Transfer-Encoding: chunked\r\n", body=CHUNKED_BODY) + NEXT,
     [200, 200], False),
    ("TE chunked, a request inside the chunk data is not a request",
     req(fields=b"Transfer-Encoding: chunked\r\n",
         body=b"%x\r\n" % len(NEXT) + NEXT + b"\r\n0\r\n\r\n"),
     [200], False),
    ("TE chunked, bare LF after the chunk-size",
     req(fields=b"Transfer-Encoding: chunked\r\n",
         body=b"5\nhello\r\n0\r\n\r\n") + NEXT, [400], True),
    ("TE chunked, no CRLF after the chunk data",
     req(fields=b"Transfer-Encoding: chunked\r\n",
         body=b"5\r\nhello0\r\n\r\n") + NEXT, [400], True),
    ("TE chunked, chunk-size past 2^64",
     req(fields=b"Transfer-Encoding: chunked\r\n",
         body=b"10000000000000000\r\n") + NEXT, [400], True),
    ("TE chunked, chunk too large to discard",
     req(fields=b"Transfer-Encoding: chunked\r\n",
         body=b"7fffffffffffffff\r\n") + NEXT, [413], True),
    ("TE chunked, chunk body cut short by the client",
     req(fields=b"Transfer-Encoding: chunked\r\n", body=b"a\r\nabc"),
     [200], False),
    ("TE chunked, gzip: chunked not last",
     req(fields=b"Transfer-Encoding: chunked, gzip\r\n",
         body=CHUNKED_BODY) + NEXT, [400], True),
    ("TE chunked then gzip, two fields",
     req(fields=b"Transfer-Encoding: chunked\r\n"
         b"Transfer-Encoding: gzip\r\n", body=CHUNKED_BODY) + NEXT,
     [400], True),
    ("TE chunked, chunked",
     req(fields=b"Transfer-Encoding: chunked, chunked\r\n",
         body=CHUNKED_BODY) + NEXT, [400], True),
    ("TE empty", req(fields=b"Transfer-Encoding:\r\n") + NEXT, [400], True),
    ("TE identity", req(fields=b"Transfer-Encoding: identity\r\n") + NEXT,
     [501], True),
    ("TE gzip", req(fields=b"Transfer-Encoding: gzip\r\n") + NEXT,
     [501], True),
    ("TE with Content-Length",
     req(fields=b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
         body=CHUNKED_BODY) + NEXT, [400], True),
    ("Content-Length with TE",
     req(fields=b"Content-Length: 15\r\nTransfer-Encoding: chunked\r\n",
         body=CHUNKED_BODY) + NEXT, [400], True),
    ("TE in HTTP/1.0",
     req(version=b"HTTP/1.0", fields=b"Transfer-Encoding: chunked\r\n",
         body=CHUNKED_BODY) + NEXT, [400], True),

    # ---- pipelining ----------------------------------------------------
    ("two pipelined requests", REQ + NEXT, [200, 200], False),
    ("three pipelined requests", REQ + REQ + NEXT, [200, 200, 200], False),
    ("good, bad, good", REQ + req(fields=b"X : y\r\n") + NEXT, [200, 400],
     True),
    ("unfinished head, then the client's EOF",
     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n", [], False),
]


class FramingCase(ServerCase):
    tree = {"index.html": b"<p>index</p>\n", "hello.txt": HELLO,
            "other.txt": OTHER}

    def check_bodies(self, rs):
        for r in rs:
            if r.status == 200:
                self.assertIn(r.body, (HELLO, OTHER))
            else:
                self.assertGreater(len(r.body), 0, "error without a body")


class TestFramingTable(FramingCase):
    def test_rows_statuses_and_count(self):
        for name, data, statuses, _closes in ROWS:
            with self.subTest(row=name):
                rs = self.exchange(data)
                self.assertEqual([r.status for r in rs], statuses,
                                 "%r" % data[:200])
                self.check_bodies(rs)
        self.assertServes()

    def test_rows_close_or_keep_serving(self):
        """Without the client's EOF: a row that closes must close by
        itself, announced by Connection: close; one that doesn't must
        keep the connection and answer a further request on it."""
        for name, data, statuses, closes in ROWS:
            if not statuses:
                continue
            with self.subTest(row=name), Conn(self.port) as c:
                c.send(data)
                rs = [c.read_response() for _ in statuses]
                self.assertEqual([r.status for r in rs], statuses)
                if closes:
                    self.assertTrue(rs[-1].closes(), rs[-1].describe())
                    self.assertTrue(c.at_eof(3),
                                    "connection open after %d" %
                                    rs[-1].status)
                else:
                    self.assertFalse(rs[-1].closes(), rs[-1].describe())
                    if name == "body cut short by the client":
                        c.send(b"1234567")
                    if name == ("TE chunked, chunk body cut short by "
                                "the client"):
                        c.send(b"defghij\r\n0\r\n\r\n")
                    r = c.request("GET", "/hello.txt")
                    self.assertEqual((r.status, r.body), (200, HELLO))
        self.assertServes()

    def test_first_response_is_the_only_one_after_a_refusal(self):
        # The smuggled request must not be answered even if it arrives in
        # a later segment, after the 400 has been sent.
        for data in (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nDummy: x\n"
                     b"Content-Length: 23\r\n\r\n",
                     b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nUseless:\n\n"):
            with self.subTest(data=data), Conn(self.port) as c:
                c.send(data)
                r = c.read_response()
                self.assertStatus(r, 400)
                self.assertTrue(r.closes(), r.describe())
                try:
                    c.send(NEXT)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.assertTrue(c.at_eof(3), "answered after a 400")


class TestBytewise(FramingCase):
    """The server reads what arrives; the answer must not depend on how
    the bytes are cut into segments (the parser's prefix property)."""

    ROWS = ("attack: Content-Length hidden behind a bare LF",
            "attack: head ended early by a bare LF",
            "bare CR ends the head",
            "leading CRLF is skipped",
            "Content-Length list 5, 5",
            "TE chunked",
            "TE chunked, a request inside the chunk data is not a request",
            "TE chunked, gzip: chunked not last",
            "two pipelined requests")

    def test_rows_one_byte_per_segment(self):
        rows = {name: (data, statuses) for name, data, statuses, _ in ROWS}
        for name in self.ROWS:
            data, statuses = rows[name]
            with self.subTest(row=name):
                s = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=3.0)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    for i in range(len(data)):
                        try:
                            s.sendall(data[i:i + 1])
                        except (BrokenPipeError, ConnectionResetError):
                            break
                        if i % 8 == 0:
                            time.sleep(0.001)
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    got = read_until_close(s, 5.0)
                finally:
                    s.close()
                self.assertEqual([r.status for r in parse_responses(got)],
                                 statuses)


class TestServesOthers(FramingCase):
    def test_attack_on_one_connection_leaves_another_alone(self):
        with Conn(self.port) as good:
            r = good.request("GET", "/hello.txt")
            self.assertEqual(r.status, 200)
            for name, data, statuses, closes in ROWS:
                if statuses and statuses[0] == 400:
                    self.exchange(data)
            r = good.request("GET", "/other.txt")
            self.assertEqual((r.status, r.body), (200, OTHER))
        self.assertTrue(self.server.alive())
        self.assertServes()


if __name__ == "__main__":
    unittest.main()
