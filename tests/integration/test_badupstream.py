# SPDX-License-Identifier: MIT
"""The scripted misbehaving upstream (badupstream.py) on its own, before
the proxy tests lean on it: every mode answers exactly the bytes it
promises to a raw socket client, and it records what it received (a
request smuggled in a body is a body, never a request). The command
line form serves, logs each request and stops on SIGTERM.

No tinyweb here: the run modes do not apply.
"""

import base64
import os
import socket
import subprocess
import sys
import time
import unittest

from badupstream import (MARKER, MODES, SPLIT, BadUpstream, _Reader,
                         ws_frame, ws_read_frame)
from harness import (HERE, build, free_port, parse_one, parse_responses,
                     read_until_close, wait_until)

GET = build("GET", "/x")


def head_of(data):
    """(status line, [(name, value)], rest) of a raw response; the head
    split on CRLF only, so a bare LF stays inside its line."""
    end = data.index(b"\r\n\r\n")
    lines = data[:end].split(b"\r\n")
    fields = [tuple(x.strip() for x in ln.split(b":", 1)) for ln in lines[1:]]
    return lines[0], fields, data[end + 4:]


class BadUpstreamCase(unittest.TestCase):

    def up(self, mode, **kw):
        u = BadUpstream(mode, **kw)
        self.addCleanup(u.stop)
        return u

    def exchange(self, u, data=GET, timeout=2.0):
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(data)
            return read_until_close(s, timeout)

    def test_every_mode_is_tested(self):
        names = {n[len("test_"):] for n in dir(self) if n.startswith("test_")}
        self.assertEqual([m for m in MODES if m not in names], [])

    def test_ok(self):
        u = self.up("ok", size=5000)
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(GET + build("POST", "/p", [("Content-Length", "3")],
                            body=b"abc") +
                      build("GET", "/last", [("Connection", "close")]))
            data = read_until_close(s, 3)
        rs = parse_responses(data, ("GET", "POST", "GET"))
        self.assertEqual([r.status for r in rs], [200, 200, 200])
        self.assertEqual([len(r.body) for r in rs], [5000] * 3)
        self.assertEqual(rs[0].header("X-Upstream-Port"), str(u.port))
        self.assertEqual(rs[2].header("Connection"), "close")
        self.assertEqual([(q.method, q.target, q.body) for q in u.requests],
                         [("GET", "/x", b""), ("POST", "/p", b"abc"),
                          ("GET", "/last", b"")])
        self.assertEqual(u.connections, 1)     # kept alive

    def test_ok_status(self):
        u = self.up("ok", size=3, status=503)
        r, _ = parse_one(self.exchange(u, build("GET", "/", [
            ("Connection", "close")])), eof=True)
        self.assertEqual((r.status, r.body), (503, b"012"))

    def test_close_at_once(self):
        u = self.up("close_at_once")
        self.assertEqual(self.exchange(u), b"")
        self.assertEqual([q.target for q in u.requests], ["/x"])

    def test_records_bodies_not_requests(self):
        # A request hidden in a body (chunked or not) is a body.
        smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        chunked = b"%x\r\n%s\r\n0\r\nX-T: 1\r\n\r\n" % (len(smuggled),
                                                        smuggled)
        u = self.up("ok")
        self.exchange(u, build("POST", "/a", [("Content-Length",
                                              str(len(smuggled)))],
                               body=smuggled) +
                      build("POST", "/b", [("Transfer-Encoding", "chunked")],
                            body=chunked) +
                      build("GET", "/c", [("Connection", "close")]))
        self.assertEqual([q.target for q in u.requests], ["/a", "/b", "/c"])
        self.assertEqual(u.requests[0].body, smuggled)
        self.assertEqual(u.requests[1].body, smuggled)
        self.assertTrue(u.requests[1].raw.endswith(b"X-T: 1\r\n\r\n"))
        self.assertIn(b"GET /smuggled", u.raw())

    def test_bad_request_closes(self):
        u = self.up("ok")
        self.assertEqual(self.exchange(u, b"NONSENSE\r\n\r\n"), b"")
        self.assertEqual(u.requests, [])
        self.assertEqual(u.raw(), b"NONSENSE\r\n\r\n")

    def test_slow_headers(self):
        u = self.up("slow_headers", delay=0.02)
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(GET)
            pieces = []
            data = b""
            while b"\r\n\r\n" not in data:
                b = s.recv(65536)
                self.assertTrue(b, "closed before the head ended")
                pieces.append(b)
                data += b
        self.assertEqual(len(pieces[0]), 1)    # one byte at a time
        self.assertGreater(len(pieces), 20)
        self.assertEqual(head_of(data)[0], b"HTTP/1.1 200 OK")

    def test_garbage_status(self):
        data = self.exchange(self.up("garbage_status"))
        self.assertTrue(data.startswith(b"HTTP/1.1 2OO OK\r\n"))
        self.assertTrue(data.endswith(MARKER))

    def test_cl_and_te(self):
        _, fields, body = head_of(self.exchange(self.up("cl_and_te")))
        names = [k.lower() for k, _ in fields]
        self.assertIn(b"content-length", names)
        self.assertIn((b"Transfer-Encoding", b"chunked"), fields)
        self.assertIn(MARKER, body)

    def test_two_cl(self):
        _, fields, _ = head_of(self.exchange(self.up("two_cl")))
        cls = [v for k, v in fields if k.lower() == b"content-length"]
        self.assertEqual(len(cls), 2)
        self.assertNotEqual(cls[0], cls[1])

    def test_huge_headers(self):
        data = self.exchange(self.up("huge_headers"))
        status, fields, body = head_of(data)
        self.assertEqual(status, b"HTTP/1.1 200 OK")
        self.assertGreaterEqual(data.index(b"\r\n\r\n"), 64 * 1024)
        self.assertEqual(len([k for k, _ in fields
                              if k.startswith(b"X-Huge-")]), 64)
        self.assertEqual(body, MARKER)

    def test_reset_mid_body(self):
        u = self.up("reset_mid_body", size=200000)
        data, reset = b"", False
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(GET)
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    data += b
            except ConnectionResetError:
                reset = True
        self.assertTrue(reset, "a FIN, not a reset")
        # Linux may drop the unread part on the reset: at most half came.
        if b"\r\n\r\n" in data:
            _, fields, body = head_of(data)
            self.assertIn((b"Content-Length", b"200000"), fields)
            self.assertLessEqual(len(body), 100000)

    def test_never_answers(self):
        u = self.up("never_answers")
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(GET)
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(1)
            self.assertEqual(len(u.requests), 1)
        # Stopping ends a connection held open.
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(GET)
            self.assertTrue(wait_until(lambda: len(u.requests) == 2))
            u.stop()
            self.assertEqual(read_until_close(s, 3), b"")

    def test_answers_twice(self):
        data = self.exchange(self.up("answers_twice"),
                             build("GET", "/", [("Connection", "close")]))
        rs = parse_responses(data, ("GET", "GET"))
        self.assertEqual([r.body for r in rs], [b"first\n", MARKER])

    def test_split_response(self):
        data = self.exchange(self.up("split_response"),
                             build("GET", "/", [("Connection", "close")]))
        status, fields, rest = head_of(data)
        # A bare LF inside one CRLF-delimited line carries a Set-Cookie.
        self.assertIn((b"X-Split", b"a\nSet-Cookie: " + SPLIT + b"=1"),
                      fields)
        self.assertIn((b"X-Split-CR", b"b\rX-Injected: " + SPLIT), fields)
        self.assertIn((b"Content-Length", b"0"), fields)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertTrue(rest.endswith(SPLIT))

    def test_close_delimited(self):
        data = self.exchange(self.up("close_delimited", size=3000))
        r, _ = parse_one(data, eof=True)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Content-Length"))
        self.assertIsNone(r.header("Transfer-Encoding"))
        self.assertEqual(len(r.body), 3000)

    def test_chunked(self):
        data = self.exchange(self.up("chunked"),
                             build("GET", "/", [("Connection", "close")]))
        _, fields, body = head_of(data)
        self.assertIn((b"Transfer-Encoding", b"chunked"), fields)
        self.assertIn(b"6;name=value\r\n", body)
        self.assertTrue(body.endswith(b"0\r\nX-Trailer: done\r\n\r\n"))
        rd = _Reader(None, lambda b: None)
        rd.buf = body
        from badupstream import _read_chunked
        decoded, _ = _read_chunked(rd)
        self.assertEqual(decoded, b"hello world\n")

    def test_websocket(self):
        # RFC 6455 1.3's example key and accept value.
        u = self.up("websocket")
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        with socket.create_connection(("127.0.0.1", u.port), 3) as s:
            s.sendall(build("GET", "/chat", [
                ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]))
            rd = _Reader(s, lambda b: None)
            head = rd.until(b"\r\n\r\n", 65536)
            status, fields, _ = head_of(head)
            self.assertEqual(status, b"HTTP/1.1 101 Switching Protocols")
            self.assertIn((b"Sec-WebSocket-Accept",
                           b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), fields)
            big = os.urandom(70000)
            s.sendall(ws_frame(0x1, b"hello", mask=b"\x01\x02\x03\x04") +
                      ws_frame(0x9, b"p", mask=b"abcd") +
                      ws_frame(0x2, big, mask=b"wxyz"))
            self.assertEqual(ws_read_frame(rd), (0x1, b"hello"))
            self.assertEqual(ws_read_frame(rd), (0xA, b"p"))
            self.assertEqual(ws_read_frame(rd), (0x2, big))
            # A message in two fragments comes back in two.
            s.sendall(ws_frame(0x1, b"frag", mask=b"abcd", fin=False) +
                      ws_frame(0x0, b"ment", mask=b"abcd"))
            self.assertEqual(rd.exactly(6), b"\x01\x04frag")
            self.assertEqual(rd.exactly(6), b"\x80\x04ment")
            s.sendall(ws_frame(0x8, b"\x03\xe8", mask=b"abcd"))
            self.assertEqual(ws_read_frame(rd), (0x8, b"\x03\xe8"))
            self.assertIsNone(ws_read_frame(rd))
        # No Upgrade: 426, the connection stays usable.
        data = self.exchange(u, GET + build("GET", "/", [("Connection",
                                                          "close")]))
        self.assertEqual([r.status for r in parse_responses(data)],
                         [426, 426])

    def test_unknown_mode(self):
        with self.assertRaises(ValueError):
            BadUpstream("polite")

    def test_command_line(self):
        port = free_port()
        p = subprocess.Popen([sys.executable,
                              os.path.join(HERE, "badupstream.py"),
                              "--port", str(port), "--mode", "ok",
                              "--size", "7"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stderr.readline()
            self.assertEqual(line, b"badupstream: ok on http://127.0.0.1:%d/\n"
                             % port)
            with socket.create_connection(("127.0.0.1", port), 3) as s:
                s.sendall(build("GET", "/cli", [("Connection", "close")]))
                r, _ = parse_one(read_until_close(s, 3), eof=True)
            self.assertEqual((r.status, len(r.body)), (200, 7))
            self.assertEqual(p.stdout.readline(), b"GET /cli\n")
            p.terminate()
            self.assertEqual(p.wait(5), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()


if __name__ == "__main__":
    unittest.main()
