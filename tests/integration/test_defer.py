# SPDX-License-Identifier: MIT
"""Deferred accepts, and the FIN in the last response's segment.

By default (defer_accept on; --no-defer-accept turns it off) listeners
defer their accepts (TCP_DEFER_ACCEPT): the kernel hands a connection to
the server once its first bytes are in, a silent one after its wait
(about a second). What the kernel made of a connection is read from
/proc/net/tcp right after connect() returned, so no test waits on a
clock: the server's end is SYN_RECV while deferred and ESTABLISHED once
it may be accepted. Off, it is ESTABLISHED at once, and a reload applies
a change, in every mode and with prefork's reuseport siblings.

A deferred connection is the kernel's until it speaks, in no backlog for
a draining worker to take. So the final graceful stop (QUIT with nobody
to take the sockets over) keeps its listeners open for the drain's grace:
a client that connected before it and sends its request after it is
answered, in every mode. The kernel is asked whether it holds such a
client: with none the stop ends at once, and with deferral off the
listeners close at once too.

The last response on a connection (Connection: close, HTTP/1.0, the
keep-alive limit) leaves with the FIN in its final segment: a capture on
lo (AF_PACKET, needs root) shows the response's data segment carrying
the FIN and no FIN segment of its own. Bodies arrive whole that way in
every mode (from memory, by sendfile and copied), to slow readers too,
and clients that close early cost nothing."""

import os
import shutil
import signal
import socket
import struct
import time
import unittest

import harness
from harness import Conn, start, unique_tmpdir, wait_until

MODES = (
    ("epoll", ()),
    ("prefork", ("-m", "prefork", "-w", "2")),
    ("threads", ("-m", "threads", "-w", "2")),
)

FILES = {
    "1k.txt": 1024,          # with its head in one sendmsg
    "16k.txt": 16 * 1024,    # the largest file kept in memory
    "300k.bin": 300 * 1024,  # sendfile
    "3m.bin": 3 * 1024 * 1024,  # pread + send (auto: 2 MiB and up)
}

TCP_STATES = {"01": "ESTABLISHED", "03": "SYN_RECV"}


def body_of(name):
    size = FILES[name]
    return bytes((i * 7 + len(name)) & 0xFF for i in range(size))


def server_end(server_port, client_port):
    """The state of the server's end of the connection from client_port
    (/proc/net/tcp), or None if the kernel has none."""
    want_local = "0100007F:%04X" % server_port
    want_remote = "0100007F:%04X" % client_port
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            v = line.split()
            if v[1] == want_local and v[2] == want_remote:
                return TCP_STATES.get(v[3], v[3])
    return None


def silent_client(port):
    """A connection that sends nothing, and the kernel's word on the
    server's end of it, read as soon as connect() returned."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s, server_end(port, s.getsockname()[1])


class SiteCase(unittest.TestCase):
    """A root with the files of SITE (names of FILES), for the class."""
    SITE = ("1k.txt",)

    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        cls.root = os.path.join(cls.tmp, "root")
        os.makedirs(cls.root)
        for name in cls.SITE:
            with open(os.path.join(cls.root, name), "wb") as f:
                f.write(body_of(name))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class DeferCase(SiteCase):

    def check_deferred(self, port, n=1):
        """n silent clients wait in the kernel; one that speaks is
        served."""
        held = [silent_client(port) for _ in range(n)]
        try:
            for _, state in held:
                self.assertEqual(state, "SYN_RECV")
            with Conn(port, timeout=5) as c:
                r = c.request("GET", "/1k.txt")
                self.assertEqual(r.status, 200, r.describe())
        finally:
            for s, _ in held:
                s.close()

    def check_not_deferred(self, port, n=1):
        held = [silent_client(port) for _ in range(n)]
        try:
            for _, state in held:
                self.assertEqual(state, "ESTABLISHED")
        finally:
            for s, _ in held:
                s.close()

    def test_defers_in_every_mode(self):
        for mode, args in MODES:
            for on in ((), ("--defer-accept",)):
                with self.subTest(mode=mode, flags=on), \
                        start(self.root, *args, *on, modes=False) as srv:
                    self.check_deferred(srv.port)

    def test_reuseport_siblings_defer(self):
        # Eight clients: the kernel hashes them over both workers'
        # sockets.
        with start(self.root, "-m", "prefork", "-w", "2", "--accept",
                   "reuseport", modes=False) as srv:
            self.check_deferred(srv.port, n=8)
        with start(self.root, "-m", "prefork", "-w", "2", "--accept",
                   "reuseport", "--no-defer-accept", modes=False) as srv:
            self.check_not_deferred(srv.port, n=8)

    def test_off_takes_connections_at_once(self):
        for mode, args in MODES:
            with self.subTest(mode=mode), \
                    start(self.root, *args, "--no-defer-accept",
                          modes=False) as srv:
                self.check_not_deferred(srv.port)

    def test_silent_client_is_taken_after_the_wait(self):
        """The kernel hands a silent client over after its wait; the
        server then holds it like any other, answers it when it speaks."""
        with start(self.root, modes=False) as srv:
            s, state = silent_client(srv.port)
            with s:
                self.assertEqual(state, "SYN_RECV")
                port = s.getsockname()[1]
                self.assertTrue(wait_until(
                    lambda: server_end(srv.port, port) == "ESTABLISHED",
                    timeout=15), server_end(srv.port, port))
                c = Conn(srv.port, sock=s, timeout=5)
                r = c.request("GET", "/1k.txt")
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.body, body_of("1k.txt"))

    def test_reload_applies_a_change(self):
        for mode, args in MODES + (("prefork reuseport",
                                    ("-m", "prefork", "-w", "2",
                                     "--accept", "reuseport")),):
            with self.subTest(mode=mode):
                self.reload_case(args)

    def reload_case(self, args):
        conf = os.path.join(self.tmp, "defer.conf")
        pidfile = os.path.join(self.tmp, "defer.pid")

        def write(value):
            with open(conf + ".new", "w") as f:
                f.write("pidfile %s;\ndefer_accept %s;\n" % (pidfile, value))
            os.rename(conf + ".new", conf)

        def applied(want):
            """A new silent client's server end is in state want (one
            client per try: a reload takes its time)."""
            s, state = silent_client(srv.port)
            s.close()
            return state == want

        write("on")
        srv = start(self.root, "-c", conf, *args, modes=False)
        try:
            self.check_deferred(srv.port)
            write("off")
            os.kill(harness.read_pid(pidfile), signal.SIGHUP)
            self.assertTrue(wait_until(lambda: applied("ESTABLISHED"),
                                       timeout=15))
            self.check_not_deferred(srv.port, n=4)
            write("on")
            os.kill(harness.read_pid(pidfile), signal.SIGHUP)
            self.assertTrue(wait_until(lambda: applied("SYN_RECV"),
                                       timeout=15))
            self.check_deferred(srv.port, n=4)
        finally:
            pid = harness.read_pid(pidfile)
            if pid is not None and pid != srv.pid:
                # epoll and threads reload into a new process.
                os.kill(pid, signal.SIGTERM)
                harness.reap(pid)
            srv.stop()

    def test_config_prints_it(self):
        for flags, want in (((), "on"), (("--defer-accept",), "on"),
                            (("--no-defer-accept",), "off")):
            with self.subTest(flags=flags):
                r = harness.run([harness.BIN, "check-config", *flags])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("defer_accept %s;\n" % want, r.stdout)


def health(port):
    """The health path's status on a new connection, or None if there
    was no connection to ask on."""
    try:
        return harness.get(port, "/health", timeout=2).status
    except (OSError, harness.Incomplete):
        return None


class StopCase(SiteCase):
    """The final graceful stop, with clients the kernel still holds."""

    def test_final_stop_answers_clients_that_connected_before_it(self):
        for mode, args in MODES:
            with self.subTest(mode=mode):
                self.final_stop_case(args)

    def final_stop_case(self, args):
        srv = start(self.root, *args, "--health", "/health", modes=False)
        early, state = silent_client(srv.port)
        mute, _ = silent_client(srv.port)
        try:
            self.assertEqual(state, "SYN_RECV")
            srv.send_signal(signal.SIGQUIT)
            # The drain has begun once a new connection hears it: the
            # listeners are still open for the clients the kernel holds.
            self.assertTrue(wait_until(lambda: health(srv.port) == 503,
                                       timeout=5), srv.stderr_text())
            # Connected before the stop, speaking after it: answered,
            # and told the connection ends.
            c = Conn(srv.port, sock=early, timeout=5)
            r = c.request("GET", "/1k.txt")
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.body, body_of("1k.txt"))
            self.assertTrue(r.closes(), r.describe())
            # One that never speaks does not hold the stop up for good.
            self.assertEqual(srv.wait_exit(15), 0, srv.stderr_text())
        finally:
            early.close()
            mute.close()
            srv.stop()

    def test_final_stop_with_nobody_waiting_ends_at_once(self):
        for mode, args in MODES:
            with self.subTest(mode=mode):
                self.stop_at_once_case(args)

    def stop_at_once_case(self, args):
        srv = start(self.root, *args, modes=False)
        try:
            with Conn(srv.port, timeout=5) as c:
                self.assertEqual(c.request("GET", "/1k.txt").status, 200)
            t0 = time.monotonic()
            srv.send_signal(signal.SIGQUIT)
            self.assertEqual(srv.wait_exit(15), 0, srv.stderr_text())
            # The kernel holds no client that has yet to speak, so the
            # listeners close at once instead of after the grace (2 s).
            # A bound on a behaviour, not a speed: an idle stop takes
            # milliseconds.
            self.assertLess(time.monotonic() - t0, 1.5)
        finally:
            srv.stop()


# ---------------------------------------------------------------- the FIN

ETH_P_ALL = 3
PACKET_OUTGOING = 4
FIN, SYN, RST = 1, 2, 4


class Capture:
    """Every TCP segment of one connection on lo, from an AF_PACKET
    socket opened before the connection (each frame once: the outgoing
    copy)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("lo", 0))

    def close(self):
        self.sock.close()

    def segments(self, server_port, client_port):
        """[(from_server, payload_len, flags)] in order, for what was
        captured so far."""
        out = []
        self.sock.setblocking(False)
        while True:
            try:
                frame, addr = self.sock.recvfrom(1 << 17)
            except BlockingIOError:
                break
            if addr[2] != PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            if ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:]
            sport, dport = struct.unpack("!HH", tcp[:4])
            if {sport, dport} != {server_port, client_port}:
                continue
            out.append((sport == server_port,
                        total - ihl - (tcp[12] >> 4) * 4, tcp[13]))
        return out


def describe(segs):
    return ", ".join("%s %d%s" % ("s>c" if srv else "c>s", n,
                                  "".join(c for bit, c in ((SYN, "S"),
                                          (FIN, "F"), (RST, "R"))
                                          if fl & bit))
                     for srv, n, fl in segs)


class FinCase(SiteCase):
    @classmethod
    def setUpClass(cls):
        try:
            Capture().close()
        except PermissionError:
            raise unittest.SkipTest("capturing on lo needs root "
                                    "(CAP_NET_RAW)")
        super().setUpClass()

    def exchange(self, port, data):
        """Send data on a new connection, read to the server's close;
        what came and the server's segments with a payload or a FIN."""
        cap = Capture()
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            with s:
                cport = s.getsockname()[1]
                s.sendall(data)
                got = harness.read_until_close(s, 10)
            # The FIN came with the data or before EOF; the rest of the
            # close is the client's.
            segs = cap.segments(port, cport)
        finally:
            cap.close()
        return got, [(n, fl) for srv, n, fl in segs
                     if srv and (n > 0 or fl & FIN) and not fl & SYN]

    def check_fin_rides(self, port, data, statuses, methods=("GET",)):
        got, segs = self.exchange(port, data)
        rs = harness.parse_responses(got, methods)
        self.assertEqual([r.status for r in rs], statuses)
        self.assertTrue(segs, "nothing from the server")
        fins = [s for s in segs if s[1] & FIN]
        self.assertEqual(len(fins), 1, describe([(True,) + s for s in segs]))
        # The FIN is on the last data segment, not a segment of its own.
        self.assertGreater(segs[-1][0], 0,
                           describe([(True,) + s for s in segs]))
        self.assertTrue(segs[-1][1] & FIN)
        return rs

    def test_last_response_carries_the_fin(self):
        want = body_of("1k.txt")
        for mode, args in MODES:
            with self.subTest(mode=mode), \
                    start(self.root, *args, "--max-keepalive-requests", "2",
                          modes=False) as srv:
                rs = self.check_fin_rides(srv.port, harness.build(
                    "GET", "/1k.txt", [("Connection", "close")]), [200])
                self.assertEqual(rs[0].body, want)
                rs = self.check_fin_rides(srv.port, harness.build(
                    "GET", "/1k.txt", version="HTTP/1.0"), [200])
                self.assertEqual(rs[0].body, want)
                self.check_fin_rides(srv.port, harness.build(
                    "GET", "/none", [("Connection", "close")]), [404])
                self.check_fin_rides(srv.port, harness.build(
                    "HEAD", "/1k.txt", [("Connection", "close")]), [200],
                    ("HEAD",))
                # The keep-alive limit: the second response is the last.
                rs = self.check_fin_rides(
                    srv.port, harness.build("GET", "/1k.txt") * 2, [200, 200])
                self.assertEqual([r.body for r in rs], [want, want])

    def test_keepalive_response_is_not_held(self):
        """A response that is not the last goes out by itself: the
        client reads it while the connection stays open."""
        with start(self.root, modes=False) as srv:
            cap = Capture()
            try:
                with Conn(srv.port, timeout=5) as c:
                    r = c.request("GET", "/1k.txt")
                    self.assertEqual(r.status, 200)
                    cport = c.sock.getsockname()[1]
                    self.assertFalse(c.at_eof(0.2))
                    segs = cap.segments(srv.port, cport)
            finally:
                cap.close()
            fins = [s for s in segs if s[0] and s[2] & FIN]
            self.assertEqual(fins, [], describe(segs))


# ------------------------------------------------------ whole, every mode

class WholeCase(SiteCase):
    """Last responses by every body path arrive whole: normal and slow
    readers, clients that leave early; descriptors come back."""
    SITE = tuple(FILES)

    def fetch(self, port, name, slow=False, version="HTTP/1.1"):
        s = socket.socket()
        if slow:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        with s:
            hdrs = [] if version == "HTTP/1.0" else [("Connection", "close")]
            s.sendall(harness.build("GET", "/" + name, hdrs,
                                    version=version))
            data = b""
            while True:
                b = s.recv(4096 if slow else 65536)
                if not b:
                    break
                data += b
                if slow:
                    time.sleep(0.0005)
        rs = harness.parse_responses(data)
        self.assertEqual(len(rs), 1, data[:200])
        return rs[0]

    def test_bodies_whole_in_every_mode(self):
        for mode, args in MODES:
            with self.subTest(mode=mode), \
                    start(self.root, *args, modes=False) as srv:
                # Each worker's loops, pools and open-file caches are
                # made by the first requests: count from there.
                for name in FILES:
                    for _ in range(4):
                        self.fetch(srv.port, name)
                base = harness.fd_count(srv.pid)
                for name in FILES:
                    for slow in (False, True):
                        r = self.fetch(srv.port, name, slow=slow)
                        self.assertEqual(r.status, 200)
                        want = body_of(name)
                        self.assertTrue(r.body == want,
                                        "%s slow=%s: %d bytes, first "
                                        "difference at %d" % (
                                            name, slow, len(r.body),
                                            harness.first_diff(r.body,
                                                               want)))
                    r = self.fetch(srv.port, name, version="HTTP/1.0")
                    self.assertEqual(r.body, body_of(name))
                # Clients that read a little and leave.
                for name in FILES:
                    for _ in range(5):
                        s = socket.create_connection(("127.0.0.1", srv.port),
                                                     timeout=5)
                        s.sendall(harness.build("GET", "/" + name,
                                                [("Connection", "close")]))
                        s.recv(100)
                        s.close()
                r = self.fetch(srv.port, "1k.txt")
                self.assertEqual(r.body, body_of("1k.txt"))
                self.assertTrue(wait_until(
                    lambda: harness.fd_count(srv.pid) <= base, timeout=10),
                    "%d descriptors, %d before:\n%s" % (
                        harness.fd_count(srv.pid), base,
                        harness.fd_report(srv.pid)))


if __name__ == "__main__":
    unittest.main()
