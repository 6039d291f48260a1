# SPDX-License-Identifier: MIT
"""On-the-fly compression (http/compress): gzip, br and zstd bodies decode
to the exact file (python's gzip; br and zstd through curl --compressed),
Accept-Encoding q-values choose, q=0 refuses, 406 only when nothing is
acceptable, Vary on every answer of a compressible type, an ETag per
coding with its 304, Content-Length of the encoded body, HEAD as GET,
ranges from the plain file, sidecars first, small files and other types
plain; a file rewritten in place or replaced by rename is never served
from its old variant; a large file is compressed off the loop (plain until
then, other clients served meanwhile; never on the loop without the aio
pool); a variant larger than the cache is not kept; listings and the
status page compressed; --no-compress, location blocks, compress_types
and compress_level."""

import gzip
import os
import shutil
import subprocess
import unittest

from harness import (MODE_ARGS, Conn, Server, ServerCase, get, head, run,
                     unique_tmpdir, wait_until)


def js(n, seed=0):
    """n bytes of text that compresses as JavaScript does (5-10x)."""
    out = []
    size = 0
    i = 0
    while size < n:
        line = ("function f%d_%d(a, b) { return a * %d + b.length; }"
                " // %s\n" % (seed, i, i % 97, "xyz"[i % 3] * (i % 11)))
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()[:n]


APP = js(200 * 1024, 1)          # compressed on the loop
BIG = js(3 * 1024 * 1024, 2)     # compressed by the aio pool
SIDE = js(4000, 3)
SIDE_GZ = b"the sidecar, not a compression of side.css\n"
SMALL = b"tiny\n" * 20            # 100 bytes: under compress_min_length
PNG = js(8000, 4)                # compressible bytes, not a text type

# Codings curl can decode here, from its feature list.
CURL_FEATURES = run(["curl", "-V"], 10).stdout.lower() \
    if shutil.which("curl") else ""

WITHOUT_AIO = "--aio" in MODE_ARGS and "off" in MODE_ARGS


def is_coded(r, coding):
    return r.status == 200 and r.header("Content-Encoding") == coding


class CompressCase(ServerCase):
    tree = {
        "app.js": APP,
        "big.html": BIG,
        "side.css": SIDE,
        "side.css.gz": SIDE_GZ,
        "small.txt": SMALL,
        "img.png": PNG,
        "data.json": js(3000, 5),
        "dir": {"entry-%03d.txt" % i: b"x\n" for i in range(40)},
    }

    def coded(self, target, ae, coding, extra=()):
        """GET target until it comes back in coding: a file changed in
        the last moments is sent plain, and the pool takes a moment."""
        hdrs = [("Accept-Encoding", ae)] + list(extra)
        r = wait_until(lambda: (lambda r: r if is_coded(r, coding)
                                else None)(self.get(target, hdrs)), 10.0)
        self.assertIsNotNone(r, "GET %s with %s never came in %s" %
                             (target, ae, coding))
        return r

    def curl(self, target, ae):
        """The body curl decodes (it asks with ae and decodes whatever
        coding comes), and the coding that came."""
        p = subprocess.run(
            ["curl", "-s", "--compressed", "-H", "Accept-Encoding: " + ae,
             "-D", "-", "-o", os.path.join(self.tmp, "curl.out"),
             "http://127.0.0.1:%d%s" % (self.port, target)],
            capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        coding = None
        for line in p.stdout.decode("latin-1").splitlines():
            if line.lower().startswith("content-encoding:"):
                coding = line.split(":", 1)[1].strip()
        with open(os.path.join(self.tmp, "curl.out"), "rb") as f:
            return f.read(), coding


class TestCodings(CompressCase):
    def test_gzip_decodes_to_the_file(self):
        r = self.coded("/app.js", "gzip", "gzip")
        self.assertEqual(gzip.decompress(r.body), APP)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        self.assertLess(len(r.body), len(APP) // 4)
        self.assertIn("accept-encoding", r.header("Vary", "").lower())
        self.assertRegex(r.header("ETag"), r'^"[0-9a-f]+-[0-9a-f]+-gz"$')
        self.assertEqual(r.header("Content-Type"),
                         self.get("/app.js").header("Content-Type"))

    def test_br_and_zstd_decode_to_the_file(self):
        for coding, feature in (("br", "brotli"), ("zstd", "zstd")):
            with self.subTest(coding=coding):
                if feature not in CURL_FEATURES:
                    self.skipTest("curl here cannot decode " + coding)
                self.coded("/app.js", coding, coding)
                body, got = self.curl("/app.js", coding)
                self.assertEqual(got, coding)
                self.assertEqual(body, APP)

    def test_json_and_listing_types(self):
        r = self.coded("/data.json", "gzip", "gzip")
        self.assertEqual(gzip.decompress(r.body), js(3000, 5))

    def test_q_values_choose(self):
        self.coded("/app.js", "gzip", "gzip")
        rows = (
            ("gzip, deflate, br", "br"),       # ties: the server's order
            ("gzip, deflate, br, zstd", "br"),
            ("gzip, zstd", "zstd"),
            ("br;q=0.5, gzip", "gzip"),        # the client's q first
            ("zstd;q=0.9, br;q=0.8, gzip;q=0.7", "zstd"),
            ("*", "br"),
            ("*;q=0.5, gzip", "gzip"),
            ("gzip;q=0", None),                # refused: plain
            ("br;q=0, gzip;q=0, zstd;q=0", None),
            ("gzip;q=0.5, identity", None),    # identity named, q 1
            ("identity", None),
            ("deflate, compress", None),
            ("", None),
        )
        for ae, want in rows:
            with self.subTest(ae=ae):
                r = wait_until(lambda: (lambda r: r if r.header(
                    "Content-Encoding") == want else None)(
                        self.get("/app.js", [("Accept-Encoding", ae)])), 10)
                self.assertIsNotNone(r, ae)
                self.assertStatus(r, 200)
                if want is None:
                    self.assertEqual(r.body, APP)

    def test_406_only_when_nothing_is_acceptable(self):
        for target, ae in (("/app.js", "identity;q=0"),
                           ("/app.js", "*;q=0"),
                           ("/app.js", "gzip;q=0, identity;q=0"),
                           ("/img.png", "identity;q=0, gzip"),
                           ("/small.txt", "gzip, identity;q=0")):
            with self.subTest(target=target, ae=ae):
                r = self.get(target, [("Accept-Encoding", ae)])
                self.assertStatus(r, 406)
        # A coding left over is acceptable.
        r = self.coded("/app.js", "gzip, identity;q=0", "gzip")
        self.assertEqual(gzip.decompress(r.body), APP)
        r = self.get("/app.js", [("Accept-Encoding", "*;q=0, identity")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, APP)

    def test_vary_on_plain_answers(self):
        for target in ("/app.js", "/small.txt"):
            with self.subTest(target=target):
                r = self.get(target)
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertIn("accept-encoding",
                              r.header("Vary", "").lower())
                self.assertRegex(r.header("ETag"),
                                 r'^"[0-9a-f]+-[0-9a-f]+"$')

    def test_etag_per_coding_and_304(self):
        gz = self.coded("/app.js", "gzip", "gzip").header("ETag")
        br = self.coded("/app.js", "br", "br").header("ETag")
        plain = self.get("/app.js").header("ETag")
        self.assertEqual(len({gz, br, plain}), 3)
        self.assertEqual(gz[:-4] + '"', plain)
        r = self.get("/app.js", [("Accept-Encoding", "gzip"),
                                 ("If-None-Match", gz)])
        self.assertStatus(r, 304)
        self.assertEqual(r.header("ETag"), gz)
        self.assertIn("accept-encoding", r.header("Vary", "").lower())
        # Another coding's tag is not this representation's.
        r = self.get("/app.js", [("Accept-Encoding", "br"),
                                 ("If-None-Match", gz)])
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Encoding"), "br")
        r = self.get("/app.js", [("Accept-Encoding", "gzip"),
                                 ("If-None-Match", plain)])
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        r = self.get("/app.js", [("If-None-Match", plain)])
        self.assertStatus(r, 304)

    def test_range_gets_the_plain_file(self):
        self.coded("/app.js", "gzip", "gzip")
        r = self.get("/app.js", [("Accept-Encoding", "gzip"),
                                 ("Range", "bytes=100-199")])
        self.assertStatus(r, 206)
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.body, APP[100:200])
        self.assertEqual(r.header("Content-Range"),
                         "bytes 100-199/%d" % len(APP))

    def test_head_as_get(self):
        g = self.coded("/app.js", "gzip", "gzip")
        h = self.head("/app.js", [("Accept-Encoding", "gzip")])
        self.assertStatus(h, 200)
        self.assertEqual(h.body, b"")
        for name in ("Content-Encoding", "Content-Length", "ETag", "Vary",
                     "Content-Type"):
            self.assertEqual(h.header(name), g.header(name), name)

    def test_sidecar_wins(self):
        r = self.get("/side.css", [("Accept-Encoding", "gzip")])
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.body, SIDE_GZ)
        # No .br beside it: br is made here.
        r = self.coded("/side.css", "br", "br")
        self.assertNotEqual(r.body, SIDE_GZ)

    def test_small_and_other_types_plain(self):
        for target, body in (("/small.txt", SMALL), ("/img.png", PNG)):
            with self.subTest(target=target):
                r = self.get(target, [("Accept-Encoding", "gzip, br, zstd")])
                self.assertStatus(r, 200)
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertEqual(r.body, body)

    def test_listing_compressed(self):
        r = self.coded("/dir/", "gzip", "gzip")
        text = gzip.decompress(r.body).decode()
        self.assertIn("entry-039.txt", text)
        plain = self.get("/dir/")
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertIn("accept-encoding", plain.header("Vary", "").lower())
        self.assertEqual(gzip.decompress(r.body), plain.body)

    def test_json_listing_compressed(self):
        r = self.coded("/dir/?format=json", "gzip", "gzip")
        self.assertEqual(r.header("Content-Type"), "application/json")
        plain = self.get("/dir/?format=json")
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertEqual(gzip.decompress(r.body), plain.body)
        self.assertIn(b"entry-039.txt", plain.body)

    def test_error_page_plain_below_min_length(self):
        # About 120 bytes: under compress_min_length (256), sent plain.
        r = self.get("/nope", [("Accept-Encoding", "gzip")])
        self.assertStatus(r, 404)
        self.assertIsNone(r.header("Content-Encoding"))


class TestLargeFile(CompressCase):
    def test_compressed_off_the_loop(self):
        hdrs = [("Accept-Encoding", "gzip")]
        first = self.get("/big.html", hdrs)
        # The loop did not wait for the compression: the first answer
        # is the plain file ...
        self.assertStatus(first, 200)
        self.assertIsNone(first.header("Content-Encoding"))
        self.assertEqual(first.body, BIG)
        # ... and others are served while the pool compresses.
        r = self.get("/small.txt")
        self.assertEqual(r.body, SMALL)
        if WITHOUT_AIO:
            # Without a pool a large file is never compressed on the
            # loop.
            for _ in range(5):
                r = self.get("/big.html", hdrs)
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertEqual(r.body, BIG)
            return
        r = self.coded("/big.html", "gzip", "gzip")
        self.assertEqual(gzip.decompress(r.body), BIG)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))


class TestNeverStale(CompressCase):
    def check_change(self, target, v1, v2, change):
        """On one keep-alive connection (one worker: each has its own
        caches), gzip and plain answers before and after change(): a
        gzip answer is v1 or v2 whole, never v1 once the connection saw
        v2, and v2 comes in gzip in the end."""
        hdrs = [("Accept-Encoding", "gzip")]
        with Conn(self.port, timeout=5.0) as c:
            r = wait_until(lambda: (lambda r: r if is_coded(r, "gzip")
                                    else None)(c.request("GET", target,
                                                         hdrs)), 10.0)
            self.assertIsNotNone(r)
            self.assertEqual(gzip.decompress(r.body), v1)
            change()
            seen_v2 = False
            # The open-file cache trusts a file for a second: the change
            # shows within it, in gzip once the new version settled.
            for i in range(400):
                r = c.request("GET", target, hdrs if i % 2 else ())
                self.assertEqual(r.status, 200, r.describe())
                body = r.body
                if r.header("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                self.assertIn(body, (v1, v2))
                if body == v2:
                    seen_v2 = True
                elif seen_v2:
                    self.fail("old bytes after the new ones")
                if seen_v2 and r.header("Content-Encoding") == "gzip":
                    break
                wait_until(lambda: False, 0.02)
        self.assertTrue(seen_v2, "the change never showed")
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), v2)

    def test_rewrite_in_place(self):
        path = self.path("inplace.js")
        v1, v2 = js(30000, 10), js(30000, 11)
        with open(path, "wb") as f:
            f.write(v1)

        def change():
            with open(path, "r+b") as f:
                f.write(v2)
        self.check_change("/inplace.js", v1, v2, change)
        # In place, the old variant was never a candidate: the version
        # (size, mtime, ctime) changed under the same inode.
        r = self.coded("/inplace.js", "gzip", "gzip")
        self.assertEqual(gzip.decompress(r.body), v2)

    def test_replace_by_rename(self):
        path = self.path("renamed.js")
        v1, v2 = js(30000, 12), js(30001, 13)
        with open(path, "wb") as f:
            f.write(v1)

        def change():
            with open(path + ".new", "wb") as f:
                f.write(v2)
            os.rename(path + ".new", path)
        self.check_change("/renamed.js", v1, v2, change)


class TestCacheBound(unittest.TestCase):
    def test_variant_larger_than_cache_plain(self):
        tmp = unique_tmpdir()
        try:
            with open(os.path.join(tmp, "app.js"), "wb") as f:
                f.write(APP)
            with open(os.path.join(tmp, "a.json"), "wb") as f:
                f.write(js(3000, 6))
            # APP's gzip variant is about 20 KiB: it cannot be kept in
            # 8 KiB, so it is sent plain; a small one is kept.
            with Server(tmp, "--compress-cache", "8k") as s:
                hdrs = [("Accept-Encoding", "gzip")]
                r = wait_until(lambda: (lambda r: r if is_coded(r, "gzip")
                                        else None)(get(s.port, "/a.json",
                                                       hdrs)), 10)
                self.assertIsNotNone(r)
                self.assertEqual(gzip.decompress(r.body), js(3000, 6))
                for _ in range(5):
                    r = get(s.port, "/app.js", hdrs)
                    self.assertEqual(r.status, 200)
                    self.assertIsNone(r.header("Content-Encoding"))
                    self.assertEqual(r.body, APP)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class TestSettings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        for name, data in (("app.js", APP), ("s.css", SIDE)):
            with open(os.path.join(cls.tmp, name), "wb") as f:
                f.write(data)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def coded(self, port, target, ae, coding):
        return wait_until(lambda: (lambda r: r if is_coded(r, coding)
                                   else None)(get(port, target, [
                                       ("Accept-Encoding", ae)])), 10)

    def test_no_compress(self):
        with Server(self.tmp, "--no-compress", "--no-gzip-static") as s:
            r = get(s.port, "/app.js", [("Accept-Encoding", "gzip, br")])
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.header("Content-Encoding"))
            self.assertIsNone(r.header("Vary"))
            self.assertEqual(r.body, APP)

    def test_types(self):
        with Server(self.tmp, "--compress-types", "text/css") as s:
            self.assertIsNotNone(self.coded(s.port, "/s.css", "gzip",
                                            "gzip"))
            r = get(s.port, "/app.js", [("Accept-Encoding", "gzip")])
            self.assertIsNone(r.header("Content-Encoding"))
            self.assertEqual(r.body, APP)

    def test_levels_and_a_coding_off(self):
        with Server(self.tmp, "--compress-level", "gzip=1,br=0") as s:
            r = self.coded(s.port, "/app.js", "gzip", "gzip")
            self.assertIsNotNone(r)
            self.assertEqual(gzip.decompress(r.body), APP)
            fast = len(r.body)
            r = get(s.port, "/app.js", [("Accept-Encoding", "br")])
            self.assertIsNone(r.header("Content-Encoding"))
            r = self.coded(s.port, "/app.js", "br, gzip", "gzip")
            self.assertIsNotNone(r)
        with Server(self.tmp) as s:
            r = self.coded(s.port, "/app.js", "gzip", "gzip")
            self.assertLess(len(r.body), fast)

    def test_min_length(self):
        with Server(self.tmp, "--compress-min-length", "300k") as s:
            r = get(s.port, "/app.js", [("Accept-Encoding", "gzip")])
            self.assertIsNone(r.header("Content-Encoding"))

    def test_location_off(self):
        conf = os.path.join(self.tmp, "c.conf")
        os.makedirs(os.path.join(self.tmp, "raw"), exist_ok=True)
        with open(os.path.join(self.tmp, "raw", "app.js"), "wb") as f:
            f.write(APP)
        with open(conf, "w") as f:
            f.write("server {\n    location /raw/ { compress off; }\n}\n")
        with Server(self.tmp, "-c", conf) as s:
            self.assertIsNotNone(self.coded(s.port, "/app.js", "gzip",
                                            "gzip"))
            r = get(s.port, "/raw/app.js", [("Accept-Encoding", "gzip")])
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.header("Content-Encoding"))
            self.assertEqual(r.body, APP)

    def test_status_page(self):
        with Server(self.tmp, "--status", "/st") as s:
            r = get(s.port, "/st", [("Accept", "text/html"),
                                    ("Accept-Encoding", "gzip")])
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertIn(b"tinyweb", gzip.decompress(r.body))
            r = head(s.port, "/st", [("Accept", "text/html")])
            self.assertIn("accept-encoding", r.header("Vary", "").lower())


if __name__ == "__main__":
    unittest.main()
