# SPDX-License-Identifier: MIT
"""Robustness: timeouts, clients that vanish mid-download, many
connections, the connection limit, CPU while idle, and the command line
(startup errors, exit statuses, signals, IPv6)."""

import hashlib
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness
from harness import wait_until, Conn, Server, ServerCase, build, connect, cpu_seconds, \
    fd_count, fd_report, get, parse_responses, process_tree, tinyweb_cmd

HELLO = b"hello world\n"
BIG_SIZE = 50 * 1024 * 1024


def settled(pid):
    """Wait until the server has finished starting: the startup line
    comes before prefork workers and worker threads have set up their
    loops, so a count of descriptors (or a limit cut) taken too soon
    catches one half made. Done when every worker process is there and
    the descriptors of the tree stay put for 0.3 s."""
    args = harness.MODE_ARGS
    want = 1
    if "prefork" in args and "-w" in args:
        want += int(args[args.index("-w") + 1])

    def snapshot():
        tree = process_tree(pid)
        n = []
        for p in tree:
            try:
                n.append((p, len(os.listdir("/proc/%d/fd" % p)),
                          len(os.listdir("/proc/%d/task" % p))))
            except OSError:
                pass
        return len(tree), n
    last = [None]

    def still():
        now = snapshot()
        same = now == last[0] and now[0] >= want
        last[0] = now
        return same
    wait_until(still, 10.0, 0.3)


def download(port, target, timeout=20.0):
    """GET target on a fresh connection, streaming: (status, body length,
    sha256 hex of the body)."""
    s = connect(port, timeout=timeout)
    try:
        s.sendall(build("GET", target, [("Connection", "close")]))
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise AssertionError("closed before headers: %r" % buf)
            buf += d
        headers, body = buf.split(b"\r\n\r\n", 1)
        status = int(headers.split(b" ", 2)[1])
        h = hashlib.sha256(body)
        n = len(body)
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            h.update(d)
            n += len(d)
        return status, n, h.hexdigest()
    finally:
        s.close()


class RobustCase(ServerCase):
    tree = {"hello.txt": HELLO}
    need_big = False

    @classmethod
    def prepare(cls):
        if not cls.need_big:
            return
        block = os.urandom(1 << 20)
        h = hashlib.sha256()
        with open(os.path.join(cls.root, "big.bin"), "wb") as f:
            for i in range(BIG_SIZE >> 20):
                chunk = block[i:] + block[:i]
                f.write(chunk)
                h.update(chunk)
        cls.big_sha = h.hexdigest()


class TestTimeouts(RobustCase):
    def test_header_timeout_trickle(self):
        with Server(self.root, "--header-timeout", "1") as s:
            sock = connect(s.port)
            req = (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " +
                   b"a" * 200)
            t0 = time.monotonic()
            closed_at = None
            got = b""
            try:
                for b in req:
                    try:
                        sock.send(bytes([b]))
                    except (BrokenPipeError, ConnectionResetError):
                        closed_at = time.monotonic()
                        break
                    r, _, _ = select.select([sock], [], [], 0.3)
                    if r:
                        try:
                            d = sock.recv(4096)
                        except ConnectionResetError:
                            d = b""
                        if not d:
                            closed_at = time.monotonic()
                            break
                        got += d
                    if time.monotonic() - t0 > 8:
                        break
            finally:
                sock.close()
            self.assertIsNotNone(closed_at, "a client trickling one byte "
                                 "per 0.3 s was not cut off within 8 s")
            self.assertLess(closed_at - t0, 4.0)
            self.assertGreater(closed_at - t0, 0.5, "cut off too early")
            # A client that sent part of a request is told why (http.c,
            # on_timeout): a 408, then the close. It arrives while the
            # client waits 0.3 s between its bytes, so it is read.
            self.assertEqual([r.status for r in parse_responses(got)], [408],
                             got[:300])
            self.assertEqual(get(s.port, "/hello.txt").body, HELLO)

    def test_header_timeout_silent_client(self):
        with Server(self.root, "--header-timeout", "1",
                    "--keepalive-timeout", "1") as s:
            with Conn(s.port) as c:
                t0 = time.monotonic()
                self.assertTrue(c.at_eof(5), "silent connection kept open")
                self.assertLess(time.monotonic() - t0, 4.0)

    def test_keepalive_timeout(self):
        with Server(self.root, "--keepalive-timeout", "1") as s:
            with Conn(s.port) as c:
                r = c.request("GET", "/hello.txt")
                self.assertEqual(r.body, HELLO)
                t0 = time.monotonic()
                self.assertFalse(c.at_eof(0.3), "closed before the timeout")
                self.assertTrue(c.at_eof(5), "idle keep-alive connection "
                                "not closed within 5 s")
                self.assertLess(time.monotonic() - t0, 4.0)

    def test_keepalive_timeout_resets_per_request(self):
        with Server(self.root, "--keepalive-timeout", "1") as s:
            with Conn(s.port) as c:
                for _ in range(4):
                    r = c.request("GET", "/hello.txt")
                    self.assertEqual(r.body, HELLO)
                    time.sleep(0.5)

    def test_max_keepalive_requests(self):
        with Server(self.root, "--max-keepalive-requests", "3") as s:
            with Conn(s.port) as c:
                c.send(build("GET", "/hello.txt") * 5)
                rs = [c.read_response() for _ in range(3)]
                self.assertEqual([r.body for r in rs], [HELLO] * 3)
                self.assertTrue(rs[2].closes(), rs[2].describe())
                self.assertTrue(c.at_eof(2))


class TestDisconnects(RobustCase):
    need_big = True
    def _disconnect_mid_download(self, rst):
        pid = self.server.pid
        # Warm up whatever the server caches for big.bin (open-file cache,
        # MIME), so it does not count as a leak.
        self.assertEqual(download(self.port, "/big.bin")[0], 200)
        time.sleep(0.2)
        base = fd_count(pid)
        result = {}

        def other():
            try:
                result["b"] = download(self.port, "/big.bin")
            except Exception as e:
                result["b"] = e

        a = socket.socket()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        a.settimeout(5)
        a.connect(("127.0.0.1", self.port))
        a.sendall(build("GET", "/big.bin"))
        t = threading.Thread(target=other)
        t.start()
        n = 0
        while n < 1 << 20:
            d = a.recv(65536)
            self.assertTrue(d, "server closed early")
            n += len(d)
        if rst:
            a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        a.close()
        t.join(30)
        self.assertFalse(t.is_alive(), "other download hung")
        self.assertEqual(result.get("b"), (200, BIG_SIZE, self.big_sha))
        ok = wait_until(lambda: fd_count(pid) <= base, 3.0)
        self.assertTrue(ok, "fd count %d, was %d before; open now:\n%s" % (
            fd_count(pid), base, fd_report(pid)))
        self.assertEqual(get(self.port, "/hello.txt").body, HELLO)

    def test_disconnect_mid_download_close(self):
        self._disconnect_mid_download(rst=False)

    def test_disconnect_mid_download_reset(self):
        self._disconnect_mid_download(rst=True)

    def test_disconnect_many_mid_download(self):
        pid = self.server.pid
        self.assertEqual(download(self.port, "/big.bin")[0], 200)
        time.sleep(0.2)
        base = fd_count(pid)
        socks = []
        for i in range(20):
            s = connect(self.port)
            s.sendall(build("GET", "/big.bin", [("Range", "bytes=%d-" % i)]) +
                      build("GET", "/big.bin"))
            socks.append(s)
        for s in socks:
            s.recv(1000)
        for i, s in enumerate(socks):
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            s.close()
        ok = wait_until(lambda: fd_count(pid) <= base, 3.0)
        self.assertTrue(ok, "fd count %d, was %d before; open now:\n%s" % (
            fd_count(pid), base, fd_report(pid)))
        self.assertTrue(self.server.alive())

    def test_send_timeout_cuts_stalled_reader(self):
        with Server(self.root, "--send-timeout", "1") as s:
            self.assertEqual(download(s.port, "/big.bin")[0], 200)
            time.sleep(0.2)
            base = fd_count(s.pid)
            a = socket.socket()
            a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            a.connect(("127.0.0.1", s.port))
            try:
                a.sendall(build("GET", "/big.bin"))
                time.sleep(0.3)
                self.assertGreater(fd_count(s.pid), base)
                # Never read: the server must give up within a few seconds.
                ok = wait_until(lambda: fd_count(s.pid) <= base, 5.0, 0.1)
                self.assertTrue(ok, "a client that stopped reading is "
                                "still connected after 5 s")
            finally:
                a.close()

    def test_disconnect_before_response(self):
        pid = self.server.pid
        get(self.port, "/hello.txt")
        settled(pid)
        base = fd_count(pid)
        for _ in range(20):
            s = connect(self.port)
            s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
            s.close()
        ok = wait_until(lambda: fd_count(pid) <= base, 3.0)
        self.assertTrue(ok, "fd count %d, was %d before; open now:\n%s" % (
            fd_count(pid), base, fd_report(pid)))


class TestConcurrency(RobustCase):
    def test_200_concurrent_keepalive(self):
        conns = []
        try:
            for _ in range(200):
                conns.append(Conn(self.port, timeout=5))
            for c in conns:
                c.send(build("GET", "/hello.txt"))
            for c in conns:
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, HELLO))
                self.assertFalse(r.closes())
            for c in conns:
                c.send(build("HEAD", "/hello.txt"))
            for c in conns:
                self.assertEqual(c.read_response("HEAD").status, 200)
        finally:
            for c in conns:
                c.close()

    def test_parallel_threads(self):
        errors = []

        def worker():
            try:
                with Conn(self.port, timeout=5) as c:
                    for _ in range(20):
                        r = c.request("GET", "/hello.txt")
                        if r.body != HELLO:
                            errors.append(r.describe())
            except Exception as e:
                errors.append(repr(e))
        ts = [threading.Thread(target=worker) for _ in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual(errors, [])


class TestConnectionLimit(RobustCase):
    def test_max_connections(self):
        with Server(self.root, "--max-connections", "5") as s:
            conns = [Conn(s.port) for _ in range(5)]
            extra = []
            try:
                for c in conns:
                    self.assertEqual(c.request("GET", "/hello.txt").body, HELLO)
                # Idle ones would be shed for a new one (test_shed.py):
                # make each busy with part of a request head, after a
                # second round trip that ends its first run, so its loop
                # reads the part before it accepts the next connection.
                for c in conns:
                    self.assertEqual(c.request("GET", "/hello.txt").body, HELLO)
                for c in conns:
                    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
                # Over the limit: a 503 as soon as the connection is
                # accepted, before any request, then the close. (The test
                # sends nothing: a request arriving as the server closes
                # would turn the close into a reset that may eat the 503.)
                sixth = Conn(s.port)
                extra.append(sixth)
                r = sixth.read_response(timeout=3)
                self.assertEqual(r.status, 503, r.describe())
                self.assertTrue(r.closes(), r.describe())
                self.assertTrue(sixth.at_eof(3), "6th connection over the "
                                "limit not closed after its 503")
                # More pending connections: the loop must not spin on them.
                for _ in range(3):
                    try:
                        extra.append(Conn(s.port, timeout=1))
                    except OSError:
                        pass
                time.sleep(0.3)
                c0 = cpu_seconds(s.pid)
                time.sleep(1.0)
                used = cpu_seconds(s.pid) - c0
                self.assertLess(used, 0.3, "server used %.2f s CPU in 1 s "
                                "while idle at the connection limit" % used)
                self.assertTrue(s.alive())
                # The held connections still work.
                conns[0].send(b"\r\n")
                self.assertEqual(conns[0].read_response().body, HELLO)
            finally:
                for c in conns + extra:
                    c.close()

            def fresh_ok():
                try:
                    return get(s.port, "/hello.txt", timeout=1).body == HELLO
                except (AssertionError, OSError):
                    return False
            self.assertTrue(wait_until(fresh_ok, 3.0, 0.1),
                            "no request served after the 5 closed")

    def out_of_descriptors(self, soft_limit, nconns, what):
        """Set every server process's RLIMIT_NOFILE soft limit to
        soft_limit(pid), open nconns connections: the loop must neither
        spin nor die, and must serve again once the limits are back."""
        import resource
        with Server(self.root) as s:
            self.assertEqual(get(s.port, "/hello.txt").body, HELLO)
            settled(s.pid)
            # The tree counts threads' helpers too (aio, a prefork
            # worker being replaced): one may end between the listing and
            # the call, and an ended process has no limit to set.
            def prlimit(p, *lim):
                try:
                    return resource.prlimit(p, resource.RLIMIT_NOFILE, *lim)
                except ProcessLookupError:
                    return None
            saved = {p: prlimit(p) for p in process_tree(s.pid)}
            saved = {p: lim for p, lim in saved.items() if lim is not None}
            for p, (_, hard) in saved.items():
                prlimit(p, (soft_limit(p), hard))
            conns = []
            try:
                for _ in range(nconns):
                    conns.append(connect(s.port, timeout=1))
                time.sleep(0.3)
                c0 = cpu_seconds(s.pid)
                time.sleep(1.0)
                used = cpu_seconds(s.pid) - c0
                self.assertLess(used, 0.3, "server used %.2f s CPU in 1 s "
                                "%s" % (used, what))
                self.assertTrue(s.alive(), s.stderr_text())
            finally:
                for p, lim in saved.items():
                    prlimit(p, lim)
                for c in conns:
                    c.close()

            def fresh_ok():
                try:
                    return get(s.port, "/hello.txt", timeout=1).body == HELLO
                except (AssertionError, OSError):
                    return False
            self.assertTrue(wait_until(fresh_ok, 3.0, 0.1),
                            "no request served after the limit was back")

    def test_fd_exhaustion(self):
        # EMFILE on accept, with the spare descriptor to drop
        # connections with.
        self.out_of_descriptors(lambda p: fd_count(p) + 4, 20,
                                "out of descriptors")

    def test_fd_exhaustion_without_spare(self):
        # A limit below the numbers the server already holds: even its
        # spare, once given up to drop a connection, cannot be taken
        # back (what a thread sharing the table can do to another). The
        # loop must rest rather than spin on the pending connection.
        self.out_of_descriptors(lambda p: 3, 5,
                                "with no descriptor to spare")

    def test_idle_cpu(self):
        conns = [Conn(self.port) for _ in range(20)]
        try:
            time.sleep(0.2)
            c0 = cpu_seconds(self.server.pid)
            time.sleep(1.0)
            self.assertLess(cpu_seconds(self.server.pid) - c0, 0.3)
        finally:
            for c in conns:
                c.close()


class TestCommandLine(RobustCase):
    need_big = True
    def run_tw(self, *args, timeout=10):
        p = subprocess.run(tinyweb_cmd(*args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_startup_line(self):
        if harness.MODE_ARGS:
            self.skipTest("other mode: " + " ".join(harness.MODE_ARGS))
        line = self.server.startup_line
        self.assertEqual(line, "tinyweb: serving %s on http://127.0.0.1:%d/ "
                         "(epoll, 1 worker)" % (self.root, self.port))

    def test_port_in_use(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            rc, err = self.run_tw("serve", self.root, "-p", str(port), "-b",
                                  "127.0.0.1", "-q")
        finally:
            busy.close()
        self.assertEqual(rc, 1, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, err)
        self.assertIn("127.0.0.1", lines[0])
        self.assertIn(str(port), lines[0])

    def test_missing_dir(self):
        rc, err = self.run_tw("serve", os.path.join(self.tmp, "nope"), "-p",
                              "0", "-b", "127.0.0.1", "-q")
        self.assertEqual(rc, 1, err)
        self.assertIn("nope", err)
        self.assertEqual(len([ln for ln in err.splitlines() if ln.strip()]),
                         1, err)

    def test_dir_is_a_file(self):
        rc, err = self.run_tw("serve", self.path("hello.txt"), "-p", "0",
                              "-b", "127.0.0.1", "-q")
        self.assertEqual(rc, 1, err)

    def test_bad_values_exit_2(self):
        for args in (["--symlinks", "bogus"], ["--bogus-flag"],
                     ["-p", "70000"], ["-p", "abc"],
                     ["--header-timeout", "soon"],
                     ["--max-connections", "-1"], ["--charset", "latin"]):
            with self.subTest(args=args):
                rc, err = self.run_tw("serve", self.root, "-b", "127.0.0.1",
                                      "-q", *(["-p", "0"] if "-p" not in args
                                              else []), *args)
                self.assertEqual(rc, 2, err)
                self.assertTrue(err.strip(), "no error message")

    def test_sigint_exit_0(self):
        s = Server(self.root)
        self.assertEqual(get(s.port, "/hello.txt").body, HELLO)
        s.stop(signal.SIGINT)

    def test_sigterm_with_open_connections(self):
        s = Server(self.root)
        idle = Conn(s.port)
        busy = connect(s.port)
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        try:
            idle.request("GET", "/hello.txt")
            busy.sendall(build("GET", "/big.bin"))
            busy.recv(1000)
            s.stop(signal.SIGTERM)
        finally:
            idle.close()
            busy.close()

    def test_ipv6_loopback(self):
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        with Server(self.root, bind="::1") as s:
            self.assertIn("[::1]", s.startup_line)
            c = socket.create_connection(("::1", s.port), timeout=3)
            c.sendall(build("GET", "/hello.txt", [("Connection", "close")]))
            data = harness.read_until_close(c, 3)
            c.close()
            r = parse_responses(data)[0]
            self.assertEqual((r.status, r.body), (200, HELLO))


if __name__ == "__main__":
    unittest.main()
