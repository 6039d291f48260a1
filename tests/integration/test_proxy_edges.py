#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The proxy's edges against the scripted upstream (badupstream.py), in
the three run modes: requests framed ambiguously are refused at the proxy
and never reach the upstream; an upstream that splits its response or
answers twice never gets the extra bytes to the client; a WebSocket
echo goes through the proxy with a real client (Debian's
python3-websockets, run by Debian's python3: the test skips with a
message where that is not installed).
"""

import os
import shutil
import socket
import subprocess
import textwrap
import time
import unittest

import harness
from badupstream import MARKER, BadUpstream
from harness import Server, parse_responses, read_until_close, \
    unique_tmpdir

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}

# Each is one request the proxy must refuse with 400 before anything goes
# upstream (RFC 9112 6.1, 6.3, 7.1, 2.2, 5.2), then close.
SMUGGLING = {
    "cl_and_te": b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b "
                 b"HTTP/1.1\r\nHost: x\r\n\r\n",
    "two_content_lengths": b"POST /a HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 5\r\nContent-Length: 6\r\n"
                           b"\r\nhello!",
    "bad_chunk_size": b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                      b"chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "te_not_chunked_last": b"POST /a HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked, identity\r\n\r\n"
                           b"0\r\n\r\n",
    "bare_lf_in_head": b"GET /a HTTP/1.1\r\nHost: x\r\nDummy: x\n"
                       b"Content-Length: 23\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
    "obs_fold": b"GET /a HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
}

WS_CLIENT = textwrap.dedent("""\
    import asyncio, sys, websockets

    async def main(uri):
        async with websockets.connect(uri) as ws:
            for msg in ["hello", "\\u4e2d\\u6587 \\U0001F600", "x" * 70000]:
                await ws.send(msg)
                got = await ws.recv()
                if got != msg:
                    sys.exit("text echo differs: %r" % got[:40])
            await ws.send(bytes(range(256)) * 300)
            got = await ws.recv()
            if got != bytes(range(256)) * 300:
                sys.exit("binary echo differs")
            await ws.ping()
        print("ok")

    asyncio.run(main(sys.argv[1]))
    """)

DEBIAN_PYTHON = "/usr/bin/python3"


def have_websockets():
    try:
        return subprocess.run([DEBIAN_PYTHON, "-c", "import websockets"],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Proxy(Server):
    """`tinyweb proxy URL -p 0 -b 127.0.0.1 -q MODE_ARGS`."""

    def __init__(self, url, *extra):
        orig = harness.tinyweb_cmd

        def cmd(*args):
            args = list(args)
            args[0:2] = ["proxy", url]
            return orig(*args)

        harness.tinyweb_cmd = cmd
        try:
            super().__init__("-", *extra)
        finally:
            harness.tinyweb_cmd = orig


def send_raw(port, data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    try:
        s.sendall(data)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return read_until_close(s, timeout)
    finally:
        s.close()


class EdgeCase:
    mode_args = []

    def proxy(self, up):
        p = Proxy("http://127.0.0.1:%d" % up.port, *self.mode_args)
        self.addCleanup(lambda: p.proc.poll() is None and p.stop())
        return p

    def test_ambiguous_requests_never_reach_the_upstream(self):
        with BadUpstream("ok") as up:
            p = self.proxy(up)
            for name, data in SMUGGLING.items():
                with self.subTest(request=name):
                    rs = parse_responses(send_raw(p.port, data))
                    self.assertEqual([r.status for r in rs], [400], name)
            # A good request afterwards is the first the upstream sees.
            rs = parse_responses(send_raw(
                p.port, b"GET /good HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n"))
            self.assertEqual([r.status for r in rs], [200])
            # What the upstream saw: the good request, and nothing of the
            # refused ones (their targets are /a and /b). Judged by
            # target, not by count: a port the kernel hands out again may
            # take a stray request from an earlier test's leftovers.
            seen = [q.target for q in up.requests]
            self.assertIn("/good", seen)
            self.assertFalse({"/a", "/b"} & set(seen), seen)

    def test_split_and_double_answers_stop_at_the_proxy(self):
        for mode, want in (("split_response", 502), ("answers_twice", 200),
                           ("garbage_status", 502), ("cl_and_te", 502),
                           ("two_cl", 502), ("huge_headers", 502)):
            with self.subTest(upstream=mode), BadUpstream(mode) as up:
                p = self.proxy(up)
                # Two requests on one connection: the second must get
                # its own answer (or none), never the upstream's extra.
                got = send_raw(p.port, b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                                       b"GET /2 HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n")
                self.assertNotIn(b"SPLIT", got)
                self.assertNotIn(MARKER.encode() if isinstance(MARKER, str)
                                 else MARKER, got)
                rs = parse_responses(got)
                self.assertGreaterEqual(len(rs), 1, got[:300])
                self.assertEqual(rs[0].status, want, got[:300])
                for r in rs:
                    self.assertIn(r.status, (want,), got[:300])
                p.stop()

    def test_websocket_echo_with_a_real_client(self):
        if not have_websockets():
            self.skipTest("needs Debian's python3-websockets for %s "
                          "(scripts/deps.sh installs it)" % DEBIAN_PYTHON)
        with BadUpstream("websocket") as up:
            p = self.proxy(up)
            r = subprocess.run([DEBIAN_PYTHON, "-c", WS_CLIENT,
                                "ws://127.0.0.1:%d/chat" % p.port],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"),
                             r.stderr[-2000:])
            self.assertIn("websocket", [q.header("Upgrade")
                                        for q in up.requests])


class TestEdgesEpoll(EdgeCase, unittest.TestCase):
    mode_args = MODES["epoll"]


class TestEdgesPrefork(EdgeCase, unittest.TestCase):
    mode_args = MODES["prefork"]


class TestEdgesThreads(EdgeCase, unittest.TestCase):
    mode_args = MODES["threads"]


if __name__ == "__main__":
    unittest.main()
