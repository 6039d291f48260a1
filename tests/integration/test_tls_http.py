#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTPS as http sees it (issue 14), in the three run modes: the json
access log names each TLS request's protocol and cipher (plain lines and
the combined format stay as they were); `return 301
https://$host:PORT$request_uri` in a plain server sends curl -L to the
TLS server, which adds HSTS; `redirect_https` beside a TLS listener
redirects the plain requests only, from a config file or from the
one-liner's --listen beside TLS on -p; an unknown variable in a return is one
error line naming FILE:LINE. The certificates and helpers are test_tls's.
"""

import json
import os
import subprocess
import unittest

import test_tls
from harness import BIN, Conn, free_port, run, unique_tmpdir, wait_until

MODES = (("epoll",), ("prefork", "-w", "2"), ("threads", "-w", "2"))
HSTS = "max-age=31536000"


def setUpModule():
    test_tls.setUpModule()


def tearDownModule():
    test_tls.tearDownModule()


def curl_follow(url, *args):
    """curl -L from url: (exit status, the final status, the head of every
    response, the body)."""
    r = subprocess.run(["curl", "-sS", "-L", "--max-redirs", "3",
                        "--cacert", test_tls._mod["ca"], "-D", "-",
                        "-w", "\n%{http_code}"] + list(args) + [url],
                       capture_output=True, timeout=60)
    out, _, code = r.stdout.rpartition(b"\n")
    return r.returncode, code.decode(), out, r.stderr.decode()


class ConfigServer:
    """tinyweb serve -c conf in one mode; its startup line read."""

    def __init__(self, conf, mode):
        self.p = subprocess.Popen([BIN, "serve", "-c", conf, "-q", "-m"] +
                                  list(mode), stderr=subprocess.PIPE,
                                  text=True)
        self.line = self.p.stderr.readline()

    def stop(self):
        self.p.terminate()
        self.p.wait(10)
        self.p.stderr.close()


class HttpsCase(unittest.TestCase):
    def setUp(self):
        self.tmp = unique_tmpdir("tinyweb-tls-http-")
        self.conf = os.path.join(self.tmp, "tinyweb.conf")
        self.log = os.path.join(self.tmp, "access.log")
        self.plain, self.tls = free_port(), free_port()
        m = test_tls._mod
        self.vals = dict(root=m["root"], plain=self.plain, tls=self.tls,
                         crt=m["ec"][0], key=m["ec"][1], log=self.log,
                         hsts=HSTS)

    def tearDown(self):
        test_tls.shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text):
        with open(self.conf, "w") as f:
            f.write(text % self.vals)

    def each_mode(self, fn):
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                if os.path.exists(self.log):
                    os.unlink(self.log)
                s = ConfigServer(self.conf, mode)
                try:
                    self.assertIn("http://127.0.0.1:%d/" % self.plain, s.line)
                    self.assertIn("https://127.0.0.1:%d/" % self.tls, s.line)
                    fn()
                finally:
                    s.stop()

    def log_lines(self, n):
        """The access log's lines once there are n (workers write them
        after the response)."""
        def lines():
            try:
                with open(self.log) as f:
                    got = f.read().splitlines()
            except FileNotFoundError:
                return None
            return got if len(got) >= n else None
        got = wait_until(lines, 10)
        self.assertIsNotNone(got, "fewer than %d log lines" % n)
        return got


class TestReturnToHttps(HttpsCase):
    """The nginx idiom: a plain server that sends everyone to https."""

    CONF = """
access_log %(log)s json;
root %(root)s;
server {
    listen 127.0.0.1:%(plain)d;
    server_name localhost;
    return 301 https://$host:%(tls)d$request_uri;
}
server {
    listen 127.0.0.1:%(tls)d tls;
    tls_certificate %(crt)s;
    tls_certificate_key %(key)s;
    add_header Strict-Transport-Security %(hsts)s;
    location = /scheme { return 200 "$scheme $host$request_uri\\n"; }
}
"""

    def test_curl_follows_to_the_tls_server(self):
        self.write(self.CONF)

        def check():
            rc, code, out, err = curl_follow(
                "http://localhost:%d/small.txt?a=1&b" % self.plain)
            self.assertEqual((rc, code), (0, "200"), err)
            first, _, rest = out.partition(b"\r\n\r\n")
            first += b"\r\n"
            self.assertIn(b"HTTP/1.1 301 ", first)
            self.assertIn(b"\r\nLocation: https://localhost:%d/small.txt"
                          b"?a=1&b\r\n" % self.tls, first)
            self.assertNotIn(b"Strict-Transport-Security", first)
            head, _, body = rest.partition(b"\r\n\r\n")
            self.assertIn(b"HTTP/1.1 200 ", head)
            self.assertIn(b"\r\nStrict-Transport-Security: " +
                          HSTS.encode(), head)
            self.assertEqual(body, test_tls.SMALL)
            # HTTP/1.0 without Host: the server's name.
            c = Conn(self.plain)
            r = c.request("GET", "/x?y", version="HTTP/1.0", host=False)
            self.assertEqual(r.status, 301)
            self.assertEqual(r.header("Location"),
                             "https://localhost:%d/x?y" % self.tls)
            c.close()
            # $scheme over TLS, $host lowercased without its port.
            status, _, body = test_tls.https_get(
                self.tls, "/scheme?q", {"Host": "LocalHost:%d" % self.tls})
            self.assertEqual((status, body),
                             (200, b"https localhost/scheme?q\n"))
        self.each_mode(check)

    def test_json_log_names_protocol_and_cipher(self):
        self.write(self.CONF)

        def check():
            url = "https://localhost:%d/small.txt" % self.tls
            rc, code, _, err = curl_follow(url, "--tlsv1.3")
            self.assertEqual((rc, code), (0, "200"), err)
            rc, code, _, err = curl_follow(
                url, "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
                "ECDHE-ECDSA-AES128-GCM-SHA256")
            self.assertEqual((rc, code), (0, "200"), err)
            c = Conn(self.plain)
            self.assertEqual(c.request("GET", "/p").status, 301)
            c.close()
            rows = [json.loads(x) for x in self.log_lines(3)]
            tls = sorted((r for r in rows if "tls_protocol" in r),
                         key=lambda r: r["tls_protocol"])
            plain = [r for r in rows if "tls_protocol" not in r]
            self.assertEqual([r["tls_protocol"] for r in tls],
                             ["TLSv1.2", "TLSv1.3"])
            self.assertEqual(tls[0]["tls_cipher"],
                             "ECDHE-ECDSA-AES128-GCM-SHA256")
            self.assertRegex(tls[1]["tls_cipher"], r"^TLS_(AES|CHACHA20)_")
            self.assertEqual([r["status"] for r in tls], [200, 200])
            self.assertEqual(len(plain), 1)
            self.assertEqual((plain[0]["uri"], plain[0]["status"]),
                             ("/p", 301))
            self.assertNotIn("tls_cipher", plain[0])
        self.each_mode(check)

    def test_combined_log_unchanged_over_tls(self):
        self.write(self.CONF.replace(" json;", " combined;"))

        def check():
            rc, code, _, err = curl_follow(
                "https://localhost:%d/small.txt" % self.tls, "-A", "ua")
            self.assertEqual((rc, code), (0, "200"), err)
            line = self.log_lines(1)[0]
            self.assertRegex(line, r'^127\.0\.0\.1 - - \[[^]]+\] "GET '
                             r'/small\.txt HTTP/1\.1" 200 %d "-" "ua"$'
                             % len(test_tls.SMALL))
        self.each_mode(check)


class TestRedirectHttpsBesideTls(HttpsCase):
    """redirect_https with plain and TLS listeners in one configuration:
    the plain requests redirect, the TLS ones are served."""

    CONF = """
access_log off;
root %(root)s;
listen 127.0.0.1:%(plain)d;
listen 127.0.0.1:%(tls)d tls;
tls_certificate %(crt)s;
tls_certificate_key %(key)s;
redirect_https %(tls)d;
add_header Strict-Transport-Security %(hsts)s;
"""

    def test_plain_redirects_tls_serves(self):
        self.write(self.CONF)

        def check():
            c = Conn(self.plain)
            r = c.request("GET", "/small.txt?x=1",
                          [("Host", "localhost:%d" % self.plain)])
            self.assertEqual(r.status, 301)
            self.assertEqual(r.header("Location"),
                             "https://localhost:%d/small.txt?x=1" % self.tls)
            c.close()
            rc, code, out, err = curl_follow(
                "http://localhost:%d/small.txt" % self.plain)
            self.assertEqual((rc, code), (0, "200"), err)
            self.assertTrue(out.endswith(b"\r\n\r\n" + test_tls.SMALL))
            self.assertEqual(out.count(b"HTTP/1.1 301 "), 1)
            status, headers, body = test_tls.https_get(self.tls,
                                                       "/small.txt")
            self.assertEqual((status, body), (200, test_tls.SMALL))
            self.assertEqual(headers.get("Strict-Transport-Security"), HSTS)
        self.each_mode(check)


class TestOneLiner(unittest.TestCase):
    """tinyweb serve -p TLS --tls-cert ... --listen PLAIN --redirect-https
    TLS: HTTPS and the redirect to it from one command."""

    def test_listen_beside_tls_redirects(self):
        m = test_tls._mod
        for mode in MODES:
            with self.subTest(mode=mode[0]):
                plain = free_port()
                tls = free_port()
                p = subprocess.Popen(
                    [BIN, "serve", m["root"], "-q", "-m"] + list(mode) +
                    ["-p", str(tls), "-b", "127.0.0.1", "--listen",
                     "127.0.0.1:%d" % plain, "--redirect-https", str(tls),
                     "--add-header", "Strict-Transport-Security: " + HSTS] +
                    test_tls.tls_args(), stderr=subprocess.PIPE, text=True)
                try:
                    line = p.stderr.readline()
                    self.assertIn("https://127.0.0.1:%d/" % tls, line)
                    self.assertIn("http://127.0.0.1:%d/" % plain, line)
                    rc, code, out, err = curl_follow(
                        "http://localhost:%d/small.txt?v" % plain)
                    self.assertEqual((rc, code), (0, "200"), err)
                    self.assertIn(b"\r\nLocation: https://localhost:%d/"
                                  b"small.txt?v\r\n" % tls, out)
                    self.assertTrue(out.endswith(b"\r\n\r\n" +
                                                 test_tls.SMALL))
                    self.assertIn(b"Strict-Transport-Security: " +
                                  HSTS.encode(), out)
                finally:
                    p.terminate()
                    p.wait(10)
                    p.stderr.close()

    def test_check_config_prints_the_flags_listeners(self):
        r = run([BIN, "check-config", "-p", "8443", "--listen", "8080",
                 "--listen", "[::1]:81", "--redirect-https", "8443"] +
                test_tls.tls_args(), timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        # PORT alone is every IPv4 and IPv6 address: "*"
        self.assertIn("listen *:8443 tls;\nlisten *:8080;\n"
                      "listen [::1]:81;\n", r.stdout)
        r = run([BIN, "check-config", "--listen", "nope:x"], timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--listen", r.stderr)
        # Together they fit the 16 listeners or are refused, never cut.
        binds = []
        for i in range(16):
            binds += ["-b", "127.0.0.%d" % (i + 1)]
        r = run([BIN, "check-config", "-p", "8080", "--listen", "81"] +
                binds, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "tinyweb: -p/-b and --listen: at most "
                         "16 addresses together\n")
        r = run([BIN, "check-config", "-p", "8080", "--listen", "81"] +
                binds[:30], timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("\nlisten "), 16)


class TestUnknownVariable(unittest.TestCase):
    def test_unknown_variable_is_one_error_line(self):
        tmp = unique_tmpdir("tinyweb-tls-http-")
        try:
            conf = os.path.join(tmp, "bad.conf")
            with open(conf, "w") as f:
                f.write("server {\n    listen 127.0.0.1:%d;\n"
                        "    return 301 https://$hots$request_uri;\n}\n"
                        % free_port())
            r = run([BIN, "check-config", "-c", conf], timeout=10)
            self.assertEqual(r.returncode, 1)
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn("%s:3:" % conf, lines[0])
            self.assertIn("'$hots'", lines[0])
        finally:
            test_tls.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
