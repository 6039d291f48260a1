# SPDX-License-Identifier: MIT
"""HTTP behaviour: headers on every response, keep-alive, pipelining,
methods, Host rules, request bodies, file metadata and MIME types."""

import os
import shutil
import subprocess
import unittest
import zlib
import struct

import harness
from harness import Conn, ServerCase, Server, build, check_common, get, \
    http_date, etag_for, parse_responses, raw

MTIME = 1700000000


def _png():
    def chunk(t, d):
        return (struct.pack(">I", len(d)) + t + d +
                struct.pack(">I", zlib.crc32(t + d) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) +
            chunk(b"IEND", b""))


PNG = _png()
INDEX = "<!doctype html><title>tinyweb</title><p>héllo wörld</p>\n".encode()
HELLO = b"hello world\n"
LATIN1 = b"caf\xe9 cr\xe8me br\xfbl\xe9e \xe0 la fran\xe7aise\n"
BIG = os.urandom(5 * 1024 * 1024 + 7)

METHODS_405 = ("POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT")


class HttpCase(ServerCase):
    tree = {
        "index.html": INDEX,
        "hello.txt": HELLO,
        "latin1.txt": LATIN1,
        "img.png": PNG,
        "noext": PNG,
        "big.bin": BIG,
        "sub": {"index.html": b"<p>sub</p>\n"},
    }

    @classmethod
    def prepare(cls):
        for name in ("hello.txt", "index.html", "latin1.txt", "img.png"):
            os.utime(os.path.join(cls.root, name), (MTIME, MTIME))


class TestCommonHeaders(HttpCase):
    def test_get_file_headers(self):
        r = self.get("/hello.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, HELLO)
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.header("Last-Modified"), http_date(MTIME))
        self.assertEqual(r.header("ETag"), '"c-6553f100"')
        self.assertEqual(r.header("ETag"), etag_for(self.path("hello.txt")))

    def test_every_status_has_common_headers(self):
        cases = [("GET", "/hello.txt", 200), ("GET", "/nope", 404),
                 ("GET", "/sub", 301), ("POST", "/hello.txt", 405),
                 ("FOO", "/hello.txt", 501), ("OPTIONS", "/hello.txt", 204),
                 ("GET", "/%zz", 400)]
        for method, target, status in cases:
            with self.subTest(method=method, target=target):
                r = self.req(method, target)
                self.assertStatus(r, status)

    def test_error_bodies_are_small_html(self):
        for method, target, status in [("GET", "/nope", 404),
                                       ("DELETE", "/", 405),
                                       ("FOO", "/", 501),
                                       ("GET", "/%zz", 400)]:
            with self.subTest(target=target, status=status):
                r = self.req(method, target)
                self.assertStatus(r, status)
                self.assertTrue(r.header("Content-Type", "")
                                .startswith("text/html"), r.describe())
                self.assertGreater(len(r.body), 0)
                self.assertLess(len(r.body), 4096)
                self.assertIn(str(status).encode(), r.body)

    def test_head_error_has_no_body(self):
        # Pipeline a GET after the HEAD: a stray body would corrupt it.
        data = raw(self.port, build("HEAD", "/nope") +
                   build("GET", "/hello.txt", [("Connection", "close")]))
        rs = parse_responses(data, ["HEAD", "GET"])
        self.assertEqual([r.status for r in rs], [404, 200])
        self.assertGreater(int(rs[0].header("Content-Length")), 0)
        self.assertEqual(rs[1].body, HELLO)

    def test_head_same_headers_as_get(self):
        g = self.get("/big.bin")
        h = self.head("/big.bin")
        self.assertStatus(h, 200)
        self.assertEqual(h.body, b"")
        skip = {"date"}
        gh = sorted((k.lower(), v) for k, v in g.headers if k.lower() not in skip)
        hh = sorted((k.lower(), v) for k, v in h.headers if k.lower() not in skip)
        self.assertEqual(gh, hh)
        self.assertEqual(int(h.header("Content-Length")), len(BIG))

    def test_options(self):
        for target in ("/", "/hello.txt"):
            with self.subTest(target=target):
                r = self.req("OPTIONS", target)
                self.assertStatus(r, 204)
                self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")
                self.assertEqual(r.body, b"")

    def test_405_methods(self):
        for m in METHODS_405:
            with self.subTest(method=m):
                r = self.req(m, "/hello.txt")
                self.assertStatus(r, 405)
                self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")

    def test_unknown_method_501(self):
        for m in ("FOO", "PROPFIND", "BREW"):
            with self.subTest(method=m):
                self.assertStatus(self.req(m, "/hello.txt"), 501)

    def test_lowercase_method_is_not_get(self):
        # Methods are case-sensitive: "get" is an unknown method.
        r = self.req("get", "/hello.txt")
        self.assertStatus(r, 501)


class TestConnections(HttpCase):
    def test_http11_keepalive_default(self):
        with Conn(self.port) as c:
            for _ in range(3):
                r = c.request("GET", "/hello.txt")
                check_common(self, r)
                self.assertEqual(r.body, HELLO)
                self.assertFalse(r.closes(), r.describe())
            self.assertFalse(c.at_eof(0.3), "server closed a keep-alive "
                             "connection")

    def test_http11_connection_close(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/hello.txt", [("Connection", "close")])
            self.assertEqual(r.body, HELLO)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(2), "connection not closed")

    def test_http10_closes_by_default(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/hello.txt", version="HTTP/1.0",
                          host=False)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, HELLO)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(2), "HTTP/1.0 connection not closed")

    def test_http10_keepalive_on_request(self):
        with Conn(self.port) as c:
            for _ in range(2):
                r = c.request("GET", "/hello.txt",
                              [("Connection", "keep-alive")],
                              version="HTTP/1.0", host=False)
                self.assertStatus(r, 200)
                self.assertIn("keep-alive", r.conn_tokens(), r.describe())
                self.assertEqual(r.body, HELLO)
            self.assertFalse(c.at_eof(0.3))

    def test_http10_response_version(self):
        r = get(self.port, "/hello.txt", version="HTTP/1.0", host=False)
        self.assertEqual(r.version, "HTTP/1.1")

    def test_pipelined_in_order(self):
        with Conn(self.port) as c:
            c.send(build("GET", "/hello.txt") + build("HEAD", "/index.html") +
                   build("GET", "/img.png"))
            a = c.read_response("GET")
            b = c.read_response("HEAD")
            d = c.read_response("GET")
            self.assertEqual((a.status, b.status, d.status), (200, 200, 200))
            self.assertEqual(a.body, HELLO)
            self.assertEqual(b.body, b"")
            self.assertEqual(int(b.header("Content-Length")), len(INDEX))
            self.assertEqual(d.body, PNG)
            self.assertFalse(c.at_eof(0.3))
            self.assertEqual(c.buf, b"", "extra bytes after the responses")

    def test_pipelined_many(self):
        n = 50
        with Conn(self.port) as c:
            c.send(b"".join(build("GET", "/hello.txt?n=%d" % i)
                            for i in range(n)))
            for i in range(n):
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, HELLO), i)

    def test_pipelined_with_close_last(self):
        data = raw(self.port, build("GET", "/hello.txt") +
                   build("GET", "/index.html", [("Connection", "close")]) +
                   build("GET", "/img.png"))
        rs = parse_responses(data)
        self.assertEqual(len(rs), 2, "request after Connection: close "
                         "answered")
        self.assertEqual(rs[1].body, INDEX)
        self.assertTrue(rs[1].closes())

    def test_request_split_in_single_bytes(self):
        with Conn(self.port) as c:
            c.sock.setsockopt(harness.socket.IPPROTO_TCP,
                              harness.socket.TCP_NODELAY, 1)
            for b in build("GET", "/hello.txt"):
                c.send(bytes([b]))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, HELLO))

    def test_half_close_after_request(self):
        s = harness.connect(self.port)
        s.sendall(build("GET", "/hello.txt"))
        s.shutdown(harness.socket.SHUT_WR)
        data = harness.read_until_close(s, 2)
        s.close()
        rs = parse_responses(data)
        self.assertEqual(len(rs), 1, data)
        self.assertEqual(rs[0].body, HELLO)

    def test_leading_empty_lines_ignored(self):
        r = parse_responses(raw(self.port, b"\r\n" + build(
            "GET", "/hello.txt", [("Connection", "close")])))
        self.assertEqual(r[0].status, 200)


class TestHost(HttpCase):
    def test_http11_without_host_400(self):
        r = self.req("GET", "/hello.txt", host=False)
        self.assertStatus(r, 400)

    def test_two_host_headers_400(self):
        r = self.req("GET", "/hello.txt", [("Host", "a"), ("Host", "b")])
        self.assertStatus(r, 400)

    def test_invalid_host_value_400(self):
        # RFC 9112 3.2: a Host with an invalid value is a 400 too.
        for v in ("a b", "a/b", "x\\y"):
            with self.subTest(host=v):
                self.assertStatus(self.req("GET", "/hello.txt",
                                           [("Host", v)]), 400)

    def test_empty_host_ok(self):
        self.assertStatus(self.req("GET", "/hello.txt", [("Host", "")]), 200)

    def test_http10_without_host_ok(self):
        r = self.req("GET", "/hello.txt", version="HTTP/1.0", host=False)
        self.assertStatus(r, 200)

    def test_absolute_form_target(self):
        r = self.req("GET", "http://127.0.0.1:%d/hello.txt" % self.port,
                     [("Host", "127.0.0.1:%d" % self.port)])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, HELLO)


class TestRequestBodies(HttpCase):
    def test_body_on_post_discarded_keepalive_in_step(self):
        with Conn(self.port) as c:
            c.send(build("POST", "/hello.txt", [("Content-Length", "11")],
                         body=b"GET /x HTTP") +
                   build("GET", "/hello.txt"))
            a = c.read_response()
            b = c.read_response()
            self.assertStatus(a, 405)
            self.assertStatus(b, 200)
            self.assertEqual(b.body, HELLO)
            self.assertFalse(c.at_eof(0.3))

    def test_body_on_get_discarded(self):
        body = b"x" * 70000
        with Conn(self.port) as c:
            c.send(build("GET", "/hello.txt",
                         [("Content-Length", str(len(body)))], body=body) +
                   build("HEAD", "/index.html"))
            a = c.read_response()
            b = c.read_response("HEAD")
            self.assertEqual((a.status, a.body), (200, HELLO))
            self.assertEqual(b.status, 200)
            self.assertEqual(c.buf, b"")

    def test_body_arriving_later(self):
        with Conn(self.port) as c:
            c.send(build("POST", "/", [("Content-Length", "10")]) + b"12345")
            harness.time.sleep(0.2)
            c.send(b"67890" + build("GET", "/hello.txt"))
            self.assertStatus(c.read_response(), 405)
            self.assertEqual(c.read_response().body, HELLO)

    def test_content_length_too_large_413(self):
        with Conn(self.port) as c:
            c.send(build("POST", "/hello.txt",
                         [("Content-Length", str(1024 * 1024 + 1))]))
            r = c.read_response()
            check_common(self, r)
            self.assertStatus(r, 413)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(2))
        self.assertServes()

    def test_content_length_1mib_accepted(self):
        body = b"a" * (1024 * 1024)
        with Conn(self.port) as c:
            c.send(build("GET", "/hello.txt",
                         [("Content-Length", str(len(body)))]))
            c.send(body + build("GET", "/hello.txt"))
            self.assertEqual(c.read_response().body, HELLO)
            self.assertEqual(c.read_response().body, HELLO)

    def test_invalid_content_length_400(self):
        for v in ("abc", "-1", "+5", "0x10", "", "1 2", "5, 6",
                  "99999999999999999999999999"):
            with self.subTest(cl=v):
                r = self.req("POST", "/hello.txt", [("Content-Length", v)])
                # Overflowing 64 bits too: not a length the parser can
                # read, so invalid (400) before any limit is checked.
                self.assertStatus(r, 400)
        self.assertServes()

    def test_two_different_content_lengths_400(self):
        r = self.req("POST", "/hello.txt", [("Content-Length", "5"),
                                            ("Content-Length", "6")],
                     body=b"123456")
        self.assertStatus(r, 400)

    def test_content_length_and_transfer_encoding_400(self):
        # RFC 9112 6.1: the server must close after answering this.
        with Conn(self.port) as c:
            c.send(build("POST", "/hello.txt",
                         [("Content-Length", "5"),
                          ("Transfer-Encoding", "chunked")]) +
                   b"0\r\n\r\n" + build("GET", "/hello.txt"))
            r = c.read_response()
            check_common(self, r)
            self.assertStatus(r, 400)
            self.assertTrue(r.closes(), r.describe())
            self.assertTrue(c.at_eof(2), "connection kept open after a "
                            "smuggling attempt")

    def test_chunked_body_discarded_405_then_next(self):
        with Conn(self.port) as c:
            c.send(build("POST", "/hello.txt",
                         [("Transfer-Encoding", "chunked")]) +
                   b"5\r\nhello\r\n0\r\n\r\n" + build("GET", "/hello.txt"))
            r = c.read_response()
            check_common(self, r)
            self.assertStatus(r, 405)
            self.assertFalse(r.closes(), r.describe())
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertFalse(c.at_eof(0.3))

    def test_other_transfer_encoding_501(self):
        r = self.req("POST", "/hello.txt", [("Transfer-Encoding", "gzip")])
        self.assertStatus(r, 501)
        self.assertServes()


class TestFiles(HttpCase):
    def test_content_types(self):
        cases = [("/index.html", "text/html; charset=utf-8"),
                 ("/latin1.txt", "text/plain; charset=iso-8859-1"),
                 ("/img.png", "image/png"),
                 ("/noext", "image/png")]
        for target, ctype in cases:
            with self.subTest(target=target):
                r = self.get(target)
                self.assertStatus(r, 200)
                self.assertEqual(r.header("Content-Type"), ctype)

    def test_ascii_text_is_text_plain(self):
        r = self.get("/hello.txt")
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))

    def test_bodies_exact(self):
        for target, body in [("/index.html", INDEX), ("/latin1.txt", LATIN1),
                             ("/img.png", PNG), ("/noext", PNG),
                             ("/hello.txt", HELLO)]:
            with self.subTest(target=target):
                self.assertEqual(self.get(target).body, body)

    def test_big_file_exact(self):
        r = self.get("/big.bin", timeout=10)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body), len(BIG))
        self.assertTrue(r.body == BIG, "5 MiB body differs")

    def test_big_file_twice_on_one_connection(self):
        with Conn(self.port, timeout=10) as c:
            c.send(build("GET", "/big.bin") + build("GET", "/hello.txt"))
            self.assertTrue(c.read_response().body == BIG)
            self.assertEqual(c.read_response().body, HELLO)

    def test_last_modified_and_etag_follow_file(self):
        p = self.path("hello.txt")
        st = os.stat(p)
        r = self.get("/hello.txt")
        self.assertEqual(r.header("Last-Modified"), http_date(st.st_mtime))
        self.assertRegex(r.header("ETag"), r'^"[0-9a-f]+-[0-9a-f]+"$')
        self.assertEqual(r.header("ETag"), '"%x-%x"' % (st.st_size,
                                                       int(st.st_mtime)))

    def test_changed_file_changes_etag(self):
        p = self.path("changing.txt")
        with open(p, "wb") as f:
            f.write(b"one\n")
        os.utime(p, (MTIME, MTIME))
        a = self.get("/changing.txt")
        with open(p, "wb") as f:
            f.write(b"second\n")
        os.utime(p, (MTIME + 100, MTIME + 100))
        b = self.get("/changing.txt")
        self.assertEqual(a.body, b"one\n")
        self.assertEqual(b.body, b"second\n")
        self.assertEqual(a.header("ETag"), '"4-%x"' % MTIME)
        self.assertEqual(b.header("ETag"), '"7-%x"' % (MTIME + 100))
        self.assertEqual(b.header("Last-Modified"), http_date(MTIME + 100))

    def test_huge_and_negative_mtime(self):
        for name, t in [("old.txt", -86400 * 365), ("future.txt", 2**33),
                        ("epoch.txt", 0)]:
            with self.subTest(name=name):
                p = self.path(name)
                with open(p, "wb") as f:
                    f.write(b"t\n")
                try:
                    os.utime(p, (t, t))
                except (OverflowError, OSError):
                    self.skipTest("filesystem refuses mtime %d" % t)
                r = self.get("/" + name)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, b"t\n")
                lm = r.header("Last-Modified")
                if lm is not None:
                    self.assertRegex(lm, harness.IMF_RE)

    def test_query_string_ignored(self):
        r = self.get("/hello.txt?x=1&y=%zz")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, HELLO)

    def test_not_found(self):
        self.assertStatus(self.get("/nope.txt"), 404)
        self.assertStatus(self.get("/hello.txt/"), 404)
        self.assertStatus(self.get("/hello.txt/x"), 404)

    def test_charset_off(self):
        with Server(self.root, "--charset", "off") as s:
            r = get(s.port, "/index.html")
            self.assertEqual(r.header("Content-Type"), "text/html")
            r = get(s.port, "/latin1.txt")
            self.assertEqual(r.header("Content-Type"), "text/plain")
            r = get(s.port, "/img.png")
            self.assertEqual(r.header("Content-Type"), "image/png")


@unittest.skipUnless(shutil.which("curl"), "curl not installed")
class TestCurl(HttpCase):
    def curl(self, *args):
        p = subprocess.run(["curl", "-sS", "--max-time", "10"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=15)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def test_curl_big_file(self):
        self.assertTrue(self.curl(self.url("/big.bin")) == BIG)

    def test_curl_keepalive_two_urls(self):
        out = self.curl(self.url("/hello.txt"), self.url("/big.bin"))
        self.assertTrue(out == HELLO + BIG)

    def test_curl_http10(self):
        self.assertEqual(self.curl("--http1.0", self.url("/hello.txt")), HELLO)

    def test_curl_head(self):
        out = self.curl("-I", self.url("/img.png")).decode()
        self.assertIn("content-length: %d" % len(PNG), out.lower())

    def test_curl_range(self):
        self.assertEqual(self.curl("-r", "2-5", self.url("/hello.txt")),
                         HELLO[2:6])

    def test_curl_follows_directory_redirect(self):
        self.assertEqual(self.curl("-L", self.url("/sub")), b"<p>sub</p>\n")


if __name__ == "__main__":
    unittest.main()


class TestOpenFileCache(HttpCase):
    """The open-file cache keeps hot files open (and small ones in
    memory) but notices changes: a rewrite in place at once, a file
    replaced, created or deleted within its validity time (1 s)."""

    VALID = 1.0

    def poll(self, target, pred, limit):
        """The first response to target satisfying pred, within limit s;
        fails with the last response otherwise."""
        import time
        deadline = time.monotonic() + limit
        while True:
            r = self.get(target)
            if pred(r):
                return r
            if time.monotonic() > deadline:
                self.fail("no change after %.1f s: %s" % (limit, r.describe()))
            time.sleep(0.05)

    def test_rewrite_in_place_is_seen_at_once(self):
        p = self.path("inplace.txt")
        with open(p, "wb") as f:
            f.write(b"first\n")
        self.assertEqual(self.get("/inplace.txt").body, b"first\n")
        self.assertEqual(self.get("/inplace.txt").body, b"first\n")
        with open(p, "r+b") as f:       # same inode, new length
            f.truncate(0)
            f.write(b"second version\n")
        r = self.get("/inplace.txt")
        self.assertEqual(r.body, b"second version\n")
        self.assertEqual(r.header("Content-Length"), "15")

    def test_replaced_file_is_seen_within_validity(self):
        p = self.path("replaced.txt")
        with open(p, "wb") as f:
            f.write(b"old\n")
        self.assertEqual(self.get("/replaced.txt").body, b"old\n")
        with open(p + ".tmp", "wb") as f:
            f.write(b"new content\n")
        os.rename(p + ".tmp", p)
        r = self.poll("/replaced.txt", lambda r: r.body == b"new content\n",
                      self.VALID + 1.0)
        self.assertEqual(r.status, 200)

    def test_deleted_and_created_files_are_seen_within_validity(self):
        p = self.path("comes_and_goes.txt")
        self.assertEqual(self.get("/comes_and_goes.txt").status, 404)
        with open(p, "wb") as f:
            f.write(b"here\n")
        self.poll("/comes_and_goes.txt", lambda r: r.status == 200,
                  self.VALID + 1.0)
        os.unlink(p)
        self.poll("/comes_and_goes.txt", lambda r: r.status == 404,
                  self.VALID + 1.0)

    def test_bodies_stay_right_under_concurrency(self):
        import threading
        import hashlib
        files = {}
        for i, size in enumerate([1, 100, 4096, 16384, 16385, 200000]):
            data = os.urandom(size)
            name = "conc%d.bin" % i
            with open(self.path(name), "wb") as f:
                f.write(data)
            files[name] = hashlib.sha256(data).hexdigest()
        errors = []

        def client():
            try:
                for _ in range(15):
                    for name, digest in files.items():
                        r = get(self.port, "/" + name)
                        if hashlib.sha256(r.body).hexdigest() != digest:
                            errors.append(name)
            except Exception as e:  # a failed request is an error too
                errors.append(repr(e))
        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
