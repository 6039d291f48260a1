# SPDX-License-Identifier: MIT
"""Integration test harness for tinyweb: start the real binary on a free
port, talk to it over raw sockets, parse what comes back. Python 3
standard library only; every test file imports its helpers from here.

Servers and processes
  BIN, MODE_ARGS            the binary ($TINYWEB_BIN), $TINYWEB_MODE_ARGS
  tinyweb_cmd(*args)        BIN ARGS + MODE_ARGS as an argv list
  Server(root, *args)       tinyweb serve ROOT -p 0 -b 127.0.0.1 -q ARGS
                            (+ MODE_ARGS); .port .pid .alive() .stop()
                            .stderr_text(); a context manager;
                            bind=None leaves -b out, command=None "serve"
  start(root, *args, modes=True)  a Server; modes=False leaves MODE_ARGS out
  sets_mode()               MODE_ARGS picks the mode or the workers
  free_port()               a TCP port of 127.0.0.1 that was free
  refused_port()            a port held bound, never listening: refused
  run(args, timeout)        subprocess.run, text output captured
  read_pid(path)            the pid in a pidfile, or None
  SANITIZER_RE, REFUSED_RE  a sanitizer's report, a system call the
                            sandbox refused: either fails stop()
  proc_stat/proc_state/proc_ppid(pid)  /proc/PID/stat fields, or None
  alive(pid)                the process exists and is not a zombie
  reap(pid, timeout)        its exit code once it exits (ours or reparented
                            to a subreaper), 'gone' if not ours, or None
  kill_naming(text)         SIGKILL every process whose argv contains text
  process_tree(pid)         pid and its descendants
  fd_count(pid), fd_report(pid)  open descriptors (leak checks)
  sockets(pid)              the sockets the process tree holds
  cpu_seconds(pid)          user + system CPU time of the process tree
  wait_until(pred, timeout) poll pred until true; its last value

Requests and responses
  connect(port), raw(port, data)  a socket; bytes until close or timeout
  build(method, target, headers)  the bytes of one request
  request/get/head(port, ...)     one request on a fresh connection
  Conn(port)                one connection: send(), request(),
                            read_response(), at_eof()
  Response                  .status .headers .body, header(), describe()
  parse_one, parse_responses(data, methods)  responses from raw bytes
  parse_multipart(tc, r)    [(type, (first, last, size), bytes)]
  status_json(port, path)   the status page as JSON: (data, response)
  first_diff(got, want)     offset of the first differing byte

Checks and files
  check_common(tc, r)       Date, Server, Content-Length of any response
  http_date(t), etag_for(path), IMF_RE  dates and validators as sent
  read_lines(path, text)    a log's lines; a partial last line fails
  unique_tmpdir(), make_tree(base, tree), Symlink(target)  test trees
  check_bad_lines(tc, dir, rows)  bad config lines: exit 1, one error
  ConfigFileCase            a fresh directory and check-config per test
  ServerCase                one server per class over TMP/root; SECRET
                            lies outside the root and is never served
"""

import atexit
import email.utils
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("TINYWEB_BIN") or os.path.join(REPO, "build", "tinyweb")
MODE_ARGS = os.environ.get("TINYWEB_MODE_ARGS", "").split()

STARTUP_RE = re.compile(r"https?://[^ ]*:(\d+)/")
# Reports of the sanitizer builds; any of them fails the server's stop().
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|"
                          r"runtime error: |SUMMARY: \w+Sanitizer")

# A system call the sandbox's seccomp list lacks (run/sandbox): the
# server survives it, but the list is wrong; any of them fails stop().
REFUSED_RE = re.compile(r"sandbox: system call \d+ refused")

_live = set()


@atexit.register
def _kill_leftovers():
    for srv in list(_live):
        try:
            srv.proc.kill()
            srv.proc.wait(timeout=2)
        except Exception:
            pass


def tinyweb_cmd(*args):
    """The command line for the binary with the mode arguments appended."""
    return [BIN] + list(args) + MODE_ARGS


class Server:
    """One running `tinyweb serve` process on 127.0.0.1 and a free port."""

    def __init__(self, root, *extra_args, bind="127.0.0.1", quiet=True,
                 startup_timeout=10.0, env=None, preexec_fn=None,
                 command="serve"):
        self.root = root
        # bind None: no -b (every address); command None: `tinyweb DIR`
        args = ([command] if command else []) + [root, "-p", "0"]
        if bind is not None:
            args += ["-b", bind]
        if quiet:
            args.append("-q")
        self.cmd = tinyweb_cmd(*args, *extra_args)
        self.host = bind or "127.0.0.1"
        self._lines = []
        self._lock = threading.Lock()
        self._started = threading.Event()
        self.startup_line = None
        self.port = None
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, env=env,
                                         preexec_fn=preexec_fn)
        except OSError as e:
            raise AssertionError("cannot run %s: %s (build it or set "
                                 "TINYWEB_BIN)" % (BIN, e))
        self.pid = self.proc.pid
        _live.add(self)
        self._reader = threading.Thread(target=self._read_stderr,
                                        daemon=True)
        self._reader.start()
        deadline = time.monotonic() + startup_timeout
        while not self._started.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(1)
                _live.discard(self)
                raise AssertionError(
                    "tinyweb exited with %s before its startup line\n"
                    "command: %s\nstderr:\n%s" % (self.proc.returncode,
                                                 " ".join(self.cmd),
                                                 self.stderr_text()))
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                _live.discard(self)
                raise AssertionError(
                    "no startup line within %.0f s\ncommand: %s\nstderr:\n%s"
                    % (startup_timeout, " ".join(self.cmd),
                       self.stderr_text()))

    def _read_stderr(self):
        for line in iter(self.proc.stderr.readline, b""):
            text = line.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(text)
            if not self._started.is_set():
                m = STARTUP_RE.search(text)
                if m and text.startswith("tinyweb: serving "):
                    self.startup_line = text.rstrip("\n")
                    self.port = int(m.group(1))
                    self._started.set()
        self.proc.stderr.close()

    def stderr_text(self):
        with self._lock:
            return "".join(self._lines)

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=5.0):
        """Wait for the process to exit; kill it and fail after timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            _live.discard(self)
            raise AssertionError("tinyweb did not exit within %.0f s; "
                                 "killed\nstderr:\n%s"
                                 % (timeout, self.stderr_text()))
        self._reader.join(2)
        _live.discard(self)
        return rc

    def stop(self, sig=signal.SIGTERM, expect_rc=0):
        """Stop with sig, wait 5 s, and check the exit status and that no
        sanitizer report was printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait_exit(5.0)
        err = self.stderr_text()
        if rc != expect_rc:
            raise AssertionError("tinyweb exited with %s (expected %s)\n"
                                 "stderr:\n%s" % (rc, expect_rc, err))
        if SANITIZER_RE.search(err):
            raise AssertionError("sanitizer report on stderr:\n%s" % err)
        if REFUSED_RE.search(err):
            raise AssertionError("the sandbox refused a system call:\n%s"
                                 % err)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            # The test already failed; do not mask its error.
            try:
                self.stop()
            except AssertionError:
                pass
        return False


# ---------------------------------------------------------------- sockets

def wait_until(pred, timeout=3.0, step=0.05):
    """Poll pred() until it is true or timeout seconds pass; its last
    value (tests wait for a condition, never for a fixed time)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def connect(port, host="127.0.0.1", timeout=3.0):
    return socket.create_connection((host, port), timeout=timeout)


def raw(port, data, timeout=2.0, host="127.0.0.1"):
    """Send data on a new connection and return every byte received until
    the server closes the connection or timeout seconds have passed."""
    s = connect(port, host, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_until_close(s, timeout)
    finally:
        s.close()


def read_until_close(s, timeout):
    """Every byte until the server closes (or resets) the connection, or
    timeout seconds have passed."""
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ConnectionAbortedError):
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


# --------------------------------------------------------------- responses

class Response:
    def __init__(self, version, status, reason, headers, body, head_raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers          # [(name, value)] in order
        self.body = body
        self.head_raw = head_raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    def conn_tokens(self):
        toks = []
        for v in self.header_all("Connection"):
            toks += [t.strip().lower() for t in v.split(",") if t.strip()]
        return toks

    def closes(self):
        return "close" in self.conn_tokens()

    def __repr__(self):
        return "<Response %s %r %d body bytes>" % (
            self.status, self.headers, len(self.body))

    def describe(self):
        body = self.body[:300]
        return "%s\n%r%s" % (self.head_raw.decode("latin-1"), body,
                             "..." if len(self.body) > 300 else "")


class Incomplete(Exception):
    pass


def _bodyless(method, status):
    return (method == "HEAD" or status in (204, 304) or 100 <= status < 200)


def parse_one(buf, method="GET", eof=False):
    """Parse one response at the start of buf. Returns (Response, consumed)
    or raises Incomplete. A body without Content-Length runs to the end
    when eof is true."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        raise Incomplete()
    head = buf[:end + 4]
    lines = head[:end].split(b"\r\n")
    m = re.match(rb"^(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
    if not m:
        raise AssertionError("bad status line %r in %r" % (lines[0], buf[:200]))
    version = m.group(1).decode()
    status = int(m.group(2))
    reason = m.group(3).decode("latin-1")
    headers = []
    for ln in lines[1:]:
        if b":" not in ln:
            raise AssertionError("bad header line %r" % ln)
        k, v = ln.split(b":", 1)
        if k != k.strip() or not k:
            raise AssertionError("bad header name %r" % ln)
        headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
    resp = Response(version, status, reason, headers, b"", head)
    pos = end + 4
    if _bodyless(method, status):
        return resp, pos
    cls = resp.header_all("Content-Length")
    if cls:
        if len(set(cls)) != 1 or not re.fullmatch(r"\d+", cls[0]):
            raise AssertionError("bad Content-Length %r" % cls)
        n = int(cls[0])
        if len(buf) - pos < n:
            if eof:
                raise AssertionError(
                    "connection closed after %d of %d body bytes:\n%s"
                    % (len(buf) - pos, n, resp.describe()))
            raise Incomplete()
        resp.body = buf[pos:pos + n]
        return resp, pos + n
    if not eof:
        raise Incomplete()
    resp.body = buf[pos:]
    return resp, len(buf)


def parse_responses(data, methods=("GET",)):
    """Parse pipelined responses from raw bytes received until close.
    methods[i] is the method of the i-th request (HEAD has no body);
    missing entries count as GET."""
    out = []
    pos = 0
    while pos < len(data):
        i = len(out)
        method = methods[i] if i < len(methods) else "GET"
        try:
            r, n = parse_one(data[pos:], method, eof=True)
        except Incomplete:
            raise AssertionError("truncated response %d: %r" % (i, data[pos:pos + 300]))
        out.append(r)
        pos += n
    return out


class Conn:
    """One client connection with a read buffer, for keep-alive and
    pipelining tests."""

    def __init__(self, port, host="127.0.0.1", timeout=3.0, sock=None):
        self.sock = sock or connect(port, host, timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.reset = False

    def send(self, data):
        self.sock.sendall(data)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(262144)
        except socket.timeout:
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            self.eof = self.reset = True
            return False
        if not b:
            self.eof = True
            return False
        self.buf += b
        return True

    def read_response(self, method="GET", timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                r, n = parse_one(self.buf, method, eof=self.eof)
                self.buf = self.buf[n:]
                return r
            except Incomplete:
                pass
            if self.eof:
                raise AssertionError("connection %s before a complete "
                                     "response; got %r" % (
                                         "reset" if self.reset else "closed",
                                         self.buf[:300]))
            if not self._recv(deadline) and not self.eof:
                raise AssertionError("no complete response within %.1f s; "
                                     "got %r" % (timeout or self.timeout,
                                                 self.buf[:300]))

    def at_eof(self, timeout=1.0):
        """True when the server closes the connection within timeout with
        no further bytes; False if it stays open."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._recv(deadline) and not self.eof:
                break
        return self.eof and not self.buf

    def request(self, method, target, headers=(), version="HTTP/1.1",
                body=b"", host=True, timeout=None):
        self.send(build(method, target, headers, version, body, host))
        return self.read_response(method, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def build(method, target, headers=(), version="HTTP/1.1", body=b"",
          host=True):
    """Bytes of one request. headers is a list of (name, value) or a dict;
    Host: localhost is added unless host is false or a Host is given."""
    if isinstance(headers, dict):
        headers = list(headers.items())
    lines = ["%s %s %s" % (method, target, version) if version
             else "%s %s" % (method, target)]
    if host and not any(k.lower() == "host" for k, _ in headers):
        lines.append("Host: localhost")
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    head = ("\r\n".join(lines) + "\r\n\r\n")
    if isinstance(target, bytes):
        raise TypeError("target must be str; use raw() for bytes")
    return head.encode("utf-8") + body


def request(port, method, target, headers=(), version="HTTP/1.1", body=b"",
            host=True, timeout=3.0):
    """One request on a fresh connection. When the response says
    Connection: close, the server must really close the connection."""
    with Conn(port, timeout=timeout) as c:
        r = c.request(method, target, headers, version, body, host)
        if r.closes() and not c.at_eof(2.0):
            raise AssertionError("response has Connection: close but the "
                                 "connection stayed open:\n" + r.describe())
        r.closed = c.eof
        return r


def get(port, target, headers=(), **kw):
    return request(port, "GET", target, headers, **kw)


def head(port, target, headers=(), **kw):
    return request(port, "HEAD", target, headers, **kw)


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_held = []


def refused_port():
    """A TCP port of 127.0.0.1 where every connect is refused for as long
    as the tests run: bound, never listening, so no other process can
    take it (a port merely free a moment ago once answered a test's
    "server that is down" with another server's 431)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _held.append(s)
    return s.getsockname()[1]


def start(root, *args, modes=True, **kw):
    """A Server on root with args. modes=False leaves out
    $TINYWEB_MODE_ARGS, for the tests that choose the mode themselves."""
    global MODE_ARGS
    saved = MODE_ARGS
    if not modes:
        MODE_ARGS = []
    try:
        return Server(root, *args, **kw)
    finally:
        MODE_ARGS = saved


def sets_mode():
    """True when $TINYWEB_MODE_ARGS picks the mode or the workers (those
    flags win over a config file and over a test's own choice)."""
    return any(a.startswith(("-m", "--mode", "-w", "--workers"))
               for a in MODE_ARGS)


def read_pid(path):
    """The pid in a pidfile, or None when it is missing or not a number."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def read_lines(path, text=False):
    """Lines of a log file ([] when it does not exist); the last must end
    in a newline too (a line is written whole or not at all). Bytes with
    their newlines, or with text=True str (UTF-8, bad bytes replaced)
    without them."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if data and not data.endswith(b"\n"):
        raise AssertionError("%s ends in a partial line: %r"
                             % (path, data[-200:]))
    if text:
        return data.decode("utf-8", "replace").splitlines()
    return data.splitlines(keepends=True)


def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (state first, then
    the parent's pid), or None if the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def proc_state(pid):
    """The state letter of pid (R, S, Z, ...) or None if it is gone."""
    st = proc_stat(pid)
    return st[0] if st else None


def proc_ppid(pid):
    st = proc_stat(pid)
    return int(st[1]) if st else None


def alive(pid):
    """pid runs (it exists and is not a zombie)."""
    return proc_state(pid) not in (None, "Z", "X")


def reap(pid, timeout=5.0):
    """Exit code of pid once it exits (ours, or reparented to us as a
    child subreaper), 'gone' if it was not ours, None if it still runs
    after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            r, status = os.waitpid(pid, os.WNOHANG)
            if r == pid:
                return os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            if not alive(pid):
                return "gone"
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def kill_naming(text):
    """SIGKILL every process (but this one) whose command line contains
    text, a test's own directory; returns their pids."""
    me, hit = os.getpid(), set()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if os.fsencode(text) not in f.read():
                    continue
            os.kill(int(d), signal.SIGKILL)
            hit.add(int(d))
        except OSError:
            pass
    return hit


def process_tree(pid):
    """pid and all its descendants (prefork workers), from /proc."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def fd_count(pid):
    """Open descriptors of the server, for leak checks: in prefork mode
    the connections live in the workers, so the whole process tree
    counts. Regular files are not counted up to one descriptor per file
    per thread: the open-file cache (one per worker thread) legitimately
    keeps hot files open, while a leak opens the same file again and
    again and shows up beyond that."""
    n = 0
    for p in process_tree(pid):
        per_file = {}
        try:
            fds = os.listdir("/proc/%d/fd" % p)
            threads = len(os.listdir("/proc/%d/task" % p))
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if target.startswith("/") and not target.startswith("/dev/"):
                per_file[target] = per_file.get(target, 0) + 1
                continue
            n += 1
        n += sum(max(0, c - threads) for c in per_file.values())
    return n


def sockets(pid):
    """The sockets the server's processes hold ("socket:[inode]"), to
    tell one connection apart whatever else opens or closes."""
    out = set()
    for p in process_tree(pid):
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if t.startswith("socket:"):
                out.add(t)
    return out


def fd_report(pid):
    """What each process of the server has open, for a leak's failure
    message: "pid: fd -> target" lines."""
    lines = []
    for p in process_tree(pid):
        try:
            for fd in sorted(os.listdir("/proc/%d/fd" % p), key=int):
                try:
                    t = os.readlink("/proc/%d/fd/%s" % (p, fd))
                except OSError:
                    continue
                lines.append("%d: %s -> %s" % (p, fd, t))
        except OSError:
            continue
    return "\n".join(lines)


def cpu_seconds(pid):
    """utime + stime of the server's processes in seconds (/proc/PID/stat)."""
    ticks = 0
    for p in process_tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state (field 3); utime, stime are fields 14, 15.
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------ assertions

IMF_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (0[1-9]|[12]\d|3[01]) "
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    r"\d{4} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d GMT$")


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def etag_for(path):
    st = os.stat(path)
    return '"%x-%x"' % (st.st_size, int(st.st_mtime))


def check_common(tc, r, method="GET"):
    """Headers every response carries (DESIGN.md, HTTP behaviour)."""
    d = r.header("Date")
    tc.assertIsNotNone(d, "no Date:\n" + r.describe())
    tc.assertRegex(d, IMF_RE, "Date is not an IMF-fixdate")
    when = email.utils.parsedate_to_datetime(d).timestamp()
    tc.assertLess(abs(when - time.time()), 120, "Date far from now: " + d)
    tc.assertEqual(r.header("Server"), "tinyweb", r.describe())
    cls = r.header_all("Content-Length")
    if r.status in (204, 304):
        tc.assertEqual(cls, [], "Content-Length on %d" % r.status)
        tc.assertEqual(r.body, b"")
    else:
        tc.assertEqual(len(cls), 1, "want one Content-Length:\n" + r.describe())
        if method != "HEAD":
            tc.assertEqual(int(cls[0]), len(r.body))
    tc.assertLessEqual(len(r.header_all("Date")), 1)


def parse_multipart(tc, r):
    """Parts of a multipart/byteranges response as a list of
    (content_type, (first, last, size), bytes). Parsing is driven by the
    Content-Range lengths so any stray byte fails. tinyweb's layout
    exactly: an unquoted boundary, no preamble, the first delimiter at
    byte 0, and the close delimiter followed by one CRLF."""
    ct = r.header("Content-Type", "")
    m = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]+)", ct)
    tc.assertTrue(m, "Content-Type %r" % ct)
    delim = b"--" + m.group(1).encode()
    body = r.body
    tc.assertEqual(int(r.header("Content-Length")), len(body))
    tc.assertEqual(body[:len(delim)], delim,
                   "preamble or no boundary: %r" % body[:80])
    pos = 0
    parts = []
    while True:
        pos += len(delim)
        if body[pos:pos + 2] == b"--":
            tc.assertEqual(body[pos + 2:], b"\r\n", "epilogue")
            return parts
        tc.assertEqual(body[pos:pos + 2], b"\r\n")
        pos += 2
        end = body.index(b"\r\n\r\n", pos)
        hdrs = {}
        for ln in body[pos:end].split(b"\r\n"):
            k, v = ln.decode("latin-1").split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        pos = end + 4
        cr = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)",
                          hdrs.get("content-range", ""))
        tc.assertTrue(cr, "part headers %r" % hdrs)
        a, b, n = (int(x) for x in cr.groups())
        parts.append((hdrs.get("content-type"), (a, b, n),
                      body[pos:pos + b - a + 1]))
        pos += b - a + 1
        tc.assertEqual(body[pos:pos + 2 + len(delim)], b"\r\n" + delim,
                       "part %d-%d not followed by CRLF and the boundary"
                       % (a, b))
        pos += 2


def status_json(port, path="/status", host="127.0.0.1"):
    """The status page at path as JSON on its own connection (Connection:
    close): (data, response). A status other than 200 or a type other
    than application/json fails."""
    with Conn(port, host=host) as c:
        r = c.request("GET", path + "?format=json", [("Connection", "close")])
    if r.status != 200:
        raise AssertionError("status page: " + r.describe())
    if r.header("Content-Type") != "application/json":
        raise AssertionError("status page type: " + r.describe())
    return json.loads(r.body.decode("utf-8")), r


def first_diff(got, want):
    """The offset of the first byte where got and want differ (the shorter
    length when one is a prefix of the other)."""
    return next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                min(len(got), len(want)))


def run(args, timeout=10, **kw):
    """Runs a command; a server started by mistake is killed at timeout."""
    return subprocess.run(args, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          **kw)


def check_bad_lines(tc, confdir, rows):
    """For each (line, what) row, a config file in confdir whose third
    line is line: check-config and serve both exit 1, print nothing on
    stdout and one stderr line "tinyweb: FILE:3: what" (what a regex)."""
    for line, what in rows:
        with tc.subTest(line=line):
            path = os.path.join(confdir, "bad.conf")
            with open(path, "w") as f:
                f.write("# tinyweb\nindex index.html;\n%s\n" % line)
            for cmd in ("check-config", "serve"):
                r = run([BIN, cmd, "-c", path, "-p", "0", "-b",
                         "127.0.0.1"], cwd=confdir)
                tc.assertEqual(r.returncode, 1, "%s: %s" % (cmd, r.stderr))
                tc.assertEqual(r.stdout, "")
                lines = r.stderr.splitlines()
                tc.assertEqual(len(lines), 1, r.stderr)
                tc.assertRegex(lines[0], r"^tinyweb: %s:3: %s$"
                               % (re.escape(path), what))


class ConfigFileCase(unittest.TestCase):
    """Tests of configuration files: a fresh directory for each test,
    files written into it, check-config run there."""

    def setUp(self):
        self.dir = unique_tmpdir("tinyweb-conf-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def conf(self, text, name="t.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, *args):
        return run([BIN, "check-config"] + list(args), cwd=self.dir)


def unique_tmpdir(prefix="tinyweb-it-"):
    return os.path.realpath(tempfile.mkdtemp(prefix=prefix))


class Symlink:
    def __init__(self, target):
        self.target = target


def make_tree(base, tree):
    """Create files from a dict: name -> bytes (file), dict (directory) or
    Symlink(target). Names may be str or bytes."""
    for name, val in tree.items():
        path = os.path.join(os.fsencode(base), os.fsencode(name))
        if isinstance(val, dict):
            os.makedirs(path, exist_ok=True)
            make_tree(path, val)
        elif isinstance(val, Symlink):
            os.symlink(val.target, path)
        else:
            with open(path, "wb") as f:
                f.write(val if isinstance(val, bytes) else val.encode())


SECRET = b"TOPSECRET-8f3a1c-outside-the-root"


class ServerCase(unittest.TestCase):
    """A test class with one server for the whole class over a fresh tree
    TMP/root; TMP/outside/secret.txt holds SECRET (never to be served)."""

    tree = {}
    server_args = ()

    def exchange(self, data, timeout=5.0):
        """Send data on a new connection, half-close, and return every
        response until the server closes, each checked by check_common:
        the client's EOF makes a server that waits for more close, so the
        count is exact."""
        s = connect(self.port)
        try:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass
            got = read_until_close(s, timeout)
        finally:
            s.close()
        rs = parse_responses(got)
        for r in rs:
            check_common(self, r)
        return rs

    @classmethod
    def setUpClass(cls):
        cls.server = None
        cls.setup_error = None
        cls.tmp = unique_tmpdir()
        cls.root = os.path.join(cls.tmp, "root")
        cls.outside = os.path.join(cls.tmp, "outside")
        os.makedirs(cls.root)
        os.makedirs(cls.outside)
        with open(os.path.join(cls.outside, "secret.txt"), "wb") as f:
            f.write(SECRET + b"\n")
        make_tree(cls.root, cls.tree)
        cls.prepare()
        try:
            cls.server = Server(cls.root, *cls.server_args)
        except AssertionError as e:
            # Reported by every test of the class (see setUp), so that the
            # number of tests does not depend on whether the server starts.
            cls.setup_error = str(e)
            return
        cls.port = cls.server.port

    @classmethod
    def prepare(cls):
        """Hook for subclasses: adjust the tree before the server starts."""

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server is not None:
                cls.server.stop()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if self.setup_error:
            self.fail("server did not start: " + self.setup_error)
        self.assertTrue(self.server.alive(), "server died:\n" +
                        self.server.stderr_text())

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def get(self, target, headers=(), **kw):
        r = get(self.port, target, headers, **kw)
        check_common(self, r, "GET")
        return r

    def head(self, target, headers=(), **kw):
        r = head(self.port, target, headers, **kw)
        check_common(self, r, "HEAD")
        return r

    def req(self, method, target, headers=(), **kw):
        r = request(self.port, method, target, headers, **kw)
        check_common(self, r, method)
        return r

    def raw(self, data, timeout=2.0):
        return raw(self.port, data, timeout)

    def assertStatus(self, r, status):
        if isinstance(status, int):
            status = (status,)
        if r.status not in status:
            self.fail("status %d, want %s:\n%s" % (r.status, status,
                                                   r.describe()))

    def assertServes(self, target="/", status=200):
        """The server still answers a fresh connection: GET target gives
        status (a ServerCase's root has an index or is listed)."""
        r = get(self.port, target)
        self.assertEqual(r.status, status, r.describe())
