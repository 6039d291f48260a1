#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--user as an operator uses it (issue 16, "Privileges that still let the
operator work"): tinyweb started as root with `user nobody`, its logs,
pidfile and TLS key in a directory only root may write, the key readable
by root alone (0600). In every run mode: USR1 after the access log was
renamed keeps every line (counted) and starts the new file; a log that
cannot be re-opened is one error naming the file and the reason; HUP
adding a privileged port serves it; a key only root can read is loaded
again on HUP; the pidfile is gone once the server has stopped, and the
old one's .oldbin once it quits after an upgrade (USR2). Who runs
as whom is checked too: the processes that serve clients are nobody,
prefork's master and the epoll/threads keeper stay root.

Needs root (skipped otherwise, with the reason). These tests pick their
modes themselves.
"""

import hashlib
import os
import pwd
import random
import shutil
import signal
import socket
import ssl
import subprocess
import unittest

import harness
from harness import (alive, free_port, get, process_tree, read_lines,
                     read_pid, unique_tmpdir, wait_until)
from test_scopes import ConfServer, q

MODES = {
    "epoll": ["mode epoll;"],
    "prefork": ["mode prefork;", "workers 2;"],
    "threads": ["mode threads;", "workers 2;"],
}
BODY = b"privileges\n"
_mod = {}


def setUpModule():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root: starts tinyweb as root with "
                                "user nobody")
    try:
        _mod["nobody"] = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        raise unittest.SkipTest("no user named nobody")
    if harness.MODE_ARGS:
        raise unittest.SkipTest("these tests pick their modes themselves")


def uid_of(pid):
    """The real uid of pid, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def free_privileged_port():
    """A port below 1024 that 127.0.0.1 has free: only root may bind it."""
    ports = list(range(600, 1024))
    random.shuffle(ports)
    for port in ports:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise unittest.SkipTest("no free port below 1024")


def openssl_pair(d, name):
    """A self-signed ECDSA certificate and its key, the key 0600 root."""
    crt, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "2",
                        "-subj", "/CN=localhost"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl: " + r.stderr)
    os.chmod(key, 0o600)
    return crt, key


def der_fingerprint(crt):
    with open(crt) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def served_fingerprint(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                return hashlib.sha256(
                    t.getpeercert(binary_form=True)).hexdigest()
    except OSError:
        return None


class PrivCase(unittest.TestCase):
    """A tree nobody may read (root, 0755) and a directory only root may
    write (priv) for the logs, the pidfile and the keys."""

    def setUp(self):
        self.tmp = unique_tmpdir("tinyweb-privs-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "root")
        self.priv = os.path.join(self.tmp, "priv")
        os.makedirs(self.root)
        os.makedirs(self.priv)
        os.chmod(self.root, 0o755)
        os.chmod(self.priv, 0o755)
        with open(os.path.join(self.root, "f.txt"), "wb") as f:
            f.write(BODY)
        os.chmod(os.path.join(self.root, "f.txt"), 0o644)
        self.pidfile = os.path.join(self.priv, "tw.pid")
        self.elog = os.path.join(self.priv, "error.log")
        self.conf = os.path.join(self.tmp, "tw.conf")
        self.started = []

    def write_conf(self, mode, *lines):
        text = "".join(l + "\n" for l in (
            "root %s;" % q(self.root), "user nobody;",
            "pidfile %s;" % q(self.pidfile),
            "error_log %s;" % q(self.elog)) + tuple(MODES[mode]) + lines)
        with open(self.conf + ".new", "w") as f:
            f.write(text)
        os.replace(self.conf + ".new", self.conf)

    def start(self, port):
        srv = ConfServer(self.conf, port)
        self.started.append(srv)
        return srv

    def kill_left(self):
        """After a failure: nothing of this mode may hold the pidfile or
        the ports when the next one starts."""
        pids = set()
        for srv in self.started:
            pids.update(process_tree(srv.pid))
        pid = read_pid(self.pidfile)
        if pid is not None:
            pids.update(process_tree(pid))
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        for srv in self.started:
            srv.proc.wait(5)
            harness._live.discard(srv)
        self.started = []

    def errors(self):
        try:
            with open(self.elog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def check_users(self, mode, what):
        """Serving processes are nobody; the one root part is prefork's
        master or the epoll/threads keeper (the server's one child). The
        startup line comes before root is given up and before prefork's
        workers start: the tree is waited for until it settles."""
        pid = read_pid(self.pidfile)
        self.assertIsNotNone(pid, "%s: no pidfile %s" % (what, mode))
        nobody = _mod["nobody"]
        if mode == "prefork":
            want = lambda tree: [0] + [nobody] * (len(tree) - 1)
            size = 3
        else:
            want = lambda tree: [nobody] + [0] * (len(tree) - 1)
            size = 2

        def users():
            tree = process_tree(pid)
            return [uid_of(p) for p in tree], tree

        def settled():
            uids, tree = users()
            return len(tree) == size and uids == want(tree)
        wait_until(settled, 5)
        uids, tree = users()
        self.assertEqual(len(tree), size, "%s: %s %s" % (what, mode, uids))
        self.assertEqual(uids, want(tree), "%s: %s %s" % (what, mode, uids))
        return pid

    def stop_all(self, mode):
        """TERM the pidfile's process; once it is gone, so is the
        pidfile, and every process started is gone too."""
        pid = read_pid(self.pidfile)
        self.assertIsNotNone(pid, "%s: no pidfile" % mode)
        tree = process_tree(pid)
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_until(lambda: not alive(pid), 10),
                        "%s: %d did not stop" % (mode, pid))
        self.assertFalse(os.path.exists(self.pidfile),
                         "%s: the pidfile is left behind" % mode)
        self.assertFalse(os.path.exists(self.pidfile + ".oldbin"), mode)
        self.assertTrue(wait_until(lambda: not any(alive(p) for p in tree),
                                   10), "%s: %s left" % (mode, tree))
        for srv in self.started:
            rc = srv.wait_exit(10)
            self.assertEqual(rc, 0, "%s: %s" % (mode, srv.stderr_text()))
            self.assertNotRegex(srv.stderr_text(), harness.SANITIZER_RE)
        self.started = []

    def each_mode(self, fn):
        for mode in MODES:
            with self.subTest(mode=mode):
                try:
                    fn(mode)
                finally:
                    self.kill_left()
                for p in (self.pidfile, self.elog):
                    if os.path.exists(p):
                        os.unlink(p)


class TestReopen(PrivCase):
    def rotate(self, mode):
        port = free_port()
        alog = os.path.join(self.priv, "access.log")
        self.write_conf(mode, "listen 127.0.0.1:%d;" % port,
                        "access_log %s;" % q(alog))
        self.start(port)
        self.check_users(mode, "start")
        sent = []

        def one():
            target = "/f.txt?%s-%d" % (mode, len(sent))
            r = get(port, target)
            self.assertEqual((r.status, r.body), (200, BODY))
            sent.append(target)

        def landed(path):
            one()
            return bool(read_lines(path))

        files = [alog]
        for k in (1, 2):
            for _ in range(20):
                one()
            old = "%s.%d" % (alog, k)
            os.rename(alog, old)
            files.append(old)
            os.kill(read_pid(self.pidfile), signal.SIGUSR1)
            self.assertTrue(wait_until(lambda: landed(alog), 10),
                            "%s: nothing in the new %s after USR1\n%s"
                            % (mode, alog, self.errors()))
        self.assertNotIn("re-open", self.errors())
        # A name that cannot be opened: one error with the file and the
        # reason; lines keep going to the file we had.
        os.rename(alog, alog + ".3")
        files.append(alog + ".3")
        os.mkdir(alog)
        os.kill(read_pid(self.pidfile), signal.SIGUSR1)
        want = "re-opening the log %s: Is a directory" % alog
        self.assertTrue(wait_until(lambda: want in self.errors(), 10),
                        "%s: %r not in\n%s" % (mode, want, self.errors()))
        for _ in range(10):
            one()

        def logged():
            return [l for f in files if os.path.isfile(f)
                    for l in read_lines(f, text=True)]
        wait_until(lambda: len(logged()) >= len(sent), 10)
        got = [l.split('"')[1].split(" ")[1] for l in logged()]
        self.assertEqual(sorted(got), sorted(sent), mode)
        self.stop_all(mode)
        os.rmdir(alog)
        for f in files[1:]:
            os.unlink(f)

    def test_usr1_after_rename_keeps_every_line(self):
        self.each_mode(self.rotate)


class TestReload(PrivCase):
    def privileged_port(self, mode):
        port, low = free_port(), free_privileged_port()
        self.write_conf(mode, "listen 127.0.0.1:%d;" % port)
        self.start(port)
        self.check_users(mode, "start")
        self.write_conf(mode, "listen 127.0.0.1:%d;" % port,
                        "listen 127.0.0.1:%d;" % low)
        os.kill(read_pid(self.pidfile), signal.SIGHUP)

        def served():
            try:
                return get(low, "/f.txt").body == BODY
            except OSError:
                return False
        self.assertTrue(wait_until(served, 10), "%s: port %d not served "
                        "after HUP\n%s" % (mode, low, self.errors()))
        self.assertEqual(get(port, "/f.txt").body, BODY)
        if mode != "prefork":
            # The new process is up; the old one drains and goes.
            for srv in self.started:
                srv.wait_exit(10)
        self.check_users(mode, "after HUP")
        self.stop_all(mode)

    def test_hup_adds_a_privileged_port(self):
        self.each_mode(self.privileged_port)

    def tls_key(self, mode):
        if shutil.which("openssl") is None:
            self.skipTest("the openssl command is needed")
        one = openssl_pair(self.priv, "one")
        two = openssl_pair(self.priv, "two")
        crt = os.path.join(self.priv, "site.pem")
        key = os.path.join(self.priv, "site.key")
        for src, dst in zip(one, (crt, key)):
            shutil.copyfile(src, dst)
        os.chmod(key, 0o600)
        port = free_port()
        self.write_conf(mode, "listen 127.0.0.1:%d tls;" % port,
                        "tls_certificate %s;" % q(crt),
                        "tls_certificate_key %s;" % q(key))
        self.start(port)
        self.check_users(mode, "start")
        self.assertEqual(served_fingerprint(port), der_fingerprint(one[0]))
        for src, dst in zip(two, (crt, key)):
            shutil.copyfile(src, dst + ".new")
            os.chmod(dst + ".new", 0o600 if dst == key else 0o644)
            os.replace(dst + ".new", dst)
        os.kill(read_pid(self.pidfile), signal.SIGHUP)
        new = der_fingerprint(two[0])
        self.assertTrue(wait_until(lambda: served_fingerprint(port) == new,
                                   10), "%s: the new certificate is not "
                        "served\n%s" % (mode, self.errors()))
        if mode != "prefork":
            for srv in self.started:
                srv.wait_exit(10)
        self.check_users(mode, "after HUP")
        self.stop_all(mode)

    def test_hup_reloads_a_key_only_root_reads(self):
        self.each_mode(self.tls_key)


class TestPidfile(PrivCase):
    def stop(self, mode):
        port = free_port()
        self.write_conf(mode, "listen 127.0.0.1:%d;" % port)
        self.start(port)
        self.check_users(mode, "start")
        self.assertEqual(get(port, "/f.txt").body, BODY)
        self.stop_all(mode)

    def test_pidfile_removed_at_stop(self):
        self.each_mode(self.stop)

    def upgrade(self, mode):
        """USR2: the old server's pidfile moves to .oldbin (a rename in
        root's directory) and is removed when it quits."""
        port = free_port()
        self.write_conf(mode, "listen 127.0.0.1:%d;" % port)
        srv = self.start(port)
        self.check_users(mode, "start")
        os.kill(srv.pid, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: read_pid(self.pidfile) not in
                                   (None, srv.pid), 10),
                        "%s: no new process\n%s" % (mode, self.errors()))
        self.assertEqual(read_pid(self.pidfile + ".oldbin"), srv.pid)
        self.check_users(mode, "upgraded")
        os.kill(srv.pid, signal.SIGQUIT)
        self.assertEqual(srv.wait_exit(10), 0, srv.stderr_text())
        self.assertFalse(os.path.exists(self.pidfile + ".oldbin"), mode)
        self.assertEqual(get(port, "/f.txt").body, BODY)
        self.stop_all(mode)

    def test_upgrade_then_quit_the_old_one(self):
        self.each_mode(self.upgrade)


if __name__ == "__main__":
    unittest.main()
