# SPDX-License-Identifier: MIT
"""Logs: the access log formats (combined, common, json) line by line;
hostile bytes in the request line and headers give one well-formed line;
the error log's format and --log-level; USR1 re-opening under load loses
no line in any run mode."""

import json
import os
import re
import shutil
import signal
import threading
import time
import unittest

import harness
from harness import (Conn, Server, make_tree, parse_responses, process_tree,
                     raw, read_lines, sets_mode, unique_tmpdir)

BODY = b"log body\n" * 100                  # 900 bytes

DATE = r"\d\d/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}" \
       r":\d\d:\d\d:\d\d [+-]\d{4}"
# Inside quotes: printable ASCII except the quote and the backslash, or
# a \xHH escape. Nothing else may appear, so a field cannot end early.
QFIELD = r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\x[0-9a-f]{2})*)"'
COMMON_RE = re.compile(r"\A(\S+) - - \[(" + DATE + r")\] " + QFIELD +
                       r" (\d{3}) (\d+|-)\n\Z")
COMBINED_RE = re.compile(r"\A(\S+) - - \[(" + DATE + r")\] " + QFIELD +
                         r" (\d{3}) (\d+|-) " + QFIELD + " " + QFIELD +
                         r"\n\Z")
ERROR_RE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
                      r"\[(error|warn|info|debug)\] (\d+) [a-z_]+: ")
JSON_KEYS = {"time", "remote", "method", "uri", "protocol", "status",
             "bytes", "request_time_us", "referer", "user_agent"}


def unescape(field):
    """Bytes of a logged field: \\xHH back to the byte."""
    return re.sub(rb"\\x([0-9a-f]{2})",
                  lambda m: bytes([int(m.group(1), 16)]),
                  field.encode("ascii"))


def wait_lines(paths, n, timeout=3.0):
    """Poll until the files hold n lines in all (or timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        got = sum(len(read_lines(p)) for p in paths)
        if got >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


class TmpCase(unittest.TestCase):
    def setUp(self):
        self.tmp = unique_tmpdir()
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        make_tree(self.root, {"f.txt": BODY, "dir": {"a.txt": b"a\n"}})
        self.alog = os.path.join(self.tmp, "access.log")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# ----------------------------------------------------------- access log

UA = 'Mozilla/5.0 (X11) "quoted" back\\slash'
REF = 'http://example.com/a?b="c"'
# Bytes a hostile client may send: quotes, backslashes, a tab, bytes
# >= 0x80 in header values; quotes and backslashes in the target.
HOSTILE_TARGET = '/a"b\\c%22/"%20200%20-?q="x"%0a%0d\\'
HOSTILE_UA = (b'evil" 200 512 "-" "forged\tTAB \xc3\xa9\xff\x80 '
              b'\\x22 end')
HOSTILE_REF = b'"\\\xfe'


def plain_requests(port):
    """A small known set of requests; returns what each should log as
    (method target protocol, status, bytes)."""
    want = []
    with Conn(port) as c:
        r = c.request("GET", "/f.txt", [("User-Agent", UA), ("Referer", REF)])
        assert r.status == 200
        want.append(("GET /f.txt HTTP/1.1", 200, len(BODY), REF, UA))
        r = c.request("HEAD", "/f.txt", [("User-Agent", UA)])
        assert r.status == 200
        want.append(("HEAD /f.txt HTTP/1.1", 200, 0, None, UA))
        r = c.request("GET", "/missing?x=1")
        assert r.status == 404
        want.append(("GET /missing?x=1 HTTP/1.1", 404, len(r.body), None,
                     None))
        r = c.request("GET", "/f.txt", [("Range", "bytes=0-9")],
                      version="HTTP/1.0")
        assert r.status == 206
        want.append(("GET /f.txt HTTP/1.0", 206, 10, None, None))
    # Refused once parsed: the request line is known.
    rs = parse_responses(raw(port, b"GET /f.txt HTTP/1.1\r\n\r\n"))
    assert rs[0].status == 400
    want.append(("GET /f.txt HTTP/1.1", 400, len(rs[0].body), None, None))
    # Refused by the parser: no request line to log.
    rs = parse_responses(raw(port, b"GET /f.txt HTTP/1.1\r\nHost: x\r\n"
                                   b"No colon\r\n\r\n"))
    assert rs[0].status == 400
    want.append((None, 400, len(rs[0].body), None, None))
    return want


def hostile_requests(port):
    """Requests meant to break or forge log lines. Returns how many."""
    n = 0
    head = (b"GET " + HOSTILE_TARGET.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"User-Agent: " + HOSTILE_UA + b"\r\nReferer: " + HOSTILE_REF +
            b"\r\n\r\n")
    rs = parse_responses(raw(port, head + b"GET /f.txt HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n"))
    assert [r.status for r in rs] == [404, 200], rs
    n += 2
    # A %0a in the path is refused after parsing (400), the line logged.
    rs = parse_responses(raw(port, b"GET /x%0a\"y HTTP/1.1\r\nHost: x\r\n"
                                   b"User-Agent: \"\r\nConnection: close\r\n\r\n"))
    assert len(rs) == 1 and rs[0].status == 400, rs
    n += 1
    # Refused by the parser, logged all the same: a control byte in a
    # header, a bare LF trying to start a new log line, raw bytes >= 0x80
    # and a raw quote with a CR in the target.
    for bad in (b"GET /f.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x01b\"c\r\n\r\n",
                b"GET /f.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: a\n"
                b"127.0.0.1 - - [01/Jan/2000:00:00:00 +0000] \"GET /forged "
                b"HTTP/1.1\" 200 1 \"-\" \"-\"\r\n\r\n",
                b"GET /\xc3\xa9\x80\"x HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /a\"\rb HTTP/1.1\r\nHost: x\r\n\r\n"):
        rs = parse_responses(raw(port, bad))
        assert len(rs) == 1 and rs[0].status == 400, rs
        n += 1
    return n


def clean_bytes(tc, line):
    """No control bytes but the final newline, nothing above 0x7e."""
    body = line[:-1]
    tc.assertEqual(line[-1:], b"\n")
    bad = [b for b in body if b < 0x20 or b > 0x7e]
    tc.assertEqual(bad, [], "raw control or non-ASCII bytes in %r" % line)


class TestAccessFormats(TmpCase):
    def serve(self, fmt, fn):
        args = ["--access-log", self.alog]
        if fmt is not None:
            args += ["--log-format", fmt]
        with Server(self.root, *args) as srv:
            out = fn(srv.port)
        # Stopped: every line is written.
        return out, read_lines(self.alog)

    def test_combined_is_default(self):
        want, lines = self.serve(None, plain_requests)
        self.check_text(lines, want, COMBINED_RE, True)

    def test_combined(self):
        want, lines = self.serve("combined", plain_requests)
        self.check_text(lines, want, COMBINED_RE, True)

    def test_common(self):
        want, lines = self.serve("common", plain_requests)
        self.check_text(lines, want, COMMON_RE, False)

    def check_text(self, lines, want, rx, combined):
        self.assertEqual(len(lines), len(want), lines)
        for line, (req, status, nbytes, ref, ua) in zip(lines, want):
            text = line.decode("ascii")
            m = rx.match(text)
            self.assertIsNotNone(m, "line does not parse: %r" % text)
            self.assertEqual(m.group(1), "127.0.0.1")
            self.assertEqual(m.group(3), req if req else "-")
            self.assertEqual(int(m.group(4)), status)
            self.assertEqual(m.group(5), str(nbytes) if nbytes else "-")
            if combined:
                self.assertEqual(unescape(m.group(6)).decode(),
                                 ref if ref else "-")
                self.assertEqual(unescape(m.group(7)).decode(),
                                 ua if ua else "-")
            else:
                self.assertNotIn("Mozilla", text)
        when = time.strptime(rx.match(lines[0].decode()).group(2),
                             "%d/%b/%Y:%H:%M:%S %z")
        self.assertLess(abs(time.mktime(when) - time.mktime(time.gmtime())),
                        120)

    def test_json(self):
        want, lines = self.serve("json", plain_requests)
        self.assertEqual(len(lines), len(want), lines)
        for line, (req, status, nbytes, ref, ua) in zip(lines, want):
            clean_bytes(self, line)
            d = json.loads(line)
            self.assertEqual(set(d), JSON_KEYS, line)
            self.assertEqual(d["remote"], "127.0.0.1")
            if req:
                method, uri, proto = req.split(" ")
                self.assertEqual((d["method"], d["uri"], d["protocol"]),
                                 (method, uri, proto))
            self.assertEqual(d["status"], status)
            self.assertEqual(d["bytes"], nbytes)
            self.assertIsInstance(d["request_time_us"], int)
            self.assertGreaterEqual(d["request_time_us"], 0)
            self.assertLess(d["request_time_us"], 10 * 1000 * 1000)
            self.assertEqual(d["referer"], ref or "")
            self.assertEqual(d["user_agent"], ua or "")
            self.assertRegex(d["time"], "^" + DATE + "$")

    def test_off(self):
        with Server(self.root, "--access-log", "off") as srv:
            plain_requests(srv.port)
        self.assertFalse(os.path.exists(self.alog))


class TestHostile(TmpCase):
    """Quotes, backslashes, tabs, control and high bytes: one whole,
    well-formed line per request, and the bytes come back on unescaping."""

    def test_combined(self):
        with Server(self.root, "--access-log", self.alog) as srv:
            n = hostile_requests(srv.port)
        lines = read_lines(self.alog)
        self.assertEqual(len(lines), n, lines)
        for line in lines:
            clean_bytes(self, line)
            self.assertIsNotNone(COMBINED_RE.match(line.decode("ascii")),
                                 "line does not parse: %r" % line)
        self.assertNotIn(b"/forged", b"".join(lines[:2]))
        m = COMBINED_RE.match(lines[0].decode("ascii"))
        self.assertEqual(unescape(m.group(3)),
                         b"GET " + HOSTILE_TARGET.encode() + b" HTTP/1.1")
        self.assertEqual(m.group(4), "404")
        self.assertEqual(unescape(m.group(6)), HOSTILE_REF)
        self.assertEqual(unescape(m.group(7)), HOSTILE_UA)
        self.assertIn('\\x22', m.group(7))
        self.assertIn('\\x09', m.group(7))
        self.assertIn('\\x5c', m.group(7))
        self.assertIn('\\xc3\\xa9\\xff\\x80', m.group(7))
        self.assertIn('/a\\x22b\\x5cc%22/', m.group(3))
        self.assertIn('%0a%0d\\x5c HTTP/1.1', m.group(3))
        m = COMBINED_RE.match(lines[1].decode("ascii"))
        self.assertEqual(m.group(3), "GET /f.txt HTTP/1.1")
        for line in lines[2:]:
            m = COMBINED_RE.match(line.decode("ascii"))
            self.assertEqual(m.group(4), "400", line)

    def test_json(self):
        with Server(self.root, "--access-log", self.alog,
                    "--log-format", "json") as srv:
            n = hostile_requests(srv.port)
        lines = read_lines(self.alog)
        self.assertEqual(len(lines), n, lines)
        docs = []
        for line in lines:
            clean_bytes(self, line)
            d = json.loads(line)
            self.assertEqual(set(d), JSON_KEYS)
            docs.append(d)
        d = docs[0]
        self.assertEqual(d["uri"], HOSTILE_TARGET)
        self.assertEqual(d["status"], 404)
        # Bytes >= 0x80 are \u00XX: each byte one code point.
        self.assertEqual(d["user_agent"], HOSTILE_UA.decode("latin-1"))
        self.assertEqual(d["referer"], HOSTILE_REF.decode("latin-1"))
        self.assertIn(b'\\"', lines[0])
        self.assertIn(b"\\u0009", lines[0])
        self.assertIn(b"\\u00c3\\u00a9\\u00ff\\u0080", lines[0])
        self.assertEqual(docs[1]["uri"], "/f.txt")
        for d in docs[2:]:
            self.assertEqual(d["status"], 400)
            self.assertNotIn("forged", d["uri"] + d["user_agent"])

    def test_common(self):
        with Server(self.root, "--access-log", self.alog,
                    "--log-format", "common") as srv:
            n = hostile_requests(srv.port)
        lines = read_lines(self.alog)
        self.assertEqual(len(lines), n, lines)
        for line in lines:
            clean_bytes(self, line)
            self.assertIsNotNone(COMMON_RE.match(line.decode("ascii")), line)


# ------------------------------------------------------------ error log

@unittest.skipIf(sets_mode(), "TINYWEB_MODE_ARGS picks the mode")
class TestErrorLog(TmpCase):
    """Lines from the prefork master: a reload (info) and a killed worker
    (error)."""

    def provoke(self, srv, elog, want):
        """Reload, then kill a worker; wait until `want` shows."""
        deadline = time.monotonic() + 5
        while True:
            workers = [p for p in process_tree(srv.pid) if p != srv.pid]
            if len(workers) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(len(workers), 2, workers)
        srv.send_signal(signal.SIGHUP)
        # The old workers leave once the new ones are up.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            now = [p for p in process_tree(srv.pid) if p != srv.pid]
            if len(now) == 2 and not set(now) & set(workers):
                break
            time.sleep(0.05)
        victim = [p for p in process_tree(srv.pid) if p != srv.pid][0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = b"".join(read_lines(elog)).decode("utf-8", "replace")
            if re.search(want, text) and len(
                    [p for p in process_tree(srv.pid) if p != srv.pid]) == 2:
                break
            time.sleep(0.05)
        return victim

    def test_format_info(self):
        elog = os.path.join(self.tmp, "error.log")
        with Server(self.root, "-m", "prefork", "-w", "2", "--error-log",
                    elog, "--log-level", "info") as srv:
            victim = self.provoke(srv, elog, r"killed by signal 9")
        lines = read_lines(elog)
        self.assertGreaterEqual(len(lines), 2, lines)
        levels = set()
        for line in lines:
            text = line.decode("utf-8")
            m = ERROR_RE.match(text)
            self.assertIsNotNone(m, "error log line %r" % text)
            self.assertEqual(text.count("\n"), 1)
            levels.add(m.group(1))
        text = b"".join(lines).decode()
        self.assertRegex(text, r"\[info\] %d master: reloaded" % srv.pid)
        self.assertRegex(text, r"\[error\] %d master: worker %d killed by "
                         r"signal 9" % (srv.pid, victim))
        self.assertIn("info", levels)
        self.assertIn("error", levels)
        y, mo, d = map(int, lines[0][:10].decode().split("/"))
        self.assertLessEqual(abs(time.mktime((y, mo, d, 0, 0, 0, 0, 0, 0)) -
                                 time.mktime(time.gmtime())), 2 * 86400)

    def test_level_error_drops_info(self):
        elog = os.path.join(self.tmp, "error.log")
        with Server(self.root, "-m", "prefork", "-w", "2", "--error-log",
                    elog, "--log-level", "error") as srv:
            self.provoke(srv, elog, r"killed by signal 9")
        lines = read_lines(elog)
        text = b"".join(lines).decode()
        self.assertRegex(text, r"\[error\] \d+ master: worker \d+ killed")
        for line in lines:
            m = ERROR_RE.match(line.decode())
            self.assertIsNotNone(m, line)
            self.assertEqual(m.group(1), "error", line)
        self.assertNotIn("reloaded", text)

    def test_invalid_reload(self):
        """An invalid configuration on reload is an error line."""
        conf = os.path.join(self.tmp, "t.conf")
        elog = os.path.join(self.tmp, "error.log")
        with open(conf, "w") as f:
            f.write("root %s;\nerror_log %s;\nlog_level info;\n"
                    % (self.root, elog))
        with Server(self.root, "-c", conf) as srv:
            with open(conf, "a") as f:
                f.write("no_such_directive 1;\n")
            srv.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if b"[error]" in b"".join(read_lines(elog)):
                    break
                time.sleep(0.05)
            self.assertTrue(srv.alive())
        lines = read_lines(elog)
        self.assertTrue(any(b"[error]" in l for l in lines), lines)
        for line in lines:
            self.assertIsNotNone(ERROR_RE.match(line.decode()), line)


# ------------------------------------------------------------- rotation

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}
N = 600
TAIL = 20


class Client(threading.Thread):
    """N requests, keep-alive, a new connection every 50; counts answers."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.done = 0
        self.answered = set()
        self.error = None

    def run(self):
        c = None
        try:
            for i in range(N):
                if c is None or i % 50 == 0:
                    if c is not None:
                        c.close()
                    c = Conn(self.port)
                r = c.request("GET", "/f.txt?n=%d" % i)
                if r.status == 200 and r.body == BODY:
                    self.answered.add("n=%d" % i)
                self.done = i + 1
        except Exception as e:
            self.error = repr(e)
        finally:
            if c is not None:
                c.close()


class TestRotation(TmpCase):
    def rotate(self, name, args):
        with Server(self.root, "--access-log", self.alog, *args) as srv:
            cl = Client(srv.port)
            cl.start()
            olds = []
            for k, at in enumerate((N // 3, 2 * N // 3)):
                deadline = time.monotonic() + 20
                while cl.done < at and cl.is_alive() and \
                        time.monotonic() < deadline:
                    time.sleep(0.002)
                # The previous USR1 creates the file anew: on a busy
                # machine that can take longer than a third of the load.
                harness.wait_until(lambda: os.path.exists(self.alog), 10)
                old = "%s.%d" % (self.alog, k + 1)
                os.rename(self.alog, old)
                olds.append(old)
                srv.send_signal(signal.SIGUSR1)
            cl.join(30)
            self.assertIsNone(cl.error, name)
            self.assertEqual(len(cl.answered), N, name)
            # Give every worker time to re-open, then some more requests:
            # they must all go to the new file.
            time.sleep(0.3)
            tail = set()
            for i in range(TAIL):
                with Conn(srv.port) as c:
                    r = c.request("GET", "/f.txt?t=%d" % i,
                                  [("Connection", "close")])
                    if r.status == 200:
                        tail.add("t=%d" % i)
            self.assertEqual(len(tail), TAIL)
            files = olds + [self.alog]
            total = wait_lines(files, N + TAIL)
        self.assertEqual(total, N + TAIL, name)
        seen = {}
        for path in files:
            for line in read_lines(path):
                m = COMBINED_RE.match(line.decode("ascii"))
                self.assertIsNotNone(m, "%s: broken line %r" % (name, line))
                q = m.group(3).split(" ")[1].partition("?")[2]
                self.assertNotIn(q, seen, "%s: logged twice" % name)
                seen[q] = path
        self.assertEqual(set(seen), cl.answered | tail, name)
        for t in tail:
            self.assertEqual(seen[t], self.alog,
                             "%s: %s after USR1 went to %s" % (name, t, seen[t]))
        # The first third was written before any rename.
        self.assertEqual(seen["n=0"], olds[0], name)

    def run_mode(self, name):
        if harness.MODE_ARGS:
            if name != "epoll":
                self.skipTest("mode from $TINYWEB_MODE_ARGS")
            self.rotate("env", [])
        else:
            self.rotate(name, MODES[name])

    def test_epoll(self):
        self.run_mode("epoll")

    def test_prefork(self):
        self.run_mode("prefork")

    def test_threads(self):
        self.run_mode("threads")


def cloexec_logs(pid, paths):
    """{fd: path} of pid's descriptors on paths that lack O_CLOEXEC."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                flags = next(int(ln.split()[1], 8) for ln in f
                             if ln.startswith("flags:"))
        except (OSError, StopIteration):
            continue
        if target in paths and not flags & os.O_CLOEXEC:
            out[int(fd)] = target
    return out


class TestReopenCloexec(TmpCase):
    """A re-opened log stays close-on-exec: else the exec of a reload
    (epoll, threads) or an upgrade hands it to the new process, which
    opens its own beside it; bench/soak saw two more descriptors per
    rotation and reload."""

    def reopen(self, name, args):
        elog = os.path.join(self.tmp, "error.log")
        with Server(self.root, "--access-log", self.alog,
                    "--error-log", elog, *args) as srv:
            os.rename(self.alog, self.alog + ".1")
            srv.send_signal(signal.SIGUSR1)
            # Re-opened once a request is logged in the new file.
            def logged():
                raw(srv.port, b"GET /f.txt HTTP/1.1\r\nHost: a\r\n"
                    b"Connection: close\r\n\r\n")
                return os.path.exists(self.alog) and read_lines(self.alog)
            self.assertTrue(harness.wait_until(logged, 5),
                            "%s: no new access log after USR1" % name)
            paths = {self.alog, elog}
            for pid in process_tree(srv.pid):
                self.assertEqual(cloexec_logs(pid, paths), {},
                                 "%s: pid %d" % (name, pid))

    def test_epoll(self):
        if harness.MODE_ARGS:
            self.reopen("env", [])
        else:
            self.reopen("epoll", MODES["epoll"])

    def test_prefork(self):
        if harness.MODE_ARGS:
            self.skipTest("mode from $TINYWEB_MODE_ARGS")
        self.reopen("prefork", MODES["prefork"])

    def test_threads(self):
        if harness.MODE_ARGS:
            self.skipTest("mode from $TINYWEB_MODE_ARGS")
        self.reopen("threads", MODES["threads"])


if __name__ == "__main__":
    unittest.main()
