# SPDX-License-Identifier: MIT
"""Directories: index files, redirects, listings (escaping, encoding,
sorting, hidden files, bad names), --no-listing, --index, gzip_static."""

import gzip
import html
import os
import re
import time
import unittest
from urllib.parse import unquote, urljoin, urlsplit

from harness import Server, ServerCase, get

NAMES = {
    "你好.txt": b"chinese\n",
    "файл.txt": b"cyrillic\n",
    "with space.txt": b"space\n",
    "hash#1.txt": b"hash\n",
    "pct%41.txt": b"percent\n",
    "q?.txt": b"question\n",
    "plus+.txt": b"plus\n",
    "<b>&'\".txt": b"markup\n",
    "emoji😀.txt": b"emoji\n",
}

JS = b"function f() { return 1; }\n" * 20
JS_GZ = gzip.compress(JS)
JS_BR = b"not really brotli, but only the bytes matter\n"


def hrefs(body):
    """The href attributes of a listing, HTML-unescaped, in order."""
    text = body.decode("utf-8")
    return [html.unescape(m.group(2)) for m in
            re.finditer(r'href=(["\'])(.*?)\1', text, re.I)]


def entry_hrefs(body, base=None):
    """hrefs naming entries of the directory at base, relative to it: the
    parent link, sort links and other sites are left out. Absolute hrefs
    under base are made relative."""
    out = []
    for h in hrefs(body):
        if urlsplit(h).scheme or h.startswith("//"):
            continue
        if base and h.startswith(base) and len(h) > len(base):
            h = h[len(base):]
        if h.startswith(("/", "?", "#", "../")) or h in ("..", ".", "./"):
            continue
        out.append(h)
    return out


class ListingCase(ServerCase):
    tree = {
        "dir": {"index.html": b"dir index\n"},
        "dir2": {"other.html": b"other index\n", "index.html": b"not me\n"},
        "list": {"m.txt": b"m\n", "b.txt": b"b\n", "zdir": {},
                 "a.txt": b"a\n", "adir": {}, ".hidden": b"h\n"},
        "empty": {},
        "sized": {"f.bin": b"x" * 12345},
        "names": dict(NAMES, **{"sub dir#": {"x.txt": b"x\n"}}),
        "badname": {b"bad\xff.txt": b"bad\n", "ok.txt": b"ok\n"},
        "gz": {"x.js": JS, "x.js.gz": JS_GZ, "x.js.br": JS_BR,
               "y.js": JS, "y.js.gz": JS_GZ},
        "a b#c": {"f.txt": b"f\n"},
    }


class TestIndex(ListingCase):
    def test_redirect_without_slash(self):
        r = self.get("/dir")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/dir/")

    def test_redirect_keeps_query(self):
        r = self.get("/dir?x=1")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/dir/?x=1")

    def test_redirect_encodes_name(self):
        r = self.get("/a%20b%23c")
        self.assertStatus(r, 301)
        loc = re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(),
                     r.header("Location"))
        self.assertEqual(loc, "/a%20b%23c/")

    def test_redirect_on_head(self):
        r = self.head("/dir")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/dir/")

    def test_index_served(self):
        r = self.get("/dir/")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"dir index\n")
        self.assertTrue(r.header("Content-Type").startswith("text/html"))

    def test_root_without_index_lists(self):
        r = self.get("/")
        self.assertStatus(r, 200)
        self.assertIn("list/", entry_hrefs(r.body, "/"))

    def test_other_index(self):
        with Server(self.root, "--index", "other.html") as s:
            r = get(s.port, "/dir2/")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"other index\n")
            # dir/ has only index.html: now listed.
            r = get(s.port, "/dir/")
            self.assertEqual(r.status, 200)
            self.assertIn("index.html", entry_hrefs(r.body, "/dir/"))

    def test_no_listing_403(self):
        with Server(self.root, "--no-listing") as s:
            for t in ("/list/", "/", "/empty/"):
                with self.subTest(target=t):
                    r = get(s.port, t)
                    self.assertEqual(r.status, 403, r.describe())
                    self.assertNotIn(b"m.txt", r.body)
            self.assertEqual(get(s.port, "/dir/").body, b"dir index\n")
            self.assertEqual(get(s.port, "/list/a.txt").body, b"a\n")


class TestListing(ListingCase):
    def test_listing_basic(self):
        r = self.get("/list/")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertEqual(entry_hrefs(r.body, "/list/"),
                         ["adir/", "zdir/", "a.txt", "b.txt", "m.txt"])

    def test_listing_hides_dotfiles(self):
        r = self.get("/list/")
        self.assertNotIn(b".hidden", r.body)

    def test_listing_shows_dotfiles_with_hidden(self):
        with Server(self.root, "--hidden") as s:
            r = get(s.port, "/list/")
            self.assertIn(".hidden", entry_hrefs(r.body, "/list/"))

    def test_empty_dir(self):
        r = self.get("/empty/")
        self.assertStatus(r, 200)
        self.assertEqual(entry_hrefs(r.body, "/empty/"), [])

    def test_head_listing(self):
        g = self.get("/list/")
        h = self.head("/list/")
        self.assertStatus(h, 200)
        self.assertEqual(h.header("Content-Length"), g.header("Content-Length"))

    def test_names_escaped(self):
        r = self.get("/names/")
        self.assertStatus(r, 200)
        text = r.body.decode("utf-8")
        self.assertNotIn("<b>&", text)
        self.assertIn("&lt;b&gt;&amp;", text)

    def test_hrefs_encoded(self):
        r = self.get("/names/")
        raw_hrefs = [m.group(2) for m in
                     re.finditer(r'href=(["\'])(.*?)\1', r.body.decode(), re.I)]
        for h in raw_hrefs:
            with self.subTest(href=h):
                u = html.unescape(h)
                self.assertNotRegex(u, r"[ #?<>\"'\x00-\x1f\x7f]")
                self.assertNotRegex(u, r"%(?![0-9A-Fa-f]{2})")

    def test_all_names_listed(self):
        r = self.get("/names/")
        got = sorted(unquote(h) for h in entry_hrefs(r.body, "/names/"))
        want = sorted(list(NAMES) + ["sub dir#/"])
        self.assertEqual(got, want)
        text = html.unescape(r.body.decode("utf-8"))
        for name in NAMES:
            self.assertIn(name, text)

    def test_follow_every_href(self):
        r = self.get("/names/")
        entries = entry_hrefs(r.body, "/names/")
        self.assertEqual(len(entries), len(NAMES) + 1)
        for h in entries:
            with self.subTest(href=h):
                t = urljoin("/names/", h)
                g = self.get(t)
                self.assertStatus(g, 200)
                name = unquote(h)
                if name in NAMES:
                    self.assertEqual(g.body, NAMES[name])
                else:
                    self.assertIn("x.txt", entry_hrefs(g.body, t))

    def test_subdir_redirect_and_listing(self):
        r = self.get("/names/sub%20dir%23")
        self.assertStatus(r, 301)
        loc = r.header("Location")
        self.assertEqual(unquote(loc), "/names/sub dir#/")
        self.assertRegex(loc, r"^[\x21-\x7e]+$")
        self.assertEqual(self.get(loc).status, 200)

    def test_invalid_utf8_name(self):
        r = self.get("/badname/")
        self.assertStatus(r, 200)
        text = r.body.decode("utf-8")   # the listing stays valid UTF-8
        self.assertIn("bad\ufffd.txt", html.unescape(text))
        self.assertIn("ok.txt", entry_hrefs(r.body, "/badname/"))
        self.assertEqual(self.get("/badname/ok.txt").body, b"ok\n")

    def test_invalid_utf8_url_400(self):
        self.assertStatus(self.get("/badname/bad%FF.txt"), 400)

    def test_listing_dir_with_no_slash_redirects(self):
        r = self.get("/list")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/list/")

    def test_directory_listing_shows_sizes(self):
        r = self.get("/sized/")
        self.assertRegex(r.body.decode(), r"12345|12\.[01] ?Ki?B?|12 ?Ki?B?")


class TestGzipStatic(ListingCase):
    def plain_type(self):
        return self.get("/gz/x.js").header("Content-Type")

    def test_gzip_accepted(self):
        r = self.get("/gz/x.js", [("Accept-Encoding", "gzip")])
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.body, JS_GZ)
        self.assertEqual(gzip.decompress(r.body), JS)
        self.assertIn("accept-encoding", r.header("Vary", "").lower())
        self.assertEqual(r.header("Content-Type"), self.plain_type())
        self.assertNotIn("gzip", r.header("Content-Type"))

    def test_plain_still_vary(self):
        r = self.get("/gz/x.js")
        self.assertEqual(r.body, JS)
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertIn("accept-encoding", r.header("Vary", "").lower())

    def test_q0_refuses(self):
        for ae in ("gzip;q=0", "gzip; q=0.0, identity", "br;q=0, gzip;q=0"):
            with self.subTest(ae=ae):
                r = self.get("/gz/x.js", [("Accept-Encoding", ae)])
                self.assertEqual(r.body, JS)
                self.assertIsNone(r.header("Content-Encoding"))

    def test_br_preferred(self):
        r = self.get("/gz/x.js", [("Accept-Encoding", "gzip, deflate, br")])
        self.assertEqual(r.header("Content-Encoding"), "br")
        self.assertEqual(r.body, JS_BR)

    def test_br_not_present_gzip_used(self):
        r = self.get("/gz/y.js", [("Accept-Encoding", "gzip, br")])
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.body, JS_GZ)
        with Server(self.root, "--no-compress") as s:
            r = get(s.port, "/gz/y.js", [("Accept-Encoding", "br")])
            self.assertIsNone(r.header("Content-Encoding"))
            self.assertEqual(r.body, JS)

    def test_head_gzip(self):
        r = self.head("/gz/x.js", [("Accept-Encoding", "gzip")])
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(int(r.header("Content-Length")), len(JS_GZ))

    def test_etags_differ_per_encoding(self):
        a = self.get("/gz/x.js").header("ETag")
        b = self.get("/gz/x.js", [("Accept-Encoding", "gzip")]).header("ETag")
        self.assertNotEqual(a, b)

    def test_no_gzip_static(self):
        with Server(self.root, "--no-gzip-static", "--no-compress") as s:
            r = get(s.port, "/gz/x.js", [("Accept-Encoding", "gzip, br")])
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, JS)
            self.assertIsNone(r.header("Content-Encoding"))


class TestListingChanges(ServerCase):
    """The server keeps a rendered listing for later requests: an entry
    created, deleted or renamed still shows on the very next request."""
    tree = {
        "live": {"a.txt": b"a\n"},
        "head": {"a.txt": b"a\n"},
    }

    # A page is kept only once the directory's last change is 100 ms old
    # (timestamps are coarse); wait that out so the kept page is tested.
    SETTLE = 0.2

    def listing(self, d):
        r = self.get("/%s/" % d)
        self.assertStatus(r, 200)
        return entry_hrefs(r.body, "/%s/" % d)

    def test_changes_show_at_once(self):
        time.sleep(self.SETTLE)
        for _ in range(3):
            self.assertEqual(self.listing("live"), ["a.txt"])
        with open(self.path("live", "b.txt"), "wb") as f:
            f.write(b"b\n")
        self.assertEqual(self.listing("live"), ["a.txt", "b.txt"])
        time.sleep(self.SETTLE)
        self.assertEqual(self.listing("live"), ["a.txt", "b.txt"])
        os.unlink(self.path("live", "a.txt"))
        self.assertEqual(self.listing("live"), ["b.txt"])
        time.sleep(self.SETTLE)
        self.listing("live")
        os.rename(self.path("live", "b.txt"), self.path("live", "c.txt"))
        self.assertEqual(self.listing("live"), ["c.txt"])
        os.mkdir(self.path("live", "sub"))
        self.assertEqual(self.listing("live"), ["sub/", "c.txt"])

    def test_head_matches_get(self):
        time.sleep(self.SETTLE)
        for new in ("longer-name-%d.txt" % i for i in range(3)):
            g = self.get("/head/")
            h = self.head("/head/")
            self.assertStatus(h, 200)
            self.assertEqual(h.body, b"")
            self.assertEqual(h.header("Content-Length"),
                             g.header("Content-Length"))
            self.assertEqual(int(g.header("Content-Length")), len(g.body))
            with open(self.path("head", new), "wb") as f:
                f.write(b"x")
            h = self.head("/head/")
            self.assertGreater(int(h.header("Content-Length")), len(g.body))


if __name__ == "__main__":
    unittest.main()
