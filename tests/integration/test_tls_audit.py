#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS audit and handshake abuse (issue 14).

testssl.sh scans a tinyweb serving HTTPS with its defaults and the test
reads the scan's JSON: no finding of severity HIGH or CRITICAL. The scan
is bounded to the checks that judge a TLS server (about 30 s): protocols
(-p), cipher categories (-s), forward secrecy (-f), server defaults with
the certificate, tickets and resumption (-S), HTTP headers (-h) and every
vulnerability (-U). Left out: cipher-per-protocol listing (-E), client
simulation (-c), GREASE (-g), which only describe. It runs in one mode
(epoll): it is slow and what it judges is OpenSSL's setup, which is the
same in every mode. The certificate is issued as a public CA would (90
days, a CRL address) by the test CA, which the scan is given, so that
what it finds is about the server, not about a throwaway certificate.

Abuse, in every mode: 2,000 connections that stall mid-handshake (half a
ClientHello, or nothing after connect) are cut at the header deadline
while a normal HTTPS client is served throughout, and the server's
descriptors come back to their count before; garbage instead of a
ClientHello is a closed connection and one log line at info.

Certificates and HTTPS helpers are test_tls's.
"""

import json
import os
import resource
import select
import shutil
import socket
import subprocess
import unittest

import test_tls
from harness import fd_count, fd_report, raw, start, wait_until

MODES = test_tls.MODES
STALLED = 2000
HEADER_TIMEOUT = "2s"
# Half a ClientHello: its record header and the start of the handshake
# message, the rest never comes.
PARTIAL_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"

_audit = {}


def setUpModule():
    test_tls.setUpModule()
    d = test_tls._mod["pki"]
    key, csr, crt = (os.path.join(d, "audit" + x)
                     for x in (".key", ".csr", ".pem"))
    test_tls.openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", key)
    test_tls.openssl("req", "-new", "-key", key, "-out", csr, "-subj",
                     "/CN=localhost")
    ext = os.path.join(d, "audit.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "crlDistributionPoints=URI:http://ca.invalid/test.crl\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    test_tls.openssl("x509", "-req", "-in", csr, "-CA", test_tls._mod["ca"],
                     "-CAkey", test_tls._mod["ca_key"], "-CAcreateserial",
                     "-days", "90", "-out", crt, "-extfile", ext)
    _audit["pair"] = (crt, key)


def tearDownModule():
    test_tls.tearDownModule()


def testssl_command():
    """Debian installs it as testssl, upstream names it testssl.sh."""
    for name in ("testssl.sh", "testssl"):
        path = shutil.which(name)
        if path:
            return path
    return None


class TestTestssl(unittest.TestCase):
    """testssl.sh against the defaults: nothing HIGH or CRITICAL."""

    def test_no_high_or_critical_finding(self):
        cmd = testssl_command()
        if cmd is None:
            self.skipTest("testssl.sh is not installed (Debian package "
                          "testssl.sh; scripts/deps.sh installs it)")
        s = start(test_tls._mod["root"], *test_tls.tls_args(_audit["pair"]),
                  "-m", "epoll", modes=False)
        out = os.path.join(test_tls._mod["tmp"], "testssl.json")
        try:
            r = subprocess.run(
                [cmd, "--jsonfile-pretty", out, "--quiet", "--warnings",
                 "off", "--openssl-timeout", "5", "--connect-timeout", "5",
                 "--color", "0", "-n", "none", "--add-ca",
                 test_tls._mod["ca"], "-p", "-s", "-f", "-S", "-h", "-U",
                 "https://127.0.0.1:%d" % s.port],
                capture_output=True, text=True, timeout=300,
                cwd=test_tls._mod["tmp"])
            self.assertTrue(os.path.exists(out),
                            "no JSON from testssl.sh: %s%s"
                            % (r.stdout[-2000:], r.stderr[-2000:]))
            with open(out) as f:
                scan = json.load(f)
            self.assertTrue(s.alive(), "the server died under the scan")
        finally:
            s.stop()
        findings = []
        for target in scan["scanResult"]:
            for section, items in target.items():
                if isinstance(items, list):
                    findings += [(section, f) for f in items
                                 if isinstance(f, dict)]
        ids = {f.get("id") for _, f in findings}
        # A scan that could not reach the server finds nothing bad: make
        # sure it judged what it was asked to.
        for want in ("TLS1_3", "heartbleed", "cert_chain_of_trust",
                     "cipherlist_NULL", "HSTS"):
            self.assertIn(want, ids, "the scan did not run its checks")
        bad = ["%s %s %s: %s" % (sec, f["severity"], f["id"], f["finding"])
               for sec, f in findings
               if f.get("severity") in ("HIGH", "CRITICAL")]
        self.assertEqual(bad, [])


def raise_nofile(need):
    """The client side holds every stalled connection: lift the soft
    limit to the hard one (the server, started after, inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        raise unittest.SkipTest(
            "needs %d descriptors and the hard RLIMIT_NOFILE is %d"
            % (need, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard


def wait_closed(socks, timeout):
    """Wait for the server to close each socket; the ones still open."""
    pending = {c.fileno(): c for c in socks}
    poll = select.poll()
    for fd in pending:
        poll.register(fd, select.POLLIN)
    left = wait_until(lambda: _drain(poll, pending) == 0, timeout)
    return [] if left else list(pending.values())


def _drain(poll, pending):
    for fd, _ in poll.poll(200):
        c = pending.get(fd)
        if c is None:
            continue
        try:
            data = c.recv(4096)
        except ConnectionResetError:
            data = b""
        if data == b"":
            poll.unregister(fd)
            del pending[fd]
    return len(pending)


class TestStalledHandshakes(unittest.TestCase):
    """2,000 handshakes that never finish, in every mode."""

    @classmethod
    def setUpClass(cls):
        # Both ends of every stalled connection, on either side of the
        # test, plus the server's own and some slack.
        cls.saved = raise_nofile(STALLED + 256)

    @classmethod
    def tearDownClass(cls):
        resource.setrlimit(resource.RLIMIT_NOFILE, cls.saved)

    def https_ok(self, port):
        self.assertEqual(test_tls.https_get(port, "/small.txt")[2],
                         test_tls.SMALL)

    def stall(self, mode):
        s = start(test_tls._mod["root"], *test_tls.mode_args(mode),
                  *test_tls.tls_args(), "--header-timeout", HEADER_TIMEOUT,
                  modes=False)
        socks = []
        try:
            self.https_ok(s.port)
            base = fd_count(s.pid)
            for i in range(STALLED):
                c = socket.create_connection(("127.0.0.1", s.port),
                                             timeout=10)
                if i % 2:
                    c.sendall(PARTIAL_HELLO)
                socks.append(c)
                if i % 250 == 249:
                    self.https_ok(s.port)
            self.https_ok(s.port)
            open_ = wait_closed(socks, 60)
            self.assertEqual(len(open_), 0,
                             "%d stalled handshakes not cut" % len(open_))
            self.https_ok(s.port)
            for c in socks:
                c.close()
            socks = []
            back = wait_until(lambda: fd_count(s.pid) <= base, 10)
            self.assertTrue(back, "descriptors: %d before, %d after\n%s"
                            % (base, fd_count(s.pid), fd_report(s.pid)))
            self.https_ok(s.port)
        finally:
            for c in socks:
                c.close()
            s.stop()

    def test_cut_at_header_deadline_while_others_are_served(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                self.stall(mode)


class TestGarbage(unittest.TestCase):
    """Bytes that are no ClientHello: closed, one line at info."""

    def garbage(self, mode):
        log = os.path.join(test_tls._mod["tmp"], "garbage-%s.log" % mode[0])
        s = start(test_tls._mod["root"], *test_tls.mode_args(mode),
                  *test_tls.tls_args(), "--error-log", log,
                  "--log-level", "info", modes=False)
        try:
            self.assertEqual(test_tls.https_get(s.port, "/small.txt")[2],
                             test_tls.SMALL)
            with open(log) as f:
                before = f.read().splitlines()
            data = raw(s.port, b"\x00\x01\x02 not tls at all\r\n\r\n",
                       timeout=5)
            self.assertEqual(data, b"")
            self.assertEqual(test_tls.https_get(s.port, "/small.txt")[2],
                             test_tls.SMALL)
            with open(log) as f:
                new = f.read().splitlines()[len(before):]
            self.assertEqual(len(new), 1, new)
            self.assertIn("[info]", new[0])
            self.assertIn("no TLS handshake", new[0])
        finally:
            s.stop()

    def test_closed_with_one_info_line(self):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                self.garbage(mode)


if __name__ == "__main__":
    unittest.main()
