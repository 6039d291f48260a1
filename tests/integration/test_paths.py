# SPDX-License-Identifier: MIT
"""Paths and names: strict percent-decoding, UTF-8 names, traversal,
symlinks, dotfiles, redirects that cannot leave the site."""

import os
import re
import unittest
from urllib.parse import quote

from harness import SECRET, Server, ServerCase, Symlink, get, raw, \
    parse_responses

NAMES = {
    "你好.txt": "chinese\n",
    "файл.txt": "cyrillic\n",
    "with space.txt": "space\n",
    "hash#1.txt": "hash\n",
    "pct%41.txt": "percent\n",
    "q?.txt": "question\n",
    "plus+.txt": "plus\n",
    "emoji😀.txt": "emoji\n",
    "amp&semi;.txt": "amp\n",
}

PASSWD_MARK = b"root:x:0:0"


def upper_hex(s):
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), s)


class PathCase(ServerCase):
    tree = {
        "hello.txt": b"hello world\n",
        "names": dict(NAMES, **{"目录 x": {"in.txt": b"in dir\n"}}),
        "a b#c": {"index.html": b"abc index\n"},
        "evil.com": {"index.html": b"evil dir\n"},
        "dir": {"index.html": b"dir index\n", "f.txt": b"f\n"},
        ".secret": b"dot secret\n",
        ".git": {"config": b"[core]\n"},
        ".well-known": {"x": b"well known\n"},
        "link_in.txt": Symlink("hello.txt"),
        "linkdir": Symlink("dir"),
        "outdir": Symlink("../outside"),
        "idxout": {"index.html": Symlink("../../outside/secret.txt")},
    }

    @classmethod
    def prepare(cls):
        os.symlink(os.path.join(cls.outside, "secret.txt"),
                   os.path.join(cls.root, "link_out.txt"))

    def assertNoSecret(self, data):
        self.assertNotIn(SECRET, data)
        self.assertNotIn(PASSWD_MARK, data)


class TestNames(PathCase):
    def test_unicode_and_special_names_served(self):
        for name, body in NAMES.items():
            with self.subTest(name=name):
                r = self.get("/names/" + quote(name, safe=""))
                self.assertStatus(r, 200)
                self.assertEqual(r.body, body.encode())

    def test_lowercase_escapes(self):
        name = "你好.txt"
        t = "/names/" + quote(name).lower()
        r = self.get(t)
        self.assertStatus(r, 200)

    def test_plus_is_literal_in_path(self):
        r = self.get("/names/plus+.txt")
        self.assertEqual(r.body, b"plus\n")
        r = self.get("/names/plus%2B.txt")
        self.assertEqual(r.body, b"plus\n")

    def test_no_double_decoding(self):
        # pct%41.txt must be reached by pct%2541.txt, not by pctA.txt.
        self.assertStatus(self.get("/names/pct%2541.txt"), 200)
        self.assertStatus(self.get("/names/pctA.txt"), 404)
        self.assertStatus(self.get("/names/pct%41.txt"), 404)

    def test_hash_and_question_names_need_encoding(self):
        # Unencoded, '?' starts the query: "/names/q" does not exist.
        self.assertStatus(self.get("/names/q?.txt"), 404)
        self.assertStatus(self.get("/names/q%3F.txt"), 200)
        self.assertStatus(self.get("/names/hash%231.txt"), 200)

    def test_raw_utf8_bytes_in_target(self):
        data = raw(self.port, "GET /names/你好.txt HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n".encode())
        r = parse_responses(data)[0]
        # Raw non-ASCII in the target is not valid HTTP (RFC 9112 3.2:
        # the target is ASCII, other bytes are percent-encoded); the
        # parser refuses it like any other bad byte of the request line.
        self.assertEqual(r.status, 400, r.describe())

    def test_unicode_directory_redirect(self):
        enc = "/names/" + quote("目录 x")
        r = self.get(enc)
        self.assertStatus(r, 301)
        loc = r.header("Location")
        self.assertEqual(upper_hex(loc), upper_hex(enc + "/"))
        self.assertRegex(loc, r"^[\x21-\x7e]+$", "unencoded bytes in Location")
        r = self.get(loc + "in.txt")
        self.assertEqual(r.body, b"in dir\n")

    def test_redirect_encodes_hash_and_space(self):
        r = self.get("/a%20b%23c")
        self.assertStatus(r, 301)
        self.assertEqual(upper_hex(r.header("Location")), "/a%20b%23c/")
        self.assertEqual(self.get("/a%20b%23c/").body, b"abc index\n")

    def test_redirect_keeps_query(self):
        r = self.get("/dir?x=1")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/dir/?x=1")
        r = self.get("/dir")
        self.assertEqual(r.header("Location"), "/dir/")


class TestBadEncoding(PathCase):
    BAD = ["/%zz", "/%4", "/%", "/a%4g.txt", "/hello%00.txt", "/%00",
           "/a%0ab", "/a%0d%0aSet-Cookie:x", "/a%01", "/a%1b",
           "/%C0%AF", "/%c0%ae%c0%ae/etc/passwd", "/%E0%80%AF",
           "/%ED%A0%80", "/%ED%BF%BF", "/%E4%BD", "/%E4%BD.txt",
           "/%F4%90%80%80", "/%FF", "/%80"]

    def test_bad_escapes_400(self):
        for t in self.BAD:
            with self.subTest(target=t):
                r = self.get(t)
                self.assertStatus(r, 400)
                self.assertNoSecret(r.body)
        self.assertServes()

    def test_raw_control_bytes_400(self):
        for t in (b"/a\x01b", b"/a\x7fb", b"/a\tb"):
            with self.subTest(target=t):
                data = raw(self.port, b"GET " + t +
                           b" HTTP/1.1\r\nHost: x\r\n\r\n", 1)
                rs = parse_responses(data)
                self.assertTrue(rs, "no response")
                self.assertEqual(rs[0].status, 400, rs[0].describe())


class TestTraversal(PathCase):
    # DESIGN.md allows 400 or 404 for a path that would climb above the
    # root; tinyweb answers exactly this. Dot segments are removed after
    # percent-decoding (tw_url_remove_dots), and a ".." with nothing left
    # to remove is refused there: 400, however it was spelled (%2e, %2f
    # decode first). A %00 is refused while decoding: 400 too. What is
    # not a dot segment after one decoding (%252e, "..;", "...", a
    # backslash) is an ordinary name that does not exist: 404.
    TARGETS = {
        "/../etc/passwd": 400,
        "/../../../../../../etc/passwd": 400,
        "/%2e%2e/%2e%2e/etc/passwd": 400,
        "/%2E%2E/outside/secret.txt": 400,
        "/..%2f..%2fetc/passwd": 400,
        "/..%2foutside%2fsecret.txt": 400,
        "/%252e%252e/etc/passwd": 404,
        "/%252e%252e/outside/secret.txt": 404,
        "/a/..\\..\\etc/passwd": 404,
        "/..\\outside\\secret.txt": 404,
        "/%5c..%5coutside%5csecret.txt": 404,
        "/./../x": 400,
        "/dir/../../outside/secret.txt": 400,
        "/./.././outside/secret.txt": 400,
        "/dir/%2e%2e/%2e%2e/outside/secret.txt": 400,
        "/.%2e/outside/secret.txt": 400,
        "/%2e./outside/secret.txt": 400,
        "/..;/outside/secret.txt": 404,
        "/../outside/secret.txt%00": 400,
        "/..": 400,
        "/../": 400,
        "/..%00/": 400,
        "/.../outside/secret.txt": 404,
    }

    def test_traversal_never_serves_outside(self):
        for t, want in self.TARGETS.items():
            with self.subTest(target=t):
                data = raw(self.port, ("GET %s HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n" % t)
                           .encode(), 2)
                self.assertNoSecret(data)
                rs = parse_responses(data)
                self.assertTrue(rs, "no response")
                self.assertEqual(rs[0].status, want, rs[0].describe())
        self.assertServes()

    def test_traversal_http10_and_absolute_form(self):
        for req in [b"GET /../outside/secret.txt HTTP/1.0\r\n\r\n",
                    b"GET http://x/../outside/secret.txt HTTP/1.1\r\n"
                    b"Host: x\r\nConnection: close\r\n\r\n",
                    b"GET http://x/%2e%2e/outside/secret.txt HTTP/1.1\r\n"
                    b"Host: x\r\nConnection: close\r\n\r\n"]:
            with self.subTest(req=req):
                data = raw(self.port, req, 2)
                self.assertNoSecret(data)
                # Climbs above the root (see TARGETS): 400.
                self.assertEqual(parse_responses(data)[0].status, 400)

    def test_dot_segments_inside_root_resolve(self):
        # Removed after decoding (RFC 3986 5.2.4): these stay inside.
        r = self.get("/dir/../hello.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"hello world\n")
        r = self.get("/dir/./f.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"f\n")
        r = self.get("/dir/%2e%2e/dir/%2E/f.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"f\n")

    def test_no_open_redirect(self):
        targets = ["//evil.com/..", "//evil.com", "/%2F%2Fevil.com",
                   "/%2f%2fevil.com", "//evil.com/", "///evil.com",
                   "/.//evil.com", "/%5C%5Cevil.com", "/\\evil.com",
                   "//evil.com/%2e%2e", "/dir/..//evil.com",
                   "/evil.com/..//evil.com"]
        for t in targets:
            with self.subTest(target=t):
                data = raw(self.port, ("GET %s HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n" % t)
                           .encode(), 2)
                rs = parse_responses(data)
                self.assertTrue(rs, "no response")
                r = rs[0]
                loc = r.header("Location")
                if loc is not None:
                    self.assertFalse(loc.startswith("//"), loc)
                    self.assertFalse(loc.startswith("/\\"), loc)
                    self.assertFalse(re.match(r"^[a-z]+:", loc, re.I), loc)
                    self.assertTrue(loc.startswith("/"), loc)

    def test_location_never_holds_crlf(self):
        for t in ["/dir%0d%0aX-Injected:%201", "/dir%0aX:1"]:
            with self.subTest(target=t):
                data = raw(self.port, ("GET %s HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n" % t)
                           .encode(), 2)
                self.assertNotIn(b"X-Injected", data.split(b"\r\n\r\n")[0])
                self.assertEqual(parse_responses(data)[0].status, 400)


class TestSymlinks(PathCase):
    def test_default_inside(self):
        r = self.get("/link_in.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"hello world\n")
        self.assertEqual(self.get("/linkdir/f.txt").body, b"f\n")
        self.assertEqual(self.get("/linkdir/").body, b"dir index\n")
        self.assertEqual(self.get("/linkdir/f.txt",
                                  [("Range", "bytes=0-0")]).body, b"f")

    def test_default_outside_404(self):
        for t in ("/link_out.txt", "/outdir/secret.txt", "/outdir/"):
            with self.subTest(target=t):
                r = self.get(t)
                self.assertStatus(r, 404)
                self.assertNoSecret(r.body)

    def test_default_outside_range_and_head_404(self):
        r = self.get("/link_out.txt", [("Range", "bytes=0-3")])
        self.assertStatus(r, 404)
        self.assertNoSecret(r.body)
        self.assertStatus(self.head("/link_out.txt"), 404)

    def test_index_symlink_outside_not_served(self):
        r = self.get("/idxout/")
        self.assertNoSecret(r.body)
        self.assertNotEqual(r.status, 500)

    def test_never(self):
        with Server(self.root, "--symlinks", "never") as s:
            for t in ("/link_in.txt", "/link_out.txt", "/linkdir/f.txt",
                      "/linkdir/", "/outdir/"):
                with self.subTest(target=t):
                    r = get(s.port, t)
                    self.assertEqual(r.status, 404, r.describe())
                    self.assertNoSecret(r.body)
            self.assertEqual(get(s.port, "/hello.txt").status, 200)
            self.assertEqual(get(s.port, "/dir/f.txt").status, 200)

    def test_always(self):
        # The server's own policy: the sandbox (on by default) refuses a
        # file outside every root whatever the policy (test_sandbox.py).
        with Server(self.root, "--symlinks", "always", "--sandbox",
                    "off") as s:
            r = get(s.port, "/link_out.txt")
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.body, SECRET + b"\n")
            self.assertEqual(get(s.port, "/link_in.txt").status, 200)
            # Symlinks are allowed, '..' above the root still is not:
            # refused before any file is looked at, as without the flag.
            r = get(s.port, "/../outside/secret.txt")
            self.assertEqual(r.status, 400, r.describe())


class TestDotfiles(PathCase):
    def test_hidden_by_default(self):
        for t in ("/.secret", "/.git/config", "/.git/", "/.git",
                  "/dir/../.secret", "/%2esecret", "/names/../.git/config"):
            with self.subTest(target=t):
                r = self.get(t)
                # Hidden is "not found" (DESIGN.md), whatever the path
                # looked like before its dot segments were removed.
                self.assertEqual(r.status, 404, r.describe())
                self.assertNotIn(b"dot secret", r.body)
                self.assertNotIn(b"[core]", r.body)

    def test_well_known_served(self):
        r = self.get("/.well-known/x")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"well known\n")

    def test_hidden_flag(self):
        with Server(self.root, "--hidden") as s:
            r = get(s.port, "/.secret")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"dot secret\n")
            self.assertEqual(get(s.port, "/.git/config").body, b"[core]\n")


if __name__ == "__main__":
    unittest.main()
