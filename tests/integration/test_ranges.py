# SPDX-License-Identifier: MIT
"""Range requests: single ranges, suffixes, clamping, 416, multipart/
byteranges, merging, limits, If-Range."""

import os
import unittest

from harness import (Conn, ServerCase, build, check_common, http_date,
                     parse_multipart)

MTIME = 1700000000
DATA = bytes((33 + (i * 7) % 90) for i in range(100))   # printable, no CR/LF
SIZE = len(DATA)


class RangeCase(ServerCase):
    tree = {"r.txt": DATA, "empty.txt": b""}

    @classmethod
    def prepare(cls):
        os.utime(os.path.join(cls.root, "r.txt"), (MTIME, MTIME))

    def rget(self, rng, target="/r.txt", extra=()):
        return self.get(target, [("Range", rng)] + list(extra))

    def assertPartial(self, r, a, b):
        self.assertStatus(r, 206)
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d"
                         % (a, b, SIZE))
        self.assertEqual(r.body, DATA[a:b + 1])
        self.assertTrue(r.header("Content-Type", "").startswith("text/plain"),
                        r.describe())
        self.assertEqual(r.header("ETag"), '"64-%x"' % MTIME)
        self.assertEqual(r.header("Last-Modified"), http_date(MTIME))

    def assertWhole(self, r):
        self.assertStatus(r, 200)
        self.assertEqual(r.body, DATA)
        self.assertIsNone(r.header("Content-Range"))


class TestSingleRanges(RangeCase):
    def test_first_ten(self):
        self.assertPartial(self.rget("bytes=0-9"), 0, 9)

    def test_suffix(self):
        self.assertPartial(self.rget("bytes=-5"), 95, 99)

    def test_suffix_longer_than_file(self):
        self.assertPartial(self.rget("bytes=-500"), 0, 99)

    def test_open_end(self):
        self.assertPartial(self.rget("bytes=10-"), 10, 99)

    def test_last_byte(self):
        self.assertPartial(self.rget("bytes=99-99"), 99, 99)
        self.assertPartial(self.rget("bytes=99-"), 99, 99)

    def test_end_clamped(self):
        self.assertPartial(self.rget("bytes=90-200"), 90, 99)

    def test_huge_numbers_clamped(self):
        self.assertPartial(self.rget("bytes=0-99999999999999999999999999"),
                           0, 99)
        self.assertPartial(self.rget("bytes=5-18446744073709551615"), 5, 99)
        self.assertPartial(self.rget("bytes=5-18446744073709551616"), 5, 99)

    def test_huge_start_416(self):
        self.assertStatus(self.rget("bytes=18446744073709551615-"), 416)
        for rng in ("bytes=18446744073709551616-",
                    "bytes=99999999999999999999999999-"):
            with self.subTest(rng=rng):
                # Past 2^64: a first byte past the end like any other
                # (the number saturates), so unsatisfiable, not ignored.
                r = self.rget(rng)
                self.assertStatus(r, 416)
                self.assertEqual(r.header("Content-Range"),
                                 "bytes */%d" % SIZE)

    def test_huge_suffix(self):
        for rng in ("bytes=-18446744073709551615",
                    "bytes=-99999999999999999999999999"):
            with self.subTest(rng=rng):
                # A suffix longer than the file is the whole file, as a
                # 206 like any satisfiable range (RFC 9110 14.1.2).
                self.assertPartial(self.rget(rng), 0, SIZE - 1)

    def test_whitespace_tolerated(self):
        r = self.rget("bytes=0-1, 5-6")
        self.assertStatus(r, 206)

    def test_unsatisfiable_416(self):
        for rng in ("bytes=100-", "bytes=100-200", "bytes=150-160",
                    "bytes=1000-"):
            with self.subTest(rng=rng):
                r = self.rget(rng)
                self.assertStatus(r, 416)
                self.assertEqual(r.header("Content-Range"), "bytes */%d" % SIZE)

    def test_range_on_empty_file_416(self):
        # No byte of an empty file can be satisfied (RFC 9110 14.1.1).
        r = self.rget("bytes=0-0", "/empty.txt")
        self.assertStatus(r, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */0")

    def test_invalid_syntax_ignored(self):
        for rng in ("bytes=abc", "bytes=", "bytes=-", "bytes=5-2",
                    "bytes=0-5x", "bytes=--5", "octets=0-5", "bytes 0-5",
                    "bytes=1-2-3", "bytes=0x10-0x20", "bytes=+1-5",
                    "bytes=,,", "=0-5", "Bytes=abc"):
            with self.subTest(rng=rng):
                self.assertWhole(self.rget(rng))

    def test_range_on_head_ignored(self):
        r = self.head("/r.txt", [("Range", "bytes=0-9")])
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Length"), str(SIZE))
        self.assertEqual(r.body, b"")

    def test_range_on_404(self):
        self.assertStatus(self.rget("bytes=0-1", "/nope"), 404)

    def test_range_keepalive(self):
        with Conn(self.port) as c:
            c.send(build("GET", "/r.txt", [("Range", "bytes=0-9")]) +
                   build("GET", "/r.txt", [("Range", "bytes=500-")]) +
                   build("GET", "/r.txt", [("Range", "bytes=0-1,4-5")]) +
                   build("GET", "/r.txt"))
            a, b, d, e = (c.read_response() for _ in range(4))
            for r in (a, b, d, e):
                check_common(self, r)
            self.assertEqual([r.status for r in (a, b, d, e)],
                             [206, 416, 206, 200])
            self.assertEqual(a.body, DATA[:10])
            self.assertEqual(e.body, DATA)


class TestMultipleRanges(RangeCase):
    def test_multipart(self):
        r = self.rget("bytes=0-1,10-11,20-29")
        self.assertStatus(r, 206)
        self.assertIsNone(r.header("Content-Range"))
        parts = parse_multipart(self, r)
        self.assertEqual([p[1] for p in parts],
                         [(0, 1, 100), (10, 11, 100), (20, 29, 100)])
        whole = self.get("/r.txt").header("Content-Type")
        for ctype, (a, b, _), data in parts:
            self.assertEqual(ctype, whole)
            self.assertEqual(data, DATA[a:b + 1])

    def test_multipart_with_suffix_and_open(self):
        r = self.rget("bytes=0-0,-3")
        parts = parse_multipart(self, r)
        self.assertEqual([(p[1], p[2]) for p in parts],
                         [((0, 0, 100), DATA[:1]), ((97, 99, 100), DATA[97:])])

    def test_multipart_skips_unsatisfiable_part(self):
        r = self.rget("bytes=0-1,500-600,50-51")
        self.assertStatus(r, 206)
        parts = parse_multipart(self, r)
        self.assertEqual([p[1][:2] for p in parts], [(0, 1), (50, 51)])

    def test_all_unsatisfiable_416(self):
        r = self.rget("bytes=200-300,400-")
        self.assertStatus(r, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */100")

    def test_overlapping_merged(self):
        self.assertPartial(self.rget("bytes=0-5,3-9"), 0, 9)

    def test_adjacent_merged(self):
        self.assertPartial(self.rget("bytes=0-4,5-9"), 0, 9)

    def test_unordered_overlapping_merged(self):
        self.assertPartial(self.rget("bytes=5-9,0-6"), 0, 9)

    def test_seventeen_ranges_whole(self):
        rng = "bytes=" + ",".join("%d-%d" % (i * 3, i * 3) for i in range(17))
        self.assertWhole(self.rget(rng))

    def test_sixteen_ranges_multipart(self):
        rng = "bytes=" + ",".join("%d-%d" % (i * 3, i * 3) for i in range(16))
        r = self.rget(rng)
        self.assertStatus(r, 206)
        self.assertEqual(len(parse_multipart(self, r)), 16)

    def test_many_overlapping_ranges_no_blowup(self):
        rng = "bytes=" + ",".join(["0-99"] * 500)
        r = self.rget(rng)
        # The copies merge into one range that covers the whole file,
        # which is sent as the plain file.
        self.assertWhole(r)


class TestHugeFile(RangeCase):
    """A sparse file over 4 GiB: 64-bit sizes and offsets everywhere."""
    SIZE = 5 * 1024 ** 3 + 3

    @classmethod
    def prepare(cls):
        super().prepare()
        p = os.path.join(cls.root, "huge.bin")
        with open(p, "wb") as f:
            f.truncate(cls.SIZE - 4)
            f.seek(cls.SIZE - 4)
            f.write(b"TAIL")
        os.utime(p, (MTIME, MTIME))

    def test_head_size_and_etag(self):
        r = self.head("/huge.bin")
        self.assertStatus(r, 200)
        self.assertEqual(int(r.header("Content-Length")), self.SIZE)
        self.assertEqual(r.header("ETag"), '"%x-%x"' % (self.SIZE, MTIME))

    def test_range_past_4gib(self):
        r = self.get("/huge.bin", [("Range", "bytes=-4")])
        self.assertStatus(r, 206)
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d" % (
            self.SIZE - 4, self.SIZE - 1, self.SIZE))
        self.assertEqual(r.body, b"TAIL")
        a = 4 * 1024 ** 3 + 10
        r = self.get("/huge.bin", [("Range", "bytes=%d-%d" % (a, a + 9))])
        self.assertStatus(r, 206)
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d" % (
            a, a + 9, self.SIZE))
        self.assertEqual(r.body, b"\0" * 10)

    def test_multipart_past_4gib(self):
        r = self.get("/huge.bin", [("Range", "bytes=0-1,%d-" % (self.SIZE - 2))])
        parts = parse_multipart(self, r)
        self.assertEqual([(p[1], p[2]) for p in parts],
                         [((0, 1, self.SIZE), b"\0\0"),
                          ((self.SIZE - 2, self.SIZE - 1, self.SIZE), b"IL")])

    def test_unsatisfiable_past_end(self):
        r = self.get("/huge.bin", [("Range", "bytes=%d-" % self.SIZE)])
        self.assertStatus(r, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */%d" % self.SIZE)


class TestIfRange(RangeCase):
    def test_current_etag_206(self):
        r = self.rget("bytes=0-9", extra=[("If-Range", '"64-%x"' % MTIME)])
        self.assertPartial(r, 0, 9)

    def test_stale_etag_200(self):
        r = self.rget("bytes=0-9", extra=[("If-Range", '"64-1"')])
        self.assertWhole(r)

    def test_weak_etag_200(self):
        r = self.rget("bytes=0-9", extra=[("If-Range", 'W/"64-%x"' % MTIME)])
        self.assertWhole(r)

    def test_exact_date_206(self):
        r = self.rget("bytes=0-9", extra=[("If-Range", http_date(MTIME))])
        self.assertPartial(r, 0, 9)

    def test_other_date_200(self):
        for t in (MTIME - 100, MTIME + 100):
            with self.subTest(t=t):
                r = self.rget("bytes=0-9", extra=[("If-Range", http_date(t))])
                self.assertWhole(r)

    def test_garbage_if_range_200(self):
        self.assertWhole(self.rget("bytes=0-9", extra=[("If-Range", "junk")]))


if __name__ == "__main__":
    unittest.main()
