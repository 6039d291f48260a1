#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Access control against the real binary, in every run mode.

auth_basic with a user file made by Apache's htpasswd (bcrypt $2y$,
SHA-512 $6$ and SHA-256 $5$ crypt): 401 with the challenge without
credentials, with a wrong password or an unknown user, 200 with good
ones; a malformed Basic field is 400 (RFC 9110 15.5.1: the field is
malformed), another scheme 401 (the challenge names the one we take).
Passwords are checked off the event loop: a second client is answered
while a costly bcrypt check is in flight. Credentials that passed are
remembered per loop (the status page counts them). Failed attempts
count per client address in shared memory: past the limit, 429 with
Retry-After, the same across prefork workers. allow/deny: first match
wins, 403, IPv4, IPv6 and IPv4-mapped clients. Locations have their
own auth (auth_basic off inside a protected one). A bad user file line
is an error naming FILE:LINE with exit status 1; a HUP takes a changed
user file and keeps the running configuration when the new one is bad.

Each class starts its servers in epoll, prefork -w 2 and threads -w 2
itself (the modes are what is tested), so the file runs once.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

import harness
import test_scopes
from harness import (BIN, Conn, Server, get, run, start, unique_tmpdir,
                     wait_until, make_tree, check_common)

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}

HTPASSWD = shutil.which("htpasswd")
LIMIT = 10          # TW_AUTH_FAIL_LIMIT
CHALLENGE = 'Basic realm="tinyweb", charset="UTF-8"'


def basic(user, password):
    tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return ("Authorization", "Basic " + tok)


def htpasswd(path, user, password, *flags):
    """Add user to path with htpasswd (-c when the file is new)."""
    args = [HTPASSWD, "-b"] + list(flags)
    if not os.path.exists(path):
        args.append("-c")
    r = subprocess.run(args + [path, user, password], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("htpasswd: " + r.stderr)


def q(path):
    return '"%s"' % path.replace("\\", "\\\\").replace('"', '\\"')


@unittest.skipIf(HTPASSWD is None, "needs htpasswd (apache2-utils; "
                 "scripts/deps.sh installs it)")
class AuthCase(unittest.TestCase):
    """A fresh directory with a site and a user file per test."""

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        make_tree(self.root, {"index.html": b"home\n",
                              "private": {"index.html": b"private\n",
                                          "pub": {"index.html": b"pub\n"}},
                              "open": {"index.html": b"open\n"},
                              "v4": {"index.html": b"v4\n"},
                              "v6": {"index.html": b"v6\n"},
                              "net": {"index.html": b"net\n"},
                              "not-local": {"index.html": b"nl\n"}})
        self.users = os.path.join(self.tmp, "users")
        htpasswd(self.users, "alice", "wonder land", "-B")
        htpasswd(self.users, "bob", "b\u00e9b\u00e9", "-5")
        htpasswd(self.users, "dave", "sha:256", "-2")

    def serve(self, mode, *args):
        srv = start(self.root, *(list(args) + MODES[mode]), modes=False)
        self.addCleanup(srv.stop)
        return srv


class InEveryMode:
    """A mixin: a test a mode, each running the class's check_mode."""

    def test_epoll(self):
        self.check_mode("epoll")

    def test_prefork(self):
        self.check_mode("prefork")

    def test_threads(self):
        self.check_mode("threads")


class TestBasic(InEveryMode, AuthCase):

    def check_mode(self, mode):
        srv = self.serve(mode, "--auth-file", self.users, "--status",
                         "/status")
        p = srv.port
        r = get(p, "/")
        self.assertEqual(r.status, 401, r.describe())
        check_common(self, r)
        self.assertEqual(r.header("WWW-Authenticate"), CHALLENGE)
        for cred in (basic("alice", "wrong"), basic("alice", "wonder lan"),
                     basic("nobody", "wonder land"), basic("bob", "bebe"),
                     basic("alice", ""), basic("", "")):
            with self.subTest(mode=mode, cred=cred):
                r = get(p, "/", [cred])
                self.assertEqual(r.status, 401, r.describe())
                self.assertEqual(r.header("WWW-Authenticate"), CHALLENGE)
        for cred in (basic("alice", "wonder land"),
                     basic("bob", "b\u00e9b\u00e9"),
                     basic("dave", "sha:256")):
            with self.subTest(mode=mode, cred=cred):
                r = get(p, "/", [cred])
                self.assertEqual((r.status, r.body), (200, b"home\n"),
                                 r.describe())
                self.assertIsNone(r.header("WWW-Authenticate"))
                r = harness.head(p, "/private/", [cred])
                self.assertEqual(r.status, 200, r.describe())
        # RFC 7617: the scheme in any case; another scheme is asked again
        r = get(p, "/", [("Authorization", "bAsIc " + basic(
            "alice", "wonder land")[1][6:])])
        self.assertEqual(r.status, 200, r.describe())
        r = get(p, "/", [("Authorization", "Bearer abc")])
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(r.header("WWW-Authenticate"), CHALLENGE)
        for bad in ("Basic", "Basic !!!!", "Basic YWJj",
                    "Basic YWI6Y2R=", "Basic YTpi YTpi",
                    "Basic " + "YWFh" * 400):
            with self.subTest(mode=mode, field=bad):
                r = get(p, "/", [("Authorization", bad)])
                self.assertEqual(r.status, 400, r.describe())
        # the server is still there for everyone
        r = get(p, "/open/", [basic("alice", "wonder land")])
        self.assertEqual((r.status, r.body), (200, b"open\n"))
        # a POST is guarded too (405 only once let in)
        r = harness.request(p, "POST", "/", body=b"x")
        self.assertEqual(r.status, 401, r.describe())


class TestSession(InEveryMode, AuthCase):
    """A session's requests after the first cost no hash: the status
    page counts them as passed from the cache."""

    def check_mode(self, mode):
        srv = self.serve(mode, "--auth-file", self.users, "--status",
                         "/status")
        good = basic("alice", "wonder land")
        with Conn(srv.port) as c:
            for i in range(5):
                r = c.request("GET", "/", [good])
                self.assertEqual(r.status, 200, r.describe())
                # pipelined: two at once, both checked in order
            c.send(harness.build("GET", "/open/", [good]) +
                   harness.build("GET", "/private/", [good]))
            a = c.read_response()
            b = c.read_response()
            self.assertEqual((a.body, b.body), (b"open\n", b"private\n"))
            # on the same connection: the same loop, the same cache
            r = c.request("GET", "/status?format=json", [good])
            st = json.loads(r.body)["auth"]
        # 7 requests and the status page's own: one checked, the rest
        # from this loop's cache
        self.assertEqual(st["passed"], 8, st)
        self.assertEqual(st["cached"], 7, st)
        self.assertEqual(st["failed"], 0, st)


class TestOffLoop(InEveryMode, AuthCase):
    """bcrypt at cost 12 takes a quarter of a second of CPU or more; the
    loop answers another client meanwhile. One loop (epoll, and one
    worker of the others) holds both connections."""

    def check_mode(self, mode):
        htpasswd(self.users, "slow", "slow pw", "-B", "-C", "12")
        args = list(MODES[mode])
        if args:
            args[-1] = "1"      # one worker: the same loop for both
        srv = start(self.root, "--auth-file", self.users, *args,
                    modes=False)
        self.addCleanup(srv.stop)
        for attempt in range(3):
            a = harness.connect(srv.port)
            a.sendall(harness.build("GET", "/", [basic("slow", "slow pw"),
                                                 ("Connection", "close")]))
            b = get(srv.port, "/")      # no credentials: answered at once
            a.setblocking(False)
            try:
                early = a.recv(1)
            except BlockingIOError:
                early = None
            a.setblocking(True)
            a.settimeout(30)
            got = harness.read_until_close(a, 30) if early is None else b""
            a.close()
            self.assertEqual(b.status, 401, b.describe())
            if early is None:
                break
        self.assertIsNone(early, "the slow check's answer came first: "
                          "the loop waited for it")
        self.assertIn(b"HTTP/1.1 200 OK", got)


class TestThrottle(InEveryMode, AuthCase):
    """LIMIT failures from one address, in any worker, and its next
    attempts get 429 with Retry-After, the right password too; another
    address is not held back; the status page counts them. In prefork -w
    2 each connection goes to either worker; the counts are shared, so
    the limit holds whichever one each attempt met."""

    def check_mode(self, mode):
        srv = self.serve(mode, "--auth-file", self.users, "--status",
                         "/status")
        good = basic("alice", "wonder land")
        for i in range(LIMIT):
            r = get(srv.port, "/", [basic("alice", "guess%d" % i)])
            self.assertEqual(r.status, 401, r.describe())
        for cred in (basic("alice", "guess"), good):
            r = get(srv.port, "/", [cred])
            self.assertEqual(r.status, 429, r.describe())
            wait = int(r.header("Retry-After"))
            self.assertTrue(1 <= wait <= 60, wait)
        r = get(srv.port, "/")
        self.assertEqual(r.status, 429, r.describe())
        # other clients (::1, or 127.0.0.2) are not held back
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), 3,
                                         source_address=("127.0.0.2", 0))
        except OSError:
            s = None
        if s is not None:
            with Conn(srv.port, sock=s) as c:
                r = c.request("GET", "/", [good])
                self.assertEqual(r.status, 200, r.describe())
                r = c.request("GET", "/status?format=json", [good])
                st = json.loads(r.body)["auth"]
                self.assertEqual(st["failed"], LIMIT, st)
                self.assertEqual(st["throttled"], 3, st)


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class TestAllowDeny(InEveryMode, AuthCase):

    CONF = """
server {
    location /open/ { }
    location /v4/ { allow 127.0.0.1; deny all; }
    location /not-local/ { deny 127.0.0.0/8; deny ::1; allow all; }
    location /net/ { allow 127.0.0.0/8; deny 127.0.0.2; deny all; }
    location /v6/ { allow ::1; deny all; }
    location /private/ {
        deny 10.0.0.0/8;
        auth_basic "Staff";
        auth_basic_user_file %s;
    }
}
"""

    def conf(self):
        path = os.path.join(self.tmp, "t.conf")
        with open(path, "w") as f:
            f.write(self.CONF % q(self.users))
        return path

    def check(self, port, host, want, source=None):
        for target, status in want:
            with self.subTest(target=target, source=source):
                s = socket.create_connection((host, port), 3,
                                             source_address=source)
                with Conn(port, sock=s) as c:
                    r = c.request("GET", target)
                self.assertEqual(r.status, status, r.describe())

    def check_mode(self, mode):
        conf = self.conf()
        srv = self.serve(mode, "-c", conf)
        self.check(srv.port, "127.0.0.1", [
            ("/open/", 200), ("/v4/", 200), ("/not-local/", 403),
            ("/net/", 200), ("/v6/", 403), ("/private/", 401)])
        self.check(srv.port, "127.0.0.1", [
            ("/v4/", 403), ("/net/", 200)], source=("127.0.0.2", 0))

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback here")
    def test_ipv6_and_mapped(self):
        """On [::] a dual-stack socket gives IPv4 clients as
        ::ffff:127.0.0.1: the IPv4 rules match them still."""
        conf = self.conf()
        for mode in MODES:
            srv = start(self.root, "-c", conf, *MODES[mode], modes=False,
                        bind="::")
            self.check(srv.port, "::1", [
                ("/v4/", 403), ("/v6/", 200), ("/not-local/", 403),
                ("/open/", 200)])
            try:
                socket.create_connection(("127.0.0.1", srv.port), 3).close()
                dual = True
            except OSError:
                dual = False
            if dual:
                self.check(srv.port, "127.0.0.1", [
                    ("/v4/", 200), ("/v6/", 403), ("/net/", 200)])
            srv.stop()


class TestLocations(InEveryMode, AuthCase):

    def check_mode(self, mode):
        conf = os.path.join(self.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write("""
server {
    location /private/ {
        auth_basic "Staff only";
        auth_basic_user_file %s;
    }
    location /private/pub/ { auth_basic off; }
}
""" % q(os.path.relpath(self.users, self.tmp)))
        srv = self.serve(mode, "-c", conf)
        self.assertEqual(get(srv.port, "/").status, 200)
        self.assertEqual(get(srv.port, "/open/").status, 200)
        r = get(srv.port, "/private/")
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(r.header("WWW-Authenticate"),
                         'Basic realm="Staff only", charset="UTF-8"')
        r = get(srv.port, "/private/", [basic("alice", "wonder land")])
        self.assertEqual((r.status, r.body), (200, b"private\n"))
        # the user file's path is relative to the config file
        r = get(srv.port, "/private/pub/")
        self.assertEqual((r.status, r.body), (200, b"pub\n"))


class TestInternal(InEveryMode, AuthCase):
    """An error page or a try_files fallback served from a guarded
    location passes that location's guard: without credentials that
    passed there, the guard answers (an error page then falls back to
    tinyweb's own page), and the guarded bytes are never sent."""

    def check_mode(self, mode):
        make_tree(self.root, {"denied": {"index.html": b"denied\n"}})
        conf = os.path.join(self.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write("""
server {
    location /private/ {
        auth_basic "Staff only";
        auth_basic_user_file %s;
        try_files $uri /private/index.html;
    }
    location /denied/ { deny all; }
    location /lost/ { error_page 404 /private/index.html; }
    location /lost2/ { error_page 404 /denied/index.html; }
    location /spa/ { try_files $uri /private/index.html; }
    location /spa2/ { try_files $uri /denied/index.html; }
}
""" % q(os.path.relpath(self.users, self.tmp)))
        srv = self.serve(mode, "-c", conf)
        p = srv.port
        alice = basic("alice", "wonder land")
        for path in ("/lost/none", "/lost2/none"):
            r = get(p, path)
            self.assertEqual(r.status, 404, r.describe())
            self.assertNotIn(b"private", r.body)
            self.assertNotIn(b"denied\n", r.body)
        r = get(p, "/spa/none")
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(r.header("WWW-Authenticate"),
                         'Basic realm="Staff only", charset="UTF-8"')
        self.assertNotEqual(r.body, b"private\n")
        r = get(p, "/spa2/none")
        self.assertEqual(r.status, 403, r.describe())
        # Credentials never checked against the file: not taken on trust.
        r = get(p, "/spa/none", [alice])
        self.assertEqual(r.status, 401, r.describe())
        # A fallback inside the guarded location itself: the request's
        # own check covers it.
        r = get(p, "/private/none", [alice])
        self.assertEqual((r.status, r.body), (200, b"private\n"))
        r = get(p, "/private/none", [basic("alice", "wrong")])
        self.assertEqual(r.status, 401, r.describe())
        # Once they passed there (on this connection's worker), a
        # fallback from elsewhere takes them.
        with Conn(p, timeout=10) as c:
            r = c.request("GET", "/private/", [alice])
            self.assertEqual((r.status, r.body), (200, b"private\n"))
            r = c.request("GET", "/spa/none", [alice])
            self.assertEqual((r.status, r.body), (200, b"private\n"))
            r = c.request("GET", "/lost/none", [alice])
            self.assertEqual((r.status, r.body), (404, b"private\n"))


class TestBadFiles(AuthCase):
    """A user file tinyweb cannot use is an error at load: one line
    naming the user file's FILE:LINE, exit status 1."""

    def line_error(self, text):
        path = os.path.join(self.tmp, "bad")
        with open(path, "w") as f:
            f.write(text)
        r = run([BIN, "serve", self.root, "-p", "0", "-b", "127.0.0.1",
                 "--auth-file", path])
        return r, path

    def test_formats_it_cannot_check(self):
        with open(self.users) as f:
            good = f.read()
        md5 = os.path.join(self.tmp, "md5")
        htpasswd(md5, "carol", "pw")            # htpasswd's default: apr1
        sha1 = os.path.join(self.tmp, "sha1")
        htpasswd(sha1, "carol", "pw", "-s")
        with open(md5) as f:
            apr1 = f.read()
        with open(sha1) as f:
            sha = f.read()
        for text, line, why in (
                (good + "\n" + apr1, 5, "Apache MD5 ($apr1$"),
                (sha + good, 1, "{SHA}"),
                (good + "eve:plain\n", 4, "plain text or DES"),
                ("# c\nnocolon\n", 2, "expected USER:HASH"),
                (good + good.splitlines()[0] + "\n", 4, "named twice"),
                (good[:40] + "\n", 1, "cut short")):
            with self.subTest(why=why):
                r, path = self.line_error(text)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("%s:%d: " % (path, line), r.stderr)
                self.assertIn(why, r.stderr)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_missing_and_empty(self):
        r = run([BIN, "serve", self.root, "--auth-file",
                 os.path.join(self.tmp, "none")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("No such file", r.stderr)
        r, path = self.line_error("# nobody\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no user", r.stderr)

    def test_check_config(self):
        conf = os.path.join(self.tmp, "t.conf")
        with open(conf, "w") as f:
            f.write("root %s;\nauth_basic \"r\";\n" % q(self.root))
        r = run([BIN, "check-config", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "tinyweb: %s:2: auth_basic needs an "
                         "auth_basic_user_file\n" % conf)
        with open(conf, "w") as f:
            f.write("root %s;\nauth_basic \"a\\\"b\";\n" % q(self.root))
        r = run([BIN, "check-config", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:2: auth_basic" % conf, r.stderr)
        with open(conf, "w") as f:
            f.write("root %s;\nallow 10.0.0.0/33;\n" % q(self.root))
        r = run([BIN, "check-config", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:2: allow '10.0.0.0/33'" % conf, r.stderr)
        # a good file reads back the same
        with open(conf, "w") as f:
            f.write("root %s;\nauth_basic \"Team\";\n"
                    "auth_basic_user_file %s;\nallow ::1;\ndeny all;\n"
                    "server { location /a/ { auth_basic off; "
                    "allow 10.0.0.0/8; } }\n" % (q(self.root),
                                                 q(self.users)))
        r = run([BIN, "check-config", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ('auth_basic "Team";', 'auth_basic "off";',
                     "auth_basic_user_file %s;" % q(self.users),
                     'allow "::1";', 'deny "all";', 'allow "10.0.0.0/8";'):
            self.assertIn(line, r.stdout)
        again = os.path.join(self.tmp, "again.conf")
        with open(again, "w") as f:
            f.write(r.stdout)
        r2 = run([BIN, "check-config", "-c", again])
        self.assertEqual((r2.returncode, r2.stdout), (0, r.stdout),
                         r2.stderr)


class TestReload(InEveryMode, AuthCase):
    """HUP reads the user file again: a new password works, the old one
    no longer; a broken file keeps the running configuration."""

    def check_mode(self, mode):
        conf = os.path.join(self.tmp, "t.conf")
        pidfile = os.path.join(self.tmp, "tw.pid")
        with open(conf, "w") as f:
            f.write("auth_basic \"r\";\nauth_basic_user_file %s;\n"
                    % q(self.users))
        srv = start(self.root, "-c", conf, "--pidfile", pidfile,
                    *MODES[mode], modes=False)
        self.addCleanup(self.stop, srv, pidfile)
        old, new = basic("alice", "wonder land"), basic("alice", "n3w")
        code = lambda cred: get(srv.port, "/", [cred]).status
        self.assertEqual((code(old), code(new)), (200, 401))
        htpasswd(self.users, "alice", "n3w", "-B")
        os.kill(harness.read_pid(pidfile), signal.SIGHUP)
        self.assertTrue(wait_until(lambda: code(new) == 200, 10),
                        srv.stderr_text())
        self.assertEqual(code(old), 401)
        # a bad line: refused, the running users stay
        wait_until(lambda: not os.path.exists(pidfile + ".oldbin"), 5)
        with open(self.users, "a") as f:
            f.write("carol:$apr1$9b9pEDL4$aERx/TH7QLRMnrmJTNH4.1\n")
        pid = harness.read_pid(pidfile)
        os.kill(pid, signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "%s:4: Apache MD5" % self.users
                                   in srv.stderr_text(), 5),
                        srv.stderr_text())
        self.assertTrue(harness.alive(pid))
        self.assertEqual((code(new), code(old)), (200, 401))

    # The live process is the pidfile's after an epoll/threads reload.
    stop = staticmethod(test_scopes.TestReload.stop)


if __name__ == "__main__":
    unittest.main()
