#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Upstream blocks behind locations, from a config file, in the three run
modes: proxy_pass replaces a location's prefix as nginx does; weights
share the requests out; a backup takes requests only while every primary
is down; active health checks mark a killed upstream down and a restarted
one up again, and the status page shows each server's state, requests,
failures and last check in JSON, Prometheus and HTML.

The upstreams are tinyweb itself, each serving a file that names it.
"""

import os
import re
import shutil
import signal
import threading
import unittest

from harness import Conn, Server, alive, get, read_pid, start, \
    status_json, unique_tmpdir, wait_until

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}


class Upstreams:
    """n upstream tinywebs, each with /who.txt naming it and /a.txt."""

    def __init__(self, tmp, n):
        self.roots, self.servers = [], []
        for i in range(n):
            root = os.path.join(tmp, "up%d" % i)
            os.makedirs(root, exist_ok=True)
            with open(os.path.join(root, "who.txt"), "w") as f:
                f.write("up%d" % i)
            with open(os.path.join(root, "a.txt"), "w") as f:
                f.write("a of up%d" % i)
            self.roots.append(root)
            self.servers.append(start(root, modes=False))
        self.ports = [s.port for s in self.servers]

    def kill(self, i):
        """SIGKILL: no goodbye to the connections the proxy pools."""
        self.servers[i].proc.kill()
        self.servers[i].proc.wait(10)

    def restart(self, i):
        """Up again on its old port."""
        self.servers[i] = start(self.roots[i], "-p", str(self.ports[i]),
                                modes=False)

    def close(self):
        for s in self.servers:
            if s.proc.poll() is None:
                s.stop()


class Load:
    """GETs one after another on keep-alive connections, until stop():
    the count answered 200 and every other outcome."""

    def __init__(self, port):
        self.port = port
        self.ok = 0
        self.failed = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                with Conn(self.port, timeout=10) as c:
                    for _ in range(50):
                        if self._stop.is_set():
                            return
                        r = c.request("GET", "/who.txt")
                        if r.status == 200:
                            self.ok += 1
                        else:
                            self.failed.append(r.status)
                        if r.closes():
                            break
            except (OSError, AssertionError) as e:
                self.failed.append(repr(e))

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(15)


def who(port, path="/who.txt"):
    r = get(port, path, [("Connection", "close")])
    return r.status, r.body.decode("utf-8", "replace")


class Fixture:
    """Upstreams and the server in front of them, for one test."""
    mode_args = []

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.front = os.path.join(self.tmp, "front")
        os.makedirs(self.front)
        with open(os.path.join(self.front, "local.txt"), "w") as f:
            f.write("local")
        self.ups = None
        self.srv = None
        self.pidfile = os.path.join(self.tmp, "tinyweb.pid")

    def tearDown(self):
        if self.srv is not None and self.srv.proc.poll() is None:
            self.srv.stop()
        # A reload in epoll and threads modes left a new process, the
        # pidfile's, which the harness did not start.
        pid = read_pid(self.pidfile) if os.path.exists(self.pidfile) \
            else None
        if pid and pid != (self.srv.pid if self.srv else None):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            wait_until(lambda: not alive(pid), 10.0)
        if self.ups is not None:
            self.ups.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, n, upstream_body, locations):
        """n upstreams, one upstream block "back" (servers filled in as
        SERVERi), and a server block of locations."""
        self.ups = Upstreams(self.tmp, n)
        body = upstream_body
        for i, p in enumerate(self.ups.ports):
            body = body.replace("SERVER%d" % i, "127.0.0.1:%d" % p)
        conf = os.path.join(self.tmp, "tinyweb.conf")
        with open(conf, "w") as f:
            f.write("root %s;\nupstream back {\n%s\n}\nserver {\n%s\n}\n"
                    % (self.front, body, locations))
        self.srv = start(self.front, "-c", conf, "--pidfile", self.pidfile,
                         *self.mode_args, modes=False)
        return self.srv.port


class UpstreamCase(Fixture):
    def test_prefix_replaced_as_nginx_does(self):
        port = self.serve(1, "server SERVER0;", """
            location /api/ { proxy_pass http://back/; }
            location /v1 { proxy_pass http://back/who; }
            location /same/ { proxy_pass http://back; }
            location / { root %s; }
            location = /status { status /status; }""" % self.front)
        self.assertEqual(who(port, "/api/who.txt"), (200, "up0"))
        self.assertEqual(who(port, "/v1.txt"), (200, "up0"))
        # No path in proxy_pass: the target goes up unchanged (the
        # upstream has no /same/, so its 404 comes back).
        self.assertEqual(who(port, "/same/who.txt")[0], 404)
        self.assertEqual(who(port, "/local.txt"), (200, "local"))
        # The decoded path is in /api/ but the raw one holds no /api/ to
        # replace: refused, not sent up half-rewritten.
        r = get(port, "/x/../api/who.txt", [("Connection", "close")])
        self.assertEqual(r.status, 400)
        # Every proxied request counted once, on its server.
        data, _ = status_json(port)
        (g,) = data["upstreams"]
        self.assertEqual(g["name"], "back")
        self.assertEqual(g["servers"][0]["requests"], 3)
        self.assertEqual(g["servers"][0]["state"], "up")

    def test_weights_share_requests(self):
        port = self.serve(3, """
            server SERVER0 weight=4;
            server SERVER1 weight=2;
            server SERVER2;""", "location / { proxy_pass http://back; }")
        counts = {"up0": 0, "up1": 0, "up2": 0}
        for _ in range(700):
            st, body = who(port)
            self.assertEqual(st, 200)
            counts[body] += 1
        # 4:2:1 of 700 = 400:200:100; with two workers each keeps its own
        # smooth round robin, so a few requests either way.
        for name, want in (("up0", 400), ("up1", 200), ("up2", 100)):
            self.assertLessEqual(abs(counts[name] - want), 10,
                                 "%s: %s" % (self.mode_args, counts))

    def test_backup_only_when_primaries_down(self):
        port = self.serve(2, """
            server SERVER0 max_fails=1 fail_timeout=30s;
            server SERVER1 backup;""", "location / { proxy_pass http://back; }")
        for _ in range(20):
            self.assertEqual(who(port), (200, "up0"))
        self.ups.kill(0)
        for _ in range(20):
            self.assertEqual(who(port), (200, "up1"))

    def test_health_checks_follow_an_upstream(self):
        """Under a bounded load that never stops, one of three upstreams
        is killed (SIGKILL) and later started again: no GET fails, and
        the status page's state follows it."""
        port = self.serve(3, """
            server SERVER0;
            server SERVER1;
            server SERVER2;
            health_check uri=/a.txt interval=200ms fails=2 passes=2;""", """
            location / { proxy_pass http://back; }
            location = /status { status /status; }""")
        load = Load(port)
        self.addCleanup(load.stop)

        def states():
            data, _ = status_json(port)
            return [s["state"] for s in data["upstreams"][0]["servers"]]

        def checks():
            data, _ = status_json(port)
            return [s.get("check") for s in data["upstreams"][0]["servers"]]

        self.assertTrue(wait_until(lambda: checks() == ["pass"] * 3,
                                   10.0, 0.1), checks())
        load.start()
        self.assertTrue(wait_until(lambda: load.ok >= 100, 10.0, 0.05))
        self.ups.kill(1)
        self.assertTrue(wait_until(lambda: states() == ["up", "checked_down",
                                                        "up"],
                                   10.0, 0.1), states())
        self.assertEqual(checks()[1], "refused")
        # Down by the check: every request goes to the others.
        seen = {who(port)[1] for _ in range(30)}
        self.assertEqual(seen, {"up0", "up2"})
        self.ups.restart(1)
        self.assertTrue(wait_until(lambda: states() == ["up"] * 3, 10.0,
                                   0.1), states())
        seen = {who(port)[1] for _ in range(30)}
        self.assertEqual(seen, {"up0", "up1", "up2"})
        load.stop()
        self.assertGreater(load.ok, 200)
        self.assertEqual(load.failed, [], "%d GETs answered" % load.ok)

    def test_status_formats_show_upstreams(self):
        port = self.serve(2, """
            server SERVER0;
            server SERVER1 backup;""", """
            location / { proxy_pass http://back; }
            location = /status { status /status; }""")
        for _ in range(10):
            self.assertEqual(who(port), (200, "up0"))
        names = ["127.0.0.1:%d" % p for p in self.ups.ports]
        data, _ = status_json(port)
        servers = data["upstreams"][0]["servers"]
        self.assertEqual([s["server"] for s in servers], names)
        self.assertEqual([s["requests"] for s in servers], [10, 0])
        self.assertEqual([s["backup"] for s in servers], [False, True])
        self.assertNotIn("check", servers[0])
        r = get(port, "/status?format=prometheus")
        text = r.body.decode()
        self.assertIn('tinyweb_upstream_requests_total{upstream="back",'
                      'server="%s"} 10' % names[0], text)
        self.assertIn('tinyweb_upstream_up{upstream="back",server="%s"} 1'
                      % names[1], text)
        r = get(port, "/status?format=html")
        html = r.body.decode()
        self.assertIn("<h2>Upstream back</h2>", html)
        row = re.search(r"<tr><th>%s</th>(.*?)</tr>" % re.escape(names[0]),
                        html)
        self.assertIsNotNone(row, html)
        self.assertEqual(re.findall(r"<td>([^<]*)</td>", row.group(1))[:4],
                         ["up", "0", "10", "0"])


class ReloadKeepsWhatWasLearnt(Fixture):
    """A reload (HUP) keeps what the servers that stay have shown: their
    counters and health. A prefork master builds the next generation
    beside the old one; epoll and threads start a new process, which is
    handed the old one's state."""

    def test_hup_keeps_counters_and_health(self):
        port = self.serve(2, """
            server SERVER0;
            server SERVER1;
            health_check uri=/a.txt interval=200ms fails=2 passes=2;""", """
            location / { proxy_pass http://back; }
            location = /status { status /status; }""")
        for _ in range(10):
            self.assertEqual(who(port)[0], 200)
        self.ups.kill(1)

        def view():
            data, _ = status_json(port)
            return data["upstreams"][0]["servers"], \
                sorted(w["pid"] for w in data["workers"])

        self.assertTrue(wait_until(
            lambda: view()[0][1]["state"] == "checked_down", 10.0, 0.1))
        before, pids = view()
        self.srv.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: not set(view()[1]) & set(pids),
                                   10.0, 0.1), "no new workers")
        after, _ = view()
        self.assertEqual([s["requests"] for s in after],
                         [s["requests"] for s in before])
        self.assertEqual(sum(s["requests"] for s in after), 10)
        self.assertEqual(after[1]["state"], "checked_down")
        self.assertGreaterEqual(after[1]["checks"], before[1]["checks"])


class TestReloadEpoll(ReloadKeepsWhatWasLearnt, unittest.TestCase):
    mode_args = MODES["epoll"]


class TestReloadPrefork(ReloadKeepsWhatWasLearnt, unittest.TestCase):
    mode_args = MODES["prefork"]


class TestReloadThreads(ReloadKeepsWhatWasLearnt, unittest.TestCase):
    mode_args = MODES["threads"]


class TestUpstreamsEpoll(UpstreamCase, unittest.TestCase):
    mode_args = MODES["epoll"]


class TestUpstreamsPrefork(UpstreamCase, unittest.TestCase):
    mode_args = MODES["prefork"]


class TestUpstreamsThreads(UpstreamCase, unittest.TestCase):
    mode_args = MODES["threads"]


if __name__ == "__main__":
    unittest.main()
