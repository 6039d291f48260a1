#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""error_page, try_files (--spa) and CORS against the real binary.

error_page: an error status is answered with the named page, served from
the same server in the request's place with the error's code (or
=ANSWER), for 403, 404, 405, a return code and a proxy's 502; HEAD gets
the headers alone; the page is whole (no 304, no 206); a page that fails
gives tinyweb's own page, never a loop.

try_files and --spa: files are served as files, directories as before
(slash redirect, index), every other path gets the fallback with 200,
/missing.js included; a missing fallback is 404; =CODE answers the code
(through error_page).

CORS: a listed origin is echoed with Vary: Origin and credentials, * is
"*" alone; another origin gets no CORS field; a preflight gets 204 with
the methods, headers (configured, or echoed) and max age, also in a
proxied location; a preflight of another origin gets the plain OPTIONS
answer; OPTIONS without CORS is as before; error pages and proxied
answers carry the fields of the location the request names.

Bad lines are one FILE:LINE error and exit 1; HUP takes changed pages.
Every server runs in the mode of $TINYWEB_MODE_ARGS (make check runs
this file in epoll, prefork and threads modes).
"""

import os
import signal
import unittest

import harness
import test_scopes
from harness import (ServerCase, Server, check_bad_lines, check_common, get,
                     head, request, unique_tmpdir, wait_until, make_tree,
                     etag_for)


def q(path):
    """A path as a quoted config string."""
    return '"%s"' % path.replace("\\", "\\\\").replace('"', '\\"')


def write_conf(dirname, text, name="t.conf"):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(text)
    return path


NF = b"<p>our own 404</p>\n"
DOWN = b"<p>down for a moment</p>\n"
INDEX = b"<h1>app</h1>\n"


# ------------------------------------------------------------ error_page

class TestErrorPage(ServerCase):
    tree = {
        "index.html": INDEX,
        "404.html": NF,
        "50x.html": DOWN,
        "405.html": b"not that method\n",
        "shut": {"a.txt": b"a\n"},		# no index, listing off: 403
        "own": {"404.html": b"own 404 of /own/\n"},
        "errors": {"403.html": b"forbidden page\n"},
        "e": {"50x.html": b"api down\n"},
    }

    @classmethod
    def prepare(cls):
        conf = write_conf(cls.tmp, """
listing off;
error_page 404 /404.html;
error_page 405 /405.html;
server {
    error_page 404 /404.html;
    error_page 403 /errors/403.html;
    error_page 405 /405.html;
    error_page 502 504 /50x.html;
    location /own/ {
        error_page 404 /own/404.html;
    }
    location /soft/ {
        error_page 404 =200 /index.html;
    }
    location /broken/ {
        error_page 404 /broken/missing.html;
    }
    location = /gone {
        return 404;
    }
    location /api/ {
        proxy_pass http://127.0.0.1:1/;
    }
    location /api2/ {
        error_page 502 /e/50x.html;
        proxy_pass http://127.0.0.1:1/;
    }
    location /e/ {
        add_header X-Page e;
    }
}
""")
        cls.server_args = ("-c", conf)

    def get(self, target, **kw):
        r = get(self.port, target, **kw)
        check_common(self, r)
        return r

    def test_404_gets_the_page_with_404(self):
        r = self.get("/no/such/file")
        self.assertEqual(r.status, 404, r.describe())
        self.assertEqual(r.body, NF)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        # the page is the answer, not the file: no validators of its own
        self.assertIsNone(r.header("ETag"))
        self.assertIsNone(r.header("Accept-Ranges"))

    def test_head_gets_the_headers_alone(self):
        r = head(self.port, "/no/such/file")
        check_common(self, r, "HEAD")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.body, b"")
        self.assertEqual(int(r.header("Content-Length")), len(NF))

    def test_page_is_whole_whatever_the_conditionals(self):
        tag = etag_for(os.path.join(self.root, "404.html"))
        r = self.get("/missing", headers=[("If-None-Match", tag),
                                          ("Range", "bytes=0-3")])
        self.assertEqual(r.status, 404, r.describe())
        self.assertEqual(r.body, NF)

    def test_403(self):
        r = self.get("/shut/")
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(r.body, b"forbidden page\n")

    def test_405_keeps_allow(self):
        r = request(self.port, "POST", "/index.html", body=b"x=1")
        check_common(self, r)
        self.assertEqual(r.status, 405, r.describe())
        self.assertEqual(r.body, b"not that method\n")
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")

    def test_return_code_gets_the_page(self):
        r = self.get("/gone")
        self.assertEqual(r.status, 404, r.describe())
        self.assertEqual(r.body, NF)

    def test_proxy_502_gets_the_page(self):
        r = self.get("/api/x")
        self.assertEqual(r.status, 502, r.describe())
        self.assertEqual(r.body, DOWN)
        r = head(self.port, "/api/x")
        self.assertEqual(r.status, 502)
        self.assertEqual(r.body, b"")
        self.assertEqual(int(r.header("Content-Length")), len(DOWN))

    def test_page_location_headers_end_with_the_answer(self):
        with harness.Conn(self.port) as c:
            r = c.request("GET", "/api2/x")
            self.assertEqual((r.status, r.body), (502, b"api down\n"))
            self.assertEqual(r.header("X-Page"), "e")
            # the next answer on the connection is its own location's
            r = c.request("GET", "/%zz")
            self.assertEqual(r.status, 400, r.describe())
            self.assertIsNone(r.header("X-Page"))

    def test_location_has_its_own(self):
        r = self.get("/own/nothing")
        self.assertEqual((r.status, r.body), (404, b"own 404 of /own/\n"))

    def test_answer_code(self):
        r = self.get("/soft/anything")
        self.assertEqual((r.status, r.body), (200, INDEX))

    def test_failing_page_gives_tinyweb_own(self):
        r = self.get("/broken/x")
        self.assertEqual(r.status, 404, r.describe())
        self.assertIn(b"<h1>404 Not Found</h1>", r.body)

    def test_files_are_untouched(self):
        r = self.get("/index.html")
        self.assertEqual((r.status, r.body), (200, INDEX))
        self.assertIsNotNone(r.header("ETag"))

    def test_keepalive_after_an_error_page(self):
        got = harness.raw(self.port,
                          b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /index.html HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
        rs = harness.parse_responses(got, ("GET", "HEAD", "GET"))
        self.assertEqual([r.status for r in rs], [404, 404, 200])
        self.assertEqual(rs[0].body, NF)
        self.assertEqual(rs[2].body, INDEX)


class TestErrorPageTopLevel(ServerCase):
    """Without server blocks: the top level's error_page."""

    tree = {"index.html": INDEX, "e": {"404.html": NF}}

    @classmethod
    def prepare(cls):
        cls.server_args = ("-c", write_conf(cls.tmp,
                                            "error_page 404 /e/404.html;\n"))

    def test_404(self):
        r = get(self.port, "/x")
        check_common(self, r)
        self.assertEqual((r.status, r.body), (404, NF))


# ------------------------------------------------------------ try_files

class TestSpa(ServerCase):
    tree = {
        "index.html": INDEX,
        "app.js": b"console.log(1)\n",
        "dir": {"index.html": b"dir index\n"},
        "bare": {"x.txt": b"x\n"},
    }
    server_args = ("--spa",)

    def get(self, target, **kw):
        r = get(self.port, target, **kw)
        check_common(self, r)
        return r

    def test_unknown_paths_get_index(self):
        for target in ("/users/42", "/a/b/c?x=1", "/missing.js",
                       "/dir/nothing"):
            with self.subTest(target=target):
                r = self.get(target)
                self.assertEqual((r.status, r.body), (200, INDEX),
                                 r.describe())
                self.assertEqual(r.header("Content-Type"),
                                 "text/html; charset=utf-8")

    def test_files_are_files(self):
        r = self.get("/app.js")
        self.assertEqual((r.status, r.body), (200, b"console.log(1)\n"))
        self.assertIn("javascript", r.header("Content-Type"))

    def test_directories_as_before(self):
        r = self.get("/dir")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "/dir/")
        r = self.get("/dir/")
        self.assertEqual((r.status, r.body), (200, b"dir index\n"))
        # a directory without index: the listing, as without --spa
        r = self.get("/bare/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"x.txt", r.body)

    def test_head_and_post(self):
        r = head(self.port, "/users/42")
        check_common(self, r, "HEAD")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(int(r.header("Content-Length")), len(INDEX))
        r = request(self.port, "POST", "/users/42", body=b"a")
        self.assertEqual(r.status, 405)

    def test_fallback_revalidates(self):
        tag = self.get("/users/1").header("ETag")
        self.assertIsNotNone(tag)
        r = self.get("/users/2", headers=[("If-None-Match", tag)])
        self.assertEqual(r.status, 304, r.describe())


class TestSpaWithoutIndex(ServerCase):
    tree = {"app.js": b"x\n"}
    server_args = ("--spa",)

    def test_missing_fallback_is_404(self):
        r = get(self.port, "/anything")
        check_common(self, r)
        self.assertEqual(r.status, 404, r.describe())
        r = get(self.port, "/app.js")
        self.assertEqual(r.status, 200)


class TestTryFiles(ServerCase):
    tree = {
        "index.html": INDEX,
        "404.html": NF,
        "about.html": b"about\n",
        "assets": {"a.css": b"body{}\n"},
    }

    @classmethod
    def prepare(cls):
        cls.server_args = ("-c", write_conf(cls.tmp, """
server {
    error_page 404 /404.html;
    try_files $uri $uri.html $uri/ /index.html;
    location /assets/ {
        try_files $uri =404;
    }
    location /strict/ {
        try_files $uri =410;
    }
}
"""))

    def test_clean_urls_and_fallback(self):
        r = get(self.port, "/about")
        self.assertEqual((r.status, r.body), (200, b"about\n"))
        r = get(self.port, "/deep/link")
        self.assertEqual((r.status, r.body), (200, INDEX))

    def test_assets_404_through_error_page(self):
        r = get(self.port, "/assets/a.css")
        self.assertEqual((r.status, r.body), (200, b"body{}\n"))
        r = get(self.port, "/assets/missing.js")
        check_common(self, r)
        self.assertEqual((r.status, r.body), (404, NF))

    def test_other_code(self):
        r = get(self.port, "/strict/x")
        check_common(self, r)
        self.assertEqual(r.status, 410)
        self.assertIn(b"410", r.body)


# ------------------------------------------------------------ CORS

A = "https://a.example"
B = "http://b.example:8080"
EVIL = "https://evil.example"


class TestCors(ServerCase):
    tree = {
        "index.html": INDEX,
        "404.html": NF,
        "pub": {"p.txt": b"public\n"},
        "nocors": {"n.txt": b"n\n"},
    }

    @classmethod
    def prepare(cls):
        # an upstream with CORS of its own: the location's stands alone
        cls.upstream = Server(os.path.join(cls.root, "pub"), "--cors", "*")
        cls.server_args = ("-c", write_conf(cls.tmp, """
cors %s %s;
cors_credentials on;
cors_methods GET, POST PUT;
error_page 404 /404.html;
server {
    location /pub/ {
        cors *;
        cors_credentials off;
        cors_headers X-A X-B;
        cors_expose_headers ETag;
        cors_max_age 10m;
    }
    location /nocors/ {
        cors off;
    }
    location /dead/ {
        proxy_pass http://127.0.0.1:1/;
    }
    location /up/ {
        proxy_pass http://127.0.0.1:%d/;
    }
}
""" % (A, B, cls.upstream.port)))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.upstream.stop()
        finally:
            super().tearDownClass()

    def get(self, target, origin=None, method="GET", extra=()):
        hs = [("Origin", origin)] if origin else []
        r = request(self.port, method, target, hs + list(extra))
        check_common(self, r)
        return r

    def preflight(self, target, origin, want="PUT", asked=None):
        hs = [("Origin", origin), ("Access-Control-Request-Method", want)]
        if asked:
            hs.append(("Access-Control-Request-Headers", asked))
        return request(self.port, "OPTIONS", target, hs)

    def acao(self, r):
        return r.header_all("Access-Control-Allow-Origin")

    def test_listed_origin_is_echoed(self):
        for origin in (A, B):
            r = self.get("/index.html", origin)
            self.assertEqual(r.status, 200)
            self.assertEqual(self.acao(r), [origin])
            self.assertEqual(r.header("Access-Control-Allow-Credentials"),
                             "true")
            self.assertIn("Origin", r.header_all("Vary"))

    def test_other_origin_gets_no_cors(self):
        for origin in (EVIL, None):
            r = self.get("/index.html", origin)
            self.assertEqual(r.status, 200)
            self.assertEqual(self.acao(r), [])
            self.assertIsNone(r.header("Access-Control-Allow-Credentials"))
            # caches must not give one origin's answer to another
            self.assertIn("Origin", r.header_all("Vary"))

    def test_preflight(self):
        r = self.preflight("/index.html", A, asked="x-token, content-type")
        check_common(self, r)
        self.assertEqual(r.status, 204, r.describe())
        self.assertIsNone(r.header("Content-Length"))
        self.assertEqual(r.body, b"")
        self.assertEqual(self.acao(r), [A])
        self.assertEqual(r.header("Access-Control-Allow-Methods"),
                         "GET, POST, PUT")
        self.assertEqual(r.header("Access-Control-Allow-Headers"),
                         "x-token, content-type")
        self.assertEqual(r.header("Access-Control-Max-Age"), "3600")
        self.assertEqual(r.header("Access-Control-Allow-Credentials"),
                         "true")

    def test_preflight_of_other_origin(self):
        r = self.preflight("/index.html", EVIL)
        check_common(self, r)
        self.assertEqual(r.status, 204, r.describe())
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")
        self.assertEqual([h for h in r.headers
                          if h[0].lower().startswith("access-control-")], [])

    def test_star_location(self):
        r = self.get("/pub/p.txt", EVIL)
        self.assertEqual(self.acao(r), ["*"])
        self.assertEqual(r.header("Access-Control-Expose-Headers"), "ETag")
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"))
        self.assertNotIn("Origin", r.header_all("Vary"))
        r = self.preflight("/pub/p.txt", EVIL, asked="x-c")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.acao(r), ["*"])
        self.assertEqual(r.header("Access-Control-Allow-Headers"), "X-A, X-B")
        self.assertEqual(r.header("Access-Control-Max-Age"), "600")

    def test_options_without_cors_as_before(self):
        r = self.preflight("/nocors/n.txt", A)
        check_common(self, r)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")
        self.assertEqual(self.acao(r), [])
        r = self.get("/nocors/n.txt", A)
        self.assertEqual(self.acao(r), [])
        self.assertNotIn("Origin", r.header_all("Vary"))

    def test_plain_options_with_origin(self):
        r = self.get("/index.html", A, method="OPTIONS")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")
        self.assertEqual(self.acao(r), [A])
        self.assertIsNone(r.header("Access-Control-Allow-Methods"))

    def test_error_pages_carry_cors(self):
        r = self.get("/nothing", A)
        self.assertEqual((r.status, r.body), (404, NF))
        self.assertEqual(self.acao(r), [A])
        # the fields of the location named, not the page's
        r = self.get("/pub/nothing", EVIL)
        self.assertEqual((r.status, r.body), (404, NF))
        self.assertEqual(self.acao(r), ["*"])

    def test_proxied_location(self):
        r = self.preflight("/dead/x", A)
        check_common(self, r)
        self.assertEqual(r.status, 204, r.describe())
        self.assertEqual(self.acao(r), [A])
        r = self.get("/dead/x", A)
        self.assertEqual(r.status, 502)
        self.assertEqual(self.acao(r), [A])
        r = self.get("/up/p.txt", A)
        self.assertEqual((r.status, r.body), (200, b"public\n"),
                         r.describe())
        self.assertEqual(self.acao(r), [A])
        self.assertEqual(r.header("Access-Control-Allow-Credentials"),
                         "true")
        r = self.get("/up/p.txt", EVIL)
        self.assertEqual(self.acao(r), [])
        r = request(self.port, "GET", "/up/p.txt",
                    [("Origin", A), ("Connection", "close")],
                    version="HTTP/1.0")
        self.assertEqual(self.acao(r), [A])


class TestCorsCommandLine(ServerCase):
    tree = {"index.html": INDEX}
    server_args = ("--cors", "*", "--cors-max-age", "2m", "--cors-headers",
                   "X-One, X-Two")

    def test_star(self):
        r = request(self.port, "OPTIONS", "/index.html",
                    [("Origin", EVIL),
                     ("Access-Control-Request-Method", "GET")])
        check_common(self, r)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(r.header("Access-Control-Max-Age"), "120")
        self.assertEqual(r.header("Access-Control-Allow-Headers"),
                         "X-One, X-Two")
        r = get(self.port, "/index.html", [("Origin", A)])
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")


# ------------------------------------------------------------ config

class TestBadLines(unittest.TestCase):
    def test_bad_lines(self):
        tmp = unique_tmpdir()
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        check_bad_lines(self, tmp, [
            ("error_page 404;", r"'error_page' takes up to 8 arguments"),
            ("error_page 200 /x.html;", r"error_page '200': expected a "
             r"status from 400 to 599"),
            ("error_page 404 x.html;", r"error_page 'x.html': expected a "
             r"path starting with '/'.*"),
            ("error_page 404 =301 /x;", r"error_page '=301': expected "
             r"=CODE.*"),
            ("error_page 404 /a%zz;", r"error_page '/a%zz'.*"),
            ("error_page 404 /a; error_page 404 /b;",
             r"error_page 404 is given twice"),
            ("try_files $uri;", r"'try_files' takes up to 8 arguments"),
            ("try_files $uri $foo /x;", r"try_files '\$foo': .*"),
            ("try_files $uri =200;", r"try_files '=200': expected =CODE "
             r"from 400 to 599"),
            ("try_files $uri /x?$uri;", r"try_files '/x\?\$uri': the last "
             r"word is =CODE or a URI.*"),
            ("cors ftp://a.example;", r"cors 'ftp://a.example': expected "
             r"\*, off or an origin.*"),
            ("cors https://a.example/app;", r"cors "
             r"'https://a.example/app': .*"),
            ("cors * https://a.example;", r"cors \* stands alone, not "
             r"beside origins"),
            ("cors_methods *;", r"cors_methods: name them \(\* is no name\)"),
            ("cors_headers X-A:B;", r"cors_headers 'X-A:B': expected "
             r"names.*"),
            ("cors_max_age soon;", r"cors_max_age 'soon': expected a "
             r"duration.*"),
            ("cors_credentials maybe;", r"'cors_credentials' takes on or "
             r"off, not 'maybe'"),
            ("cors *; cors_credentials on;", r"cors_credentials on needs a "
             r"list of origins, not cors \* \(.*:3\).*"),
            ("server { try_files $uri /a; try_files $uri /b; }",
             r"duplicate 'try_files' directive"),
            ("server { cors *; location /x/ { cors_credentials on; } }",
             r"cors_credentials on needs a list of origins.*"),
        ])

    def test_check_config_reads_back(self):
        tmp = unique_tmpdir()
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        conf = write_conf(tmp, """
error_page 404 /404.html;
error_page 500 502 =200 /index.html;
cors https://a.example "http://b.example:81";
cors_methods GET POST;
cors_credentials on;
server {
    try_files $uri $uri/ /index.html;
    location /x/ { cors *; cors_credentials off; cors_headers *;
                   cors_max_age 90s; cors_expose_headers ETag; }
    location /y/ { cors off; error_page 403 =404 /404.html; }
}
""")
        r1 = harness.run([harness.BIN, "check-config", "-c", conf])
        self.assertEqual(r1.returncode, 0, r1.stderr)
        for line in ('error_page 500 502 =200 "/index.html";',
                     'try_files "$uri" "$uri/" "/index.html";',
                     'cors "https://a.example" "http://b.example:81";',
                     'cors_methods "GET, POST";', "cors_max_age 90s;",
                     "cors off;", 'cors_headers "*";'):
            self.assertIn(line, r1.stdout)
        again = write_conf(tmp, r1.stdout, "again.conf")
        r2 = harness.run([harness.BIN, "check-config", "-c", again])
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r2.stdout, r1.stdout)

    def test_spa_prints_as_try_files(self):
        r = harness.run([harness.BIN, "check-config", "--spa"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('try_files "$uri" "$uri/" "/index.html";', r.stdout)

    def test_star_with_credentials_on_command_line(self):
        r = harness.run([harness.BIN, "check-config", "--cors", "*",
                         "--cors-credentials"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("--cors-credentials: cors_credentials on needs a list "
                      "of origins", r.stderr)


# ------------------------------------------------------------ reload

class TestReload(unittest.TestCase):
    """HUP with changed pages and origins. In epoll and threads modes a
    reload is a new process on the same sockets: the pidfile names it."""

    def test_hup_takes_new_pages(self):
        tmp = unique_tmpdir()
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        make_tree(tmp, {"site": {"index.html": INDEX, "a.html": b"page a\n",
                                 "b.html": b"page b\n"}})
        conf = os.path.join(tmp, "t.conf")
        pidfile = os.path.join(tmp, "tw.pid")
        write_conf(tmp, "error_page 404 /a.html;\ncors %s;\n" % A)
        srv = Server(os.path.join(tmp, "site"), "-c", conf, "--pidfile",
                     pidfile)
        # the live process is the pidfile's: test_scopes stops it so
        self.addCleanup(test_scopes.TestReload.stop, srv, pidfile)

        def state():
            r = get(srv.port, "/nope", [("Origin", B)])
            return r.body, r.header("Access-Control-Allow-Origin")

        self.assertEqual(state(), (b"page a\n", None))
        write_conf(tmp, "error_page 404 /b.html;\ncors %s;\n" % B, "t.new")
        os.rename(os.path.join(tmp, "t.new"), conf)
        os.kill(harness.read_pid(pidfile), signal.SIGHUP)
        self.assertTrue(wait_until(lambda: state() == (b"page b\n", B),
                                   timeout=10), srv.stderr_text())
        # a broken file is refused and the running pages stay
        wait_until(lambda: not os.path.exists(pidfile + ".oldbin"), 5)
        write_conf(tmp, "cors *;\ncors_credentials on;\n", "t.new")
        os.rename(os.path.join(tmp, "t.new"), conf)
        pid = harness.read_pid(pidfile)
        os.kill(pid, signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "needs a list of origins" in
                                   srv.stderr_text(), 5), srv.stderr_text())
        self.assertTrue(harness.alive(pid))
        self.assertEqual(state(), (b"page b\n", B))


if __name__ == "__main__":
    unittest.main()
