# SPDX-License-Identifier: MIT
"""Fault injection (issue 11): the release binary runs with
build/test/libfault.so preloaded (tests/fault/fault.c; its header
describes TW_FAULT), so chosen libc calls fail on chosen occasions, and
the server must live with it.

Each fault is armed only after start-up and a warm-up (TW_FAULT_ARM names
a file that exists while the rules apply), then disarmed, and checked in
each run mode (epoll, prefork -w 2, threads -w 2):
- the fault happened (the library's own log, TW_FAULT_LOG, counts it);
- a clean client still gets 200s with the right bytes;
- the error log says what happened in one exact line, or nothing where
  nothing went wrong (EINTR, short counts);
- only the affected connection ends;
- the descriptors come back to their count before the fault, and VmRSS
  to within MEM_MARGIN of it.

Faults: EINTR and short counts on every read and write call of the
sockets and on the file reads (pread, preadv2), bodies byte-exact in
memory, sendfile and copy (over 2 MiB) paths; ECONNRESET in the middle
of a body (sendfile and copy paths); EIO reading a file (aio pool, copy
path, small-file read, sendfile); ENOSPC and EIO on every access-log and
error-log write; EMFILE and ENFILE from accept4; failing malloc, calloc
and realloc while new connections arrive.

The library preloads into the release binary only (the sanitizer
runtime wants to be first): under the ASan suite these tests skip."""

import os
import re
import shutil
import socket
import time
import unittest

import harness
from harness import (Conn, build, connect, fd_count, fd_report,
                     make_tree, process_tree, read_lines, read_until_close,
                     start, unique_tmpdir, wait_until)

LIB = os.path.join(harness.REPO, "build", "test", "libfault.so")
KIB = 1024
MIB = 1024 * KIB
MODES = (("epoll", ("-m", "epoll")),
         ("prefork", ("-m", "prefork", "-w", "2")),
         ("threads", ("-m", "threads", "-w", "2")))
MEM_MARGIN = 2 * MIB
# name -> bytes: in memory (small), sendfile, and the copy path (> 2 MiB)
FILES = {
    "tiny.txt": b"x",
    "small.txt": bytes(range(256)) * 20,
    "k300.bin": os.urandom(300 * KIB),
    "m3.bin": os.urandom(3 * MIB + 7),
    "bad-small.bin": os.urandom(3000),
    "bad-text.txt": b"t" * 3000,
    "bad-k300.bin": os.urandom(300 * KIB),
    "bad-m3.bin": os.urandom(3 * MIB + 7),
}
LINE_HEAD = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[%s\] (\d+) "


def rss_kib(pid):
    """RssAnon of the server's processes: the part of VmRSS a leak grows
    (the file-backed rest moves with what libmagic's mapped database and
    the libraries happen to touch)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for ln in f:
                    if ln.startswith("RssAnon:"):
                        total += int(ln.split()[1])
        except OSError:
            pass
    return total


def settled(fn, pid):
    """fn(pid) once it stops moving (connections being closed)."""
    last = [fn(pid)]

    def same():
        n = fn(pid)
        ok = n == last[0]
        last[0] = n
        return ok

    wait_until(same, 3.0, 0.1)
    return last[0]


def fetch(port, name, conn=None):
    """GET /name; the response (on conn if given, else a fresh one)."""
    if conn is not None:
        return conn.request("GET", "/" + name, timeout=10)
    with Conn(port, timeout=10) as c:
        return c.request("GET", "/" + name)


class Faulty:
    """One server in one mode with the fault library and TW_FAULT=spec,
    disarmed; its error log and access log in files."""

    def __init__(self, tc, root, spec, mode_args, extra=()):
        self.tc = tc
        self.dir = unique_tmpdir("tinyweb-fault-")
        tc.addCleanup(shutil.rmtree, self.dir, True)
        self.arm_path = os.path.join(self.dir, "armed")
        self.flog = os.path.join(self.dir, "faults")
        self.error_log = os.path.join(self.dir, "error.log")
        self.access_log = os.path.join(self.dir, "access.log")
        env = dict(os.environ, LD_PRELOAD=LIB, TW_FAULT=spec,
                   TW_FAULT_ARM=self.arm_path, TW_FAULT_LOG=self.flog)
        self.srv = start(root, "--error-log", self.error_log,
                         "--access-log", self.access_log, *mode_args,
                         *extra, modes=False, env=env)
        self.port = self.srv.port
        self.pid = self.srv.pid

    def warm(self, rounds=2):
        """Every file twice over keep-alive and fresh connections: caches,
        pools and buffers at their working size."""
        for _ in range(rounds):
            with Conn(self.port, timeout=10) as c:
                for name in FILES:
                    self.check_file(fetch(self.port, name, c), name)
            for name in FILES:
                self.check_file(fetch(self.port, name), name)

    def baseline(self):
        self.fds = settled(fd_count, self.pid)
        self.rss = rss_kib(self.pid)
        self.err_mark = len(read_lines(self.error_log, text=True))

    def arm(self):
        open(self.arm_path, "w").close()

    def disarm(self):
        os.unlink(self.arm_path)

    def injected(self, what=""):
        """Lines of the fault library's log containing what."""
        try:
            with open(self.flog) as f:
                return [ln for ln in f.read().splitlines() if what in ln]
        except FileNotFoundError:
            return []

    def new_errors(self):
        return read_lines(self.error_log, text=True)[self.err_mark:]

    def check_file(self, r, name):
        self.tc.assertEqual(r.status, 200, r.describe())
        want = FILES[name]
        self.tc.assertEqual(len(r.body), len(want), name)
        self.tc.assertTrue(r.body == want, "%s: bytes differ at %d" % (
            name, harness.first_diff(r.body, want)))

    def check_clean(self, names=("tiny.txt", "small.txt", "k300.bin",
                                 "m3.bin")):
        """A clean client gets every file right."""
        with Conn(self.port, timeout=10) as c:
            for name in names:
                self.check_file(fetch(self.port, name, c), name)

    def check_recovered(self):
        """Descriptors back to the baseline, memory within MEM_MARGIN."""
        self.tc.assertTrue(self.srv.alive(), self.srv.stderr_text())
        ok = wait_until(lambda: fd_count(self.pid) == self.fds, 5.0, 0.1)
        self.tc.assertTrue(ok, "descriptors: %d before the fault, %d after"
                           "\n%s" % (self.fds, fd_count(self.pid),
                                     fd_report(self.pid)))
        self.warm(1)
        rss = rss_kib(self.pid)
        self.tc.assertLessEqual(rss, self.rss + MEM_MARGIN // KIB,
                                "RssAnon %d KiB, %d KiB before the fault"
                                % (rss, self.rss))

    def stop(self):
        self.srv.stop()


@unittest.skipIf("asan" in os.path.basename(harness.BIN),
                 "the fault library preloads into the release binary "
                 "(the sanitizer runtime must come first); the release "
                 "suite runs these")
class FaultCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = unique_tmpdir()
        make_tree(cls.root, FILES)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        if not os.path.exists(LIB):
            self.fail("%s missing: make fault-lib (make check builds it)"
                      % LIB)

    def each_mode(self, spec, fn, extra=(), workers_extra=()):
        """fn(server) in each run mode, armed after the warm-up;
        workers_extra are more arguments for prefork and threads."""
        for name, args in MODES:
            with self.subTest(mode=name):
                more = tuple(extra) + (tuple(workers_extra)
                                       if name != "epoll" else ())
                f = Faulty(self, self.root, spec, args, more)
                try:
                    f.warm()
                    f.baseline()
                    f.mode = name
                    fn(f)
                finally:
                    if os.path.exists(f.arm_path):
                        f.disarm()
                    f.stop()

    # ------------------------------------------------ EINTR, short counts

    def test_eintr_and_short_counts_keep_bodies_exact(self):
        """EINTR on every second socket read and every third write, short
        counts on every other write and file read: every body is
        byte-exact, over keep-alive and pipelined connections, and no
        error is logged (nothing went wrong)."""
        spec = ";".join((
            "reads:sock=EINTR@every:2",
            "writes:sock=EINTR@every:3",
            "writes:sock=short@every:2",
            "pread=EINTR@every:3",
            "pread=short@every:2",
            "preadv2=short@every:2",
            "preadv2=EINTR@every:5",
            "write:access.log=short@every:2",
            "write:access.log=EINTR@every:3"))

        def check(f):
            logged = len(read_lines(f.access_log))
            f.arm()
            names = list(FILES)
            with Conn(f.port, timeout=20) as c:
                for name in names:
                    f.check_file(fetch(f.port, name, c), name)
            with Conn(f.port, timeout=20) as c:
                c.send(b"".join(build("GET", "/" + n) for n in names))
                for name in names:
                    f.check_file(c.read_response(timeout=20), name)
            for name in names:
                f.check_file(fetch(f.port, name), name)
            f.disarm()
            # Every access-log line whole (read_lines fails on a torn
            # last one), one per request.
            lines = read_lines(f.access_log, text=True)[logged:]
            self.assertEqual(len(lines), 3 * len(names))
            for ln in lines:
                self.assertRegex(ln, r'^127\.0\.0\.1 - - \[[^]]+\] "GET '
                                 r'/[-\w.]+ HTTP/1\.1" 200 \d+ "-" "-"$')
            self.assertTrue(f.injected("write short"))
            for what in ("EINTR", "short"):
                self.assertTrue(f.injected(what), "no %s injected" % what)
            self.assertEqual(f.new_errors(), [])
            f.check_recovered()
        self.each_mode(spec, check)

    # ------------------------------------------------- a reset mid-body

    def test_reset_in_the_middle_of_a_body(self):
        """ECONNRESET once 100 KiB of a response went out (sendfile path)
        and once 1 MiB went (copy path): that response ends short and its
        connection closes, a clean keep-alive client opened before goes
        on, one debug line says so (a peer that leaves is not an
        error)."""
        spec = ("sendfile:sock=ECONNRESET@bytes:102400;"
                "sendmsg:sock=ECONNRESET@bytes:1048576")

        def check(f):
            clean = Conn(f.port, timeout=10)
            self.addCleanup(clean.close)
            f.check_file(fetch(f.port, "small.txt", clean), "small.txt")
            f.arm()
            for name in ("k300.bin", "m3.bin"):
                s = connect(f.port, timeout=10)
                s.sendall(build("GET", "/" + name))
                got = read_until_close(s, 10)
                s.close()
                head, _, body = got.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), got[:200])
                self.assertLess(len(body), len(FILES[name]), name)
                self.assertTrue(body == FILES[name][:len(body)], name)
                f.check_file(fetch(f.port, "small.txt", clean), "small.txt")
            f.disarm()
            self.assertEqual(len(f.injected("ECONNRESET")), 2)
            lines = f.new_errors()
            self.assertEqual(len(lines), 2, lines)
            for ln in lines:
                self.assertRegex(ln, LINE_HEAD % "debug" +
                                 r"conn: response to 127\.0\.0\.1 cut short "
                                 r"after \d+ bytes: Connection reset by "
                                 r"peer$")
            f.check_file(fetch(f.port, "m3.bin", clean), "m3.bin")
            clean.close()
            f.check_recovered()
        self.each_mode(spec, check, ("--log-level", "debug"))

    # ---------------------------------------------------- disk read errors

    def test_eio_reading_a_file(self):
        """EIO from every read of the bad-* files (preadv2 of a small
        file, pread in the copy path, sendfile) and of a cold file (pread
        in the aio pool, sendfile): a
        response whose head is out ends short, with one error line naming
        the peer; a text file whose first bytes cannot be read for its
        charset gets a 500, with one error line naming the error. Other
        files and clients are served."""
        spec = ("pread:bad-=EIO@always;preadv2:bad-=EIO@always;"
                "sendfile:bad-=EIO@always;"
                "pread:cold-=EIO@always;sendfile:cold-=EIO@always")
        cut = ("bad-small.bin", "bad-k300.bin", "bad-m3.bin")

        def check(f):
            clean = Conn(f.port, timeout=10)
            self.addCleanup(clean.close)
            # Warmed, the small files' bytes and the text file's charset
            # are known and need no read: a new version must be read.
            self.touch("bad-small.bin", "bad-text.txt")
            f.arm()
            for name in cut:
                s = connect(f.port, timeout=10)
                s.sendall(build("GET", "/" + name))
                got = read_until_close(s, 10)
                s.close()
                head, _, body = got.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), got[:200])
                self.assertLess(len(body), len(FILES[name]), name)
                self.assertTrue(body == FILES[name][:len(body)], name)
                f.check_file(fetch(f.port, "k300.bin", clean), "k300.bin")
            r = fetch(f.port, "bad-text.txt")
            self.assertEqual(r.status, 500, r.describe())
            # A file nobody read, out of the page cache: the aio pool
            # reads it (its pread fails), then sendfile fails.
            name = "cold-%s.bin" % f.mode
            data = os.urandom(300 * KIB)
            path = os.path.join(self.root, name)
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            self.addCleanup(os.unlink, path)
            preads = len(f.injected("pread EIO"))
            s = connect(f.port, timeout=10)
            s.sendall(build("GET", "/" + name))
            got = read_until_close(s, 10)
            s.close()
            head, _, body = got.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200 "), got[:200])
            self.assertLess(len(body), len(data))
            self.assertGreater(len(f.injected("pread EIO")), preads,
                               "the aio pool read nothing of " + name)
            f.disarm()
            self.assertTrue(f.injected("EIO"))
            lines = f.new_errors()
            self.assertEqual(len(lines), len(cut) + 2, lines)
            self.assertRegex(lines.pop(), LINE_HEAD % "error" +
                             r"conn: response to 127\.0\.0\.1 cut short "
                             r"after \d+ bytes: Input/output error$")
            for ln in lines[:-1]:
                self.assertRegex(ln, LINE_HEAD % "error" +
                                 r"conn: response to 127\.0\.0\.1 cut short "
                                 r"after \d+ bytes: Input/output error$")
            self.assertRegex(lines[-1], LINE_HEAD % "error" +
                             r"route: 500 answering /bad-text\.txt: "
                             r"Input/output error$")
            f.check_file(fetch(f.port, "m3.bin", clean), "m3.bin")
            clean.close()
            f.check_recovered()
        self.each_mode(spec, check)

    def touch(self, *names):
        """A new mtime for each file, later than any before."""
        self.stamp = getattr(self, "stamp", time.time()) + 10
        for name in names:
            os.utime(os.path.join(self.root, name), (self.stamp, self.stamp))

    # ------------------------------------------------------------ the logs

    def test_access_log_full_disk(self):
        """ENOSPC on every access-log write: every request is still
        answered, right; each process says so once on the error log (not
        once per request), and once more when the log works again."""
        spec = "write:access.log=ENOSPC@always"

        def check(f):
            f.arm()
            with Conn(f.port, timeout=10) as c:
                for _ in range(10):
                    for name in ("tiny.txt", "k300.bin"):
                        f.check_file(fetch(f.port, name, c), name)
            for _ in range(10):
                f.check_file(fetch(f.port, "small.txt"), "small.txt")
            before = len(read_lines(f.access_log))
            f.disarm()
            self.assertGreaterEqual(len(f.injected("ENOSPC")), 30)
            f.check_clean(("tiny.txt",) * 20)
            self.assertEqual(len(read_lines(f.access_log)), before + 20)
            lost = re.compile(LINE_HEAD % "error" + r"log: access log " +
                              re.escape(f.access_log) +
                              r": lines lost until it can be written "
                              r"again: No space left on device$")
            again = re.compile(LINE_HEAD % "info" + r"log: access log " +
                               re.escape(f.access_log) + r": written again$")
            lines = f.new_errors()
            pids = {}
            for ln in lines:
                m = lost.match(ln) or again.match(ln)
                self.assertTrue(m, "unexpected line %r" % ln)
                pids.setdefault(m.group(1), []).append(
                    "lost" if m.re is lost else "again")
            self.assertTrue(pids, "no error line")
            for pid, seq in pids.items():
                # A process that lost lines and then wrote one again.
                self.assertIn(seq, (["lost"], ["lost", "again"]), lines)
            self.assertIn(["lost", "again"], list(pids.values()), lines)
            f.check_recovered()
        self.each_mode(spec, check)

    def test_error_log_failing(self):
        """ENOSPC, then EIO, on every error-log write (and ENOSPC on the
        access log, which has the error log speak): serving goes on;
        afterwards the error log works again and says the access log is
        back."""
        for err in ("ENOSPC", "EIO"):
            with self.subTest(errno=err):
                spec = ("write:error.log=%s@always;"
                        "write:access.log=ENOSPC@always" % err)

                def check(f):
                    f.arm()
                    for _ in range(5):
                        f.check_clean()
                    f.disarm()
                    self.assertTrue(f.injected("write " + err))
                    self.assertEqual(f.new_errors(), [])
                    # Until a process that lost lines serves one: with
                    # two workers the first requests may all go to one
                    # that never did (it has nothing to say).
                    for _ in range(200):
                        f.check_file(fetch(f.port, "tiny.txt"), "tiny.txt")
                        if f.new_errors():
                            break
                    lines = f.new_errors()
                    self.assertTrue(lines, "no line after the fault")
                    pids = []
                    for ln in lines:
                        m = re.match(LINE_HEAD % "info" +
                                     r"log: access log .*: written again$",
                                     ln)
                        self.assertTrue(m, "unexpected line %r" % ln)
                        pids.append(m.group(1))
                    # Once per process that had lost lines.
                    self.assertEqual(len(pids), len(set(pids)), lines)
                    f.check_recovered()
                self.each_mode(spec, check)

    # ------------------------------------------------------------ accept

    def accept_fault(self, err):
        spec = "accept4=%s@every:3" % err

        def check(f):
            f.arm()
            ok = dropped = 0
            for i in range(12):
                s = connect(f.port, timeout=10)
                try:
                    s.sendall(build("GET", "/small.txt",
                                    [("Connection", "close")]))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                got = read_until_close(s, 10)
                s.close()
                if got:
                    r = harness.parse_responses(got)[0]
                    f.check_file(r, "small.txt")
                    ok += 1
                else:
                    dropped += 1
            f.disarm()
            faults = len(f.injected("accept4 " + err))
            self.assertGreater(faults, 0)
            # Each failed accept gave back cached descriptors and took
            # its client at the second try: nobody dropped, nothing to
            # say on the log.
            self.assertEqual(dropped, 0, "%d ok" % ok)
            self.assertEqual(f.new_errors(), [])
            f.check_clean()
            f.check_recovered()
        # One listening socket per worker: with a shared one, two workers
        # woken for one client may both try, and the one that fails
        # drops nobody (the other took the client).
        self.each_mode(spec, check, workers_extra=("--accept", "reuseport"))

    def test_accept_emfile(self):
        """EMFILE from every third accept4: the listener takes
        descriptors back from the open-file cache and accepts again, so
        every client is served."""
        self.accept_fault("EMFILE")

    def test_accept_enfile(self):
        self.accept_fault("ENFILE")

    def test_accept_failure_is_logged(self):
        """The first accept4 and its retry after the cache gave
        descriptors back both fail (a call a rule broke is not counted by
        the next rule, so two nth:1 rules break two calls in a row): that client is dropped (the spare
        descriptor takes it), the shortage is one error line, and the
        next accept that works says so once; every later client is
        served."""
        spec = "accept4=EMFILE@nth:1;accept4=EMFILE@nth:1"

        def check(f):
            f.arm()
            s = connect(f.port, timeout=10)
            try:
                s.sendall(build("GET", "/small.txt",
                                [("Connection", "close")]))
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertEqual(read_until_close(s, 10), b"")
            s.close()
            for _ in range(3):
                f.check_clean()
            f.disarm()
            self.assertEqual(len(f.injected("accept4 EMFILE")), 2)
            lines = f.new_errors()
            self.assertEqual(len(lines), 2, lines)
            self.assertTrue(re.match(
                LINE_HEAD % "error" + r"listener: out of descriptors; new "
                r"connections are refused until some close: Too many "
                r"open files$", lines[0]), lines[0])
            self.assertTrue(re.match(
                LINE_HEAD % "info" + r"listener: descriptors available "
                r"again$", lines[1]), lines[1])
            f.check_recovered()
        # One worker: the fault library counts per process.
        self.each_mode(spec, check, workers_extra=("-w", "1"))

    # -------------------------------------------------------- allocations

    def test_allocations_fail(self):
        """malloc, calloc and realloc return NULL while 30 new
        connections at once arrive (more than the warm-up ever held): a
        new connection needs memory for its HTTP state, so each is closed
        without a byte (never a wrong one, never a hang, never a crash);
        each process says so in one line, not one per connection; after
        the shortage it serves as before, descriptors and memory back."""
        spec = "malloc=null@always;calloc=null@always;realloc=null@always"

        def check(f):
            f.arm()
            socks = []
            for i in range(30):
                s = connect(f.port, timeout=10)
                s.sendall(build("GET", "/small.txt"))
                socks.append(s)
            for i, s in enumerate(socks):
                got = read_until_close(s, 10)
                s.close()
                self.assertEqual(got, b"", "client %d" % i)
            f.disarm()
            self.assertTrue(f.injected("malloc null"))
            f.check_clean()
            lines = f.new_errors()
            pids = [re.match(LINE_HEAD % "error" +
                             r"conn: no memory for a connection: closing "
                             r"connections until there is: Cannot "
                             r"allocate memory$", ln) for ln in lines]
            self.assertTrue(lines)
            self.assertTrue(all(pids), lines)
            pids = [m.group(1) for m in pids]
            self.assertEqual(len(pids), len(set(pids)), lines)
            self.assertLessEqual(set(int(p) for p in pids),
                                 set(process_tree(f.pid)))
            f.check_recovered()
        self.each_mode(spec, check)


if __name__ == "__main__":
    unittest.main()
