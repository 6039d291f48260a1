# SPDX-License-Identifier: MIT
"""Conditional requests: If-None-Match, If-Modified-Since (304),
If-Match, If-Unmodified-Since (412), and their precedence."""

import os
import unittest

from harness import Conn, ServerCase, build, check_common, http_date

MTIME = 1700000000
BODY = b"conditional body\n"
ETAG = '"%x-%x"' % (len(BODY), MTIME)


class CondCase(ServerCase):
    tree = {"c.txt": BODY}

    @classmethod
    def prepare(cls):
        os.utime(os.path.join(cls.root, "c.txt"), (MTIME, MTIME))

    def cget(self, *headers, method="GET"):
        return self.req(method, "/c.txt", list(headers))

    def assert304(self, r):
        self.assertStatus(r, 304)
        self.assertEqual(r.header("ETag"), ETAG)
        self.assertIsNone(r.header("Content-Length"), r.describe())
        self.assertEqual(r.body, b"")

    def assert200(self, r):
        self.assertStatus(r, 200)
        self.assertEqual(r.body, BODY)

    def assert412(self, r):
        self.assertStatus(r, 412)
        self.assertNotEqual(r.body, BODY)


class TestIfNoneMatch(CondCase):
    def test_etag_shape(self):
        r = self.cget()
        self.assertEqual(r.header("ETag"), ETAG)
        self.assertEqual(ETAG, '"11-6553f100"')

    def test_match_304(self):
        self.assert304(self.cget(("If-None-Match", ETAG)))

    def test_weak_form_304(self):
        self.assert304(self.cget(("If-None-Match", "W/" + ETAG)))

    def test_star_304(self):
        self.assert304(self.cget(("If-None-Match", "*")))

    def test_in_list_304(self):
        self.assert304(self.cget(("If-None-Match", '"a-1", %s, "b-2"' % ETAG)))
        self.assert304(self.cget(("If-None-Match", '"a-1",W/%s' % ETAG)))

    def test_mismatch_200(self):
        for v in ('"a-1"', '"11-6553f101"', ETAG[1:-1], '"a-1", "b-2"',
                  'W/"x"'):
            with self.subTest(inm=v):
                self.assert200(self.cget(("If-None-Match", v)))

    def test_head_304(self):
        self.assert304(self.cget(("If-None-Match", ETAG), method="HEAD"))

    def test_304_on_keepalive_has_no_body(self):
        with Conn(self.port) as c:
            c.send(build("GET", "/c.txt", [("If-None-Match", ETAG)]) +
                   build("GET", "/c.txt"))
            a = c.read_response()
            b = c.read_response()
            check_common(self, a)
            self.assert304(a)
            self.assert200(b)
            self.assertFalse(c.at_eof(0.3))
            self.assertEqual(c.buf, b"")

    def test_304_keeps_validators(self):
        r = self.cget(("If-None-Match", ETAG))
        self.assertEqual(r.header("Last-Modified"), http_date(MTIME))


class TestIfModifiedSince(CondCase):
    def test_equal_304(self):
        self.assert304(self.cget(("If-Modified-Since", http_date(MTIME))))

    def test_later_304(self):
        self.assert304(self.cget(("If-Modified-Since", http_date(MTIME + 3600))))

    def test_earlier_200(self):
        self.assert200(self.cget(("If-Modified-Since", http_date(MTIME - 1))))

    def test_is_a_date_comparison_not_string(self):
        # Same instant in the obsolete formats: still not modified.
        for v in ("Tuesday, 14-Nov-23 22:13:20 GMT",
                  "Tue Nov 14 22:13:20 2023"):
            with self.subTest(ims=v):
                self.assert304(self.cget(("If-Modified-Since", v)))
        # A later date that differs as a string.
        self.assert304(self.cget(("If-Modified-Since",
                                  "Wed, 15 Nov 2023 00:00:00 GMT")))

    def test_unparsable_200(self):
        for v in ("yesterday", "", "Tue, 14 Nov 2023", "0",
                  "Tue, 99 Nov 2023 22:13:20 GMT", "Tue, 14 Nov 2023 22:13:20"):
            with self.subTest(ims=v):
                self.assert200(self.cget(("If-Modified-Since", v)))

    def test_ignored_when_if_none_match_mismatches(self):
        self.assert200(self.cget(("If-None-Match", '"nope"'),
                                 ("If-Modified-Since", http_date(MTIME + 3600))))

    def test_if_none_match_match_wins_over_earlier_ims(self):
        self.assert304(self.cget(("If-None-Match", ETAG),
                                 ("If-Modified-Since", http_date(MTIME - 3600))))

    def test_head_304(self):
        r = self.cget(("If-Modified-Since", http_date(MTIME)), method="HEAD")
        self.assert304(r)


class TestIfMatch(CondCase):
    def test_mismatch_412(self):
        self.assert412(self.cget(("If-Match", '"a-1"')))

    def test_weak_never_matches_412(self):
        self.assert412(self.cget(("If-Match", "W/" + ETAG)))

    def test_match_200(self):
        self.assert200(self.cget(("If-Match", ETAG)))
        self.assert200(self.cget(("If-Match", '"a-1", ' + ETAG)))

    def test_star_200(self):
        self.assert200(self.cget(("If-Match", "*")))

    def test_star_on_missing_file_not_200(self):
        r = self.req("GET", "/missing.txt", [("If-Match", "*")])
        # The file is looked up first: no file, no representation to
        # match, so "not found" (nginx does the same).
        self.assertStatus(r, 404)

    def test_unmodified_since_earlier_412(self):
        self.assert412(self.cget(("If-Unmodified-Since", http_date(MTIME - 1))))

    def test_unmodified_since_equal_or_later_200(self):
        self.assert200(self.cget(("If-Unmodified-Since", http_date(MTIME))))
        self.assert200(self.cget(("If-Unmodified-Since",
                                  http_date(MTIME + 3600))))

    def test_unmodified_since_unparsable_ignored(self):
        self.assert200(self.cget(("If-Unmodified-Since", "garbage")))

    def test_unmodified_since_ignored_under_if_match(self):
        self.assert200(self.cget(("If-Match", ETAG),
                                 ("If-Unmodified-Since", http_date(MTIME - 3600))))

    def test_if_match_checked_before_if_none_match(self):
        self.assert412(self.cget(("If-Match", '"a-1"'),
                                 ("If-None-Match", ETAG)))

    def test_412_before_range(self):
        r = self.cget(("If-Match", '"a-1"'), ("Range", "bytes=0-1"))
        self.assert412(r)

    def test_304_before_range(self):
        self.assert304(self.cget(("If-None-Match", ETAG),
                                 ("Range", "bytes=0-1")))


if __name__ == "__main__":
    unittest.main()
