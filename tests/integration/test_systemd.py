# SPDX-License-Identifier: MIT
"""Running under systemd, tested without a running systemd (issue 16).

- The shipped units (dist/systemd) pass `systemd-analyze verify` and carry
  the hardening the issue lists; a broken copy is caught, so the check can
  fail.
- sd_notify: a python AF_UNIX datagram socket stands in for systemd's
  NOTIFY_SOCKET (a path, and an abstract "@name") and records every
  message with its sender's pid (SO_PASSCRED). Through start, a reload, a
  reload of a broken file, a USR2 upgrade and a graceful stop, in every
  mode, the messages come in the order systemd expects, each from the
  process systemd watches at that moment (NotifyAccess=main): READY=1,
  RELOADING=1 with MONOTONIC_USEC, READY=1 (with MAINPID= of the new
  process where a new process took over), STOPPING=1, and WATCHDOG=1 from
  whichever process is the main one.
- Socket activation with `systemd-socket-activate` (Debian's systemd
  package): the server started on the first connection serves it on the
  passed socket in every mode, and HUP and USR2 keep serving on that same
  socket (the same inode); a passed socket no listen line names is an
  error naming it; a listen line without a passed socket is bound.
- `health PATH`: 200 while serving, 503 on a connection that asks once
  the graceful stop began (STOPPING=1 heard on the notify socket), in
  every mode.

These tests pick their modes themselves ($TINYWEB_MODE_ARGS is ignored).
Processes that outlive the one started here (a reload's, an upgrade's) are
reaped through PR_SET_CHILD_SUBREAPER, as in test_modes.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness
from harness import (Conn, alive, get, free_port, read_pid, reap, start,
                     unique_tmpdir, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
UNITS = os.path.join(REPO, "dist", "systemd")
MODES = ("epoll", "prefork", "threads")
BODY = b"hello from a socket systemd holds\n"
PR_SET_CHILD_SUBREAPER = 36
# Pings every 0.5 s: fast enough to see, slow enough that the first ping
# of a process that takes over comes after its MAINPID= hand-over.
WATCHDOG_USEC = "1000000"

_mod = {}


def setUpModule():
    tmp = unique_tmpdir("tinyweb-systemd-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    with open(os.path.join(root, "a.txt"), "wb") as f:
        f.write(BODY)
    _mod.update(tmp=tmp, root=root)
    libc = ctypes.CDLL(None, use_errno=True)
    _mod["libc"] = libc
    _mod["subreaper"] = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def tearDownModule():
    for p in harness.kill_naming(_mod["tmp"]):
        reap(p, 2)
    if _mod.get("subreaper"):
        _mod["libc"].prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    shutil.rmtree(_mod["tmp"], ignore_errors=True)


def socket_inodes(pid):
    """The inodes of the sockets pid holds."""
    out = set()
    d = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(d):
            try:
                m = re.match(r"socket:\[(\d+)\]", os.readlink(d + "/" + fd))
            except OSError:
                continue
            if m:
                out.add(int(m.group(1)))
    except OSError:
        pass
    return out


def listening_inode(port):
    """The inode of the socket listening on 127.0.0.1:port (/proc/net/tcp),
    or None."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1] == want and parts[3] == "0A":
                return int(parts[9])
    return None


def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class Notify:
    """systemd's side of sd_notify: an AF_UNIX datagram socket recording
    (sender pid, {KEY: VALUE}) for every message, in order."""

    def __init__(self, path=None, abstract=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract is not None:
            self.sock.bind("\0" + abstract)
            self.address = "@" + abstract
        else:
            self.sock.bind(path)
            self.address = path
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.msgs = []
        self.raw = []
        self._lock = threading.Lock()
        self._stop = False
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        space = socket.CMSG_SPACE(struct.calcsize("iII"))
        while not self._stop:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, space)
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata)[0]
            text = data.decode("utf-8", "replace")
            fields = dict(l.split("=", 1) for l in text.split("\n") if l)
            with self._lock:
                self.msgs.append((pid, fields))
                self.raw.append(text)

    def env(self, **extra):
        e = dict(os.environ, NOTIFY_SOCKET=self.address)
        e.update(extra)
        return e

    def all(self):
        with self._lock:
            return list(self.msgs)

    def wait_for(self, pred, start=0, timeout=10.0):
        """The index of the first message from index start on that
        satisfies pred(pid, fields), or None after timeout."""
        def find():
            for i, (pid, f) in enumerate(self.all()[start:], start):
                if pred(pid, f):
                    return [i]      # true even for index 0
            return None
        found = wait_until(find, timeout)
        return found[0] if found else None

    def close(self):
        self._stop = True
        self._t.join(2)
        self.sock.close()


class SystemdCase(unittest.TestCase):
    def setUp(self):
        self.dir = unique_tmpdir("tinyweb-systemd-t-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.pids = []     # server processes to be gone at the end
        self.addCleanup(self.kill_left)

    def kill_left(self):
        for p in self.pids:
            if alive(p):
                os.kill(p, signal.SIGKILL)
            reap(p, 2)

    def p(self, name):
        return os.path.join(self.dir, name)

    def notify(self, abstract=False):
        if abstract:
            n = Notify(abstract="tinyweb-test-%d-%s" % (
                os.getpid(), os.path.basename(self.dir)))
        else:
            n = Notify(path=self.p("notify.sock"))
        self.addCleanup(n.close)
        return n

    def wait_gone(self, pid, what):
        rc = reap(pid, 15)
        self.assertIsNotNone(rc, "%s (pid %d) did not exit" % (what, pid))
        if rc != "gone":
            self.assertEqual(rc, 0, "%s (pid %d) exit status" % (what, pid))

    def assertServes(self, port):
        r = get(port, "/a.txt")
        self.assertEqual((r.status, r.body), (200, BODY))


class TestUnits(SystemdCase):
    """The units as `make install` writes them (@BINDIR@ filled in)."""

    def write_units(self, service_text=None):
        d = self.p("units")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(UNITS, "tinyweb.service.in")) as f:
            text = f.read()
        text = text.replace("@BINDIR@", os.path.dirname(
            os.path.abspath(harness.BIN)))
        # The asan binary, where that is the one under test.
        text = text.replace("/tinyweb serve", "/%s serve" %
                            os.path.basename(harness.BIN))
        if service_text is not None:
            text = service_text(text)
        with open(os.path.join(d, "tinyweb.service"), "w") as f:
            f.write(text)
        shutil.copy(os.path.join(UNITS, "tinyweb.socket"), d)
        return [os.path.join(d, "tinyweb.service"),
                os.path.join(d, "tinyweb.socket")]

    def verify(self, units):
        exe = shutil.which("systemd-analyze")
        if exe is None:
            self.skipTest("systemd-analyze not installed (Debian's systemd "
                          "package; scripts/deps.sh installs it)")
        r = subprocess.run([exe, "verify", "--man=no"] + units,
                           capture_output=True, text=True, timeout=60)
        if "Failed to" in r.stderr and "bus" in r.stderr.lower():
            self.skipTest("systemd-analyze cannot run here: %s" % r.stderr)
        return r

    def test_units_verify_clean(self):
        r = self.verify(self.write_units())
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_verify_catches_a_broken_unit(self):
        r = self.verify(self.write_units(
            lambda t: t.replace("Type=notify", "Type=notifyy")))
        self.assertIn("notifyy", r.stdout + r.stderr)

    def test_service_has_the_hardening(self):
        with open(os.path.join(UNITS, "tinyweb.service.in")) as f:
            lines = set(l.strip() for l in f if not l.startswith("#"))
        for want in ("Type=notify", "NotifyAccess=main",
                     "ExecReload=/bin/kill -HUP $MAINPID",
                     "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ProtectHome=yes", "PrivateTmp=yes",
                     "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX "
                     "AF_NETLINK",
                     "ReadOnlyPaths=-/srv/www", "LogsDirectory=tinyweb",
                     "KillSignal=SIGQUIT"):
            self.assertIn(want, lines)
        with open(os.path.join(UNITS, "tinyweb.socket")) as f:
            text = f.read()
        self.assertIn("ListenStream=0.0.0.0:80", text)


class TestNotify(SystemdCase):
    """Every message, in order, from start to stop."""

    def conf(self, text):
        path = self.p("tw.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def sequence(self, mode, abstract=False):
        n = self.notify(abstract)
        pidfile = self.p("tw.pid")
        conf = self.conf("root %s;\n" % _mod["root"])
        s = start(_mod["root"], "-m", mode, "-w", "2", "-c", conf,
                  "--pidfile", pidfile, modes=False,
                  env=n.env(WATCHDOG_USEC=WATCHDOG_USEC))
        self.pids.append(s.pid)
        p0 = s.pid
        self.assertIsNotNone(n.wait_for(lambda pid, f: "READY" in f))
        self.assertServes(s.port)
        # A watchdog ping from the first process.
        self.assertIsNotNone(n.wait_for(
            lambda pid, f: "WATCHDOG" in f and pid == p0))

        # A good reload: RELOADING=1, then READY=1 once the new
        # configuration serves.
        before = monotonic_usec()
        mark = len(n.all())
        os.kill(p0, signal.SIGHUP)
        i = n.wait_for(lambda pid, f: "READY" in f, mark)
        after = monotonic_usec()
        self.assertIsNotNone(i, "no READY=1 after the reload: %r"
                             % n.all()[mark:])
        m2 = int(n.all()[i][1].get("MAINPID", p0))
        if mode == "prefork":
            self.assertEqual(m2, p0, "prefork reloads in its master")
        else:
            self.assertNotEqual(m2, p0, "%s reloads into a new process"
                                % mode)
            self.pids.append(m2)
            self.assertEqual(read_pid(pidfile), m2)
            self.wait_gone(p0, "the process that reloaded")
        self.assertServes(s.port)
        self.assertIsNotNone(n.wait_for(
            lambda pid, f: "WATCHDOG" in f and pid == m2, i))

        # A broken file: RELOADING=1 and READY=1 all the same, saying so.
        self.conf("root %s;\nno_such_directive 1;\n" % _mod["root"])
        mark = len(n.all())
        os.kill(m2, signal.SIGHUP)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "READY" in f, mark))
        self.assertServes(s.port)
        self.conf("root %s;\n" % _mod["root"])

        # USR2: the new binary takes over as MAINPID; the old one, QUIT,
        # says nothing more (a STOPPING=1 from it would stop the service).
        mark = len(n.all())
        os.kill(m2, signal.SIGUSR2)
        i = n.wait_for(lambda pid, f: "MAINPID" in f, mark)
        self.assertIsNotNone(i, "no MAINPID= after USR2: %r" % n.all()[mark:])
        m3 = int(n.all()[i][1]["MAINPID"])
        self.pids.append(m3)
        self.assertNotIn(m3, (p0, m2))
        self.assertTrue(wait_until(lambda: read_pid(pidfile) == m3, 5))
        os.kill(m2, signal.SIGQUIT)
        self.wait_gone(m2, "the upgraded-from process")
        self.assertServes(s.port)
        self.assertIsNotNone(n.wait_for(
            lambda pid, f: "WATCHDOG" in f and pid == m3, i))

        os.kill(m3, signal.SIGQUIT)
        self.wait_gone(m3, "the last process")
        if s.alive():
            s.wait_exit(5)
        msgs = n.all()
        err = s.stderr_text()
        self.assertIsNone(harness.SANITIZER_RE.search(err), err)

        # Each message came from the process systemd watched then.
        main = p0
        for pid, f in msgs:
            self.assertEqual(pid, main, "message %r from pid %s while "
                             "MAINPID is %d" % (f, pid, main))
            if "MAINPID" in f:
                main = int(f["MAINPID"])
        self.assertEqual(main, m3)

        # The order, watchdog pings aside.
        seq = [f for pid, f in msgs if "WATCHDOG" not in f]
        kinds = [next(k for k in ("READY", "RELOADING", "STOPPING")
                      if k in f) for f in seq]
        self.assertEqual(kinds, ["READY", "RELOADING", "READY",
                                 "RELOADING", "READY", "READY",
                                 "STOPPING"], seq)
        for f in seq:
            for k in ("READY", "RELOADING", "STOPPING"):
                if k in f:
                    self.assertEqual(f[k], "1")
        self.assertEqual(seq[0]["MAINPID"], str(p0))
        workers = "2 workers" if mode != "epoll" else "1 worker"
        self.assertEqual(seq[0]["STATUS"], "serving http://127.0.0.1:%d/ "
                         "(%s, %s)" % (s.port, mode, workers))
        self.assertTrue(before <= int(seq[1]["MONOTONIC_USEC"]) <= after,
                        (before, seq[1], after))
        if mode == "prefork":
            self.assertEqual(seq[2]["STATUS"], seq[0]["STATUS"])
        else:
            self.assertEqual(seq[2]["MAINPID"], str(m2))
        self.assertIn("MONOTONIC_USEC", seq[3])
        self.assertIn("reload failed", seq[4]["STATUS"])
        self.assertEqual(seq[5]["MAINPID"], str(m3))
        self.assertIn("STATUS", seq[6])
        self.assertNotIn("MAINPID", seq[6])

    def test_sequence_epoll(self):
        self.sequence("epoll")

    def test_sequence_prefork(self):
        self.sequence("prefork")

    def test_sequence_threads(self):
        self.sequence("threads")

    def test_abstract_socket_name(self):
        n = self.notify(abstract=True)
        s = start(_mod["root"], modes=False, env=n.env())
        self.pids.append(s.pid)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "READY" in f))
        s.stop(signal.SIGTERM)
        i = n.wait_for(lambda pid, f: "STOPPING" in f)
        self.assertIsNotNone(i, n.all())
        self.assertEqual(n.all()[i][1]["STATUS"], "stopping")
        self.assertEqual({pid for pid, f in n.all()}, {s.pid})

    def test_watchdog_of_another_pid_is_not_ours(self):
        n = self.notify()
        s = start(_mod["root"], modes=False,
                  env=n.env(WATCHDOG_USEC="20000", WATCHDOG_PID="1"))
        self.pids.append(s.pid)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "READY" in f))
        # Pings every 10 ms were it ours: many requests' worth of loop
        # turns later, none came.
        for _ in range(20):
            self.assertServes(s.port)
        s.stop(signal.SIGTERM)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "STOPPING" in f))
        self.assertEqual([f for pid, f in n.all() if "WATCHDOG" in f], [])


class TestSocketActivation(SystemdCase):
    """systemd-socket-activate binds, waits for the first connection, then
    execs tinyweb with LISTEN_FDS."""

    def activate(self, nports, names, args, env=None):
        """Start systemd-socket-activate on nports free ports of 127.0.0.1
        and tinyweb serve ROOT -q args(ports) behind it. Returns (process,
        its stderr lines so far and to come, ports). A port taken between
        free_port() and the bind (the machine is shared) means new ports."""
        exe = shutil.which("systemd-socket-activate")
        if exe is None:
            self.skipTest("systemd-socket-activate not installed (Debian's "
                          "systemd package; scripts/deps.sh installs it)")
        for attempt in range(5):
            ports = []
            while len(ports) < nports:
                port = free_port()
                if port not in ports:
                    ports.append(port)
            cmd = [exe]
            for port in ports:
                cmd += ["-l", "127.0.0.1:%d" % port]
            cmd += ["--fdname=" + ":".join(names)]
            # It passes on only what -E names (and TERM, PATH, USER,
            # HOME).
            for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
                if k in os.environ:
                    cmd += ["-E", "%s=%s" % (k, os.environ[k])]
            for k, v in (env or {}).items():
                cmd += ["-E", "%s=%s" % (k, v)]
            cmd += [harness.BIN, "serve", _mod["root"], "-q"] + \
                list(args(ports))
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            self.pids.append(p.pid)
            lines = []

            def read(p=p, lines=lines):
                for line in iter(p.stderr.readline, b""):
                    lines.append(line.decode("utf-8", "replace"))
            t = threading.Thread(target=read, daemon=True)
            t.start()
            self.addCleanup(t.join, 2)
            if wait_until(lambda: sum("Listening on" in l for l in lines)
                          == nports or p.poll() is not None, 10) and \
                    p.poll() is None:
                return p, lines, ports
            if p.poll() is None:
                p.kill()
            p.wait()
        self.fail("systemd-socket-activate did not listen: %r" % lines)

    def test_serves_on_the_passed_socket_across_hup_and_usr2(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                self.serve_activated(mode)

    def serve_activated(self, mode):
        pidfile = self.p("tw-%s.pid" % mode)
        n = Notify(path=self.p("notify-%s.sock" % mode))
        self.addCleanup(n.close)
        p, lines, (port,) = self.activate(
            1, ["web"], lambda ports: ["-b", "127.0.0.1", "-p",
                                       str(ports[0]), "-m", mode, "-w", "2",
                                       "--pidfile", pidfile],
            env={"NOTIFY_SOCKET": n.address})
        inode = listening_inode(port)
        self.assertIsNotNone(inode)
        # The first connection starts the server, which answers it.
        self.assertServes(port)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "READY" in f))
        self.assertIn(inode, socket_inodes(p.pid))
        self.assertEqual(listening_inode(port), inode)

        os.kill(p.pid, signal.SIGHUP)
        main = p.pid
        if mode != "prefork":
            self.assertTrue(wait_until(lambda: read_pid(pidfile) not in
                                       (None, p.pid), 10))
            main = read_pid(pidfile)
            self.pids.append(main)
            self.wait_gone(p.pid, "the process that reloaded")
        else:
            self.assertIsNotNone(n.wait_for(
                lambda pid, f: "RELOADING" in f))
        self.assertServes(port)
        self.assertIn(inode, socket_inodes(main))
        self.assertEqual(listening_inode(port), inode)

        os.kill(main, signal.SIGUSR2)
        self.assertTrue(wait_until(lambda: read_pid(pidfile) not in
                                   (None, main), 10))
        new = read_pid(pidfile)
        self.pids.append(new)
        os.kill(main, signal.SIGQUIT)
        self.wait_gone(main, "the upgraded-from process")
        self.assertServes(port)
        self.assertIn(inode, socket_inodes(new))
        self.assertEqual(listening_inode(port), inode)
        os.kill(new, signal.SIGQUIT)
        self.wait_gone(new, "the last process")
        err = "".join(lines)
        self.assertIsNone(harness.SANITIZER_RE.search(err), err)
        self.assertNotIn("[error]", err)

    def test_unmatched_passed_socket_is_an_error_naming_it(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                p, lines, (port, other) = self.activate(
                    2, ["web", "extra"],
                    lambda ports: ["-b", "127.0.0.1", "-p", str(ports[0]),
                                   "-m", mode])
                try:
                    socket.create_connection(("127.0.0.1", port), 3).close()
                except OSError:
                    pass
                self.assertEqual(p.wait(10), 1)
                self.assertTrue(wait_until(lambda: any(
                    "tinyweb: socket" in l for l in lines), 3), lines)
                msg = [l for l in lines if l.startswith("tinyweb: ")]
                self.assertEqual(msg, [
                    "tinyweb: socket 4 'extra' passed by the service "
                    "manager (LISTEN_FDS) is bound to "
                    "http://127.0.0.1:%d/, which no listen line names\n"
                    % other])

    def test_listen_line_without_a_passed_socket_is_bound(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                more = free_port()
                p, lines, (port,) = self.activate(
                    1, ["web"],
                    lambda ports: ["-b", "127.0.0.1", "-p", str(ports[0]),
                                   "--listen", "127.0.0.1:%d" % more,
                                   "-m", mode, "-w", "2"])
                self.assertServes(port)
                self.assertServes(more)
                self.assertEqual(len(socket_inodes(p.pid) &
                                     {listening_inode(port),
                                      listening_inode(more)}), 2)
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(10), 0)


class TestHealth(SystemdCase):
    """200 while serving; 503 once the graceful stop began."""

    def check(self, mode):
        n = self.notify()
        s = start(_mod["root"], "-m", mode, "-w", "2", "--health",
                  "/health", modes=False, env=n.env())
        self.pids.append(s.pid)
        r = get(s.port, "/health")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(get(s.port, "/health?from=lb").status, 200)
        self.assertEqual(get(s.port, "/healthz").status, 404)
        self.assertEqual(get(s.port, "/a.txt").body, BODY)
        # Keep-alive connections, one per worker at least, each asked
        # once before the stop.
        conns = [Conn(s.port) for _ in range(4)]
        for c in conns:
            r = c.request("GET", "/health")
            self.assertEqual(r.status, 200)
            self.assertFalse(r.closes())
        s.send_signal(signal.SIGQUIT)
        self.assertIsNotNone(n.wait_for(lambda pid, f: "STOPPING" in f))
        for c in conns:
            r = c.request("GET", "/health")
            self.assertEqual((r.status, r.body), (503, b"draining\n"))
            self.assertTrue(r.closes())
            c.close()
        self.assertEqual(s.wait_exit(10), 0)
        err = s.stderr_text()
        self.assertIsNone(harness.SANITIZER_RE.search(err), err)

    def test_health_epoll(self):
        self.check("epoll")

    def test_health_in_every_server_and_location(self):
        conf = self.p("scopes.conf")
        with open(conf, "w") as f:
            f.write("server { server_name a.example; root %s;\n"
                    "  location / { return 403; }\n"
                    "  location = /health { return 410; } }\n"
                    "server { server_name b.example; root %s; }\n"
                    % (_mod["root"], _mod["root"]))
        s = start(_mod["root"], "-c", conf, "--health", "/health",
                  modes=False)
        self.pids.append(s.pid)
        for host in ("a.example", "b.example", "other.example"):
            r = get(s.port, "/health", [("Host", host)])
            self.assertEqual((r.status, r.body), (200, b"ok\n"), host)
        self.assertEqual(get(s.port, "/a.txt",
                             [("Host", "a.example")]).status, 403)
        self.assertEqual(get(s.port, "/a.txt",
                             [("Host", "b.example")]).body, BODY)
        s.stop()

    def test_health_prefork(self):
        self.check("prefork")

    def test_health_threads(self):
        self.check("threads")


if __name__ == "__main__":
    unittest.main()
