# SPDX-License-Identifier: MIT
"""Reloads, upgrades and a graceful stop lose no keep-alive request
(issue 11): a client that never retries keeps requests going on 24
keep-alive connections through five HUP reloads, a USR2 upgrade followed by
QUIT to the old process, and a final QUIT, in each run mode (and with a
SO_REUSEPORT socket per worker in prefork and threads). Every request
sent on a connection opened before the final QUIT must get a complete 200
answer; a `Connection: close` answer makes the client open a new connection
for its next request (what the server asked, not a retry).

The old generation drains: a request arriving on a connection it holds is
answered with `Connection: close`; only a connection idle for the grace
(2 s, or the keep-alive or header timeout if shorter) is closed unasked.

These tests pick their modes themselves, so $TINYWEB_MODE_ARGS is ignored.
Processes that outlive the one the harness started are found through the
pidfile; the test process becomes a child subreaper so that they are
reparented to it and their exit status can be read.
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import threading
import time
import unittest

import harness
from harness import alive, proc_ppid, read_pid, reap, start, unique_tmpdir, \
    wait_until

MODES = ("epoll", "prefork", "threads")
BODY = b"drain test body\n" * 8
CONNS = 24
PR_SET_CHILD_SUBREAPER = 36

_mod = {}


def setUpModule():
    tmp = unique_tmpdir("tinyweb-drain-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    with open(os.path.join(root, "a.txt"), "wb") as f:
        f.write(BODY)
    _mod.update(tmp=tmp, root=root, subreaper=False)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _mod["subreaper"] = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0,
                                       0) == 0
        _mod["libc"] = libc
    except OSError:
        pass


def tearDownModule():
    if _mod.get("subreaper"):
        _mod["libc"].prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    shutil.rmtree(_mod["tmp"], ignore_errors=True)


def children(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return [c for c in out if alive(c)]


class Response(Exception):
    """A request that did not get its complete 200 answer."""


def read_response(sock, buf):
    """One response from sock (buf: bytes already read). Returns
    (status, closes, rest). Raises Response or OSError."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise Response("EOF after %d bytes of the head" % len(buf))
        buf += data
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    length, closes = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closes = b"close" in value
    if length is None:
        raise Response("no Content-Length: %r" % lines[0])
    while len(buf) < length:
        data = sock.recv(65536)
        if not data:
            raise Response("EOF after %d of %d body bytes"
                           % (len(buf), length))
        buf += data
    body, buf = buf[:length], buf[length:]
    if status != 200 or body != BODY:
        raise Response("status %d, %d body bytes" % (status, len(body)))
    return status, closes, buf


class Load:
    """CONNS client threads, each sending GET after GET on one connection
    and never retrying: a request that gets no complete 200 answer is a
    failure. After a `Connection: close` answer the next request goes on a
    new connection, which first waits a moment before its first byte (a
    connection whose request is still on its way). Once quit() is called,
    a thread opens no new connection and stops when its connection ends;
    a connection established after quit() does not count, one established
    before does, even if the server had not accepted it yet."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.phase = "start"
        self.quit_at = None
        self.ok = 0
        self.closes = 0
        self.failures = []	# (phase, text)
        self.late = 0		# failures on connections opened after QUIT
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True)
                        for i in range(CONNS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def quit(self):
        self.quit_at = time.monotonic()

    def _fail(self, opened, what):
        with self.lock:
            if self.quit_at is not None and opened >= self.quit_at:
                self.late += 1
            else:
                self.failures.append((self.phase, what))

    def _run(self, idx):
        rnd = random.Random(idx)
        while not self.stop_ev.is_set() and self.quit_at is None:
            try:
                sock = socket.create_connection(("127.0.0.1", self.port),
                                                timeout=5.0)
            except OSError as e:
                self._fail(time.monotonic(), "connect: %s" % e)
                time.sleep(0.05)
                continue
            # Connected (the kernel completed it) before QUIT was sent,
            # or the connection does not count.
            opened = time.monotonic()
            time.sleep(rnd.random() * 0.01)
            self._serve(sock, opened, rnd)
            sock.close()

    def _serve(self, sock, opened, rnd):
        buf = b""
        n = 0
        while not self.stop_ev.is_set():
            n += 1
            try:
                sock.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                _, closes, buf = read_response(sock, buf)
            except (OSError, Response) as e:
                self._fail(opened, "request %d on a connection: %s: %s"
                           % (n, type(e).__name__, e))
                return
            with self.lock:
                self.ok += 1
                self.closes += closes
            if closes:
                return
            # A little think time: idle keep-alive connections are
            # there when a drain begins (and the load stays modest).
            time.sleep(rnd.random() * 0.004)

    def finish(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        hung = any(t.is_alive() for t in self.threads)
        self.stop_ev.set()
        return not hung

    def report(self):
        by = {}
        for phase, _ in self.failures:
            by[phase] = by.get(phase, 0) + 1
        return "%d failed (%s) of %d; first: %s" % (
            len(self.failures), by, len(self.failures) + self.ok,
            self.failures[:3])


class TestDrain(unittest.TestCase):
    def setUp(self):
        self.dir = unique_tmpdir("tinyweb-drain-t-")
        self.server = None
        self.pids = set()

    def tearDown(self):
        for p in self.pids:
            if p != getattr(self.server, "pid", None) and alive(p):
                os.kill(p, signal.SIGKILL)
                reap(p, 2)
        if self.server is not None and self.server.alive():
            self.server.proc.kill()
            self.server.wait_exit(2)
        shutil.rmtree(self.dir, ignore_errors=True)

    def wait_gone(self, pid, what, timeout=10.0):
        """pid exits (with status 0 when it is ours to read)."""
        if pid == self.server.pid:
            rc = self.server.wait_exit(timeout)
        else:
            rc = reap(pid, timeout)
        self.assertIn(rc, (0, "gone") if not _mod["subreaper"] else (0,),
                      "%s: pid %d exit status %r" % (what, pid, rc))

    def hup(self, mode, pidfile):
        """Reload and wait until the new generation serves; returns the
        old process that drains (None in prefork: the master stays)."""
        pid = read_pid(pidfile)
        if mode == "prefork":
            before = set(children(pid))
            os.kill(pid, signal.SIGHUP)
            self.assertTrue(wait_until(
                lambda: len(set(children(pid)) - before) == 2, 5),
                "prefork: no new workers after HUP")
            return None
        os.kill(pid, signal.SIGHUP)
        new = wait_until(lambda: read_pid(pidfile) not in (None, pid) and
                         read_pid(pidfile), 5)
        self.assertTrue(new, "%s: no new process after HUP" % mode)
        self.pids.add(new)
        return pid

    def cycle(self, mode, *extra):
        pidfile = os.path.join(self.dir, "tw.pid")
        args = ("-m", "epoll") if mode == "epoll" else ("-m", mode, "-w", "2")
        args += extra
        self.server = start(_mod["root"], *args, "--pidfile", pidfile,
                            modes=False)
        self.pids.add(self.server.pid)
        load = Load(self.server.port).start()
        # A failure half-way must not leave the clients running.
        self.addCleanup(load.stop_ev.set)
        time.sleep(0.2)
        old = []
        for i in range(5):
            load.phase = "HUP %d" % (i + 1)
            pid = self.hup(mode, pidfile)
            if pid is not None:
                old.append(pid)
            time.sleep(0.2)
        # The upgrade: a new binary beside the old, then QUIT the old.
        load.phase = "USR2"
        pid = read_pid(pidfile)
        os.kill(pid, signal.SIGUSR2)
        new = wait_until(lambda: read_pid(pidfile) not in (None, pid) and
                         read_pid(pidfile), 5)
        self.assertTrue(new, "%s: no new process after USR2" % mode)
        self.pids.add(new)
        self.assertEqual(proc_ppid(new), pid)
        time.sleep(0.2)
        load.phase = "QUIT old"
        os.kill(pid, signal.SIGQUIT)
        self.wait_gone(pid, "%s: the old binary after QUIT" % mode)
        time.sleep(0.2)
        for p in old:
            self.wait_gone(p, "%s: an old generation after HUP" % mode)
        load.phase = "QUIT"
        served = load.ok
        load.quit()
        os.kill(new, signal.SIGQUIT)
        self.wait_gone(new, "%s: the server after QUIT" % mode)
        self.assertTrue(load.finish(), "%s: client threads hung" % mode)
        self.assertEqual(load.failures, [], "%s: %s" % (mode, load.report()))
        # The load ran throughout, and the drains told clients to close.
        self.assertGreater(served, 20 * CONNS, mode)
        self.assertGreater(load.closes, CONNS, mode)
        err = self.server.stderr_text()
        self.assertNotRegex(err, harness.SANITIZER_RE)

    def test_epoll(self):
        self.cycle("epoll")

    def test_prefork(self):
        self.cycle("prefork")

    def test_threads(self):
        self.cycle("threads")

    # A socket per worker: each new worker takes over the socket of the
    # one it replaces, with what queued on it.
    def test_prefork_reuseport(self):
        self.cycle("prefork", "--accept", "reuseport")

    def test_threads_reuseport(self):
        self.cycle("threads", "--accept", "reuseport")


if __name__ == "__main__":
    unittest.main()
