#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS in server blocks: `listen ... tls` and tls_certificate /
tls_certificate_key per server, SNI giving each server's certificate
(exact and wildcard names), the default server's for an unknown name, Host
routing over TLS, check-config printing it back, and the errors of a
server that cannot speak TLS, in the three run modes. The certificates
and helpers are test_tls's.
"""

import hashlib
import os
import socket
import subprocess
import unittest

import test_tls
from harness import BIN, Server, unique_tmpdir

MODES = (("epoll",), ("prefork", "-w", "2"), ("threads", "-w", "2"))


def setUpModule():
    test_tls.setUpModule()


def tearDownModule():
    test_tls.tearDownModule()


def sni_fingerprint(port, name):
    """The certificate a client naming name gets (not verified: the test
    certificates all say localhost)."""
    ctx = test_tls.ssl.SSLContext(test_tls.ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = test_tls.ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(s, server_hostname=name) as t:
        return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def free_port():
    with socket.socket() as t:
        t.bind(("127.0.0.1", 0))
        return t.getsockname()[1]


class TestServerCertificates(unittest.TestCase):
    def setUp(self):
        m = test_tls._mod
        self.tmp = unique_tmpdir("tinyweb-tls-srv-")
        self.roots = {}
        for name in ("a", "b"):
            root = os.path.join(self.tmp, name)
            os.makedirs(root)
            with open(os.path.join(root, "who.txt"), "w") as f:
                f.write(name)
            self.roots[name] = root
        self.port = free_port()
        self.conf = os.path.join(self.tmp, "tinyweb.conf")
        with open(self.conf, "w") as f:
            f.write("""
server {
    listen 127.0.0.1:%(port)d tls;
    server_name a.example;
    root %(a)s;
    tls_certificate %(ec)s;
    tls_certificate_key %(eck)s;
}
server {
    listen 127.0.0.1:%(port)d default_server tls;
    server_name b.example *.c.example;
    root %(b)s;
    tls_certificate %(ec2)s;
    tls_certificate_key %(ec2k)s;
    tls_certificate %(rsa)s;
    tls_certificate_key %(rsak)s;
}
""" % dict(port=self.port, a=self.roots["a"], b=self.roots["b"],
                ec=m["ec"][0], eck=m["ec"][1], ec2=m["ec2"][0],
                ec2k=m["ec2"][1], rsa=m["rsa"][0], rsak=m["rsa"][1]))

    def tearDown(self):
        test_tls.shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sni_picks_each_servers_certificate(self):
        m = test_tls._mod
        ec = test_tls.file_fingerprint(m["ec"][0])
        ec2 = test_tls.file_fingerprint(m["ec2"][0])
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                p = subprocess.Popen([BIN, "serve", "-c", self.conf, "-q",
                                      "-m"] + list(mode),
                                     stderr=subprocess.PIPE, text=True)
                try:
                    line = p.stderr.readline()
                    self.assertIn("https://127.0.0.1:%d/" % self.port, line)
                    self.assertEqual(sni_fingerprint(self.port,
                                                     "a.example"), ec)
                    self.assertEqual(sni_fingerprint(self.port,
                                                     "b.example"), ec2)
                    self.assertEqual(sni_fingerprint(self.port,
                                                     "x.c.example"), ec2)
                    # A name no server has: the default server's (no
                    # top-level certificates), as Host goes there too.
                    self.assertEqual(sni_fingerprint(self.port,
                                                     "other.example"), ec2)
                    # Host routes over TLS as over plain HTTP.
                    for host, want in (("a.example", b"a"),
                                       ("b.example", b"b"),
                                       ("nobody.example", b"b")):
                        status, _, body = test_tls.https_get(
                            self.port, "/who.txt", {"Host": host})
                        self.assertEqual((status, body), (200, want), host)
                finally:
                    p.terminate()
                    p.wait(10)

    def test_check_config_prints_it_back(self):
        r = subprocess.run([BIN, "check-config", "-c", self.conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("listen 127.0.0.1:%d default_server tls;" % self.port,
                      r.stdout)
        self.assertIn('tls_certificate_key "%s";' % test_tls._mod["rsa"][1],
                      r.stdout)
        again = os.path.join(self.tmp, "again.conf")
        with open(again, "w") as f:
            f.write(r.stdout)
        r2 = subprocess.run([BIN, "check-config", "-c", again],
                            capture_output=True, text=True, timeout=30)
        self.assertEqual((r2.returncode, r2.stdout), (0, r.stdout),
                         r2.stderr)

    def test_bad_server_tls_is_one_line_and_exit_1(self):
        m = test_tls._mod
        rows = [
            ("server {\n listen 127.0.0.1:1 tls;\n}\n",
             "tinyweb: %s:2: listen 127.0.0.1:1 tls needs tls_certificate "
             "and tls_certificate_key in this server or at the top level"),
            ("server {\n tls_certificate %s;\n}\n" % m["ec"][0],
             "tinyweb: %s:2: tls_certificate and tls_certificate_key come "
             "in pairs: 1 certificate, 0 keys"),
            ("server {\n listen 127.0.0.1:1 tls tls;\n}\n",
             "tinyweb: %s:2: listen: 'tls' is not default_server or tls, "
             "once"),
            ("server {\n listen 127.0.0.1:1 tls;\n tls_certificate %s;\n"
             " tls_certificate_key %s;\n}\n" % (m["ec"][0], m["ec2"][1]),
             None),
        ]
        for text, want in rows:
            with self.subTest(conf=text):
                bad = os.path.join(self.tmp, "bad.conf")
                with open(bad, "w") as f:
                    f.write(text)
                r = subprocess.run([BIN, "serve", "-c", bad],
                                   capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                if want is not None:
                    where = bad if "%s:2" in want else None
                    self.assertEqual(lines[0], want % where)
                else:
                    # A key that is not its certificate's: the files
                    # are named.
                    self.assertIn(m["ec2"][1], lines[0])


if __name__ == "__main__":
    unittest.main()
