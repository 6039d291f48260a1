# SPDX-License-Identifier: MIT
"""--sendfile auto|on|off: how file bodies leave for the socket.

on sends every file range with sendfile(2); off reads every range with
pread(2) into a per-thread buffer of 64 KiB and sends it with send(2);
auto (the default) uses sendfile for ranges of up to 512 KiB and the
copy for longer ones, deciding for each range of a response on its own
(each part of a multipart/byteranges answer too).

Checked in each of the three settings, with one server per setting (and
$TINYWEB_MODE_ARGS): files of 20 KiB, 512 KiB, 512 KiB + 1, 512 KiB + 2,
1 MiB and 9 MiB + 13 of seeded random bytes come back byte for byte over
keep-alive and pipelined connections; ranges of the 9 MiB file (across
the 512 KiB mark, suffix, open, and a multipart request with one part of
1 MiB + 1 and two of 100 KiB); HEAD and the request after it; clients that
read 100 KiB slowly and vanish leave no descriptor behind; which system
call carried the bytes, read from the server's write accounting (see
below). In off and auto, 8 clients at once, half of them slow, get the
9 MiB file whole. In on and off, a file truncated while it is being sent
ends the response short with a close, never a hang, and the server goes
on. The sendfile directive and flag in check-config, their errors
included.

What a client of a shrinking file receives differs between the two ways.
A copy sends what pread returned, so every byte is the file's as it was.
sendfile queues references to page-cache pages on the socket, and the
truncation zeroes the rest of the (large) folio that holds the new end,
in the bytes already queued too: on ext4 with large folios, bytes from
1 MiB to 2 MiB that left before the truncation arrive as zeros. A plain
os.sendfile loop does the same, so with sendfile the test allows exactly
that: the file's bytes, then zeros, within the folio of the new end.

Which system call: sendfile(2) counts the bytes it moves in the write
accounting of the calling process (wchar of /proc/PID/io), while send(2)
on a socket counts nothing there. So the wchar of the server's processes
grows by the length of every range sent with sendfile and stays put (but
for a few bytes of eventfd and log writes) when the range is copied.

Assertions are on behaviour, never on timing.
"""

import os
import random
import re
import shutil
import socket
import threading
import time
import unittest

import harness
from harness import (Conn, build, check_common, fd_count, fd_report,
                     first_diff, parse_multipart, process_tree, request, run,
                     sockets, start, tinyweb_cmd, unique_tmpdir, wait_until)

KIB = 1024
MIB = 1024 * 1024
AUTO_MIN = 512 * KIB + 1    # TW_CONN_COPY_AUTO: auto copies from here
BIG = "big.bin"
BIG_SIZE = 9 * MIB + 13
# name -> size. .bin is a known extension: no byte is read for its type.
FILES = {
    "k20.bin": 20 * KIB,
    "m1.bin": MIB,
    "mark_m1.bin": AUTO_MIN - 1,
    "mark.bin": AUTO_MIN,
    "mark_p1.bin": AUTO_MIN + 1,
    BIG: BIG_SIZE,
}
# The write accounting may grow by this much without a sendfile: the
# aio pool's eventfd wake-ups (8 bytes each), an error log line.
NOISE = 4 * KIB
SHRINK_AT = MIB             # the size a shrinking file is truncated to
FOLIO_MAX = 2 * MIB         # largest page-cache folio (PMD) on x86-64

_mod = {}


def seeded(seed, size):
    return random.Random(seed).randbytes(size)


def setUpModule():
    tmp = unique_tmpdir("tinyweb-sendfile-")
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    data = {}
    for i, (name, size) in enumerate(sorted(FILES.items())):
        body = seeded(1000 + i, size)
        with open(os.path.join(root, name), "wb") as f:
            f.write(body)
        data[name] = body
    _mod.update(tmp=tmp, root=root, data=data)


def tearDownModule():
    shutil.rmtree(_mod["tmp"], ignore_errors=True)


# ------------------------------------------------------------- helpers

def written_bytes(pid):
    """wchar of the server's processes (every thread and prefork worker):
    what sendfile moved, and no byte that send moved. SkipTest when
    /proc/PID/io cannot be read here."""
    total = 0
    for p in process_tree(pid):
        try:
            with open("/proc/%d/io" % p) as f:
                text = f.read()
        except FileNotFoundError:
            continue            # gone since the tree was read
        except OSError as e:
            raise unittest.SkipTest("cannot read /proc/%d/io: %s" % (p, e))
        m = re.search(r"(?m)^wchar: (\d+)$", text)
        if m is None:
            raise unittest.SkipTest("no wchar in /proc/%d/io" % p)
        total += int(m.group(1))
    return total


def settled_fds(pid):
    """The descriptor count once it stops moving (connections of earlier
    requests being closed)."""
    last = [fd_count(pid)]

    def same():
        n = fd_count(pid)
        ok = n == last[0]
        last[0] = n
        return ok

    wait_until(same, 3.0, 0.1)
    return last[0]


def client(port, rcvbuf=None, timeout=60.0):
    """A Conn, with a small receive buffer when rcvbuf is given (then the
    server meets a full socket and sends in many turns)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return Conn(port, timeout=timeout, sock=s)


# ------------------------------------------------- one server per setting

class SendfileCase:
    """Tests run with each setting; MODE is auto, on or off."""

    MODE = None

    @classmethod
    def setUpClass(cls):
        cls.server = start(_mod["root"], "--sendfile", cls.MODE)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.assertTrue(self.server.alive(), "server died:\n" +
                        self.server.stderr_text())

    # What the setting promises for one range of len bytes.
    def by_sendfile(self, length):
        if self.MODE == "on":
            return True
        if self.MODE == "off":
            return False
        return length < AUTO_MIN

    def data(self, name):
        return _mod["data"][name]

    def assertWhole(self, r, name, method="GET"):
        want = self.data(name)
        self.assertEqual(r.status, 200, r.describe())
        check_common(self, r, method)
        self.assertEqual(r.header("Content-Length"), str(len(want)),
                         name)
        if method == "HEAD":
            self.assertEqual(r.body, b"")
            return
        if r.body != want:
            self.fail("%s (--sendfile %s): body differs from byte %d (got "
                      "%d bytes, want %d)" % (name, self.MODE,
                                              first_diff(r.body, want),
                                              len(r.body), len(want)))

    def assertRange(self, r, first, last, name=BIG):
        want = self.data(name)
        self.assertEqual(r.status, 206, r.describe())
        check_common(self, r)
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d"
                         % (first, last, len(want)))
        self.assertEqual(r.header("Content-Length"), str(last - first + 1))
        self.assertTrue(r.body == want[first:last + 1],
                        "bytes %d-%d: wrong bytes from %d" % (
                            first, last,
                            first + first_diff(r.body, want[first:last + 1])))

    # ------------------------------------------------ whole files

    def test_files_keepalive(self):
        """Every file, twice, on one connection (growing, then
        shrinking), each with its exact Content-Length."""
        names = sorted(FILES, key=FILES.get)
        with client(self.port) as c:
            for name in names + names[::-1]:
                with self.subTest(file=name):
                    r = c.request("GET", "/" + name)
                    self.assertWhole(r, name)
                    self.assertFalse(r.closes(), r.describe())

    def test_files_pipelined(self):
        """All the files asked for in one write, the big one twice."""
        names = sorted(FILES, key=FILES.get)
        names = [BIG] + names + [BIG, "k20.bin"]
        with client(self.port) as c:
            c.send(b"".join(build("GET", "/" + n) for n in names))
            for i, name in enumerate(names):
                with self.subTest(i=i, file=name):
                    self.assertWhole(c.read_response(), name)
            self.assertFalse(c.at_eof(0.2), "closed after the pipeline")

    def test_slow_reader_while_sent_in_turns(self):
        """A small receive buffer: the server meets a full socket again
        and again and resumes at the right offset."""
        with client(self.port, rcvbuf=16 * KIB) as c:
            for name in (BIG, "mark.bin", "mark_m1.bin"):
                with self.subTest(file=name):
                    self.assertWhole(c.request("GET", "/" + name), name)

    # ------------------------------------------------------ ranges

    def test_ranges_on_the_big_file(self):
        size = BIG_SIZE
        cases = [
            # short, across the mark
            (AUTO_MIN - 1000, AUTO_MIN + 5000),
            # long (3 MiB + 1001), across it
            (1000, 3 * MIB + 2000),
            # exactly the mark and one less, from an odd offset
            (7, 7 + AUTO_MIN - 1),
            (7, 7 + AUTO_MIN - 2),
        ]
        with client(self.port) as c:
            for first, last in cases:
                with self.subTest(range=(first, last)):
                    r = c.request("GET", "/" + BIG, [
                        ("Range", "bytes=%d-%d" % (first, last))])
                    self.assertRange(r, first, last)
            for n in (100, 3 * MIB):        # suffix ranges
                with self.subTest(suffix=n):
                    r = c.request("GET", "/" + BIG,
                                  [("Range", "bytes=-%d" % n)])
                    self.assertRange(r, size - n, size - 1)
            for first in (size - 100000, size - AUTO_MIN - 1):  # open
                with self.subTest(open=first):
                    r = c.request("GET", "/" + BIG,
                                  [("Range", "bytes=%d-" % first)])
                    self.assertRange(r, first, size - 1)
            # and the whole file after them on the same connection
            self.assertWhole(c.request("GET", "/" + BIG), BIG)

    MULTI = [(100, 100 + 100 * KIB - 1),
             (3 * MIB, 3 * MIB + AUTO_MIN + MIB // 2 - 1),
             (BIG_SIZE - 100 * KIB, BIG_SIZE - 1)]

    def multipart_header(self):
        return ("Range", "bytes=%d-%d,%d-%d,%d-" % (
            self.MULTI[0] + self.MULTI[1] + self.MULTI[2][:1]))

    def test_multipart_one_big_two_small(self):
        data = self.data(BIG)
        with client(self.port) as c:
            for _ in range(2):
                r = c.request("GET", "/" + BIG, [self.multipart_header()])
                self.assertEqual(r.status, 206, r.describe())
                check_common(self, r)
                self.assertIsNone(r.header("Content-Range"))
                parts = parse_multipart(self, r)
                self.assertEqual([p[1] for p in parts],
                                 [(a, b, BIG_SIZE) for a, b in self.MULTI])
                for _, (a, b, _), got in parts:
                    self.assertTrue(got == data[a:b + 1],
                                    "part %d-%d: wrong bytes" % (a, b))
            # the connection goes on
            self.assertWhole(c.request("GET", "/m1.bin"), "m1.bin")

    # -------------------------------------------------------- HEAD

    def test_head_then_next_request(self):
        with client(self.port) as c:
            r = c.request("HEAD", "/" + BIG)
            self.assertWhole(r, BIG, "HEAD")
            self.assertEqual(c.buf, b"", "bytes after a HEAD response")
            self.assertWhole(c.request("GET", "/mark.bin"), "mark.bin")
            # pipelined: a body after the HEAD would break the GET's parse
            c.send(build("HEAD", "/" + BIG) + build("GET", "/k20.bin") +
                   build("HEAD", "/mark_p1.bin") + build("GET", "/" + BIG))
            self.assertWhole(c.read_response("HEAD"), BIG, "HEAD")
            self.assertWhole(c.read_response(), "k20.bin")
            self.assertWhole(c.read_response("HEAD"), "mark_p1.bin", "HEAD")
            self.assertWhole(c.read_response(), BIG)
            self.assertFalse(c.at_eof(0.2))

    # ------------------------------------------- clients that vanish

    def test_slow_clients_that_vanish(self):
        pid = self.server.pid
        self.assertWhole(request(self.port, "GET", "/" + BIG, timeout=30),
                         BIG)
        base = settled_fds(pid)
        for i in range(5):
            with self.subTest(round=i):
                before = sockets(pid)
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KIB)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.port))
                try:
                    s.sendall(build("GET", "/" + BIG))
                    got = 0
                    while got < 100 * KIB:
                        d = s.recv(4 * KIB)
                        self.assertTrue(d, "closed after %d bytes" % got)
                        got += len(d)
                        time.sleep(0.002)
                    # Its socket, not a count: a connection of an earlier
                    # request may close meanwhile (base was taken with it
                    # still open when the server was slow to see the
                    # client go).
                    new = wait_until(lambda: sockets(pid) - before, 3.0)
                    self.assertTrue(new, "the connection is not seen: "
                                    "wrong process?")
                finally:
                    s.close()       # unread bytes: the peer sees a reset
                self.assertTrue(wait_until(lambda: not sockets(pid) & new,
                                           10.0), "the connection's socket "
                                "stays open after a reset")
                ok = wait_until(lambda: fd_count(pid) <= base, 10.0)
                self.assertTrue(ok, "fd count %d, was %d before; open "
                                "now:\n%s" % (fd_count(pid), base,
                                              fd_report(pid)))
        self.assertWhole(request(self.port, "GET", "/" + BIG, timeout=30),
                         BIG)

    # ---------------------------------------- which call moved the bytes

    def test_bytes_leave_by_the_chosen_call(self):
        """sendfile's bytes show in the server's wchar, send's do not:
        each response moves wchar by the lengths of the ranges the
        setting gives to sendfile, and by nothing else."""
        pid = self.server.pid
        written_bytes(pid)      # SkipTest when /proc/PID/io is unreadable
        size = BIG_SIZE
        cases = [("/" + n, (), "GET", [FILES[n]])
                 for n in sorted(FILES, key=FILES.get)]
        cases += [
            ("/" + BIG, [("Range", "bytes=%d-%d" % (AUTO_MIN - 1000,
                                                    AUTO_MIN + 5000))],
             "GET", [6001]),
            ("/" + BIG, [("Range", "bytes=1000-%d" % (3 * MIB + 2000))],
             "GET", [3 * MIB + 1001]),
            ("/" + BIG, [("Range", "bytes=7-%d" % (7 + AUTO_MIN - 2))],
             "GET", [AUTO_MIN - 1]),
            ("/" + BIG, [("Range", "bytes=-%d" % AUTO_MIN)], "GET",
             [AUTO_MIN]),
            ("/" + BIG, [self.multipart_header()], "GET",
             [b - a + 1 for a, b in self.MULTI]),
            ("/" + BIG, (), "HEAD", []),
        ]
        with client(self.port) as c:
            c.request("GET", "/m1.bin")     # warm: the file cache is set
            for target, headers, method, ranges in cases:
                want = sum(n for n in ranges if self.by_sendfile(n))
                with self.subTest(target=target, headers=headers,
                                  method=method):
                    w0 = written_bytes(pid)
                    r = c.request(method, target, headers)
                    self.assertEqual(r.status, 206 if headers else 200,
                                     r.describe())
                    if method == "GET":
                        self.assertEqual(len(r.body),
                                         int(r.header("Content-Length")))
                    # The accounting follows the call that sent the last
                    # bytes a moment later: wait for what must be there.
                    wait_until(lambda: written_bytes(pid) - w0 >= want, 2.0)
                    got = written_bytes(pid) - w0
                    self.assertGreaterEqual(
                        got, want, "--sendfile %s: ranges %s should go "
                        "by sendfile (%d bytes), wchar grew %d" % (
                            self.MODE, ranges, want, got))
                    self.assertLess(
                        got, want + NOISE, "--sendfile %s: ranges %s "
                        "should be copied, yet wchar grew %d (want %d)" % (
                            self.MODE, ranges, got, want))


class ConcurrentMixin:
    def test_eight_clients_at_once(self):
        """8 downloads of the 9 MiB file at once, half of them with a
        small receive buffer, so that one loop's copy buffer serves
        connections that each stop at a different offset."""
        results = {}

        def one(i):
            try:
                with client(self.port, rcvbuf=16 * KIB if i % 2 else None,
                            timeout=120) as c:
                    r = c.request("GET", "/" + BIG)
                    results[i] = (r, c.request("GET", "/mark_p1.bin"))
            except Exception as e:      # reported below, with its number
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        self.assertFalse(any(t.is_alive() for t in threads),
                         "a download hung")
        for i in range(8):
            with self.subTest(client=i):
                got = results.get(i)
                self.assertIsInstance(got, tuple, "client %d: %r" % (i, got))
                self.assertWhole(got[0], BIG)
                self.assertWhole(got[1], "mark_p1.bin")
        self.assertTrue(self.server.alive())


class ShrinkMixin:
    def test_file_shrinks_while_sent(self):
        """Truncated to 1 MiB after ~300 KiB were received: the response
        ends short (EOF before Content-Length bytes), every byte received
        is the file's as it was, the server goes on."""
        pid = self.server.pid
        name = "shrink-%s.bin" % self.MODE
        path = os.path.join(_mod["root"], name)
        orig = seeded(77, BIG_SIZE)
        with open(path, "wb") as f:
            f.write(orig)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        base = settled_fds(pid)

        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KIB)
        s.settimeout(30)
        s.connect(("127.0.0.1", self.port))
        buf = b""
        eof = False
        try:
            s.sendall(build("GET", "/" + name))
            # slowly, to about 300 KiB of body
            while True:
                end = buf.find(b"\r\n\r\n")
                if end >= 0 and len(buf) - end - 4 >= 300 * KIB:
                    break
                d = s.recv(8 * KIB)
                self.assertTrue(d, "closed after %d bytes, before the "
                                "truncation" % len(buf))
                buf += d
                time.sleep(0.001)
            os.truncate(path, SHRINK_AT)
            # then as fast as it comes, until EOF; 30 s without a byte
            # or an EOF is a hang
            while True:
                try:
                    d = s.recv(1 << 20)
                except socket.timeout:
                    self.fail("--sendfile %s: no EOF within 30 s after the "
                              "file shrank; %d bytes received"
                              % (self.MODE, len(buf)))
                except ConnectionResetError:
                    self.fail("--sendfile %s: reset instead of a close "
                              "after %d bytes" % (self.MODE, len(buf)))
                if not d:
                    eof = True
                    break
                buf += d
        finally:
            s.close()
        self.assertTrue(eof)
        end = buf.index(b"\r\n\r\n") + 4
        head = buf[:end].decode("latin-1")
        self.assertRegex(head, r"^HTTP/1\.1 200 ")
        m = re.search(r"(?mi)^Content-Length: (\d+)\r$", head)
        self.assertTrue(m, head)
        self.assertEqual(int(m.group(1)), BIG_SIZE)
        body = buf[end:]
        self.assertLess(len(body), BIG_SIZE,
                        "--sendfile %s: all %d bytes arrived although the "
                        "file shrank to %d" % (self.MODE, len(body),
                                               SHRINK_AT))
        self.assertGreaterEqual(len(body), 300 * KIB)
        self.assertSentAsItWas(body, orig)
        # The server goes on: the shrunk file as it is now, another file,
        # and no descriptor left behind.
        r = request(self.port, "GET", "/" + name, timeout=30)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.header("Content-Length"), str(SHRINK_AT))
        self.assertTrue(r.body == orig[:SHRINK_AT], "shrunk file: wrong "
                        "bytes")
        self.assertWhole(request(self.port, "GET", "/" + BIG, timeout=30),
                         BIG)
        os.unlink(path)
        ok = wait_until(lambda: fd_count(pid) <= base, 10.0)
        self.assertTrue(ok, "fd count %d, was %d before; open now:\n%s"
                        % (fd_count(pid), base, fd_report(pid)))


    def assertSentAsItWas(self, body, orig):
        """Every byte is the file's as it was, except where zero-copy
        sendfile cannot promise it (see the module's docstring)."""
        n = len(body)
        if not self.by_sendfile(BIG_SIZE):
            # Copied through user space: what left is what was read.
            self.assertTrue(body == orig[:n], "--sendfile %s: byte %d of "
                            "%d differs from the file as it was" % (
                                self.MODE, first_diff(body, orig), n))
            return
        # sendfile queues references to page-cache pages; truncating
        # zeroes the rest of the folio that holds the new end, 2 MiB at
        # most, in the queued bytes too.
        folio_end = (SHRINK_AT // FOLIO_MAX + 1) * FOLIO_MAX
        self.assertTrue(body[:SHRINK_AT] == orig[:SHRINK_AT],
                        "--sendfile %s: byte %d, before the truncation "
                        "point, differs" % (self.MODE,
                                            first_diff(body, orig)))
        self.assertTrue(body[folio_end:] == orig[folio_end:n],
                        "--sendfile %s: byte %d, past the truncated folio, "
                        "differs" % (self.MODE, folio_end + first_diff(
                            body[folio_end:], orig[folio_end:n])))
        got = body[SHRINK_AT:folio_end]
        k = first_diff(got, orig[SHRINK_AT:SHRINK_AT + len(got)])
        self.assertEqual(got[k:], bytes(len(got) - k),
                         "--sendfile %s: bytes %d-%d are neither the file's "
                         "as it was nor the zeros of the truncation" % (
                             self.MODE, SHRINK_AT + k, folio_end - 1))


class TestSendfileAuto(ConcurrentMixin, SendfileCase, unittest.TestCase):
    MODE = "auto"


class TestSendfileOn(ShrinkMixin, SendfileCase, unittest.TestCase):
    MODE = "on"


class TestSendfileOff(ConcurrentMixin, ShrinkMixin, SendfileCase,
                      unittest.TestCase):
    MODE = "off"


class TestDefault(unittest.TestCase):
    def test_no_flag_is_auto(self):
        """Without --sendfile the server splits as auto does: 512 KiB by
        sendfile, one byte more by the copy."""
        with start(_mod["root"]) as s:
            written_bytes(s.pid)
            with client(s.port) as c:
                c.request("GET", "/k20.bin")
                for name, want in (("mark_m1.bin", AUTO_MIN - 1),
                                   ("mark.bin", 0)):
                    with self.subTest(file=name):
                        w0 = written_bytes(s.pid)
                        r = c.request("GET", "/" + name)
                        self.assertEqual(r.body, _mod["data"][name])
                        wait_until(lambda: written_bytes(s.pid) - w0 >= want,
                                   2.0)
                        got = written_bytes(s.pid) - w0
                        self.assertGreaterEqual(got, want)
                        self.assertLess(got, want + NOISE)


# ------------------------------------------------------------- config

class TestConfig(harness.ConfigFileCase):
    def sendfile_lines(self, out):
        return [l for l in out.splitlines() if l.split()[:1] == ["sendfile"]]

    def test_default_is_auto(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(self.sendfile_lines(r.stdout), ["sendfile auto;"])

    def test_directive_prints_back(self):
        for value in ("off", "on", "auto"):
            with self.subTest(value=value):
                path = self.conf("# tinyweb\nsendfile %s;\n" % value)
                r = self.check("-c", path)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertEqual(self.sendfile_lines(r.stdout),
                                 ["sendfile %s;" % value])
                # the printed configuration reads back the same
                back = self.conf(r.stdout, "back.conf")
                r2 = self.check("-c", back)
                self.assertEqual(r2.returncode, 0, r2.stderr)
                self.assertEqual(r2.stdout, r.stdout)

    def test_flag_wins_over_the_file(self):
        path = self.conf("sendfile on;\n")
        r = self.check("-c", path, "--sendfile", "off")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sendfile_lines(r.stdout), ["sendfile off;"])
        r = self.check("--sendfile=on")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sendfile_lines(r.stdout), ["sendfile on;"])

    def test_bad_values_in_a_file(self):
        rows = [
            ("sendfile maybe;",
             r"'sendfile' takes auto, on or off, not 'maybe'"),
            ("sendfile ON;", r"'sendfile' takes auto, on or off, not 'ON'"),
            ("sendfile;", r"'sendfile' takes 1 argument"),
            ("sendfile on off;", r"'sendfile' takes 1 argument"),
        ]
        harness.check_bad_lines(self, self.dir, rows)

    def test_duplicate_directive(self):
        path = self.conf("sendfile on;\nsendfile off;\n")
        r = self.check("-c", path)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"^tinyweb: %s:2: .*duplicate.*\n\Z"
                         % re.escape(path))

    def test_bad_values_on_the_command_line(self):
        for args in (["--sendfile", "maybe"], ["--sendfile", ""],
                     ["--sendfile=yes"], ["--sendfile"]):
            for cmd in (["check-config"],
                        ["serve", self.dir, "-p", "0", "-b", "127.0.0.1"]):
                with self.subTest(cmd=cmd[0], args=args):
                    r = run(tinyweb_cmd(*cmd, *args), timeout=5)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(r.stdout, "")
                    lines = r.stderr.splitlines()
                    self.assertEqual(len(lines), 1, r.stderr)
                    self.assertRegex(lines[0], r"^tinyweb: .*--sendfile\b")


if __name__ == "__main__":
    unittest.main()
