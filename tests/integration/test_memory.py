# SPDX-License-Identifier: MIT
"""Bounded memory per connection and a minimum send rate (issue 11).

A large listing is one shared page, sent by reference by every connection
that asks for it while it is valid: 50 readers that take a few KiB and
then stop cost the server about one page per event loop, not a copy
each, and the memory goes back to the system once they have gone.
Measured from /proc/PID/status VmRSS of each serving process: the server
in epoll and threads mode, each worker in prefork mode.

A client that takes a response slowly but steadily is closed once it is
below send_min_rate on average over send_timeout, while one reading at a
fair pace gets the whole body; without the rate the same slow reader
stays, since each of its reads is progress.

Each test picks the mode itself (epoll, prefork and threads with two
workers). No test asserts a time: the slow readers read at a paced rate,
and the waits are bounds found by polling."""

import os
import shutil
import socket
import threading
import time
import unittest

from harness import build, parse_one, process_tree, sockets, start, \
    unique_tmpdir, wait_until

MODES = (("epoll", ("-m", "epoll")),
         ("prefork", ("-m", "prefork", "-w", "2")),
         ("threads", ("-m", "threads", "-w", "2")))
# Event loops per serving process: each renders its own page.
LOOPS = {"epoll": 1, "prefork": 1, "threads": 2}

# 30,000 empty files with 120-byte names: a listing of about 9 MiB, well
# over what the kernel's socket buffers of a stalled reader absorb (some
# MiB), made in a second or two.
NFILES = 30000
NAME_PAD = 120
READERS = 50
ROUNDS = 2
MIB = 1 << 20
# Besides the pages: each busy connection's buffers (some 33 KiB), the
# render's working memory, allocator slack.
SLACK = 8 * MIB


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def serving(srv, mode):
    """The pids that serve connections: the workers in prefork mode."""
    tree = process_tree(srv.pid)
    if mode == "prefork":
        wait_until(lambda: len(process_tree(srv.pid)) >= 3, 5.0)
        tree = process_tree(srv.pid)
        return tree[1:]
    return tree[:1]


def sanitizer_env():
    """Under AddressSanitizer freed blocks wait in its quarantine (256 MB)
    before they are unmapped: memory handed back would not show. No
    quarantine here, so what is measured is the server's own; the option
    means nothing to the release binary."""
    env = dict(os.environ)
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
        "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    return env


class MemoryCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        big = os.path.join(cls.tmp, "big")
        os.makedirs(big)
        pad = "x" * NAME_PAD
        for i in range(NFILES):
            os.close(os.open(os.path.join(big, "%s-%06d.txt" % (pad, i)),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        os.makedirs(os.path.join(cls.tmp, "small"))
        with open(os.path.join(cls.tmp, "small", "a.txt"), "wb") as f:
            f.write(b"a\n")
        # A page is shared only once its directory has been still for a
        # moment (static.c's PAGE_SETTLE_MS).
        time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def open_readers(self, port, target, n):
        """n connections that each ask for target and read a few KiB,
        then stop reading (kept open). Returns the sockets and the body's
        Content-Length."""
        socks = []
        length = None
        try:
            for _ in range(n):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
                s.settimeout(10.0)
                s.connect(("127.0.0.1", port))
                socks.append(s)
            for s in socks:
                s.sendall(build("GET", target))
            for s in socks:
                head = b""
                while b"\r\n\r\n" not in head:
                    more = s.recv(4096)
                    self.assertTrue(more, "closed before the head")
                    head += more
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:80])
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
        except BaseException:
            for s in socks:
                s.close()
            raise
        return socks, length

    def test_slow_readers_share_one_page(self):
        for mode, args in MODES:
            with self.subTest(mode=mode):
                srv = start(self.tmp, "--listing", *args, modes=False,
                            env=sanitizer_env())
                try:
                    self.slow_readers(srv, mode)
                finally:
                    srv.stop()

    def slow_readers(self, srv, mode):
        pids = serving(srv, mode)
        # Warm up: every worker has served connections (their buffers
        # are cached for reuse) and a listing.
        socks, _ = self.open_readers(srv.port, "/small/", READERS)
        for s in socks:
            s.close()
        time.sleep(0.5)
        base = {p: rss_kib(p) for p in pids}
        for rnd in range(ROUNDS):
            socks, page = self.open_readers(srv.port, "/big/", READERS)
            try:
                self.assertGreater(page, 6 * MIB)
                # The server has written what the sockets take by now;
                # the rest waits, in memory.
                time.sleep(1.0)
                bound = LOOPS[mode] * page + SLACK
                for p in pids:
                    grew = (rss_kib(p) - base[p]) * 1024
                    self.assertLessEqual(
                        grew, bound, "round %d, pid %d: %d slow readers of "
                        "a %d-byte page grew RSS by %d bytes, more than %d "
                        "pages and %d" % (rnd, p, READERS, page, grew,
                                          LOOPS[mode], SLACK))
            finally:
                for s in socks:
                    s.close()

            # Gone: their page goes back to the system.
            def settled():
                return all(rss_kib(p) - base[p] <= SLACK // 1024
                           for p in pids)
            ok = wait_until(settled, 5.0, 0.1)
            self.assertTrue(ok, "round %d: RSS after the readers left %s, "
                            "baseline %s (KiB)" % (
                                rnd, {p: rss_kib(p) for p in pids}, base))


    def test_slow_readers_share_one_page_per_view(self):
        """Half the readers ask for the page, half for the same listing
        as JSON: each view is one shared page, so two pages per loop
        however many readers."""
        for mode, args in MODES:
            with self.subTest(mode=mode):
                srv = start(self.tmp, "--listing", *args, modes=False,
                            env=sanitizer_env())
                try:
                    self.slow_views(srv, mode)
                finally:
                    srv.stop()

    def slow_views(self, srv, mode):
        pids = serving(srv, mode)
        socks, _ = self.open_readers(srv.port, "/small/", READERS)
        for s in socks:
            s.close()
        time.sleep(0.5)
        base = {p: rss_kib(p) for p in pids}
        socks, html_len = self.open_readers(srv.port, "/big/", READERS // 2)
        try:
            more, json_len = self.open_readers(srv.port, "/big/?format=json",
                                               READERS // 2)
            socks += more
            self.assertGreater(html_len, 6 * MIB)
            self.assertGreater(json_len, 6 * MIB)
            self.assertNotEqual(html_len, json_len)
            time.sleep(1.0)
            bound = LOOPS[mode] * (html_len + json_len) + SLACK
            for p in pids:
                grew = (rss_kib(p) - base[p]) * 1024
                self.assertLessEqual(
                    grew, bound, "pid %d: %d slow readers of two views "
                    "(%d and %d bytes) grew RSS by %d bytes, more than "
                    "%d of each and %d" % (p, READERS, html_len, json_len,
                                           grew, LOOPS[mode], SLACK))
        finally:
            for s in socks:
                s.close()


# The rate test: a 16 MiB file, a send timeout of 4 s and a minimum of
# 128 KiB/s. The slow reader takes at most 100 KB/s through a small
# window, under the rate, so the rated server cuts it within two spans. It
# must still free the server's send buffer (some hundred KiB, more where
# the kernel grows it) often enough that the server writes within every
# send timeout, or the control is cut by the timeout and the test shows
# nothing: at 45 KB/s and 2 s that margin was about one, and a loaded CI
# machine once crossed it (127,668 bytes in); now it is about four.
BIG = 16 * MIB
SEND_TIMEOUT = "4"
MIN_RATE = "128k"
SLOW_CHUNK = 4096
SLOW_PAUSE = 0.04


def slow_socket(port):
    s = socket.socket()
    # A small MSS and window keep the server's send buffer small.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10.0)
    s.connect(("127.0.0.1", port))
    s.sendall(build("GET", "/big.bin"))
    return s


def server_side(port, client_port):
    """The inode of the server's socket of the connection from client_port
    to port (/proc/net/tcp), or None (none yet, or closed: an orphan's
    inode is 0)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local = int(fields[1].split(":")[1], 16)
            remote = int(fields[2].split(":")[1], 16)
            if local == port and remote == client_port:
                return fields[9] if fields[9] != "0" else None
    return None


class SlowReader(threading.Thread):
    """Reads SLOW_CHUNK at a time with a pause between, until the server
    closes (or stop())."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.s = s
        self.got = 0
        self.closed = False
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            try:
                b = self.s.recv(SLOW_CHUNK)
            except (ConnectionResetError, socket.timeout, OSError):
                b = b""
            if not b:
                self.closed = True
                return
            self.got += len(b)
            time.sleep(SLOW_PAUSE)

    def stop(self):
        self._stop_event.set()
        self.s.close()
        self.join(15)


class RateCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        with open(os.path.join(cls.tmp, "big.bin"), "wb") as f:
            f.truncate(BIG)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start_slow(self, srv):
        """A slow reader, once the server holds its connection; and that
        connection's socket in the server (as sockets() names it)."""
        reader = SlowReader(slow_socket(srv.port))
        reader.start()
        client_port = reader.s.getsockname()[1]
        inode = wait_until(lambda: server_side(srv.port, client_port), 5.0)
        held = {"socket:[%s]" % inode} if inode else set()
        self.assertTrue(held and wait_until(
            lambda: held & sockets(srv.pid), 5.0),
            "the server never took the connection")
        return reader, held

    def fair_read(self, srv):
        fair = socket.create_connection(("127.0.0.1", srv.port), 10)
        try:
            fair.sendall(build("GET", "/big.bin", [("Connection", "close")]))
            data = b""
            while True:
                b = fair.recv(1 << 20)
                if not b:
                    break
                data += b
        finally:
            fair.close()
        r, _ = parse_one(data, eof=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), BIG)

    def test_slow_reader_closed_fair_reader_served(self):
        """Two servers side by side, with the rate and without (the
        control: what ends the slow reader is the rate, not the send
        timeout, since it makes progress within each). The server's side
        is what is watched: what its kernel already holds still reaches
        the reader after the server lets go."""
        for mode, margs in MODES:
            with self.subTest(mode=mode):
                rated = start(self.tmp, "--send-timeout", SEND_TIMEOUT,
                              "--send-min-rate", MIN_RATE, *margs,
                              modes=False)
                plain = start(self.tmp, "--send-timeout", SEND_TIMEOUT,
                              "--send-min-rate", "0", *margs, modes=False)
                try:
                    self.rate_check(rated, plain)
                finally:
                    rated.stop()
                    plain.stop()

    def rate_check(self, rated, plain):
        slow, held = self.start_slow(rated)
        control, control_held = self.start_slow(plain)
        try:
            gone = wait_until(lambda: not held & sockets(rated.pid), 30.0,
                              0.1)
            self.assertTrue(gone, "a reader of %d bytes a second is still "
                            "connected after %d bytes" % (
                                SLOW_CHUNK / SLOW_PAUSE, slow.got))
            # It took more than one send timeout (the first span holds
            # the burst that filled the socket): so did the control, still
            # there.
            self.assertEqual(control_held & sockets(plain.pid),
                             control_held, "without a minimum rate the "
                             "slow reader was let go too, after %d bytes"
                             % control.got)
            self.assertFalse(control.closed)
        finally:
            slow.stop()
            control.stop()
        self.assertLess(slow.got, BIG)
        self.fair_read(rated)


if __name__ == "__main__":
    unittest.main()
