# SPDX-License-Identifier: MIT
"""Directories: index files, redirects, listings (escaping, encoding,
sorting, hidden files, bad names), --no-listing, --index, gzip_static."""

import gzip
import html
import json
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
        # Sort links ("?sort=...") are queries by design; every other
        # href names a path and must be encoded.
        raw_hrefs = [m.group(2) for m in
                     re.finditer(r'href=(["\'])(.*?)\1', r.body.decode(), re.I)
                     if not m.group(2).startswith("?")]
        self.assertGreater(len(raw_hrefs), len(NAMES))
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
        self.assertIn('<td class="s" title="12345 bytes">12.1 KiB</td>',
                      r.body.decode())


def rows(body):
    """The listing's rows after the head: (href or None, text, size cell,
    size title or None, date), HTML-unescaped, in order."""
    out = []
    for m in re.finditer(r'<tr><td>(?:<a href="([^"]*)">)?(.*?)(?:</a>)?'
                         r'</td><td class="s"(?: title="([^"]*)")?>(.*?)'
                         r'</td><td>(.*?)</td></tr>', body.decode("utf-8")):
        href, text, title, size, date = m.groups()
        out.append((html.unescape(href) if href is not None else None,
                    html.unescape(text), html.unescape(size),
                    title, date))
    return out


def names_of(body):
    """The entry names shown, in order, without the parent row."""
    return [r[1] for r in rows(body) if r[1] != "../"]


def utc_minute(path):
    t = time.gmtime(os.stat(path).st_mtime)
    return time.strftime("%Y-%m-%d %H:%M UTC", t)


# Sizes and times of /sorted/: file names in natural order are f1 f2 f10
# F11 (case-insensitive), by size f10 F11 f2 f1 (biggest first), by date
# f2 F11 f1 f10 (newest first).
SORTED = {"f1": (40, 1000), "f2": (30, 4000), "f10": (200, 500),
          "F11": (100, 3000)}
SORTED_DIRS = {"d2": 2000, "D10": 1000}
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "image/avif,image/webp,*/*;q=0.8")


class TestListingPage(ListingCase):
    """The page a person reads: sizes, dates with their zone, the path as
    links, the parent link, counts, sort links that work without script;
    and the same directory as JSON for programs."""
    tree = dict(ListingCase.tree, **{
        "sorted": dict({n: b"x" * size for n, (size, _) in SORTED.items()},
                       **{d: {"in.txt": b"in\n"} for d in SORTED_DIRS}),
        "ctl": {"tab\there": b"t\n", "ok": b"ok\n"},
    })

    @classmethod
    def prepare(cls):
        for n, (_, t) in SORTED.items():
            os.utime(os.path.join(cls.root, "sorted", n), (t, t))
        for d, t in SORTED_DIRS.items():
            os.utime(os.path.join(cls.root, "sorted", d), (t, t))

    def get_json(self, target, accept="application/json"):
        r = self.get(target, [("Accept", accept)] if accept else [])
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        return json.loads(r.body.decode("utf-8")), r

    def test_sizes_for_people_exact_in_title(self):
        r = self.get("/sized/")
        got = rows(r.body)
        self.assertIn(("f.bin", "f.bin", "12.1 KiB", "12345 bytes",
                       utc_minute(self.path("sized", "f.bin"))), got)
        r = self.get("/list/")
        sizes = {row[1]: row[2:4] for row in rows(r.body)}
        self.assertEqual(sizes["a.txt"], ("2 B", None))  # exact: no title
        self.assertEqual(sizes["adir/"], ("-", None))

    def test_dates_say_utc(self):
        r = self.get("/sorted/")
        dates = {row[1]: row[4] for row in rows(r.body)}
        self.assertEqual(dates["f2"], "1970-01-01 01:06 UTC")
        self.assertEqual(dates["D10/"], "1970-01-01 00:16 UTC")
        self.assertEqual(dates["../"], "-")

    def test_counts(self):
        self.assertIn(b"<p>2 folders, 3 files</p>", self.get("/list/").body)
        self.assertIn(b"<p>0 folders, 1 file</p>", self.get("/sized/").body)
        self.assertIn(b"<p>0 folders, 0 files</p>", self.get("/empty/").body)

    def test_breadcrumbs_link_every_part(self):
        r = self.get("/names/sub%20dir%23/")
        self.assertStatus(r, 200)
        h1 = re.search(rb"<h1>(.*?)</h1>", r.body).group(1).decode()
        crumbs = re.findall(r'<a href="([^"]*)">(.*?)</a>', h1)
        self.assertEqual([html.unescape(t) for _, t in crumbs],
                         ["/", "names", "sub dir#"])
        self.assertEqual([h for h, _ in crumbs],
                         ["/", "/names/", "/names/sub%20dir%23/"])
        self.assertEqual(html.unescape(re.sub(r"<[^>]*>", "", h1)),
                         "Index of /names/sub dir#/")
        for h, _ in crumbs:
            with self.subTest(href=h):
                g = self.get(h)
                self.assertStatus(g, 200)
                self.assertIn(b"<h1>Index of ", g.body)

    def test_parent_link(self):
        r = self.get("/names/sub%20dir%23/")
        parent = [row for row in rows(r.body) if row[1] == "../"]
        self.assertEqual(len(parent), 1)
        self.assertEqual(parent[0][0], "../")
        g = self.get(urljoin("/names/sub%20dir%23/", parent[0][0]))
        self.assertStatus(g, 200)
        self.assertIn("with space.txt", names_of(g.body))
        self.assertNotIn("../", [row[1] for row in rows(self.get("/").body)])

    def test_natural_case_insensitive_order(self):
        r = self.get("/sorted/")
        self.assertEqual(names_of(r.body),
                         ["d2/", "D10/", "f1", "f2", "f10", "F11"])

    def sort_links(self, body):
        head = re.search(rb"<tr><th.*?</tr>", body).group(0).decode()
        return {t: html.unescape(h) for h, t in
                re.findall(r'<a href="([^"]*)">([^<]*)</a>', head)}

    def test_sort_links(self):
        # Follow the column heads as a person clicks them: plain links.
        want = {
            "?sort=name&order=desc": ["D10/", "d2/", "F11", "f10", "f2",
                                      "f1"],
            "?sort=size": ["D10/", "d2/", "f10", "F11", "f1", "f2"],
            "?sort=size&order=asc": ["d2/", "D10/", "f2", "f1", "F11",
                                     "f10"],
            "?sort=date": ["d2/", "D10/", "f2", "F11", "f1", "f10"],
            "?sort=date&order=asc": ["D10/", "d2/", "f10", "f1", "F11",
                                     "f2"],
            "?sort=name": ["d2/", "D10/", "f1", "f2", "f10", "F11"],
        }
        want["?sort=name&order=asc"] = want["?sort=name"]
        want["?sort=size&order=desc"] = want["?sort=size"]
        want["?sort=date&order=desc"] = want["?sort=date"]
        links = self.sort_links(self.get("/sorted/").body)
        self.assertEqual(links, {"Name": "?sort=name&order=desc",
                                 "Size": "?sort=size",
                                 "Modified": "?sort=date"})
        seen = set()
        todo = list(links.values())
        while todo:
            q = todo.pop()
            if q in seen:
                continue
            seen.add(q)
            with self.subTest(query=q):
                r = self.get("/sorted/" + q)
                self.assertStatus(r, 200)
                self.assertIn("accept", r.header("Vary", "").lower())
                self.assertEqual(names_of(r.body), want[q])
                todo.extend(self.sort_links(r.body).values())
        self.assertEqual(seen, set(want))

    def test_bad_sort_values_fall_back(self):
        plain = self.get("/sorted/").body
        for q in ("?sort=bogus", "?order=sideways", "?sort=&order=",
                  "?sort=SIZE", "?sort=name&order=asc", "?x=1",
                  "?format=xml"):
            with self.subTest(query=q):
                r = self.get("/sorted/" + q)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, plain)

    def test_directory_links_keep_the_view(self):
        r = self.get("/sorted/?sort=size&order=asc")
        hrefs = {row[1]: row[0] for row in rows(r.body)}
        self.assertEqual(hrefs["d2/"], "d2/?sort=size&order=asc")
        self.assertEqual(hrefs["../"], "../?sort=size&order=asc")
        self.assertEqual(hrefs["f1"], "f1")
        g = self.get(urljoin("/sorted/", hrefs["../"]))
        self.assertStatus(g, 200)
        self.assertIn('aria-sort="ascending"><a href="?sort=size&amp;'
                      'order=desc">Size</a>', g.body.decode())

    def test_json_by_accept(self):
        data, r = self.get_json("/sorted/")
        self.assertIn("accept", r.header("Vary", "").lower())
        self.assertEqual(data["path"], "/sorted/")
        self.assertEqual((data["sort"], data["order"]), ("name", "asc"))
        self.assertEqual((data["directories"], data["files"]), (2, 4))
        self.assertEqual([e["name"] for e in data["entries"]],
                         ["d2", "D10", "f1", "f2", "f10", "F11"])
        by = {e["name"]: e for e in data["entries"]}
        self.assertEqual(by["f10"], {"name": "f10", "type": "file",
                                     "size": 200,
                                     "mtime": "1970-01-01T00:08:20Z",
                                     "href": "f10"})
        self.assertEqual(by["D10"], {"name": "D10", "type": "directory",
                                     "size": None,
                                     "mtime": "1970-01-01T00:16:40Z",
                                     "href": "D10/"})
        for e in data["entries"]:
            with self.subTest(href=e["href"]):
                self.assertStatus(self.get(urljoin("/sorted/", e["href"])),
                                  200)

    def test_json_only_when_preferred(self):
        for accept, json_wanted in (
                (BROWSER_ACCEPT, False),
                ("*/*", False),
                ("text/html, application/json", False),
                ("application/json, text/html", False),
                ("text/html;q=0.5, application/json", True),
                ("application/json;q=0.9, */*;q=0.1", True),
                ("application/*", True),
                ("application/json;q=0", False),
                ("image/png", False),
                ("", False)):
            with self.subTest(accept=accept):
                r = self.get("/sorted/", [("Accept", accept)])
                self.assertStatus(r, 200)
                self.assertIn("accept", r.header("Vary", "").lower())
                if json_wanted:
                    self.assertEqual(r.header("Content-Type"),
                                     "application/json")
                    json.loads(r.body)
                else:
                    self.assertEqual(r.header("Content-Type"),
                                     "text/html; charset=utf-8")
                    self.assertTrue(r.body.startswith(b"<!DOCTYPE html>"))

    def test_json_by_query_wins_over_accept(self):
        data, _ = self.get_json("/sorted/?format=json&sort=size", "text/html")
        self.assertEqual((data["sort"], data["order"]), ("size", "desc"))
        self.assertEqual([e["name"] for e in data["entries"]],
                         ["D10", "d2", "f10", "F11", "f1", "f2"])
        r = self.get("/sorted/?format=html", [("Accept", "application/json")])
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")

    def test_json_head_matches_get(self):
        g = self.get("/sorted/", [("Accept", "application/json")])
        h = self.head("/sorted/", [("Accept", "application/json")])
        self.assertStatus(h, 200)
        self.assertEqual(h.header("Content-Type"), "application/json")
        self.assertEqual(h.header("Content-Length"), g.header("Content-Length"))
        self.assertEqual(h.body, b"")

    def test_json_tricky_names(self):
        data, _ = self.get_json("/names/?format=json", None)
        got = {e["name"]: e for e in data["entries"]}
        self.assertEqual(set(got), set(NAMES) | {"sub dir#"})
        for name, body in NAMES.items():
            with self.subTest(name=name):
                e = got[name]
                self.assertEqual(unquote(e["href"]), name)
                self.assertNotRegex(e["href"], r"[ #?<>\"'%](?![0-9A-F]{2})")
                self.assertEqual(self.get("/names/" + e["href"]).body, body)

    def test_json_escapes_controls_and_bad_names(self):
        data, r = self.get_json("/ctl/?format=json", None)
        self.assertIn(b'"name":"tab\\u0009here"', r.body)
        self.assertNotIn(b"\t", r.body)
        by = {e["name"]: e for e in data["entries"]}
        self.assertIsNone(by["tab\there"]["href"])
        self.assertEqual(by["ok"]["href"], "ok")
        data, _ = self.get_json("/badname/?format=json", None)
        by = {e["name"]: e for e in data["entries"]}
        self.assertIsNone(by["bad\ufffd.txt"]["href"])
        self.assertEqual(by["ok.txt"]["href"], "ok.txt")

    def test_tricky_names_shown_and_linked(self):
        r = self.get("/names/")
        got = {row[1]: row[0] for row in rows(r.body)}
        for name in NAMES:
            with self.subTest(name=name):
                self.assertIn(name, got)
                self.assertEqual(unquote(got[name]), name)
                self.assertEqual(self.get(urljoin("/names/", got[name])).body,
                                 NAMES[name])


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
        r = self.get("/gz/y.js", [("Accept-Encoding", "br")])
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
        with Server(self.root, "--no-gzip-static") as s:
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
