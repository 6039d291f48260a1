#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS (issue 14): TLS 1.2 and 1.3 through OpenSSL in every run mode,
with real clients: curl, openssl s_client and python's ssl module.

Certificates come from a throwaway CA made at test time with the openssl
command: an ECDSA and an RSA server certificate for 127.0.0.1/localhost,
a second ECDSA one (the renewal of a reload), and a key that matches
none. Bodies are compared byte for byte, certificates by their SHA-256
fingerprint. These tests pick their modes themselves.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

from harness import (BIN, Conn, alive, parse_one, raw, read_pid, run, start,
                     unique_tmpdir, wait_until)

MODES = (("epoll",), ("prefork", "-w", "2"), ("threads", "-w", "2"))
BIG = 17 * (1 << 20) + 12345          # over 16 MiB, not a round size
SMALL = b"hello over tls\n"

_mod = {}


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s: %s" % (" ".join(args), r.stderr))


def make_cert(d, name, kind):
    """A key and a certificate signed by the module's CA."""
    key, csr, crt = (os.path.join(d, name + x)
                     for x in (".key", ".csr", ".pem"))
    if kind == "ec":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", key)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-out", key)
    openssl("req", "-new", "-key", key, "-out", csr, "-subj",
            "/CN=localhost")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", csr, "-CA", _mod["ca"], "-CAkey",
            _mod["ca_key"], "-CAcreateserial", "-days", "2", "-out", crt,
            "-extfile", ext)
    return crt, key


def setUpModule():
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("the openssl command is needed")
    tmp = unique_tmpdir("tinyweb-tls-")
    d = os.path.join(tmp, "pki")
    root = os.path.join(tmp, "root")
    os.makedirs(d)
    os.makedirs(root)
    _mod["ca_key"] = os.path.join(d, "ca.key")
    _mod["ca"] = os.path.join(d, "ca.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", _mod["ca_key"],
            "-out", _mod["ca"], "-days", "2", "-subj", "/CN=tinyweb test CA")
    _mod["ec"] = make_cert(d, "ec", "ec")
    _mod["rsa"] = make_cert(d, "rsa", "rsa")
    _mod["ec2"] = make_cert(d, "ec2", "ec")
    _mod["stray"] = make_cert(d, "stray", "ec")[1]
    big = os.urandom(BIG)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(SMALL)
    _mod.update(tmp=tmp, root=root, pki=d, big=big)


def tearDownModule():
    if "tmp" in _mod:
        shutil.rmtree(_mod["tmp"], ignore_errors=True)


def tls_args(*pairs):
    pairs = pairs or (_mod["ec"],)
    out = []
    for crt, key in pairs:
        out += ["--tls-cert", crt, "--tls-key", key]
    return out


def mode_args(mode):
    return ["-m"] + list(mode)


def client_ctx(version=None, alpn=None, no_ticket=False):
    ctx = ssl.create_default_context(cafile=_mod["ca"])
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if no_ticket:
        # TLS 1.2 resumption by session ID: the shared session cache.
        ctx.options |= ssl.OP_NO_TICKET
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def tls_socket(port, ctx=None, session=None, server_hostname="localhost"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return (ctx or client_ctx()).wrap_socket(
        s, server_hostname=server_hostname, session=session)


def fingerprint(port):
    with tls_socket(port) as s:
        return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(crt):
    with open(crt) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def https_get(port, path, headers=None, version=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=20,
                                       context=client_ctx(version))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def curl(port, path, *args):
    r = subprocess.run(["curl", "-sS", "--cacert", _mod["ca"], "-o", "-",
                        "-w", "\n%{http_code}"] + list(args) +
                       ["https://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=60)
    body, _, code = r.stdout.rpartition(b"\n")
    return r.returncode, code.decode(), body, r.stderr.decode()


def s_client(port, *args, data=b""):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-servername", "localhost",
                        "-CAfile", _mod["ca"]] + list(args),
                       input=data, capture_output=True, timeout=30)
    return r.stdout.decode("latin-1") + r.stderr.decode("latin-1")


def stop(s):
    s.stop()


class TestServe(unittest.TestCase):
    """Files over TLS 1.2 and 1.3 in each mode: curl, python, ranges."""

    def each_mode(self, fn, *extra):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                s = start(_mod["root"], *mode_args(mode), *tls_args(),
                          *extra, modes=False)
                try:
                    fn(s)
                finally:
                    stop(s)

    def test_startup_line_says_https(self):
        s = start(_mod["root"], *tls_args(), modes=False)
        try:
            self.assertRegex(s.startup_line, r"https://127\.0\.0\.1:\d+/")
        finally:
            stop(s)

    def test_curl_tls12_and_tls13(self):
        def check(s):
            for flags in (["--tlsv1.2", "--tls-max", "1.2"], ["--tlsv1.3"]):
                rc, code, body, err = curl(s.port, "/small.txt", *flags)
                self.assertEqual((rc, code), (0, "200"), err)
                self.assertEqual(body, SMALL)
                rc, code, body, err = curl(s.port, "/big.bin", *flags)
                self.assertEqual((rc, code), (0, "200"), err)
                self.assertEqual(len(body), BIG)
                self.assertTrue(body == _mod["big"], "big.bin differs")
        self.each_mode(check)

    def test_ranges_byte_exact(self):
        big = _mod["big"]

        def check(s):
            for rng, want in (("5-100000", big[5:100001]),
                              ("%d-" % (BIG - 3000000), big[-3000000:]),
                              ("-70000", big[-70000:])):
                rc, code, body, err = curl(s.port, "/big.bin", "-r", rng)
                self.assertEqual((rc, code), (0, "206"), err)
                self.assertTrue(body == want, "range %s differs" % rng)
            st, hdrs, body = https_get(s.port, "/big.bin",
                                       {"Range": "bytes=0-9,1000000-1000009"})
            self.assertEqual(st, 206)
            self.assertIn(big[1000000:1000010], body)
        self.each_mode(check)

    def test_python_keepalive_and_both_versions(self):
        def check(s):
            for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                conn = http.client.HTTPSConnection(
                    "127.0.0.1", s.port, timeout=20, context=client_ctx(v))
                try:
                    for _ in range(5):
                        conn.request("GET", "/small.txt")
                        r = conn.getresponse()
                        self.assertEqual((r.status, r.read()), (200, SMALL))
                    conn.request("GET", "/big.bin")
                    r = conn.getresponse()
                    self.assertTrue(r.read() == _mod["big"])
                    self.assertEqual(conn.sock.version(),
                                     "TLSv1.2" if v == ssl.TLSVersion.TLSv1_2
                                     else "TLSv1.3")
                finally:
                    conn.close()
        self.each_mode(check)

    def test_pipelined_requests(self):
        def check(s):
            with tls_socket(s.port) as t:
                req = b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                t.sendall(req * 20 + req.replace(
                    b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
                data = b""
                while True:
                    b = t.recv(65536)
                    if not b:
                        break
                    data += b
            self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 21)
            self.assertEqual(data.count(SMALL), 21)
        self.each_mode(check)

    def test_rsa_and_ecdsa_pairs_together(self):
        s = start(_mod["root"], *tls_args(_mod["rsa"], _mod["ec"]),
                  modes=False)
        try:
            for sigalg, crt in (("RSA+SHA256:rsa_pss_rsae_sha256",
                                 _mod["rsa"][0]),
                                ("ECDSA+SHA256", _mod["ec"][0])):
                out = s_client(s.port, "-tls1_2", "-sigalgs", sigalg,
                               "-showcerts")
                self.assertIn("Verify return code: 0 (ok)", out, sigalg)
                pem = re.search(r"-----BEGIN CERTIFICATE-----.*?"
                                r"-----END CERTIFICATE-----", out, re.S)
                self.assertIsNotNone(pem, out)
                self.assertEqual(pem.group(0).strip(),
                                 open(crt).read().strip(), sigalg)
        finally:
            stop(s)


class TestProtocol(unittest.TestCase):
    """Versions, ciphers, ALPN, resumption, status counters (one server
    per test, in the mode the test names)."""

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            stop(s)

    def serve(self, *args, mode=("epoll",)):
        s = start(_mod["root"], *mode_args(mode), *tls_args(), "--status",
                  "/status", *args, modes=False)
        self.servers.append(s)
        return s

    def test_old_versions_refused(self):
        s = self.serve()
        for flag in ("-tls1", "-tls1_1"):
            out = s_client(s.port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
            self.assertIn("alert protocol version", out, flag)
        for flag, want in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            out = s_client(s.port, flag)
            self.assertRegex(out, r"New, %s, Cipher is" % re.escape(want))

    def test_old_versions_allowed_when_asked(self):
        s = self.serve("--tls-protocols", "TLSv1.3")
        out = s_client(s.port, "-tls1_2")
        self.assertIn("alert protocol version", out)
        self.assertRegex(s_client(s.port, "-tls1_3"), r"New, TLSv1\.3")

    def test_weak_ciphers_refused(self):
        s = self.serve()
        for cipher in ("AES128-SHA", "DES-CBC3-SHA", "ECDHE-ECDSA-AES128-SHA",
                       "RC4-SHA:NULL-SHA256:@SECLEVEL=0"):
            out = s_client(s.port, "-tls1_2", "-cipher", cipher)
            self.assertNotRegex(out, r"New, TLSv1\.2, Cipher is [A-Z]",
                                cipher)
        out = s_client(s.port, "-tls1_2", "-cipher",
                       "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertIn("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", out)

    def test_client_cipher_preference(self):
        s = self.serve()
        for first in ("ECDHE-ECDSA-CHACHA20-POLY1305",
                      "ECDHE-ECDSA-AES128-GCM-SHA256"):
            out = s_client(s.port, "-tls1_2", "-cipher",
                           first + ":ECDHE-ECDSA-AES256-GCM-SHA384")
            self.assertIn("Cipher is " + first, out)

    def test_alpn(self):
        s = self.serve()
        with tls_socket(s.port, client_ctx(alpn=["h2", "http/1.1"])) as t:
            self.assertEqual(t.selected_alpn_protocol(), "http/1.1")
        # A client that offers only h2 still gets its answer, over 1.1.
        with tls_socket(s.port, client_ctx(alpn=["h2"])) as t:
            self.assertIsNone(t.selected_alpn_protocol())
            t.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            self.assertIn(SMALL, t.recv(4096) + t.recv(4096))
        out = s_client(s.port, "-alpn", "h2,http/1.1")
        self.assertIn("ALPN protocol: http/1.1", out)

    def resume(self, port, version, n, no_ticket=False):
        """One full handshake, then n resumptions: the flags of each."""
        ctx = client_ctx(version, no_ticket=no_ticket)
        with tls_socket(port, ctx) as t:
            t.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            t.recv(4096)   # the TLS 1.3 ticket comes after the handshake
            sess = t.session
            first = t.session_reused
        reused = []
        for _ in range(n):
            with tls_socket(port, ctx, session=sess) as t:
                t.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                while t.recv(4096):
                    pass
                reused.append(t.session_reused)
                if t.session is not None:
                    sess = t.session
        return first, reused

    def test_resumption_across_workers(self):
        # reuseport: the kernel spreads connections over both workers'
        # sockets by their ports, so both see resumed sessions.
        s = self.serve("--accept", "reuseport",
                       mode=("prefork", "-w", "2"))
        for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            first, reused = self.resume(s.port, v, 16)
            self.assertFalse(first)
            self.assertEqual(reused, [True] * 16, v)
        first, reused = self.resume(s.port, ssl.TLSVersion.TLSv1_2, 16,
                                    no_ticket=True)
        self.assertFalse(first)
        self.assertEqual(reused, [True] * 16, "TLS 1.2 by session ID")
        data = json.loads(https_get(s.port, "/status?format=json")[2])
        served = [w["requests"] for w in data["workers"]]
        self.assertEqual(len(served), 2)
        self.assertTrue(all(n > 0 for n in served),
                        "one worker took every connection: %r" % served)
        self.assertGreaterEqual(data["tls"]["resumed"], 48)

    def test_session_id_survives_a_lingering_close(self):
        # A request pipelined after the last one makes the server linger
        # (read and discard) after its close_notify; the client then
        # closes without one, as most do. That EOF must not cost the
        # session: the next connection resumes by ID.
        s = self.serve()
        ctx = client_ctx(ssl.TLSVersion.TLSv1_2, no_ticket=True)
        sess, reused = None, []
        for _ in range(6):
            with tls_socket(s.port, ctx, session=sess) as t:
                t.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n"
                          b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while True:
                    b = t.recv(4096)
                    if not b:
                        break
                    data += b
                self.assertEqual(data.count(b"HTTP/1.1 200"), 1, data)
                reused.append(t.session_reused)
                sess = t.session
            # Closed without a close_notify (Python's close sends none).
        self.assertEqual(reused, [False] + [True] * 5)

    def test_session_ids_in_every_mode(self):
        # A TLS 1.2 client without tickets resumes by ID wherever its
        # connection lands: the session cache is shared, not per worker.
        for mode in (("epoll",), ("prefork", "-w", "2"),
                     ("threads", "-w", "2")):
            with self.subTest(mode=mode[0]):
                s = self.serve("--accept", "reuseport", mode=mode) \
                    if mode[0] != "epoll" else self.serve(mode=mode)
                first, reused = self.resume(s.port, ssl.TLSVersion.TLSv1_2,
                                            12, no_ticket=True)
                self.assertFalse(first)
                self.assertEqual(reused, [True] * 12)

    def test_s_client_session_id(self):
        # -no_ticket: the session travels by ID only, as with clients
        # that never took tickets.
        s = self.serve("--accept", "reuseport", mode=("prefork", "-w", "2"))
        sess = os.path.join(_mod["tmp"], "sess12-%d" % s.port)
        req = b"GET /small.txt HTTP/1.0\r\n\r\n"
        out = s_client(s.port, "-tls1_2", "-no_ticket", "-sess_out", sess,
                       "-ign_eof", data=req)
        self.assertIn("New, TLSv1.2", out)
        self.assertRegex(out, r"Session-ID: [0-9A-F]{64}")
        for _ in range(8):
            out = s_client(s.port, "-tls1_2", "-no_ticket", "-sess_in", sess,
                           "-ign_eof", data=req)
            self.assertIn("Reused, TLSv1.2", out)
            self.assertIn(SMALL.decode(), out)

    def test_s_client_sess_out_sess_in(self):
        s = self.serve(mode=("prefork", "-w", "2"))
        sess = os.path.join(_mod["tmp"], "sess-%d" % s.port)
        # -ign_eof: read until the server closes, so the ticket that
        # follows the handshake is in.
        req = b"GET /small.txt HTTP/1.0\r\n\r\n"
        out = s_client(s.port, "-sess_out", sess, "-ign_eof", data=req)
        self.assertIn("New, TLSv1.3", out)
        for _ in range(6):
            out = s_client(s.port, "-sess_in", sess, "-ign_eof", data=req)
            self.assertIn("Reused, TLSv1.3", out)
            self.assertIn(SMALL.decode(), out)

    def test_status_counters(self):
        s = self.serve(mode=("threads", "-w", "2"))
        https_get(s.port, "/small.txt", version=ssl.TLSVersion.TLSv1_2)
        https_get(s.port, "/small.txt", version=ssl.TLSVersion.TLSv1_3)
        self.resume(s.port, ssl.TLSVersion.TLSv1_3, 2)
        s_client(s.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        raw(s.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = json.loads(https_get(s.port, "/status?format=json")[2])
        tls = data["tls"]
        # 2 + 3 + the status request itself
        self.assertEqual(tls["handshakes"], 6, tls)
        self.assertEqual(tls["tls1_2"], 1, tls)
        self.assertEqual(tls["tls1_3"], 5, tls)
        self.assertEqual(tls["resumed"], 2, tls)
        self.assertEqual(tls["failed"], 1, tls)
        self.assertEqual(tls["plain_http"], 1, tls)
        prom = https_get(s.port, "/status?format=prometheus")[2].decode()
        self.assertRegex(prom, r'(?m)^tinyweb_tls_handshakes_total'
                         r'\{version="TLSv1\.3"\} 6$')
        self.assertRegex(prom, r"(?m)^tinyweb_tls_resumed_total 2$")
        self.assertRegex(prom, r"(?m)^tinyweb_tls_handshake_failures_total"
                         r" 1$")
        self.assertRegex(prom, r"(?m)^tinyweb_tls_plain_http_total 1$")


class TestAbuse(unittest.TestCase):
    """Plain HTTP, garbage and stalled handshakes on a TLS port, each mode
    where the behaviour is the transport's."""

    def test_plain_http_gets_400(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                s = start(_mod["root"], *mode_args(mode), *tls_args(),
                          modes=False)
                try:
                    data = raw(s.port, b"GET /small.txt HTTP/1.1\r\n"
                               b"Host: x\r\n\r\n", timeout=5)
                    r = parse_one(data, eof=True)[0]
                    self.assertEqual(r.status, 400, data)
                    self.assertIn(b"The plain HTTP request was sent to "
                                  b"HTTPS port", r.body)
                    self.assertEqual(r.header("Connection"), "close")
                    # ... and TLS goes on.
                    self.assertEqual(https_get(s.port, "/small.txt")[2],
                                     SMALL)
                finally:
                    stop(s)

    def test_garbage_is_closed_with_one_info_line(self):
        log = os.path.join(_mod["tmp"], "garbage.log")
        s = start(_mod["root"], *tls_args(), "--error-log", log,
                  "--log-level", "info", modes=False)
        try:
            data = raw(s.port, b"\x00\x01\x02 not tls at all\r\n\r\n",
                       timeout=5)
            self.assertEqual(data, b"")
            self.assertEqual(https_get(s.port, "/small.txt")[2], SMALL)
            lines = [l for l in open(log).read().splitlines()
                     if "no TLS handshake" in l]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("[info]", lines[0])
            self.assertNotIn("[error]", open(log).read())
        finally:
            stop(s)

    def stalled(self, mode, n):
        s = start(_mod["root"], *mode_args(mode), *tls_args(),
                  "--header-timeout", "1s", modes=False)
        socks = []
        try:
            for i in range(n):
                c = socket.create_connection(("127.0.0.1", s.port),
                                             timeout=10)
                # Half a ClientHello's record header, or none at all.
                if i % 2:
                    c.sendall(b"\x16\x03\x01\x02")
                socks.append(c)
            # A normal client is served meanwhile.
            self.assertEqual(https_get(s.port, "/small.txt")[2], SMALL)
            open_ = []
            for c in socks:
                c.settimeout(15)
                try:
                    b = c.recv(100)
                except (ConnectionResetError, socket.timeout) as e:
                    b = e
                if b != b"" and not isinstance(b, ConnectionResetError):
                    open_.append(b)
            self.assertEqual(open_, [], "stalled handshakes not cut")
            self.assertEqual(https_get(s.port, "/small.txt")[2], SMALL)
        finally:
            for c in socks:
                c.close()
            stop(s)

    def test_stalled_handshakes_cut_at_header_timeout(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                self.stalled(mode, 300)


class TestReload(unittest.TestCase):
    """HUP reads certificates again: a renewal is served, a broken key is
    one error and the old certificate stays."""

    def setUp(self):
        self.dir = unique_tmpdir("tinyweb-tls-reload-")
        self.crt = os.path.join(self.dir, "site.pem")
        self.key = os.path.join(self.dir, "site.key")
        self.put(*_mod["ec"])
        self.pidfile = os.path.join(self.dir, "tw.pid")
        self.errlog = os.path.join(self.dir, "error.log")
        self.pids = []

    def tearDown(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def put(self, crt, key):
        for src, dst in ((crt, self.crt), (key, self.key)):
            shutil.copyfile(src, dst + ".new")
            os.replace(dst + ".new", dst)

    def hup(self, mode, expect_new_pid):
        pid = read_pid(self.pidfile)
        os.kill(pid, signal.SIGHUP)
        if mode[0] == "prefork" or not expect_new_pid:
            return pid
        new = wait_until(lambda: read_pid(self.pidfile) not in (None, pid)
                         and read_pid(self.pidfile), 10)
        self.assertTrue(new, "no new process after HUP")
        self.pids.append(new)
        return new

    def errors(self):
        try:
            return open(self.errlog).read()
        except OSError:
            return ""

    def reload_case(self, mode):
        s = start(_mod["root"], *mode_args(mode), "--tls-cert", self.crt,
                  "--tls-key", self.key, "--pidfile", self.pidfile,
                  "--error-log", self.errlog, modes=False)
        self.pids.append(s.pid)
        try:
            old = file_fingerprint(_mod["ec"][0])
            new = file_fingerprint(_mod["ec2"][0])
            self.assertEqual(fingerprint(s.port), old)
            # A bounded load on new connections across the reload: none
            # may fail.
            stop_load = threading.Event()
            results = []

            def load():
                while not stop_load.is_set() and len(results) < 2000:
                    try:
                        results.append(https_get(s.port, "/small.txt")[2]
                                       == SMALL)
                    except (OSError, http.client.HTTPException) as e:
                        results.append(e)
            th = threading.Thread(target=load)
            th.start()
            try:
                self.put(*_mod["ec2"])
                self.hup(mode, True)
                self.assertTrue(wait_until(
                    lambda: fingerprint(s.port) == new, 10),
                    "the renewal is not served")
                time.sleep(0.3)
            finally:
                stop_load.set()
                th.join(30)
            failed = [r for r in results if r is not True]
            self.assertEqual(failed, [], "requests failed during the "
                             "reload")
            self.assertGreater(len(results), 5)
            # A key of another certificate: one error, the old pair stays.
            shutil.copyfile(_mod["stray"], self.key)
            self.hup(mode, False)
            self.assertTrue(wait_until(
                lambda: "does not match" in self.errors(), 10),
                self.errors())
            time.sleep(0.5)
            lines = [l for l in self.errors().splitlines()
                     if self.key in l]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("does not match certificate " + self.crt,
                          lines[0])
            for _ in range(5):
                self.assertEqual(fingerprint(s.port), new)
            self.assertEqual(https_get(s.port, "/small.txt")[2], SMALL)
        finally:
            pid = read_pid(self.pidfile)
            if pid is not None and pid != s.pid:
                os.kill(pid, signal.SIGTERM)
                self.assertTrue(wait_until(lambda: not alive(pid), 10))
            s.stop()

    def test_reload(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                self.reload_case(mode)
                self.put(*_mod["ec"])
                with open(self.errlog, "w"):
                    pass

    def resumes_across_a_prefork_reload(self, ctx):
        """Does a session made before a HUP resume on the new workers?"""
        s = start(_mod["root"], "-m", "prefork", "-w", "2", "--tls-cert",
                  self.crt, "--tls-key", self.key, "--pidfile",
                  self.pidfile, "--error-log", self.errlog, modes=False)
        try:
            with tls_socket(s.port, ctx) as t:
                t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                t.recv(4096)
                sess = t.session
            workers = set(harness_children(s.pid))
            self.hup(("prefork",), False)
            self.assertTrue(wait_until(
                lambda: len(harness_children(s.pid)) == 2 and
                not set(harness_children(s.pid)) & workers, 10))
            with tls_socket(s.port, ctx, session=sess) as t:
                return t.session_reused
        finally:
            s.stop()

    def test_tickets_survive_a_prefork_reload(self):
        self.assertTrue(self.resumes_across_a_prefork_reload(
            client_ctx(ssl.TLSVersion.TLSv1_3)),
            "a ticket from before the reload")

    def test_session_ids_survive_a_prefork_reload(self):
        self.assertTrue(self.resumes_across_a_prefork_reload(
            client_ctx(ssl.TLSVersion.TLSv1_2, no_ticket=True)),
            "a session ID from before the reload")


def harness_children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(d))
    return out


class TestStartupErrors(unittest.TestCase):
    def serve(self, *args):
        return run([BIN, "serve", _mod["root"], "-p", "0", "-b",
                    "127.0.0.1", "-q"] + list(args), timeout=10)

    def test_missing_certificate(self):
        missing = os.path.join(_mod["tmp"], "nope.pem")
        r = self.serve("--tls-cert", missing, "--tls-key", _mod["ec"][1])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("tls certificate %s: No such file" % missing,
                      r.stderr)

    def test_mismatched_key(self):
        r = self.serve("--tls-cert", _mod["ec"][0], "--tls-key",
                       _mod["stray"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "tinyweb: tls key %s does not match "
                         "certificate %s\n" % (_mod["stray"], _mod["ec"][0]))

    def test_key_of_another_type(self):
        r = self.serve("--tls-cert", _mod["ec"][0], "--tls-key",
                       _mod["rsa"][1])
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not match", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_not_a_certificate(self):
        r = self.serve("--tls-cert", _mod["ec"][1], "--tls-key",
                       _mod["ec"][1])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^tinyweb: tls certificate %s: \S"
                         % re.escape(_mod["ec"][1]))
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_unpaired(self):
        r = self.serve("--tls-cert", _mod["ec"][0])
        self.assertEqual(r.returncode, 1)
        self.assertIn("come in pairs", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_listen_tls_needs_a_certificate(self):
        conf = os.path.join(_mod["tmp"], "nocert.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:0 tls;\n")
        r = run([BIN, "check-config", "-c", conf], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tls needs tls_certificate", r.stderr)

    def test_bad_protocol_name(self):
        r = self.serve(*tls_args(), "--tls-protocols", "SSLv3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
                      r.stderr)

    def test_bad_cipher_list(self):
        r = self.serve(*tls_args(), "--tls-ciphers", "NO-SUCH-CIPHER")
        self.assertEqual(r.returncode, 1)
        self.assertIn("tls ciphers 'NO-SUCH-CIPHER'", r.stderr)

    def test_check_config_reads_back(self):
        conf = os.path.join(_mod["tmp"], "tls.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:8443 tls;\nlisten 127.0.0.1:8080;\n"
                    "tls_certificate %s;\ntls_certificate_key %s;\n"
                    "tls_protocols TLSv1.2, TLSv1.3;\n"
                    "tls_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;\n"
                    % _mod["ec"])
        r1 = run([BIN, "check-config", "-c", conf], timeout=10)
        self.assertEqual(r1.returncode, 0, r1.stderr)
        self.assertIn("listen 127.0.0.1:8443 tls;\n", r1.stdout)
        self.assertIn("listen 127.0.0.1:8080;\n", r1.stdout)
        self.assertIn("tls_protocols TLSv1.2 TLSv1.3;\n", r1.stdout)
        back = os.path.join(_mod["tmp"], "back.conf")
        with open(back, "w") as f:
            f.write(r1.stdout)
        r2 = run([BIN, "check-config", "-c", back], timeout=10)
        self.assertEqual(r2.stdout, r1.stdout)


class TestMixedListeners(unittest.TestCase):
    def test_plain_and_tls_listeners_in_one_server(self):
        conf = os.path.join(_mod["tmp"], "mixed.conf")
        ports = []
        for _ in range(2):
            with socket.socket() as t:
                t.bind(("127.0.0.1", 0))
                ports.append(t.getsockname()[1])
        with open(conf, "w") as f:
            f.write("root %s;\nlisten 127.0.0.1:%d;\nlisten 127.0.0.1:%d "
                    "tls;\ntls_certificate %s;\ntls_certificate_key %s;\n"
                    % ((_mod["root"], ports[0], ports[1]) + _mod["ec"]))
        p = subprocess.Popen([BIN, "serve", "-c", conf, "-q"],
                             stderr=subprocess.PIPE, text=True)
        try:
            line = p.stderr.readline()
            self.assertIn("http://127.0.0.1:%d/" % ports[0], line)
            self.assertIn("https://127.0.0.1:%d/" % ports[1], line)
            c = Conn(ports[0])
            r = c.request("GET", "/small.txt")
            self.assertEqual((r.status, r.body), (200, SMALL))
            c.close()
            self.assertEqual(https_get(ports[1], "/small.txt")[2], SMALL)
        finally:
            p.terminate()
            p.wait(10)


class TestRedirect(unittest.TestCase):
    def test_redirect_https(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                s = start(_mod["root"], *mode_args(mode), "--redirect-https",
                          "8443", modes=False)
                try:
                    c = Conn(s.port)
                    r = c.request("GET", "/a%20b/c.txt?x=1&y",
                                  [("Host", "example.com:8080")])
                    self.assertEqual(r.status, 301)
                    self.assertEqual(r.header("Location"),
                                     "https://example.com:8443/a%20b/"
                                     "c.txt?x=1&y")
                    r = c.request("GET", "/", [("Host", "[::1]")])
                    self.assertEqual(r.header("Location"),
                                     "https://[::1]:8443/")
                    r = c.request("GET", "/", [("Host", "evil.com/x")])
                    self.assertEqual(r.status, 400)
                    c.close()
                finally:
                    stop(s)
        s = start(_mod["root"], "--redirect-https", "443", modes=False)
        try:
            c = Conn(s.port)
            r = c.request("GET", "/p", [("Host", "example.com")])
            self.assertEqual(r.header("Location"), "https://example.com/p")
            c.close()
        finally:
            stop(s)

    def test_redirect_beside_tls_serves_tls(self):
        """The one-liner's listeners are all TLS: --redirect-https starts
        (it redirects plain requests only) and every request is served;
        test_tls_http has plain and TLS listeners together."""
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                s = start(_mod["root"], *mode_args(mode), "--redirect-https",
                          "443", *tls_args(), modes=False)
                try:
                    status, headers, body = https_get(s.port, "/small.txt")
                    self.assertEqual((status, body), (200, SMALL))
                    self.assertNotIn("Location", headers)
                finally:
                    stop(s)


if __name__ == "__main__":
    unittest.main()
