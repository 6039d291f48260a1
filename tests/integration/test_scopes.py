#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Server, location and upstream blocks against the real binary.

Host picks the server: an exact name (any case, with or without a
port), then the longest leading wildcard, then the default server of
the address the connection came in on (the one marked default_server,
else the first that listens there). The decoded, normalized path picks
the location: an exact one before any prefix, the longest prefix before
shorter ones, else the server's own settings. Inside: root or alias,
an index list, listing, hidden, expires, add_header, return and
proxy_pass, each inherited from the server unless the location sets it.
Bad blocks are one error line naming FILE:LINE and exit status 1; a
reload (HUP) takes a changed server list; check-config prints the
blocks in a form that reads back the same.

Every server here runs in the mode of $TINYWEB_MODE_ARGS (make check
runs this file in epoll, prefork and threads modes).
"""

import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import (BIN, ServerCase, Server, check_bad_lines, check_common,
                     free_port, get, run, tinyweb_cmd, unique_tmpdir,
                     wait_until, make_tree)


def q(path):
    """A path as a quoted config string."""
    return '"%s"' % path.replace("\\", "\\\\").replace('"', '\\"')


class ConfServer(Server):
    """`tinyweb serve -c CONF -q` (+ mode arguments): the file's own
    listen lines stand (Server's -p/-b would replace them)."""

    def __init__(self, conf, port, startup_timeout=10.0):
        self.root = None
        self.cmd = tinyweb_cmd("serve", "-c", conf, "-q")
        self.host = "127.0.0.1"
        self._lines = []
        self._lock = threading.Lock()
        self._started = threading.Event()
        self.startup_line = None
        self.port = None
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        harness._live.add(self)
        self._reader = threading.Thread(target=self._read_stderr,
                                        daemon=True)
        self._reader.start()
        if not self._started.wait(startup_timeout):
            self.proc.kill()
            self.proc.wait()
            harness._live.discard(self)
            raise AssertionError("no startup line:\n" + self.stderr_text())
        self.port = port


def host_get(port, target, host, version="HTTP/1.1"):
    headers = [("Host", host)] if host is not None else []
    r = get(port, target, headers, version=version)
    return r


# ------------------------------------------------------------ Host -> server

class TestHost(ServerCase):
    """Five servers on the harness's one address (-p/-b replace their
    listen lines); d.example is marked default_server."""

    tree = {
        "top": {"index.html": b"top\n"},
        "a": {"index.html": b"site a\n"},
        "b": {"index.html": b"site b\n"},
        "w": {"index.html": b"wildcard w\n"},
        "x": {"index.html": b"wildcard x.w\n"},
        "d": {"index.html": b"default d\n"},
    }

    @classmethod
    def prepare(cls):
        r = cls.root
        conf = os.path.join(cls.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write("server { server_name a.example; root %s; "
                    "status /tw-status; }\n"
                    "server { server_name b.example www.b.example; "
                    "root %s; }\n"
                    "server { server_name *.w.example; root %s; }\n"
                    "server { server_name *.x.w.example; root %s; }\n"
                    "server { listen 127.0.0.1:1 default_server; "
                    "server_name d.example; root %s; }\n"
                    % tuple(q(os.path.join(r, d)) for d in "abwxd"))
        cls.server_args = ("-c", conf)

    def body_for(self, host, target="/", version="HTTP/1.1"):
        r = host_get(self.port, target, host, version)
        check_common(self, r)
        self.assertEqual(r.status, 200, r.describe())
        return r.body

    def test_exact_name(self):
        self.assertEqual(self.body_for("a.example"), b"site a\n")
        self.assertEqual(self.body_for("b.example"), b"site b\n")
        self.assertEqual(self.body_for("www.b.example"), b"site b\n")
        self.assertEqual(self.body_for("d.example"), b"default d\n")

    def test_case_port_and_trailing_dot(self):
        self.assertEqual(self.body_for("A.EXAMPLE"), b"site a\n")
        self.assertEqual(self.body_for("a.example:%d" % self.port),
                         b"site a\n")
        self.assertEqual(self.body_for("B.Example:1"), b"site b\n")
        self.assertEqual(self.body_for("a.example."), b"site a\n")

    def test_wildcard(self):
        self.assertEqual(self.body_for("one.w.example"), b"wildcard w\n")
        self.assertEqual(self.body_for("two.one.w.example"),
                         b"wildcard w\n")
        # the longest wildcard wins, whatever the order of the servers
        self.assertEqual(self.body_for("q.x.w.example"), b"wildcard x.w\n")
        # "*.w.example" is not w.example itself
        self.assertEqual(self.body_for("w.example"), b"default d\n")

    def test_unknown_host_goes_to_default_server(self):
        for host in ("nope.example", "127.0.0.1", "127.0.0.1:%d" % self.port,
                     "xa.example", "a.example.org"):
            with self.subTest(host=host):
                self.assertEqual(self.body_for(host), b"default d\n")

    def test_absolute_form_names_the_host(self):
        """RFC 9112 3.2.2: the target's authority, not Host."""
        r = get(self.port, "http://b.example/", [("Host", "a.example")])
        self.assertEqual((r.status, r.body), (200, b"site b\n"))
        r = get(self.port, "http://A.example:81", [("Host", "b.example")])
        self.assertEqual((r.status, r.body), (200, b"site a\n"))

    def test_status_page_of_one_server(self):
        r = host_get(self.port, "/tw-status", "a.example")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn(b"Active connections", r.body)
        self.assertEqual(host_get(self.port, "/tw-status", "b.example")
                         .status, 404)

    def test_no_host_http10(self):
        r = get(self.port, "/", version="HTTP/1.0", host=False)
        self.assertEqual((r.status, r.body), (200, b"default d\n"))

    def test_missing_host_http11_still_400(self):
        r = get(self.port, "/", host=False)
        self.assertEqual(r.status, 400, r.describe())

    def test_keepalive_connection_switches_host(self):
        """Each request of a connection picks its own server."""
        with harness.Conn(self.port) as c:
            for host, want in (("a.example", b"site a\n"),
                               ("b.example", b"site b\n"),
                               ("zzz", b"default d\n"),
                               ("a.example", b"site a\n")):
                r = c.request("GET", "/", [("Host", host)])
                self.assertEqual(r.body, want, host)


class TestListenAddresses(unittest.TestCase):
    """Servers on their own addresses: the default server is per address,
    and a name is only found among the servers of the connection's
    address."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        make_tree(cls.tmp, {d: {"index.html": ("site %s\n" % d).encode()}
                            for d in "abc"})
        cls.p1, cls.p2 = free_port(), free_port()
        while cls.p2 == cls.p1:
            cls.p2 = free_port()
        conf = os.path.join(cls.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write("server { listen 127.0.0.1:%d; server_name a.example; "
                    "root %s; }\n"
                    "server { listen 127.0.0.1:%d; "
                    "listen 127.0.0.1:%d default_server; "
                    "server_name b.example; root %s; }\n"
                    "server { listen 127.0.0.1:%d; server_name c.example; "
                    "root %s; }\n"
                    % (cls.p1, q(os.path.join(cls.tmp, "a")), cls.p1, cls.p2,
                       q(os.path.join(cls.tmp, "b")), cls.p2,
                       q(os.path.join(cls.tmp, "c"))))
        cls.server = ConfServer(conf, cls.p1)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def body(self, port, host):
        r = host_get(port, "/", host)
        check_common(self, r)
        self.assertEqual(r.status, 200, r.describe())
        return r.body

    def test_first_server_is_default_of_its_address(self):
        self.assertEqual(self.body(self.p1, "unknown"), b"site a\n")
        self.assertEqual(self.body(self.p1, "b.example"), b"site b\n")

    def test_default_server_marked(self):
        self.assertEqual(self.body(self.p2, "unknown"), b"site b\n")
        self.assertEqual(self.body(self.p2, "c.example"), b"site c\n")

    def test_name_of_another_address_is_not_found(self):
        self.assertEqual(self.body(self.p2, "a.example"), b"site b\n")
        self.assertEqual(self.body(self.p1, "c.example"), b"site a\n")


# ------------------------------------------------------------ locations

LOCATIONS = """
server {
    root ROOT;
    index index.html;
    add_header X-Level server;
    expires 60s;
    location /docs/ {
        index start.html index.html;
        listing off;
        add_header X-Level docs;
        add_header X-Docs yes;
    }
    location /docs/deep/ {
        root OTHER;
        expires off;
    }
    location = /docs/deep/exact.txt {
        return 200 "exact";
    }
    location /img/ {
        alias PICS/;
    }
    location /lib {
        alias PICS;
        listing off;
    }
    location = /old {
        return 301 "http://b.example/new?x=1";
    }
    location /gone {
        return 404 "gone away";
    }
    location /forbidden {
        return 403;
    }
    location /hid/ {
        hidden on;
    }
    location /api/ {
        proxy_pass http://127.0.0.1:1/;
    }
}
"""


class TestLocations(ServerCase):
    tree = {
        "f.txt": b"root f\n",
        ".dot": b"dot\n",
        "empty": {"e.txt": b"e\n"},
        "docs": {
            "index.html": b"docs index\n",
            "sub": {"start.html": b"docs start\n",
                    "index.html": b"not this\n"},
            "none": {"n.txt": b"n\n"},
            "deep": {"f.txt": b"in root, not served\n",
                     "exact.txt": b"file, not served\n"},
        },
        "hid": {".dot": b"hidden dot\n"},
        "img": {"p.txt": b"root img, not served\n"},
    }

    @classmethod
    def prepare(cls):
        cls.other = os.path.join(cls.tmp, "other")
        cls.pics = os.path.join(cls.tmp, "pics")
        os.makedirs(cls.other)
        os.makedirs(cls.pics)
        make_tree(cls.other, {"docs": {"deep": {"f.txt": b"other f\n"}}})
        make_tree(cls.pics, {"p.txt": b"pics p\n", "sub": {"s.txt": b"s\n"}})
        text = (LOCATIONS.replace("ROOT", q(cls.root))
                .replace("OTHER", q(cls.other)).replace("PICS/", q(cls.pics + "/"))
                .replace("PICS", q(cls.pics)))
        conf = os.path.join(cls.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write(text)
        cls.server_args = ("-c", conf)

    def get(self, target, headers=(), **kw):
        return super().get(target, headers or [("Host", "x.example")], **kw)

    def test_server_level(self):
        r = self.get("/f.txt")
        self.assertEqual((r.status, r.body), (200, b"root f\n"))
        self.assertEqual(r.header("X-Level"), "server")
        self.assertEqual(r.header("Cache-Control"), "max-age=60")
        # listing is on by default where no location turns it off
        r = self.get("/empty/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"e.txt", r.body)

    def test_prefix_location_and_index_list(self):
        r = self.get("/docs/")
        self.assertEqual((r.status, r.body), (200, b"docs index\n"))
        # the first index name that exists
        r = self.get("/docs/sub/")
        self.assertEqual((r.status, r.body), (200, b"docs start\n"))
        # no index and listing off there
        self.assertEqual(self.get("/docs/none/").status, 403)

    def test_add_header_replaces_inherited(self):
        r = self.get("/docs/")
        self.assertEqual(r.header_all("X-Level"), ["docs"])
        self.assertEqual(r.header("X-Docs"), "yes")
        # expires inherited from the server
        r = self.get("/docs/sub/start.html")
        self.assertEqual(r.header("Cache-Control"), "max-age=60")

    def test_longest_prefix_wins(self):
        r = self.get("/docs/deep/f.txt")
        self.assertEqual((r.status, r.body), (200, b"other f\n"))
        # its own expires off; add_header from the server, not /docs/
        self.assertIsNone(r.header("Cache-Control"))
        self.assertEqual(r.header_all("X-Level"), ["server"])

    def test_exact_beats_prefix(self):
        r = self.get("/docs/deep/exact.txt")
        self.assertEqual((r.status, r.body), (200, b"exact"))
        # only that path
        r = self.get("/docs/deep/exact.txt/")
        self.assertEqual(r.status, 404)

    def test_alias_replaces_prefix(self):
        r = self.get("/img/p.txt")
        self.assertEqual((r.status, r.body), (200, b"pics p\n"))
        r = self.get("/img/sub/s.txt")
        self.assertEqual((r.status, r.body), (200, b"s\n"))
        r = self.get("/img/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"p.txt", r.body)
        # a directory without its slash: the URL the client asked for
        r = self.get("/img/sub")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "/img/sub/")

    def test_alias_without_slash(self):
        r = self.get("/lib/p.txt")
        self.assertEqual((r.status, r.body), (200, b"pics p\n"))
        # "/libx" is not under location /lib's alias
        self.assertEqual(self.get("/libx").status, 404)
        self.assertEqual(self.get("/lib/").status, 403)

    def test_location_of_normalized_path(self):
        """Dot segments and escapes are resolved before the location is
        chosen, as the file handler resolves them."""
        r = self.get("/docs/../img/p.txt")
        self.assertEqual((r.status, r.body), (200, b"pics p\n"))
        r = self.get("/%69mg/p.txt")
        self.assertEqual((r.status, r.body), (200, b"pics p\n"))
        r = self.get("/img/../f.txt")
        self.assertEqual((r.status, r.body), (200, b"root f\n"))
        # above the root, as anywhere: 400
        self.assertEqual(self.get("/img/%2e%2e/%2e%2e/etc/passwd").status,
                         400)
        self.assertEqual(self.get("/img/%zz").status, 400)

    def test_alias_cannot_leave_its_directory(self):
        for t in ("/img/../../outside/secret.txt", "/img/..%2f..%2fsecret"):
            r = self.get(t)
            self.assertNotIn(harness.SECRET, r.body, t)

    def test_return_redirect(self):
        r = self.get("/old")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "http://b.example/new?x=1")
        self.assertEqual(r.header("X-Level"), "server")
        # exact: /old/x is not it
        self.assertEqual(self.get("/old/x").status, 404)

    def test_return_text(self):
        r = self.get("/gone")
        self.assertEqual((r.status, r.body), (404, b"gone away"))
        self.assertEqual(r.header("Content-Type"),
                         "text/plain; charset=utf-8")
        r = self.get("/gone/deeper?q")
        self.assertEqual((r.status, r.body), (404, b"gone away"))

    def test_return_code_only(self):
        r = self.get("/forbidden")
        self.assertEqual(r.status, 403)
        self.assertIn(b"403 Forbidden", r.body)

    def test_head_of_return(self):
        r = harness.head(self.port, "/gone", [("Host", "x")])
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Length"), "9")
        self.assertEqual(r.body, b"")

    def test_hidden_per_location(self):
        self.assertEqual(self.get("/.dot").status, 404)
        r = self.get("/hid/.dot")
        self.assertEqual((r.status, r.body), (200, b"hidden dot\n"))

    def test_proxy_pass_location_answers_502(self):
        """Nothing listens on port 1: the proxy answers 502 (connection
        refused), never the files of the server's root."""
        r = self.get("/api/x")
        self.assertEqual(r.status, 502)
        self.assertNotIn(b"root f", r.body)


# ------------------------------------------------------------ instances

def root_fds(pid, root):
    """Descriptors of pid's process tree open on the directory root: the
    file handler holds one per instance and event loop."""
    n = 0
    for p in harness.process_tree(pid):
        try:
            names = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in names:
            try:
                if os.readlink("/proc/%d/fd/%s" % (p, fd)) == root:
                    n += 1
            except OSError:
                pass
    return n


class TestSharedInstances(unittest.TestCase):
    """Locations that differ from their server only in add_header (or
    return, ...) share its file handler: forty of them hold no more
    descriptors than one."""

    def test_forty_locations_one_file_handler(self):
        tmp = unique_tmpdir()
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        root = os.path.join(tmp, "root")
        make_tree(tmp, {"root": {"l0": {"f": b"f\n"}, "l39": {"f": b"f\n"}}})
        confs = {}
        for name, n in (("one", 1), ("many", 40)):
            confs[name] = os.path.join(tmp, name + ".conf")
            with open(confs[name], "w") as f:
                f.write("server {\n%s}\n" % "".join(
                    "location /l%d/ { add_header X-N %d; }\n" % (i, i)
                    for i in range(n)))
        one = Server(root, "-c", confs["one"])
        self.addCleanup(one.stop)
        many = Server(root, "-c", confs["many"])
        self.addCleanup(many.stop)
        for srv, last in ((one, 0), (many, 39)):
            r = get(srv.port, "/l%d/f" % last)
            self.assertEqual((r.status, r.header("X-N")), (200, str(last)))
        # Once a loop has answered, its handlers are all made: forty
        # instances of their own would hold forty more descriptors.
        same = wait_until(lambda: root_fds(many.pid, root) ==
                          root_fds(one.pid, root), 5)
        self.assertTrue(same, "%d descriptors on the root with 40 "
                        "locations, %d with 1" % (root_fds(many.pid, root),
                                                  root_fds(one.pid, root)))


# ------------------------------------------------------------ bad configs

class TestBadBlocks(unittest.TestCase):
    def setUp(self):
        self.dir = unique_tmpdir("tinyweb-conf-")
        self.addCleanup(harness.shutil.rmtree, self.dir, True)

    def test_rows(self):
        check_bad_lines(self, self.dir, [
            ("server { location /a { bogus on; } }",
             r"unknown directive 'bogus' in a location block"),
            ("location /a { root /tmp; }",
             r"'location' is allowed only in a server block"),
            ("alias /tmp;", r"'alias' is allowed only in a location block"),
            ("server { server_name a.example; } "
             "server { server_name A.example; }",
             r"server_name 'a.example' is already in the server of .*"),
            ("server { location /a { return 600; } }",
             r"return '600': expected 200 to 599 .*"),
            ("server { location /a { return 304; } }",
             r"return '304': .*"),
            ("server { location /a { return 301; } }",
             r"return 301 needs a URL.*"),
            ("server { location /a { proxy_pass nowhere; } }",
             r"proxy_pass: no upstream named 'nowhere'"),
            ("server { location /a { proxy_pass https://h/; } }",
             r"proxy_pass 'https://h/': only http:// .*"),
            ("upstream u { server no-such-host.invalid:80; }",
             r"cannot resolve 'no-such-host.invalid': .*"),
            ("server { location /a { proxy_pass http://no-such-host.invalid"
             ":81/; } }", r"cannot resolve 'no-such-host.invalid': .*"),
            ("upstream u { server 127.0.0.1:80 weight=x; }",
             r"server: 'weight=x' is not .*"),
            ("upstream u { balance random; server 127.0.0.1:80; }",
             r"balance: expected .*"),
            ("upstream u { }", r"upstream 'u' has no server line"),
            ("server { location a { } }",
             r"location 'a': a path starting with '/' is needed"),
            ("server { location /a { } location /a { } }",
             r"duplicate location /a"),
            ("server { location /a { root /x; alias /y; } }",
             r"'root' and 'alias' exclude each other in a location"),
            ("server { location /a { location /b { } } }",
             r"location blocks do not nest"),
            ("server { listen 127.0.0.1:1 default_server; } "
             "server { listen 127.0.0.1:1 default_server; }",
             r"a second default_server for 127.0.0.1:1"),
            ("server { workers 2; }",
             r"'workers' is allowed only at the top level, not in a server "
             r"block"),
        ])

    def test_error_names_the_line_of_the_block(self):
        path = os.path.join(self.dir, "t.conf")
        with open(path, "w") as f:
            f.write("server {\n  root /tmp;\n  location /a {\n"
                    "    index a;\n    nope 1;\n  }\n}\n")
        r = run([BIN, "check-config", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "tinyweb: %s:5: unknown directive 'nope' "
                         "in a location block\n" % path)


# ------------------------------------------------------------ reload

class TestReload(unittest.TestCase):
    """HUP with a changed server list. In epoll mode a reload is a new
    process on the same sockets: the pidfile names the live one."""

    def test_hup_takes_new_server_list(self):
        tmp = unique_tmpdir()
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        make_tree(tmp, {"a": {"index.html": b"site a\n"},
                        "b": {"index.html": b"site b\n"}})
        conf = os.path.join(tmp, "t.conf")
        pidfile = os.path.join(tmp, "tw.pid")
        one = "server { server_name a.example; root %s; }\n" % q(
            os.path.join(tmp, "a"))
        with open(conf, "w") as f:
            f.write(one)
        srv = Server(tmp, "-c", conf, "--pidfile", pidfile)
        self.addCleanup(self.stop, srv, pidfile)
        body = lambda host: host_get(srv.port, "/", host).body
        self.assertEqual(body("b.example"), b"site a\n")
        with open(conf + ".new", "w") as f:
            f.write("server { server_name b.example; root %s; }\n"
                    % q(os.path.join(tmp, "b")) + one)
        os.rename(conf + ".new", conf)
        os.kill(harness.read_pid(pidfile), signal.SIGHUP)
        got = wait_until(lambda: body("b.example") == b"site b\n",
                         timeout=10)
        self.assertTrue(got, srv.stderr_text())
        # the new first server is the default now
        self.assertEqual(body("zzz"), b"site b\n")
        self.assertEqual(body("a.example"), b"site a\n")
        # a broken list is refused, and the running one goes on
        wait_until(lambda: not os.path.exists(pidfile + ".oldbin"), 5)
        with open(conf, "a") as f:
            f.write("server { location /x { bogus; } }\n")
        pid = harness.read_pid(pidfile)
        os.kill(pid, signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "unknown directive 'bogus'" in
                                   srv.stderr_text() + self.elog(tmp), 5),
                        srv.stderr_text())
        self.assertTrue(harness.alive(pid))
        self.assertEqual(body("b.example"), b"site b\n")

    @staticmethod
    def elog(tmp):
        return ""

    @staticmethod
    def stop(srv, pidfile):
        pid = harness.read_pid(pidfile)
        if pid is not None and harness.alive(pid):
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not harness.alive(pid), 5)
        if srv.alive():
            srv.proc.terminate()
        srv.proc.wait(5)
        harness._live.discard(srv)


# ------------------------------------------------------------ check-config

ROUND_TRIP = """
upstream backend {
    server 127.0.0.1:8081 weight=3 max_fails=2 fail_timeout=30s;
    server localhost:8082 backup;
    balance hash $request_uri consistent;
    keepalive 8;
    health_check uri=/health interval=2s;
}
server {
    listen 127.0.0.1:8080 default_server;
    server_name a.example "*.a.example";
    root /srv/a;
    index index.html index.htm;
    add_header X-Site "a; b";
    location = /old { return 301 "http://b.example/"; }
    location /img/ { alias /srv/img/; expires 1h; listing off; }
    location /api/ { proxy_pass http://backend/v1/; }
    location /direct/ { proxy_pass http://127.0.0.1:9000; }
    location /gone { return 410 "gone \\"for good\\""; }
}
server { server_name b.example; hidden on; }
"""


class TestCheckConfig(unittest.TestCase):
    def test_prints_blocks_that_read_back_the_same(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.conf")
            with open(path, "w") as f:
                f.write(ROUND_TRIP)
            r1 = run([BIN, "check-config", "-c", path], cwd=d)
            self.assertEqual(r1.returncode, 0, r1.stderr)
            self.assertEqual(r1.stderr, "")
            for want in ("upstream backend {",
                         "server 127.0.0.1:8081 weight=3 max_fails=2 "
                         "fail_timeout=30000ms;",
                         "server localhost:8082 weight=1 max_fails=1 "
                         "fail_timeout=10000ms backup;",
                         'balance hash "$request_uri" consistent;',
                         "keepalive 8;", "server {",
                         "listen 127.0.0.1:8080 default_server;",
                         "server_name *.a.example;",
                         'location = "/old" {', 'return 301 "http://b.example/";',
                         'alias "/srv/img/";',
                         'proxy_pass "http://backend/v1/";',
                         'proxy_pass "http://127.0.0.1:9000";',
                         'return 410 "gone \\"for good\\"";',
                         "hidden on;"):
                self.assertIn(want, r1.stdout)
            path2 = os.path.join(d, "out.conf")
            with open(path2, "w") as f:
                f.write(r1.stdout)
            r2 = run([BIN, "check-config", "-c", path2], cwd=d)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            self.assertEqual(r2.stdout, r1.stdout)

    def test_file_without_servers_prints_none(self):
        with tempfile.TemporaryDirectory() as d:
            r = run([BIN, "check-config"], cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("server {", r.stdout)
            # (proxy_next_upstream is a directive of its own)
            self.assertNotRegex(r.stdout, r"(?m)^upstream ")


if __name__ == "__main__":
    unittest.main()
