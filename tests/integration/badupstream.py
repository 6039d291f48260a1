#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted, misbehaving HTTP/1.1 upstream for the proxy's tests.

In a test:
    with BadUpstream("reset_mid_body") as up:
        ... point the proxy at up.port ...
        up.requests     # every request it parsed, in order
        up.raw()        # every byte it received, all connections

From a shell:
    python3 tests/integration/badupstream.py --port N --mode MODE \\
        [--size BYTES] [--delay SECONDS]
prints one line to stderr when listening, then one line per request
received to stdout ("METHOD TARGET"), until SIGINT or SIGTERM.

Each connection gets its own thread; requests are parsed strictly enough
to record them (head, then a Content-Length or chunked body). What each
mode answers to every request:

  ok              `status` (200), Content-Length, `size` bytes of body,
                  X-Upstream-Port; keep-alive unless asked to close
  slow_headers    a valid 200 whose head goes out one byte per `delay`
  garbage_status  a status line that is not HTTP ("HTTP/1.1 2OO OK")
  cl_and_te       Content-Length and Transfer-Encoding: chunked together
  two_cl          two different Content-Length fields
  huge_headers    a 200 with 64 KiB of header fields (64 of 1 KiB)
  reset_mid_body  Content-Length: `size`, half the body, then a reset
                  (SO_LINGER 0: RST, not FIN)
  never_answers   reads the request, sends nothing, holds the connection
  answers_twice   two complete 200 responses to one request
  split_response  response splitting: a field value carrying a bare LF
                  and a Set-Cookie after it, another a bare CR and a
                  field after it, and a second response ("HTTP/1.1 200
                  OK ... SPLIT") behind a Content-Length: 0
  close_delimited a 200 with neither length nor chunked: ends at close
  chunked         chunked with chunk extensions and a trailer field
  websocket       the Upgrade handshake, then echoes every data frame
                  (fragments as fragments; pings ponged, a close
                  answered with a close); no Upgrade: 426
  close_at_once   reads the request and closes without a byte (the
                  proxy's case for trying the next server)

The bodies of the responses a proxy must never pass on (garbage_status,
cl_and_te, two_cl, huge_headers, and answers_twice's second response)
carry MARKER, so a test can check that none of it reached a client; SPLIT
marks split_response's smuggled field and second response.
"""

import argparse
import base64
import hashlib
import signal
import socket
import struct
import sys
import threading
import time

MODES = ("ok", "slow_headers", "garbage_status", "cl_and_te", "two_cl",
         "huge_headers", "reset_mid_body", "never_answers", "answers_twice",
         "split_response", "close_delimited", "chunked", "websocket",
         "close_at_once")

MARKER = b"BADUPSTREAM"
SPLIT = b"SPLIT-SMUGGLED"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 64 * 1024


class Request:
    """One request as received: .method .target .version .headers (a
    list of (name, value) str pairs, in order) .body (bytes, decoded if
    chunked) .raw (the bytes of head and body as they came)."""

    def __init__(self, method, target, version, headers, body, raw):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def __repr__(self):
        return "<Request %s %s %d body bytes>" % (self.method, self.target,
                                                  len(self.body))


class BadRequest(Exception):
    pass


class _Reader:
    """Buffered reads from one socket; None at end of input."""

    def __init__(self, sock, record):
        self.sock = sock
        self.buf = b""
        self.record = record

    def fill(self):
        try:
            b = self.sock.recv(65536)
        except OSError:
            b = b""
        if b:
            self.record(b)
            self.buf += b
        return bool(b)

    def until(self, sep, limit):
        while sep not in self.buf:
            if len(self.buf) > limit or not self.fill():
                return None
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _read_request(rd):
    """The next request from rd, None at a clean end of input; raises
    BadRequest for what it cannot frame."""
    head = rd.until(b"\r\n\r\n", MAX_HEAD)
    if head is None:
        if rd.buf:
            raise BadRequest("incomplete head")
        return None
    lines = head[:-4].split(b"\r\n")
    try:
        method, target, version = lines[0].decode("latin-1").split(" ")
    except ValueError:
        raise BadRequest("request line %r" % lines[0])
    headers = []
    for ln in lines[1:]:
        name, sep, value = ln.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest("field line %r" % ln)
        headers.append((name, value.strip(" \t")))
    req = Request(method, target, version, headers, b"", head)
    te = (req.header("Transfer-Encoding") or "").lower()
    cl = req.header("Content-Length")
    if "chunked" in te:
        body, raw = _read_chunked(rd)
        req.body, req.raw = body, head + raw
    elif cl is not None:
        if not cl.isdigit():
            raise BadRequest("Content-Length %r" % cl)
        body = rd.exactly(int(cl))
        if body is None:
            raise BadRequest("body cut short")
        req.body, req.raw = body, head + body
    return req


def _read_chunked(rd):
    body, raw = [], []
    while True:
        line = rd.until(b"\r\n", 4096)
        if line is None:
            raise BadRequest("chunk size")
        raw.append(line)
        try:
            n = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest("chunk size %r" % line)
        if n == 0:
            break
        data = rd.exactly(n + 2)
        if data is None or data[-2:] != b"\r\n":
            raise BadRequest("chunk data")
        raw.append(data)
        body.append(data[:-2])
    while True:     # trailer fields up to the empty line
        line = rd.until(b"\r\n", 4096)
        if line is None:
            raise BadRequest("trailer")
        raw.append(line)
        if line == b"\r\n":
            return b"".join(body), b"".join(raw)


def _wants_close(req):
    return ((req.header("Connection") or "").lower() == "close" or
            req.version == "HTTP/1.0")


def _ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID)
                            .digest()).decode()


def ws_frame(opcode, payload, mask=None, fin=True):
    """One WebSocket frame, the last of its message unless fin is false
    (masked when mask, 4 bytes, is given: a client's frames must be)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def ws_read_frame(rd):
    """(opcode, payload) of the next frame from a _Reader, unmasked; None
    at end of input."""
    f = _ws_read(rd)
    return f[1:] if f else None


def _ws_read(rd):
    """(fin, opcode, payload) of the next frame, or None."""
    h = rd.exactly(2)
    if h is None:
        return None
    fin, opcode, n = bool(h[0] & 0x80), h[0] & 0x0F, h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", rd.exactly(2) or b"\0\0")[0]
    elif n == 127:
        n = struct.unpack("!Q", rd.exactly(8) or b"\0" * 8)[0]
    mask = rd.exactly(4) if h[1] & 0x80 else None
    payload = rd.exactly(n) if n else b""
    if payload is None:
        return None
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return fin, opcode, payload


class BadUpstream:
    """The upstream, listening on 127.0.0.1:port (0: a free one) in one of
    MODES. size: body bytes of ok, reset_mid_body and close_delimited;
    delay: seconds between the head bytes of slow_headers; status: ok's
    status code. .port .mode .requests
    .connections (accepted so far); raw(); stop(). A context manager."""

    def __init__(self, mode, port=0, size=1024, delay=0.1, status=200,
                 log=None):
        if mode not in MODES:
            raise ValueError("mode %r: one of %s" % (mode, ", ".join(MODES)))
        self.mode = mode
        self.size = size
        self.delay = delay
        self.status = status
        self.log = log
        self.requests = []
        self.connections = 0
        self._raw = []
        self._lock = threading.Lock()
        self._socks = set()
        self._stopping = threading.Event()
        self._lsock = socket.socket()
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", port))
        self._lsock.listen(128)
        self.port = self._lsock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop,
                                        daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def raw(self):
        """Every byte received so far, on every connection, in order of
        arrival per connection."""
        with self._lock:
            return b"".join(self._raw)

    def stop(self):
        self._stopping.set()
        try:
            self._lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._lsock.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)

    # ------------------------------------------------------------ serving

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                s, _ = self._lsock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.add(s)
            threading.Thread(target=self._serve, args=(s,),
                             daemon=True).start()

    def _record(self, b):
        with self._lock:
            self._raw.append(b)

    def _serve(self, s):
        rd = _Reader(s, self._record)
        try:
            while not self._stopping.is_set():
                try:
                    req = _read_request(rd)
                except BadRequest:
                    break
                if req is None:
                    break
                with self._lock:
                    self.requests.append(req)
                if self.log:
                    self.log("%s %s" % (req.method, req.target))
                if not getattr(self, "_" + self.mode)(s, rd, req):
                    break
                if _wants_close(req):
                    break
        except OSError:
            pass
        finally:
            with self._lock:
                self._socks.discard(s)
            try:
                s.close()
            except OSError:
                pass

    # Each mode answers req on s and says whether to read another request.

    def _body(self, n):
        pattern = b"0123456789abcdef" * 64
        return (pattern * (n // len(pattern) + 1))[:n]

    def _ok(self, s, rd, req):
        body = self._body(self.size) if req.method != "HEAD" else b""
        close = _wants_close(req)
        s.sendall(b"HTTP/1.1 %d Scripted\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: %d\r\nX-Upstream-Port: %d\r\n%s\r\n"
                  % (self.status, self.size, self.port,
                     b"Connection: close\r\n" if close else b"") + body)
        return not close

    def _slow_headers(self, s, rd, req):
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 3\r\n\r\n")
        for i in range(len(head)):
            if self._stopping.wait(self.delay):
                return False
            s.sendall(head[i:i + 1])
        s.sendall(b"ok\n")
        return True

    def _garbage_status(self, s, rd, req):
        s.sendall(b"HTTP/1.1 2OO OK\r\nContent-Length: 11\r\n\r\n" + MARKER)
        return False

    def _cl_and_te(self, s, rd, req):
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n"
                  b"b\r\n" + MARKER + b"\r\n0\r\n\r\n")
        return False

    def _two_cl(self, s, rd, req):
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n"
                  b"Content-Length: 5\r\n\r\n" + MARKER)
        return False

    def _huge_headers(self, s, rd, req):
        fields = b"".join(b"X-Huge-%02d: %s\r\n" % (i, b"h" * 1024)
                          for i in range(64))
        s.sendall(b"HTTP/1.1 200 OK\r\n" + fields +
                  b"Content-Length: 11\r\n\r\n" + MARKER)
        return False

    def _reset_mid_body(self, s, rd, req):
        body = self._body(self.size)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                  % len(body) + body[:len(body) // 2])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        return False    # the close is the reset

    def _never_answers(self, s, rd, req):
        # Hold the connection until the peer goes or the upstream stops.
        while not self._stopping.is_set() and rd.fill():
            pass
        return False

    def _answers_twice(self, s, rd, req):
        one = (b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfirst\n")
        two = (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + MARKER)
        s.sendall(one + two)
        return True

    def _split_response(self, s, rd, req):
        s.sendall(b"HTTP/1.1 200 OK\r\n"
                  b"X-Split: a\nSet-Cookie: " + SPLIT + b"=1\r\n"
                  b"X-Split-CR: b\rX-Injected: " + SPLIT + b"\r\n"
                  b"Content-Length: 0\r\n\r\n"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" + SPLIT)
        return True

    def _close_delimited(self, s, rd, req):
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" +
                  self._body(self.size))
        return False

    def _chunked(self, s, rd, req):
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                  b"Trailer: X-Trailer\r\n\r\n"
                  b"6;name=value\r\nhello \r\n"
                  b"6;flag\r\nworld\n\r\n"
                  b"0\r\nX-Trailer: done\r\n\r\n")
        return True

    def _close_at_once(self, s, rd, req):
        return False

    def _websocket(self, s, rd, req):
        key = req.header("Sec-WebSocket-Key")
        if (req.header("Upgrade") or "").lower() != "websocket" or not key:
            s.sendall(b"HTTP/1.1 426 Upgrade Required\r\n"
                      b"Upgrade: websocket\r\nContent-Length: 0\r\n\r\n")
            return True
        s.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                  b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: %s\r\n\r\n"
                  % _ws_accept(key).encode())
        while True:
            f = _ws_read(rd)
            if f is None:
                return False
            fin, opcode, payload = f
            if opcode in (0x0, 0x1, 0x2):   # fragments echoed as such
                s.sendall(ws_frame(opcode, payload, fin=fin))
            elif opcode == 0x9:
                s.sendall(ws_frame(0xA, payload))
            elif opcode == 0x8:
                s.sendall(ws_frame(0x8, payload[:2]))
                return False


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="A scripted misbehaving HTTP upstream on 127.0.0.1.")
    ap.add_argument("--port", type=int, required=True,
                    help="TCP port (0: a free one, printed)")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--size", type=int, default=1024,
                    help="body bytes of ok, reset_mid_body and "
                    "close_delimited (default 1024)")
    ap.add_argument("--delay", type=float, default=0.1,
                    help="seconds between head bytes of slow_headers "
                    "(default 0.1)")
    ap.add_argument("--status", type=int, default=200,
                    help="the status code of mode ok (default 200)")
    a = ap.parse_args(argv)

    def log(line):
        print(line, flush=True)

    up = BadUpstream(a.mode, a.port, a.size, a.delay, a.status, log=log)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print("badupstream: %s on http://127.0.0.1:%d/" % (a.mode, up.port),
          file=sys.stderr, flush=True)
    while not done.wait(0.5):
        pass
    up.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
