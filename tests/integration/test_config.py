# SPDX-License-Identifier: MIT
"""The config file at work: start the real server with -c FILE and check
over HTTP that each directive takes effect, that a flag wins over the
file, and that a bad file stops the server before it binds.

check-config's read-back and its one-line errors are in test_docs.py;
here every file is served by `tinyweb serve`.
"""

import email.utils
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import (Conn, Server, ServerCase, Symlink, build,
                     free_port, get, make_tree, process_tree, raw,
                     read_lines, sets_mode, tinyweb_cmd, unique_tmpdir,
                     wait_until)


def qstr(s):
    """s as a quoted config string."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


class ArgsServer(Server):
    """A Server started with exactly `tinyweb ARGS` (+ the mode
    arguments): no DIR, -p, -b or -q of the harness, so the file's root,
    listen and quiet apply."""

    def __init__(self, args, startup_timeout=10.0):
        # Server.__init__ adds "serve ROOT -p 0 -b ..."; this starts the
        # same way with our own command and keeps the rest of Server.
        self.root = None
        self.cmd = tinyweb_cmd(*args)
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
        deadline = time.monotonic() + startup_timeout
        while not self._started.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait()
                self._reader.join(1)
                harness._live.discard(self)
                raise AssertionError("tinyweb did not start: %s\n%s" % (
                    " ".join(self.cmd), self.stderr_text()))


class ConfCase(ServerCase):
    """ServerCase whose server reads TMP/t.conf, made by conf() from the
    class's paths. The harness names the root on the command line, so
    `root` in these files would be overridden: TestRootAndListen checks
    root on its own."""

    extra_args = ()

    @classmethod
    def conf(cls):
        return ""

    @classmethod
    def prepare(cls):
        cls.conf_path = write(os.path.join(cls.tmp, "t.conf"), cls.conf())
        cls.server_args = ("-c", cls.conf_path) + tuple(cls.extra_args)


# ------------------------------------------------------------ directives

UTF8 = "caf\u00e9 text\n".encode()
GZ_PLAIN = b"plain-" * 50


class TestDirectives(ConfCase):
    tree = {
        "home.htm": b"HOME-PAGE",
        "index.html": b"NOT-THE-INDEX",
        "sub": {"x.txt": b"x"},
        ".hidden.txt": b"HIDDEN-FILE",
        "a.txt": UTF8,
        "link.txt": Symlink("a.txt"),
        "g.txt": GZ_PLAIN,
        "g.txt.gz": gzip.compress(GZ_PLAIN),
        "f.foo": b"foo",
        "f.bar": b"bar",
        "f.qq": b"qq",
        "f.zz": b"zz",
    }

    @classmethod
    def conf(cls):
        cls.acc = os.path.join(cls.tmp, "access.json")
        cls.err = os.path.join(cls.tmp, "error.log")
        cls.pid = os.path.join(cls.tmp, "t.pid")
        mime = write(os.path.join(cls.tmp, "my.types"),
                     "# mine\ntext/x-bar bar\n")
        os.mkdir(os.path.join(cls.tmp, "conf.d"))
        write(os.path.join(cls.tmp, "conf.d", "extra.conf"),
              "add_header X-Included yes;\ntypes { text/x-qq qq; }\n")
        # an include inside a block gives that block its lines
        write(os.path.join(cls.tmp, "conf.d", "zz.types"), "text/x-zz zz;\n")
        return "\n".join([
            "# every directive away from its default",
            "index home.htm;",
            "listing off;",
            "hidden on;",
            "symlinks never;",
            "charset off;",
            "gzip_static off;",
            "compress off;",
            "add_header X-One 1;",
            'add_header X-Two "two words";',
            "expires 1h;",
            "types { text/x-foo foo; }",
            "types {",
            "    include conf.d/zz.types;",
            "}",
            "mime_types %s;" % qstr(mime),
            "access_log %s json;" % qstr(cls.acc),
            "error_log %s info;" % qstr(cls.err),
            "keepalive_timeout 1;",
            "header_timeout 1;",
            "max_keepalive_requests 2;",
            "max_request_body 10;",
            "pidfile %s;" % qstr(cls.pid),
            "include conf.d/*.conf;",  # relative to t.conf's directory
            ""])

    def test_index(self):
        r = self.get("/")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"HOME-PAGE")

    def test_listing_off(self):
        self.assertStatus(self.get("/sub/"), 403)
        self.assertStatus(self.get("/sub/x.txt"), 200)

    def test_hidden_on(self):
        r = self.get("/.hidden.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"HIDDEN-FILE")

    def test_symlinks_never(self):
        r = self.get("/link.txt")
        # A symlink the policy refuses is not found, like a file that
        # leaves the root (DESIGN.md, paths and names).
        self.assertStatus(r, 404)
        self.assertNotIn(UTF8, r.body)
        self.assertStatus(self.get("/a.txt"), 200)

    def test_charset_off(self):
        r = self.get("/a.txt")
        self.assertEqual(r.header("Content-Type"), "text/plain")

    def test_gzip_static_off(self):
        r = self.get("/g.txt", {"Accept-Encoding": "gzip"})
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("Content-Encoding"), r.describe())
        self.assertEqual(r.body, GZ_PLAIN)

    def test_add_header_on_200_and_404(self):
        for target, status in (("/a.txt", 200), ("/nope", 404)):
            r = self.get(target)
            self.assertStatus(r, status)
            self.assertEqual(r.header_all("X-One"), ["1"], r.describe())
            self.assertEqual(r.header_all("X-Two"), ["two words"])

    def test_include_takes_effect(self):
        r = self.get("/a.txt")
        self.assertEqual(r.header("X-Included"), "yes", r.describe())
        self.assertEqual(self.get("/f.qq").header("Content-Type"),
                         "text/x-qq")

    def test_expires(self):
        r = self.get("/a.txt")
        self.assertEqual(r.header("Cache-Control"), "max-age=3600")
        exp = r.header("Expires")
        self.assertIsNotNone(exp, r.describe())
        when = email.utils.parsedate_to_datetime(exp).timestamp()
        self.assertLess(abs(when - (time.time() + 3600)), 60, exp)

    def test_types_and_mime_types(self):
        self.assertEqual(self.get("/f.foo").header("Content-Type"),
                         "text/x-foo")
        self.assertEqual(self.get("/f.bar").header("Content-Type"),
                         "text/x-bar")
        self.assertEqual(self.get("/f.zz").header("Content-Type"),
                         "text/x-zz")

    def test_access_log_json(self):
        ua = "tw-test/1 \"quoted\""
        r = self.get("/a.txt?probe=json", {"User-Agent": ua,
                                           "Referer": "http://r.example/"})
        self.assertStatus(r, 200)

        def line():
            for l in read_lines(self.acc, text=True):
                if "probe=json" in l:
                    return l
            return None
        text = wait_until(line)
        self.assertIsNotNone(text, "no log line in %s: %r"
                             % (self.acc, read_lines(self.acc, text=True)))
        rec = json.loads(text)
        self.assertEqual(set(rec), {"time", "remote", "method", "uri",
                                    "protocol", "status", "bytes",
                                    "request_time_us", "referer",
                                    "user_agent"})
        self.assertEqual(rec["remote"], "127.0.0.1")
        self.assertEqual(rec["method"], "GET")
        self.assertEqual(rec["uri"], "/a.txt?probe=json")
        self.assertEqual(rec["protocol"], "HTTP/1.1")
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["bytes"], len(UTF8))
        self.assertIsInstance(rec["request_time_us"], int)
        self.assertGreaterEqual(rec["request_time_us"], 0)
        self.assertLess(rec["request_time_us"], 10_000_000)
        self.assertEqual(rec["referer"], "http://r.example/")
        self.assertEqual(rec["user_agent"], ua)
        self.assertTrue(rec["time"])

    def test_error_log_opened(self):
        self.assertTrue(os.path.isfile(self.err), self.err)

    def test_pidfile(self):
        with open(self.pid) as f:
            self.assertEqual(f.read().strip(), str(self.server.pid))

    def test_keepalive_timeout(self):
        with Conn(self.port) as c:
            r = c.request("GET", "/a.txt")
            self.assertFalse(r.closes(), r.describe())
            t0 = time.monotonic()
            self.assertTrue(c.at_eof(3.0), "idle connection still open "
                            "3 s after keepalive_timeout 1")
            self.assertGreater(time.monotonic() - t0, 0.5)

    def test_header_timeout(self):
        with Conn(self.port) as c:
            c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n")
            t0 = time.monotonic()
            deadline = t0 + 3.0
            while not c.eof and time.monotonic() < deadline:
                c._recv(deadline)
            self.assertTrue(c.eof, "unfinished headers still waited on "
                            "3 s after header_timeout 1")
            self.assertGreater(time.monotonic() - t0, 0.5)
            if c.buf:
                self.assertRegex(c.buf, rb"^HTTP/1\.1 408 ")

    def test_max_keepalive_requests(self):
        with Conn(self.port) as c:
            r1 = c.request("GET", "/a.txt")
            self.assertFalse(r1.closes(), r1.describe())
            r2 = c.request("GET", "/a.txt")
            self.assertStatus(r2, 200)
            self.assertTrue(r2.closes(), r2.describe())
            self.assertTrue(c.at_eof(2.0))

    def test_max_request_body(self):
        r = self.req("GET", "/a.txt", {"Content-Length": "11"},
                     body=b"x" * 11)
        self.assertStatus(r, 413)
        r = self.req("GET", "/a.txt", {"Content-Length": "10"},
                     body=b"x" * 10)
        self.assertStatus(r, 200)


class TestErrorLogGetsReloadFailure(ConfCase):
    """error_log FILE: a reload with a broken file is reported there."""

    tree = {"a.txt": b"a"}

    @classmethod
    def conf(cls):
        cls.err = os.path.join(cls.tmp, "error.log")
        return "error_log %s info;\n" % qstr(cls.err)

    def test_reload_failure_logged(self):
        # A request first: the server handles signals once its loop
        # runs, which is after it prints the startup line.
        self.assertStatus(self.get("/a.txt"), 200)
        write(self.conf_path, "error_log %s info;\n\nbogus on;\n"
              % qstr(self.err))
        self.server.send_signal(signal.SIGHUP)
        text = wait_until(lambda: "reload failed" in
                        "\n".join(read_lines(self.err, text=True)), 5.0)
        self.assertTrue(text, "error log: %r\nstderr: %s" % (
            read_lines(self.err, text=True), self.server.stderr_text()))
        # the parse error itself, naming the file and line, is in the
        # error log too (a daemon's stderr is /dev/null)
        self.assertIn("t.conf:3: unknown directive 'bogus'",
                      "\n".join(read_lines(self.err, text=True)))
        self.assertStatus(self.get("/a.txt"), 200)


class TestMaxConnections(ConfCase):
    tree = {"a.txt": b"a"}

    @classmethod
    def conf(cls):
        return "max_connections 1;\n"

    def test_second_connection_refused(self):
        with Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/a.txt"), 200)
            # Busy with part of a head (an idle one would be shed for the
            # new one); the second round trip ends c's first run first.
            self.assertStatus(c.request("GET", "/a.txt"), 200)
            c.send(b"GET /a.txt HTTP/1.1\r\n")
            data = raw(self.port, build("GET", "/a.txt"), timeout=3.0)
            self.assertRegex(data, rb"^HTTP/1\.1 503 ")
        # once the first one is gone, there is room again
        ok = wait_until(lambda: raw(self.port, build("GET", "/a.txt"), 2.0)
                      .startswith(b"HTTP/1.1 200 "), 3.0)
        self.assertTrue(ok)


@unittest.skipIf(sets_mode(), "TINYWEB_MODE_ARGS overrides mode/workers")
class TestPrefork(ConfCase):
    tree = {"a.txt": b"a"}

    @classmethod
    def conf(cls):
        return "mode prefork;\nworkers 2;\n"

    def test_startup_and_workers(self):
        self.assertRegex(self.server.startup_line,
                         r"\(prefork, 2 workers\)$")
        n = wait_until(lambda: len(process_tree(self.server.pid)) == 3, 3.0)
        self.assertTrue(n, process_tree(self.server.pid))
        self.assertStatus(self.get("/a.txt"), 200)


@unittest.skipUnless(os.geteuid() == 0, "needs root to switch user")
class TestUser(ConfCase):
    tree = {"a.txt": b"a"}

    @classmethod
    def conf(cls):
        for d in (cls.tmp, cls.root):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(cls.root, "a.txt"), 0o644)
        return "user nobody;\n"

    def test_runs_as_nobody(self):
        """What serves clients runs as nobody (real and effective); one
        process that never does stays root (issue 16): prefork's
        master, or the epoll/threads server's one child, its keeper."""
        import pwd
        uid = pwd.getpwnam("nobody").pw_uid
        self.assertStatus(self.get("/a.txt"), 200)

        def uids():
            out = []
            for p in process_tree(self.server.pid):
                try:
                    with open("/proc/%d/status" % p) as f:
                        m = re.search(r"(?m)^Uid:\s+(\d+)\s+(\d+)",
                                      f.read())
                except OSError:
                    continue
                out.append((int(m.group(1)), int(m.group(2))))
            return out
        if "prefork" in harness.MODE_ARGS:
            want = lambda got: [(0, 0)] + [(uid, uid)] * (len(got) - 1)
        else:
            want = lambda got: [(uid, uid), (0, 0)]
        wait_until(lambda: uids() == want(uids()), 5)
        got = uids()
        self.assertEqual(got, want(got))
        self.assertGreater(len(got), 1)


# ------------------------------------------------------- root and listen

class TestRootAndListen(unittest.TestCase):
    """No DIR and no -p/-b: the file's root and listen lines apply."""

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "www")
        os.makedirs(self.root)
        make_tree(self.root, {"only-here.txt": b"FILE-ROOT"})

    def test_root_and_listen(self):
        port = free_port()
        conf = write(os.path.join(self.tmp, "t.conf"),
                     "listen 127.0.0.1:%d;\nroot %s;\naccess_log off;\n"
                     % (port, qstr(self.root)))
        srv = ArgsServer(["serve", "-c", conf])
        with srv:
            self.assertIn("127.0.0.1:%d" % port, srv.startup_line)
            self.assertIn(self.root, srv.startup_line)
            r = get(port, "/only-here.txt")
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.body, b"FILE-ROOT")

    def test_relative_include_and_root(self):
        # include is relative to the file, from any working directory
        port = free_port()
        os.mkdir(os.path.join(self.tmp, "etc"))
        write(os.path.join(self.tmp, "etc", "listen.conf"),
              "listen 127.0.0.1:%d;\n" % port)
        conf = write(os.path.join(self.tmp, "etc", "t.conf"),
                     "include listen.conf;\nroot %s;\n" % qstr(self.root))
        srv = ArgsServer(["serve", "-c", conf, "-q"])
        with srv:
            self.assertIn(":%d/" % port, srv.startup_line)
            self.assertEqual(get(port, "/only-here.txt").body, b"FILE-ROOT")


# ----------------------------------------------------- flags over the file

class TestFlagsWin(ConfCase):
    """The file sets index, listing, root and an access log; the flags
    --index, --listing, DIR and -q (from the harness) win. Also the
    defaults the other classes change, as their control."""

    tree = {
        "a.html": b"FILE-INDEX",
        "b.html": b"FLAG-INDEX",
        "sub": {"x.txt": b"x"},
        "dir-only.txt": b"DIR",
        ".hidden.txt": b"HIDDEN-FILE",
        "t.txt": UTF8,
        "link.txt": Symlink("t.txt"),
        "g.txt": GZ_PLAIN,
        "g.txt.gz": gzip.compress(GZ_PLAIN),
    }
    extra_args = ("--index", "b.html", "--listing")

    @classmethod
    def conf(cls):
        cls.xroot = os.path.join(cls.tmp, "xroot")
        os.makedirs(cls.xroot)
        make_tree(cls.xroot, {"x-only.txt": b"X"})
        cls.acc = os.path.join(cls.tmp, "access.log")
        return ("root %s;\nindex a.html;\nlisting off;\n"
                "access_log %s common;\n" % (qstr(cls.xroot), qstr(cls.acc)))

    def test_index_flag_wins(self):
        self.assertEqual(self.get("/").body, b"FLAG-INDEX")

    def test_listing_flag_wins(self):
        r = self.get("/sub/")
        self.assertStatus(r, 200)
        self.assertIn(b"x.txt", r.body)

    def test_dir_wins_over_root(self):
        self.assertStatus(self.get("/dir-only.txt"), 200)
        self.assertStatus(self.get("/x-only.txt"), 404)

    def test_quiet_keeps_the_file_log(self):
        self.assertStatus(self.get("/dir-only.txt?probe=common"), 200)

        def line():
            return [l for l in read_lines(self.acc, text=True) if "probe=common" in l]
        lines = wait_until(line)
        self.assertEqual(len(lines), 1, read_lines(self.acc, text=True))
        self.assertRegex(lines[0], r'^127\.0\.0\.1 - - \[[^]]+\] '
                         r'"GET /dir-only\.txt\?probe=common HTTP/1\.1" '
                         r'200 3$')

    def test_defaults_where_the_file_is_silent(self):
        self.assertStatus(self.get("/.hidden.txt"), 404)
        self.assertEqual(self.get("/link.txt").body, UTF8)
        r = self.get("/t.txt")
        self.assertEqual(r.header("Content-Type"),
                         "text/plain; charset=utf-8")
        self.assertIsNone(r.header("Expires"))
        r = self.get("/g.txt", {"Accept-Encoding": "gzip"})
        self.assertEqual(r.header("Content-Encoding"), "gzip")


# ------------------------------------------------------------- bad files

class TestBadConfigStopsStartup(unittest.TestCase):
    """A bad file: exit 1, one line `tinyweb: FILE:LINE: ...` on stderr,
    and no socket ever bound, although the file's listen line came
    first."""

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_bad(self, text, files=None):
        port = free_port()
        for name, body in (files or {}).items():
            p = os.path.join(self.tmp, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            write(p, body.replace("TMP", self.tmp))
        conf = write(os.path.join(self.tmp, "t.conf"),
                     ("listen 127.0.0.1:%d;\nroot %s;\n" % (port,
                      qstr(self.tmp))) + text.replace("TMP", self.tmp))
        p = subprocess.run(tinyweb_cmd("serve", "-c", conf),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=10)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), 1).close()
        return p, conf

    def check(self, p, where, line, what):
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("tinyweb: %s:%d: " % (where,
                                                                   line)),
                        lines[0])
        self.assertIn(what, lines[0])

    def test_rows(self):
        rows = [
            # text after the listen and root lines (lines 1-2), other
            # files, where the error is, line, what it says
            ("\nbogus on;\n", {}, "t.conf", 4, "unknown directive 'bogus'"),
            ("keepalive_timeout 0;\n", {}, "t.conf", 3, "not a duration"),
            ("listen 127.0.0.1:99999;\n", {}, "t.conf", 3, "listen"),
            ("add_header X-A b c;\n", {}, "t.conf", 3, "takes 2 arguments"),
            ("include inc/a.conf;\n", {"inc/a.conf": "\nlisting maybe;\n"},
             "inc/a.conf", 2, "on or off"),
            ("include inc/loop.conf;\n", {"inc/loop.conf": "include "
                                          "loop.conf;\n"},
             "inc/loop.conf", 1, "include loop"),
            ("include none.conf;\n", {}, "t.conf", 3, "No such file"),
            ("mime_types TMP/m.types;\n", {"m.types": "a/b c\nbad\n"},
             "m.types", 2, "malformed mime.types line"),
            ("index 'x;\n", {}, "t.conf", 3, "unterminated quoted string"),
            # an unclosed block is reported where it opens
            ("types { text/x a;\n", {}, "t.conf", 3,
             "block 'types' is not closed: no '}' before the end of the "
             "file (line 4)"),
            ("server {\n  location / {\n  }\n\n", {}, "t.conf", 3,
             "block 'server' is not closed: no '}' before the end of the "
             "file (line 7)"),
            ("include inc/open.conf;\n", {"inc/open.conf": "\ntypes {\n"},
             "inc/open.conf", 2, "block 'types' is not closed"),
            # a directive a block does not take, a stray '}'
            ("\nserver {\n  listen 80;\n  workers 2;\n}\n", {}, "t.conf", 6,
             "'workers' is allowed only at the top level, not in a server "
             "block"),
            ("index a {\n}\n", {}, "t.conf", 3, "block not allowed here"),
            ("index a;\n}\n", {}, "t.conf", 4, "unexpected '}'"),
            # include works inside a block, its lines named by its file
            ("types {\n  include inc/t.conf;\n}\n",
             {"inc/t.conf": "text/x a;\nnotatype b;\n"}, "inc/t.conf", 2,
             "'notatype' is not a type/subtype"),
        ]
        for text, files, where, line, what in rows:
            with self.subTest(conf=text):
                p, conf = self.run_bad(text, files)
                self.check(p, os.path.join(self.tmp, where), line, what)


if __name__ == "__main__":
    unittest.main()
