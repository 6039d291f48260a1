# SPDX-License-Identifier: MIT
"""Concurrency modes and process management (issue 4): prefork workers and
threads, every accept strategy, worker respawn and crash-loop back-off,
graceful QUIT during a 100 MiB download, fast INT/TERM, HUP reloads (a
good config, a broken one) with and without load, the USR2 binary upgrade
under load, and USR1 log re-opening — in the modes where each applies.

These tests pick their modes themselves, so $TINYWEB_MODE_ARGS is ignored.
Processes that outlive the one the harness started (the new process of an
epoll/threads reload, the new master of an upgrade) are found through the
pidfile; this module makes the test process a child subreaper so those
orphans are reparented to it and their exit status can be checked.
"""

import ctypes
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import (Conn, alive, kill_naming, proc_ppid, proc_state,
                     process_tree, read_pid, reap, start, unique_tmpdir,
                     wait_until)

MODES = ("epoll", "prefork", "threads")
SMALL = b"small file for the load tests\n" * 3
BIG_MIB = 100
MIB = 1 << 20

PR_SET_CHILD_SUBREAPER = 36

_mod = {}


def setUpModule():
    tmp = unique_tmpdir("tinyweb-modes-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(SMALL)
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(b"<p>index</p>\n")
    _mod.update(tmp=tmp, root=root, big_sha=None)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _mod["subreaper"] = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0,
                                       0) == 0
        _mod["libc"] = libc
    except OSError:
        _mod["subreaper"] = False


def tearDownModule():
    kill_stragglers()
    if _mod.get("subreaper"):
        _mod["libc"].prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    shutil.rmtree(_mod["tmp"], ignore_errors=True)


def big_file():
    """ROOT/big.bin, 100 MiB (made once): each MiB starts with its index so
    a reordered or repeated chunk changes the digest. Returns its sha256."""
    if _mod["big_sha"] is None:
        block = bytearray(os.urandom(MIB))
        h = hashlib.sha256()
        with open(os.path.join(_mod["root"], "big.bin"), "wb") as f:
            for i in range(BIG_MIB):
                block[:8] = struct.pack(">Q", i)
                f.write(block)
                h.update(block)
        _mod["big_sha"] = h.hexdigest()
    return _mod["big_sha"]


# ------------------------------------------------------------- processes

def children(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return [c for c in out if alive(c)]


def kill_stragglers():
    """SIGKILL every process whose command line names this module's
    directory, then reap our zombies (never a harness Server's: its
    Popen wants the status)."""
    tmp = _mod.get("tmp")
    if not tmp:
        return
    me = os.getpid()
    mine = kill_naming(tmp)
    owned = {s.pid for s in list(harness._live)}
    time.sleep(0.05 if mine else 0)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        p = int(d)
        if p in owned:
            continue
        if proc_ppid(p) == me and proc_state(p) == "Z" or p in mine:
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass


# --------------------------------------------------------------- clients

def fetch(port, target="/small.txt", timeout=5.0):
    """GET on a fresh connection: (status, headers dict, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", target)
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def gen_of(port):
    try:
        st, h, _ = fetch(port, timeout=2.0)
    except OSError:
        return None
    return h.get("x-gen") if st == 200 else None


def refused_or_unserved(port):
    """True if a new connection is refused, or accepted but never
    answered within a second (a listening socket nobody accepts on)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
    except (ConnectionRefusedError, socket.timeout):
        return True
    try:
        s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(1.0)
        try:
            return s.recv(100) == b""
        except socket.timeout:
            return True
        except (ConnectionResetError, ConnectionAbortedError):
            return True
    except OSError:
        return True
    finally:
        s.close()


KEEPALIVE_LOST = (http.client.RemoteDisconnected, BrokenPipeError,
                  ConnectionResetError, ConnectionAbortedError)


class Load:
    """Client threads requesting /small.txt until stopped: two of every
    three requests reuse a keep-alive connection, the third is a fresh
    connection. A keep-alive connection the server closed while idle may
    fail on reuse before any response byte; that one request is retried
    once on a fresh connection, as browsers do. Anything else is a
    failure."""

    def __init__(self, port, threads=3, min_requests=600, cap=60000):
        self.port = port
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.failures = []
        self.count = 0
        self.retries = 0
        self.gens = set()
        self.min_requests = min_requests
        self.cap = cap
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True)
                        for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _check(self, status, headers, body, what):
        if status != 200 or body != SMALL:
            with self.lock:
                self.failures.append("%s: status %s, %d body bytes" % (
                    what, status, len(body)))
            return
        with self.lock:
            self.count += 1
            self.gens.add(headers.get("x-gen"))

    def _fail(self, what, e):
        with self.lock:
            self.failures.append("%s: %s: %s" % (what, type(e).__name__, e))

    def _run(self, idx):
        conn, used, n = None, 0, 0
        while n < self.cap and (n < self.min_requests or
                                not self.stop_ev.is_set()):
            n += 1
            if n % 3 == 0:
                try:
                    self._check(*fetch(self.port), what="fresh")
                except Exception as e:
                    self._fail("fresh", e)
                continue
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=5.0)
                used = 0
            try:
                try:
                    r = self._keepalive(conn)
                except KEEPALIVE_LOST:
                    if used == 0:
                        raise
                    conn.close()
                    with self.lock:
                        self.retries += 1
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=5.0)
                    used = 0
                    r = self._keepalive(conn)
                used += 1
                status, headers, body, closes = r
                self._check(status, headers, body, "keep-alive")
                if closes:
                    conn.close()
                    conn = None
            except Exception as e:
                self._fail("keep-alive (request %d on it)" % (used + 1), e)
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    @staticmethod
    def _keepalive(conn):
        conn.request("GET", "/small.txt")
        r = conn.getresponse()
        body = r.read()
        return (r.status, {k.lower(): v for k, v in r.getheaders()}, body,
                r.will_close)

    def finish(self, timeout=30.0):
        self.stop_ev.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


# ----------------------------------------------------------------- tests

class ModeCase(unittest.TestCase):
    """Per test: a directory for configs, logs and pidfiles; servers are
    stopped and any process left over is killed in tearDown."""

    def setUp(self):
        # Under the module's directory: stragglers are found by it in
        # their command line.
        self.dir = tempfile.mkdtemp(prefix="t-", dir=_mod["tmp"])
        self.servers = []
        self.extra_pids = []

    def tearDown(self):
        for s in self.servers:
            if s.alive():
                s.proc.kill()
                try:
                    s.wait_exit(2)
                except AssertionError:
                    pass
        for p in self.extra_pids:
            if alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
                reap(p, 2)
        kill_stragglers()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args, **kw):
        s = start(_mod["root"], *args, modes=False, **kw)
        self.servers.append(s)
        return s

    def p(self, name):
        return os.path.join(self.dir, name)

    def mode_args(self, mode, workers=2):
        if mode == "epoll":
            return ("-m", "epoll")
        return ("-m", mode, "-w", str(workers))

    def write(self, name, text):
        with open(self.p(name), "w") as f:
            f.write(text)

    def assertStatusCode(self, rc, want, what, srv=None):
        if rc != want:
            self.fail("%s: exit status %r, want %r%s" % (
                what, rc, want,
                "\nstderr:\n" + srv.stderr_text() if srv else ""))

    def assertClean(self, srv):
        err = srv.stderr_text()
        if harness.SANITIZER_RE.search(err):
            self.fail("sanitizer report on stderr:\n" + err)

    def stop_pid(self, pid, sig=signal.SIGTERM, timeout=5.0):
        """Signal a server process we did not start ourselves (a reload's
        or an upgrade's) and check it exits 0."""
        os.kill(pid, sig)
        rc = reap(pid, timeout)
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            reap(pid, 2)
            self.fail("pid %d did not exit within %.0f s of %s" % (
                pid, timeout, signal.Signals(sig).name))
        if rc != "gone":
            self.assertEqual(rc, 0, "pid %d exit status" % pid)


class TestStartup(ModeCase):
    def test_prefork_forks_n_workers(self):
        s = self.start("-m", "prefork", "-w", "3")
        self.assertIn("(prefork, 3 workers)", s.startup_line)
        kids = wait_until(lambda: len(children(s.pid)) == 3 and
                        children(s.pid), 3)
        self.assertTrue(kids, "want 3 worker processes, have %r"
                        % children(s.pid))
        # The workers serve; the master is the pid we started.
        self.assertEqual(fetch(s.port)[2], SMALL)
        s.stop()
        for k in kids:
            self.assertFalse(alive(k), "worker %d outlived the master" % k)

    def test_threads_runs_n_threads(self):
        s = self.start("-m", "threads", "-w", "3")
        self.assertIn("(threads, 3 workers)", s.startup_line)
        ntasks = wait_until(lambda: len(os.listdir("/proc/%d/task" % s.pid))
                          >= 4 and len(os.listdir("/proc/%d/task" % s.pid)),
                          3)
        self.assertTrue(ntasks, "want >= 4 threads (3 workers + main)")
        self.assertEqual(children(s.pid), [], "threads mode forked")
        self.assertEqual(fetch(s.port)[2], SMALL)
        s.stop()

    def test_epoll_is_one_process(self):
        s = self.start("-m", "epoll")
        self.assertIn("(epoll, 1 worker)", s.startup_line)
        self.assertEqual(fetch(s.port)[2], SMALL)
        self.assertEqual(children(s.pid), [])
        s.stop()

    def test_mutex_file_refused_in_threads(self):
        r = subprocess.run(
            [harness.BIN, "serve", _mod["root"], "-p", "0", "-b",
             "127.0.0.1", "-q", "-m", "threads", "-w", "2",
             "--accept", "mutex-file"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"mutex-file", r.stderr)
        self.assertNotIn(b"serving", r.stderr)
        # The same in prefork is fine.
        s = self.start("-m", "prefork", "-w", "2", "--accept", "mutex-file")
        self.assertEqual(fetch(s.port)[2], SMALL)
        s.stop()


class TestAcceptStrategies(ModeCase):
    """300 requests from 4 client threads on fresh connections."""

    def serve_300(self, mode, accept):
        s = self.start("-m", mode, "-w", "2", "--accept", accept)
        if mode == "prefork":
            self.assertTrue(wait_until(lambda: len(children(s.pid)) == 2, 3),
                            "want 2 workers")
        bad, done = [], [0]
        lock = threading.Lock()

        def client():
            for _ in range(75):
                try:
                    st, _, body = fetch(s.port)
                    ok = st == 200 and body == SMALL
                    what = "status %d, %d bytes" % (st, len(body))
                except Exception as e:
                    ok, what = False, "%s: %s" % (type(e).__name__, e)
                with lock:
                    if ok:
                        done[0] += 1
                    else:
                        bad.append(what)

        ts = [threading.Thread(target=client) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual(bad, [], "%s/%s failures" % (mode, accept))
        self.assertEqual(done[0], 300)
        if mode == "prefork":
            self.assertEqual(len(children(s.pid)), 2, "a worker died:\n"
                             + s.stderr_text())
        s.stop()

    def test_prefork_exclusive(self):
        self.serve_300("prefork", "exclusive")

    def test_prefork_reuseport(self):
        self.serve_300("prefork", "reuseport")

    def test_prefork_mutex(self):
        self.serve_300("prefork", "mutex")

    def test_prefork_mutex_file(self):
        self.serve_300("prefork", "mutex-file")

    def test_prefork_mutex_sem(self):
        self.serve_300("prefork", "mutex-sem")

    def test_threads_each_strategy(self):
        for accept in ("exclusive", "reuseport", "mutex", "mutex-sem"):
            with self.subTest(accept=accept):
                self.serve_300("threads", accept)


class TestRespawn(ModeCase):
    def kill_during_load(self, accept):
        s = self.start("-m", "prefork", "-w", "2", "--accept", accept)
        old = wait_until(lambda: len(children(s.pid)) == 2 and
                       children(s.pid), 3)
        self.assertTrue(old, "want 2 workers")
        log = []        # (start time, ok, detail)
        stop = threading.Event()

        def client():
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    st, _, body = fetch(s.port, timeout=5.0)
                    log.append((t0, st == 200 and body == SMALL,
                                "status %d" % st))
                except Exception as e:
                    log.append((t0, False, "%s: %s" % (type(e).__name__, e)))

        t = threading.Thread(target=client, daemon=True)
        t.start()
        time.sleep(0.3)
        victim = old[0]
        t_kill = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        t_killed = time.monotonic()
        new = wait_until(lambda: [p for p in children(s.pid) if p not in old]
                       and len(children(s.pid)) == 2, 3)
        time.sleep(0.5)     # requests after the respawn, too
        stop.set()
        t.join(10)
        self.assertTrue(new, "no new worker within 3 s of killing %d; "
                        "workers now %r" % (victim, children(s.pid)))
        self.assertIn(old[1], children(s.pid), "the other worker changed")
        during = [x for x in log if x[0] >= t_killed]
        self.assertGreater(len(during), 20, "the client barely ran")
        failed = [x for x in during if not x[1]]
        self.assertEqual(failed, [], "requests sent after the kill failed")
        # A connection the victim had already accepted dies with it;
        # at most that one request (sent before the kill) may fail.
        before = [x for x in log if x[0] < t_kill and not x[1]]
        self.assertLessEqual(len(before), 1, before)
        msg = wait_until(lambda: re.search(r"worker %d killed by signal 9\b"
                                         % victim, s.stderr_text()), 2)
        self.assertTrue(msg, "the error log does not name worker %d and "
                        "signal 9:\n%s" % (victim, s.stderr_text()))
        s.stop()
        self.assertClean(s)

    def test_sigkill_worker_respawned_exclusive(self):
        self.kill_during_load("exclusive")

    def test_sigkill_worker_holding_mutex(self):
        # The victim may die holding the accept mutex: the master must
        # free it, or the survivor would never accept again.
        self.kill_during_load("mutex")

    def test_crash_loop_backs_off(self):
        s = self.start("-m", "prefork", "-w", "1")
        kids = wait_until(lambda: children(s.pid), 3)
        self.assertTrue(kids)
        victims = []
        for _ in range(3):
            cur = wait_until(lambda: [p for p in children(s.pid)
                                    if p not in victims], 5)
            self.assertTrue(cur, "no worker respawned after %r:\n%s"
                            % (victims, s.stderr_text()))
            victims.append(cur[0])
            os.kill(cur[0], signal.SIGKILL)
        # Quick deaths are respawned after growing delays, not at once.
        back = wait_until(lambda: [p for p in children(s.pid)
                                 if p not in victims], 8)
        self.assertTrue(back, "no worker after the back-off:\n"
                        + s.stderr_text())
        err = s.stderr_text()
        for v in victims:
            self.assertRegex(err, r"worker %d killed by signal 9\b" % v)
        delays = [int(d) for d in
                  re.findall(r"respawning in (\d+) ms", err)]
        self.assertGreaterEqual(len(delays), 2, err)
        self.assertGreater(delays[-1], delays[0], "the delay does not "
                           "grow: %r" % delays)
        self.assertLessEqual(max(delays), 10000)
        self.assertEqual(fetch(s.port)[2], SMALL)
        s.stop()


class TestQuit(ModeCase):
    def quit_during_download(self, mode):
        sha = big_file()
        # Deferral off: the listeners close at QUIT. With it (the
        # default) they stay open for the drain's grace, and what comes
        # then is answered (test_defer's StopCase).
        s = self.start(*self.mode_args(mode), "--no-defer-accept")
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = c.recv(65536)
            self.assertTrue(b, "closed before the response head")
            buf += b
        head, body = buf.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        self.assertIn(b"\r\nContent-Length: %d" % (BIG_MIB * MIB), head)
        h = hashlib.sha256()
        h.update(body)
        got = len(body)
        chunk = bytearray(MIB)
        mv = memoryview(chunk)

        def read_some(limit):
            nonlocal got
            n = c.recv_into(mv, min(MIB, limit - got))
            if n == 0:
                self.fail("connection closed after %d of %d bytes"
                          % (got, BIG_MIB * MIB))
            h.update(mv[:n])
            got += n

        # Slowly at first: the response is in flight when QUIT arrives.
        while got < 2 * MIB:
            read_some(2 * MIB)
            time.sleep(0.01)
        s.send_signal(signal.SIGQUIT)
        time.sleep(0.3)
        self.assertTrue(s.alive(), "exited with a response in flight")
        self.assertTrue(refused_or_unserved(s.port),
                        "a connection after QUIT was served")
        mib = 0
        while got < BIG_MIB * MIB:
            read_some(BIG_MIB * MIB)
            mib += 1
            if mib < 20:
                time.sleep(0.005)
        self.assertEqual(h.hexdigest(), sha, "the download differs")
        # Done: the server closes the connection and exits 0.
        c.settimeout(5)
        try:
            rest = c.recv(100)
        except (ConnectionResetError, socket.timeout) as e:
            rest = e
        self.assertEqual(rest, b"", "want EOF after the last byte")
        c.close()
        rc = s.wait_exit(5)
        self.assertStatusCode(rc, 0, "QUIT", s)
        self.assertClean(s)

    def test_quit_during_download_epoll(self):
        self.quit_during_download("epoll")

    def test_quit_during_download_prefork(self):
        self.quit_during_download("prefork")

    def test_quit_during_download_threads(self):
        self.quit_during_download("threads")

    def test_quit_closes_idle_keepalive(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                s = self.start(*self.mode_args(mode))
                conns = [Conn(s.port) for _ in range(3)]
                for c in conns:
                    r = c.request("GET", "/small.txt")
                    self.assertEqual(r.status, 200)
                    self.assertFalse(r.closes())
                t0 = time.monotonic()
                s.send_signal(signal.SIGQUIT)
                for c in conns:
                    self.assertTrue(c.at_eof(3.0), "%s: an idle keep-alive "
                                    "connection stayed open" % mode)
                    c.close()
                rc = s.wait_exit(5)
                self.assertStatusCode(rc, 0, mode + " QUIT", s)
                self.assertLess(time.monotonic() - t0, 5)
                self.assertClean(s)


class TestFastStop(ModeCase):
    def test_int_and_term_with_clients(self):
        big_file()
        for mode in MODES:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with self.subTest(mode=mode, sig=sig.name):
                    s = self.start(*self.mode_args(mode))
                    idle = Conn(s.port)
                    self.assertEqual(idle.request("GET", "/").status, 200)
                    partial = Conn(s.port)
                    partial.send(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n")
                    dl = socket.create_connection(("127.0.0.1", s.port))
                    dl.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                    self.assertTrue(dl.recv(100).startswith(b"HTTP/1.1 200"))
                    time.sleep(0.1)
                    t0 = time.monotonic()
                    s.send_signal(sig)
                    rc = s.wait_exit(5)
                    self.assertStatusCode(rc, 0, "%s %s" % (mode, sig.name),
                                          s)
                    self.assertLess(time.monotonic() - t0, 5)
                    for c in (idle, partial):
                        c.close()
                    dl.close()
                    self.assertFalse(process_tree(s.pid)[1:])
                    self.assertClean(s)


CONF = 'add_header X-Gen "%s";\n'


class TestReload(ModeCase):
    def start_conf(self, mode, gen="1"):
        self.write("tw.conf", CONF % gen)
        self.pidfile = self.p("tw.pid")
        self.errlog = self.p("error.log")
        return self.start(*self.mode_args(mode), "-c", self.p("tw.conf"),
                          "--pidfile", self.pidfile,
                          "--error-log", self.errlog)

    def hup(self, mode, s, expect_change=True):
        """HUP the current server; in epoll/threads wait until the new
        process has taken over (and the old one has gone). Returns the
        current pid."""
        pid = read_pid(self.pidfile)
        self.assertIsNotNone(pid, "no pid in the pidfile")
        os.kill(pid, signal.SIGHUP)
        if mode == "prefork" or not expect_change:
            return pid
        new = wait_until(lambda: read_pid(self.pidfile) != pid and
                       read_pid(self.pidfile), 5)
        self.assertTrue(new, "%s: the pidfile still holds %d after HUP"
                        % (mode, pid))
        self.assertNotEqual(new, pid)
        if pid == s.pid:
            rc = s.wait_exit(10)
        else:
            rc = reap(pid, 10)
            self.extra_pids.append(pid)
        # Reparented to this process, the subreaper, once its parent
        # has gone: its exit status is ours to read, and it must be 0.
        self.assertEqual(rc, 0 if _mod["subreaper"] else "gone",
                         "the old process (%d) after HUP" % pid)
        self.extra_pids.append(new)
        # Until the new process has its signal handling in place, a
        # signal could still kill it; give it a moment.
        time.sleep(0.1)
        return new

    def errlog_text(self):
        try:
            with open(self.errlog) as f:
                return f.read()
        except OSError:
            return ""

    def reload_case(self, mode):
        s = self.start_conf(mode)
        pid0 = s.pid
        self.assertEqual(read_pid(self.pidfile), pid0)
        self.assertEqual(gen_of(s.port), "1")
        workers0 = set(children(pid0)) if mode == "prefork" else set()
        self.write("tw.conf", CONF % "2")
        pid = self.hup(mode, s)
        self.assertTrue(wait_until(lambda: gen_of(s.port) == "2", 5),
                        "%s: X-Gen is %r after HUP" % (mode, gen_of(s.port)))
        if mode == "prefork":
            self.assertEqual(pid, pid0, "the master changed")
            w = wait_until(lambda: len(children(pid0)) == 2 and
                         not set(children(pid0)) & workers0, 5)
            self.assertTrue(w, "old workers %r, now %r" % (
                workers0, children(pid0)))
        else:
            self.assertNotEqual(pid, pid0)
            self.assertTrue(alive(pid))
        workers1 = set(children(pid))
        # A broken file: one error, nothing changes.
        self.write("tw.conf", "bogus_directive on;\n" + CONF % "3")
        self.hup(mode, s, expect_change=False)
        logged = wait_until(lambda: re.search(r"reload failed",
                                            self.errlog_text()), 3)
        self.assertTrue(logged, "no reload error in the error log:\n"
                        + self.errlog_text())
        time.sleep(0.3)
        self.assertEqual(read_pid(self.pidfile), pid, "the pid changed")
        self.assertTrue(alive(pid))
        for _ in range(4):
            self.assertEqual(gen_of(s.port), "2")
        self.assertEqual(set(children(pid)), workers1,
                         "workers changed on a failed reload")
        self.assertEqual(len(re.findall("reload failed", self.errlog_text())),
                         1, self.errlog_text())
        if pid == s.pid:
            s.stop()
        else:
            self.stop_pid(pid)
        self.assertFalse(os.path.exists(self.pidfile),
                         "the pidfile outlived the server")
        self.assertClean(s)

    def test_reload_epoll(self):
        self.reload_case("epoll")

    def test_reload_prefork(self):
        self.reload_case("prefork")

    def test_reload_threads(self):
        self.reload_case("threads")

    def reload_under_load(self, mode):
        s = self.start_conf(mode)
        load = Load(s.port).start()
        time.sleep(0.3)
        self.write("tw.conf", CONF % "2")
        self.hup(mode, s)
        self.assertTrue(wait_until(lambda: gen_of(s.port) == "2", 5))
        time.sleep(0.3)
        self.write("tw.conf", "no_such_directive 1;\n")
        self.hup(mode, s, expect_change=False)
        time.sleep(0.3)
        self.write("tw.conf", CONF % "3")
        pid = self.hup(mode, s)
        self.assertTrue(wait_until(lambda: gen_of(s.port) == "3", 5))
        time.sleep(0.3)
        self.assertTrue(load.finish(), "load threads hung")
        self.assertEqual(load.failures, [], "%d failed of %d (%d retried "
                         "keep-alive)" % (len(load.failures),
                                          load.count + len(load.failures),
                                          load.retries))
        self.assertGreaterEqual(load.count, 1800)
        self.assertTrue({"1", "3"} <= load.gens, load.gens)
        self.assertIn("reload failed", self.errlog_text())
        if pid == s.pid:
            s.stop()
        else:
            self.stop_pid(pid)
        self.assertClean(s)

    def test_reload_under_load_prefork(self):
        self.reload_under_load("prefork")

    def test_reload_under_load_epoll(self):
        self.reload_under_load("epoll")


class TestUpgrade(ModeCase):
    def test_usr2_upgrade_prefork_under_load(self):
        pidfile = self.p("tw.pid")
        s = self.start("-m", "prefork", "-w", "2", "--pidfile", pidfile)
        old_workers = wait_until(lambda: len(children(s.pid)) == 2 and
                               children(s.pid), 3)
        self.assertTrue(old_workers)
        load = Load(s.port).start()
        time.sleep(0.3)
        s.send_signal(signal.SIGUSR2)
        new = wait_until(lambda: read_pid(pidfile) not in (None, s.pid) and
                       read_pid(pidfile), 5)
        self.assertTrue(new, "the pidfile still holds the old master")
        self.extra_pids.append(new)
        self.assertEqual(proc_ppid(new), s.pid,
                         "the new master is not the old one's child")
        self.assertEqual(read_pid(pidfile + ".oldbin"), s.pid)
        new_workers = wait_until(lambda: len([p for p in children(new)
                                            if p != new]) == 2 and
                               children(new), 5)
        self.assertTrue(new_workers, "the new master has no workers")
        # Both generations run side by side.
        self.assertTrue(all(alive(p) for p in old_workers + [s.pid]))
        time.sleep(0.3)
        s.send_signal(signal.SIGQUIT)
        rc = s.wait_exit(10)
        self.assertStatusCode(rc, 0, "old master after QUIT", s)
        time.sleep(0.3)
        self.assertTrue(load.finish(), "load threads hung")
        self.assertEqual(load.failures, [], "%d failed of %d (%d retried "
                         "keep-alive)" % (len(load.failures),
                                          load.count + len(load.failures),
                                          load.retries))
        self.assertGreaterEqual(load.count, 1800)
        self.assertEqual(read_pid(pidfile), new)
        self.assertFalse(os.path.exists(pidfile + ".oldbin"))
        for p in old_workers:
            self.assertFalse(alive(p), "old worker %d still runs" % p)
        self.assertTrue(alive(new))
        for _ in range(4):
            self.assertEqual(fetch(s.port)[2], SMALL)
        self.stop_pid(new)
        for p in new_workers:
            self.assertFalse(alive(p), "new worker %d outlived its master"
                             % p)
        self.assertFalse(os.path.exists(pidfile))
        self.assertClean(s)


class TestReopen(ModeCase):
    def test_usr1_reopens_access_log(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                log = self.p("access-%s.log" % mode)
                s = self.start(*self.mode_args(mode), "--access-log", log)

                def logged(path, marker):
                    try:
                        with open(path) as f:
                            return marker in f.read()
                    except OSError:
                        return False

                fetch(s.port, "/small.txt?before")
                self.assertTrue(wait_until(lambda: logged(log, "?before"), 3),
                                "%s: nothing in the access log" % mode)
                os.rename(log, log + ".1")
                s.send_signal(signal.SIGUSR1)
                k = [0]

                def reopened():
                    k[0] += 1
                    fetch(s.port, "/small.txt?probe%d" % k[0])
                    return logged(log, "?probe%d" % k[0])

                self.assertTrue(wait_until(reopened, 3, 0.05),
                                "%s: no new file after USR1" % mode)
                time.sleep(0.1)
                for i in range(6):
                    fetch(s.port, "/small.txt?after%d" % i)
                for i in range(6):
                    self.assertTrue(wait_until(
                        lambda: logged(log, "?after%d " % i), 2),
                        "%s: request %d not in the new file" % (mode, i))
                    self.assertFalse(logged(log + ".1", "?after%d " % i),
                                     "%s: logged to the old file" % mode)
                self.assertTrue(logged(log + ".1", "?before"))
                s.stop()
                self.assertClean(s)


if __name__ == "__main__":
    unittest.main()
