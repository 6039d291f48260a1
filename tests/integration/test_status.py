# SPDX-License-Identifier: MIT
"""The status endpoint (--status PATH): counters that add up after a known
load in every run mode, nginx's stub_status text as nginx's exporter
parses it, JSON, Prometheus exposition (format checked here), HTML, the
allow list (403), precedence over a file of the same name (with a warning
in the error log), no entry in directory listings, off by default."""

import json
import os
import re
import shutil
import socket
import threading
import time
import unittest

import harness
from harness import (Conn, Server, ServerCase, build, check_common, etag_for,
                     get, make_tree, raw, parse_responses, status_json,
                     unique_tmpdir)

BODY = b"0123456789abcdefghij" * 50          # 1000 bytes

# The rules nginx-prometheus-exporter applies to stub_status, one regex
# per line of interest (client/nginx.go before it moved to Sscanf).
EXP_ACTIVE = re.compile(r"Active connections: (\d+)")
EXP_NUMBERS = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$")
EXP_STATES = re.compile(r"Reading: (\d+) Writing: (\d+) Waiting: (\d+)")
# nginx's layout byte for byte (ngx_http_stub_status_module.c).
STUB_EXACT = re.compile(r"\AActive connections: (\d+) \n"
                        r"server accepts handled requests\n"
                        r" (\d+) (\d+) (\d+) \n"
                        r"Reading: (\d+) Writing: (\d+) Waiting: (\d+) \n\Z")

MODES = {
    "epoll": [],
    "prefork": ["-m", "prefork", "-w", "2"],
    "threads": ["-m", "threads", "-w", "2"],
}


def parse_stub(text):
    """stub_status text -> dict, the way the exporter reads it: line 1
    active, line 3 the three counters, line 4 the states."""
    lines = text.split("\n")
    if len(lines) < 4:
        raise AssertionError("stub_status has %d lines: %r" % (len(lines), text))
    m1 = EXP_ACTIVE.search(lines[0])
    m3 = EXP_NUMBERS.match(lines[2])
    m4 = EXP_STATES.search(lines[3])
    if not (m1 and m3 and m4) or lines[1] != "server accepts handled requests":
        raise AssertionError("stub_status not in nginx's layout: %r" % text)
    return {"active": int(m1.group(1)), "accepted": int(m3.group(1)),
            "handled": int(m3.group(2)), "requests": int(m3.group(3)),
            "reading": int(m4.group(1)), "writing": int(m4.group(2)),
            "waiting": int(m4.group(3))}


PROM_NAME = re.compile(r"^tinyweb_[a-z_]+$")
PROM_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
                         r"(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
PROM_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def check_prometheus(tc, text):
    """The text exposition format as Prometheus reads it, and our naming
    rules. Returns {(name, frozenset(labels)): value}."""
    tc.assertTrue(text.endswith("\n"), "no final newline")
    helps, types, series = {}, {}, {}
    current = None
    for ln in text[:-1].split("\n"):
        tc.assertNotEqual(ln, "", "empty line in exposition")
        if ln.startswith("# HELP "):
            name, _, doc = ln[7:].partition(" ")
            tc.assertRegex(name, PROM_NAME)
            tc.assertTrue(doc.strip(), "HELP without text: " + ln)
            tc.assertNotIn(name, helps, "second HELP for " + name)
            helps[name] = doc
            current = None
            continue
        if ln.startswith("# TYPE "):
            parts = ln[7:].split(" ")
            tc.assertEqual(len(parts), 2, ln)
            name, typ = parts
            tc.assertIn(name, helps, "TYPE before HELP: " + ln)
            tc.assertNotIn(name, types, "second TYPE for " + name)
            tc.assertIn(typ, ("counter", "gauge"), ln)
            if typ == "counter":
                tc.assertTrue(name.endswith("_total"),
                              "counter not named *_total: " + name)
            types[name] = typ
            current = name
            continue
        tc.assertFalse(ln.startswith("#"), "stray comment: " + ln)
        m = PROM_SAMPLE.match(ln)
        tc.assertIsNotNone(m, "not one sample: %r" % ln)
        name = m.group("name")
        tc.assertRegex(name, PROM_NAME)
        tc.assertEqual(name, current,
                       "sample not under its own HELP and TYPE: " + ln)
        labels = []
        if m.group("labels") is not None:
            rest = m.group("labels")
            pos = 0
            while pos < len(rest):
                lm = PROM_LABEL.match(rest, pos)
                tc.assertIsNotNone(lm, "bad label syntax: " + ln)
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
                if pos < len(rest):
                    tc.assertEqual(rest[pos], ",", "bad label list: " + ln)
                    pos += 1
                    tc.assertLess(pos, len(rest), "trailing comma: " + ln)
            tc.assertEqual(len(labels), len(dict(labels)),
                           "repeated label: " + ln)
        tc.assertRegex(m.group("value"), r"^-?\d+$", ln)
        value = int(m.group("value"))
        if types[name] == "counter":
            tc.assertGreaterEqual(value, 0, ln)
        key = (name, frozenset(labels))
        tc.assertNotIn(key, series, "duplicate series: " + ln)
        series[key] = value
    tc.assertEqual(set(helps), set(types), "HELP without TYPE")
    return series


def status(port, query="format=json", headers=(), host="127.0.0.1"):
    """One status request on its own connection (Connection: close)."""
    target = "/status" + ("?" + query if query else "")
    with Conn(port, host=host) as c:
        r = c.request("GET", target, list(headers) + [("Connection", "close")])
    return r


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


def modes():
    """The modes to run the mode-dependent tests in: all three, or only
    the one $TINYWEB_MODE_ARGS picks (it would override ours)."""
    if harness.MODE_ARGS:
        return {"env": []}
    return MODES


# ------------------------------------------------------------------ load

class KnownLoad:
    """A known load from several client threads; counts what came back."""

    def __init__(self, port, root):
        self.port = port
        self.etag = etag_for(os.path.join(root, "f.txt"))
        self.lock = threading.Lock()
        self.classes = {c: 0 for c in ("1xx", "2xx", "3xx", "4xx", "5xx")}
        self.statuses = {}
        self.requests = 0
        self.conns = 0
        self.bytes = 0
        self.errors = []

    def note(self, r, want):
        with self.lock:
            if r.status != want:
                self.errors.append("want %d:\n%s" % (want, r.describe()))
            self.requests += 1
            self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
            self.classes["%dxx" % (r.status // 100)] += 1
            self.bytes += len(r.head_raw) + len(r.body)

    def conn(self):
        with self.lock:
            self.conns += 1
        return Conn(self.port)

    def keepalive(self, plan):
        """plan: [(target, headers, want)] on one connection."""
        with self.conn() as c:
            for target, hdrs, want in plan:
                self.note(c.request("GET", target, hdrs), want)

    def one_each(self, plan):
        """A fresh connection per request, closed by the server."""
        for target, hdrs, want in plan:
            with self.conn() as c:
                r = c.request("GET", target, hdrs + [("Connection", "close")])
                if not c.at_eof(2.0):
                    self.errors.append("not closed after Connection: close")
                self.note(r, want)

    def malformed(self, n):
        """Requests the parser refuses: 400, and the server closes."""
        bad = [b"GET /f.txt HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
               b"GET /f.txt HTTP/1.1\r\n\r\n",                # no Host
               b"GET /f.txt HTTP/1.1\r\nHost: x\r\n Fold: y\r\n\r\n",
               b"GET /f.txt HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
               b"GET  /f.txt HTTP/1.1\r\nHost: x\r\n\r\n"]
        for i in range(n):
            with self.lock:
                self.conns += 1
            data = raw(self.port, bad[i % len(bad)], timeout=3.0)
            rs = parse_responses(data)
            if len(rs) != 1:
                with self.lock:
                    self.errors.append("malformed: %d responses" % len(rs))
                continue
            self.note(rs[0], 400)

    def run(self):
        ok = ("/f.txt", [], 200)
        miss = ("/missing.txt", [], 404)
        cond = ("/f.txt", [("If-None-Match", self.etag)], 304)
        rng = ("/f.txt", [("Range", "bytes=0-9")], 206)
        jobs = [
            (self.keepalive, ([ok] * 25 + [miss] * 5 + [cond] * 3,)),
            (self.one_each, ([ok] * 15 + [miss] * 2,)),
            (self.keepalive, ([ok] * 10 + [miss] * 3 + [rng] * 2,)),
            (self.malformed, (5,)),
        ]
        threads = []
        for fn, args in jobs:
            t = threading.Thread(target=self._guard, args=(fn, args))
            t.start()
            threads.append(t)
        for t in threads:
            t.join(30)

    def _guard(self, fn, args):
        try:
            fn(*args)
        except Exception as e:            # reported by the test
            with self.lock:
                self.errors.append("%s: %r" % (fn.__name__, e))


class TestCountersAddUp(unittest.TestCase):
    """After 50 x 200, 10 x 404, 5 x 400, 3 x 304 and 2 x 206 the JSON
    deltas equal what the client saw, in every mode."""

    def setUp(self):
        self.tmp = unique_tmpdir()
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        make_tree(self.root, {"f.txt": BODY})

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_mode(self, name, args):
        with Server(self.root, "--status", "/status", *args) as srv:
            # Both workers up (their slots filled) before counting: one
            # started late on a loaded machine is not a miscount.
            if name in ("prefork", "threads"):
                harness.wait_until(lambda: len(status_json(
                    srv.port)[0]["workers"]) == 2, 5)
            before, rb = status_json(srv.port)
            load = KnownLoad(srv.port, self.root)
            load.run()
            self.assertEqual(load.errors, [], name)
            self.assertEqual(load.statuses,
                             {200: 50, 404: 10, 400: 5, 304: 3, 206: 2}, name)
            after, _ = status_json(srv.port)
            text = status(srv.port, "format=text")
            self.assertEqual(text.status, 200)
            stub = parse_stub(text.body.decode("ascii"))

        def delta(*path):
            a, b = after, before
            for p in path:
                a, b = a[p], b[p]
            return a - b

        # The "before" request is counted once its response is queued, so
        # it is in the deltas; the "after" request is not yet, but its
        # connection (accepted before the page is made) is.
        req = after["requests"]
        self.assertEqual(delta("requests", "total"), load.requests + 1, name)
        for cls, n in load.classes.items():
            want = n + (1 if cls == "2xx" else 0)
            self.assertEqual(delta("requests", cls), want,
                             "%s: %s %s" % (name, cls, after["requests"]))
        self.assertEqual(req["total"],
                         sum(req[c] for c in ("1xx", "2xx", "3xx", "4xx",
                                              "5xx")), name)
        conns = after["connections"]
        self.assertEqual(delta("connections", "accepted"), load.conns + 1, name)
        self.assertEqual(delta("connections", "handled"), load.conns + 1, name)
        self.assertEqual(conns["accepted"], conns["handled"])
        # Every byte the client read, plus the "before" page.
        self.assertEqual(delta("bytes_sent"),
                         load.bytes + len(rb.head_raw) + len(rb.body), name)
        # Per-worker requests add up to the total.
        workers = after["workers"]
        self.assertGreaterEqual(len(workers), 1, name)
        self.assertEqual(sum(w["requests"] for w in workers), req["total"],
                         "%s: %s" % (name, workers))
        if name in ("prefork", "threads"):
            self.assertEqual(len(workers), 2, "%s: %s" % (name, workers))
            self.assertEqual(len({w["slot"] for w in workers}), 2)
        if name == "prefork":
            self.assertEqual(len({w["pid"] for w in workers}), 2, workers)
        for w in workers:
            self.assertGreater(w["pid"], 0)
            self.assertEqual(w["restarts"], 0)
            self.assertLessEqual(abs(w["started"] - time.time()), 60)
        self.assertLessEqual(abs(after["start_time"] - time.time()), 60)
        # The text page a moment later: the counters only grew, by the
        # two status requests in between.
        self.assertEqual(stub["accepted"], conns["accepted"] + 1, name)
        self.assertEqual(stub["handled"], conns["handled"] + 1, name)
        self.assertEqual(stub["requests"], req["total"] + 1, name)
        self.assertGreaterEqual(stub["active"], 1)
        self.assertLessEqual(stub["reading"] + stub["writing"] +
                             stub["waiting"], stub["active"], stub)

    def test_epoll(self):
        self.run_modes("epoll")

    def test_prefork(self):
        self.run_modes("prefork")

    def test_threads(self):
        self.run_modes("threads")

    def run_modes(self, name):
        m = modes()
        if name not in m:
            if name != "epoll":
                self.skipTest("mode from $TINYWEB_MODE_ARGS")
            name = "env"
        self.check_mode(name, m[name])


# --------------------------------------------------------------- formats

class StatusCase(ServerCase):
    tree = {"f.txt": BODY, "sub": {"a.txt": b"a\n"}, "b.txt": b"b\n"}
    server_args = ("--status", "/status")


class TestFormats(StatusCase):
    def test_text_default_is_stub_status(self):
        r = self.get("/status")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        text = r.body.decode("ascii")
        self.assertRegex(text, STUB_EXACT)
        s = parse_stub(text)
        self.assertGreaterEqual(s["accepted"], s["handled"])
        self.assertGreaterEqual(s["handled"], 1)
        self.assertGreaterEqual(s["active"], 1)   # this very request

    def test_query_text_and_accept(self):
        r = self.get("/status?format=text", [("Accept", "application/json")])
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertRegex(r.body.decode("ascii"), STUB_EXACT)
        r = self.get("/status", [("Accept", "application/json")])
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIn("requests", json.loads(r.body))
        r = self.get("/status", [("Accept", "text/html,application/xhtml+xml,"
                                  "application/xml;q=0.9,*/*;q=0.8")])
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assertTrue(r.body.startswith(b"<!DOCTYPE html>"), r.body[:100])
        r = self.get("/status", [("Accept", "*/*")])
        self.assertRegex(r.body.decode("ascii"), STUB_EXACT)

    def test_json(self):
        d, r = status_json(self.port)
        check_common(self, r)
        for k in ("version", "start_time", "uptime", "last_reload", "reloads",
                  "connections", "requests", "bytes_sent", "cache", "workers"):
            self.assertIn(k, d)
        for k in ("accepted", "handled", "active", "reading", "writing",
                  "waiting"):
            self.assertIsInstance(d["connections"][k], int)
        for k in ("total", "1xx", "2xx", "3xx", "4xx", "5xx"):
            self.assertIsInstance(d["requests"][k], int)
        self.assertGreaterEqual(d["uptime"], 0)
        self.assertEqual(d["reloads"], 0)
        self.assertEqual(d["last_reload"], 0)
        self.assertGreaterEqual(len(d["workers"]), 1)
        # json.loads would take 'NaN' or a duplicate key; be strict.
        json.loads(r.body, object_pairs_hook=self.no_dup,
                   parse_constant=self.no_const)

    def no_dup(self, pairs):
        keys = [k for k, _ in pairs]
        self.assertEqual(len(keys), len(set(keys)), keys)
        return dict(pairs)

    def no_const(self, c):
        self.fail("JSON constant %s" % c)

    def test_json_counts_this_server(self):
        d0, _ = status_json(self.port)
        self.get("/f.txt")
        self.get("/nope")
        d1, _ = status_json(self.port)
        # Other tests of this class do not run concurrently.
        self.assertEqual(d1["requests"]["total"] - d0["requests"]["total"], 3)
        self.assertEqual(d1["requests"]["2xx"] - d0["requests"]["2xx"], 2)
        self.assertEqual(d1["requests"]["4xx"] - d0["requests"]["4xx"], 1)
        self.assertEqual(d1["connections"]["accepted"] -
                         d0["connections"]["accepted"], 3)

    def test_prometheus(self):
        r = self.get("/status?format=prometheus")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Type"),
                         "text/plain; version=0.0.4; charset=utf-8")
        series = check_prometheus(self, r.body.decode("utf-8"))
        names = {n for n, _ in series}
        for n in ("tinyweb_connections_accepted_total",
                  "tinyweb_connections_handled_total",
                  "tinyweb_requests_total", "tinyweb_responses_total",
                  "tinyweb_sent_bytes_total", "tinyweb_connections_active"):
            self.assertIn(n, names)
        total = series[("tinyweb_requests_total", frozenset())]
        by_class = sum(v for (n, _), v in series.items()
                       if n == "tinyweb_responses_total")
        self.assertEqual(total, by_class)
        states = {dict(l)["state"] for n, l in series
                  if n == "tinyweb_connections"}
        self.assertEqual(states, {"reading", "writing", "waiting"})
        workers = sum(v for (n, _), v in series.items()
                      if n == "tinyweb_worker_requests_total")
        self.assertEqual(workers, total)

    def test_prometheus_checker_can_fail(self):
        """The format check rejects what Prometheus would."""
        bad = [
            "tinyweb_x_total 1\n",                          # no HELP/TYPE
            "# HELP tinyweb_x_total h\n# TYPE tinyweb_x_total counter\n"
            "tinyweb_x_total 1 tinyweb_x_total 2\n",        # two samples
            "# HELP tinyweb_x h\n# TYPE tinyweb_x counter\ntinyweb_x 1\n",
            "# HELP tinyweb_x h\n# TYPE tinyweb_x gauge\ntinyweb_x{a=b} 1\n",
            "# HELP tinyweb_x h\n# TYPE tinyweb_x gauge\n"
            "tinyweb_x{a=\"1\"} 1\ntinyweb_x{a=\"1\"} 2\n",   # duplicate
            "# HELP tinyweb_x h\n# TYPE tinyweb_x gauge\ntinyweb_x 1",
            "# HELP nginx_x h\n# TYPE nginx_x gauge\nnginx_x 1\n",
            "# TYPE tinyweb_x gauge\n# HELP tinyweb_x h\ntinyweb_x 1\n",
            "# HELP tinyweb_x h\n# TYPE tinyweb_x summary\ntinyweb_x 1\n",
        ]
        for text in bad:
            with self.assertRaises(AssertionError, msg=text):
                check_prometheus(self, text)

    def test_html(self):
        r = self.get("/status", [("Accept", "text/html")])
        self.assertStatus(r, 200)
        body = r.body.decode("utf-8")
        self.assertIn("<table>", body)
        d, _ = status_json(self.port)
        # The HTML page was made one request before the JSON one.
        m = re.search(r"<th>Requests</th><td>(\d+)</td>", body)
        self.assertIsNotNone(m, body)
        self.assertEqual(int(m.group(1)) + 1, d["requests"]["total"])
        m = re.search(r"<th>Accepted</th><td>(\d+)</td>", body)
        self.assertEqual(int(m.group(1)) + 1, d["connections"]["accepted"])
        for w in d["workers"]:
            self.assertIn("<td>%d</td>" % w["pid"], body)
        r2 = self.get("/status?format=html")
        self.assertEqual(r2.header("Content-Type"), "text/html; charset=utf-8")

    def test_head(self):
        r = self.head("/status")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        n = int(r.header("Content-Length"))
        g = self.get("/status")
        # The figures may have grown a digit in between.
        self.assertLessEqual(abs(len(g.body) - n), 3)
        r = self.head("/status?format=json")
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_head_and_get_on_one_connection(self):
        with Conn(self.port) as c:
            c.send(build("HEAD", "/status") + build("GET", "/status?format=json"))
            h = c.read_response("HEAD")
            g = c.read_response("GET")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.body, b"")
        self.assertEqual(g.status, 200)
        json.loads(g.body)

    def test_exact_path_only(self):
        for target in ("/status/", "/statusx", "/Status", "/status/x"):
            r = self.get(target)
            self.assertStatus(r, 404)
        # The query does not change which page it is.
        r = self.get("/status?x=1")
        self.assertRegex(r.body.decode("ascii"), STUB_EXACT)

    def test_not_in_listing(self):
        r = self.get("/")
        self.assertStatus(r, 200)
        body = r.body.decode("utf-8")
        self.assertIn("f.txt", body)            # it is a listing
        self.assertIn("sub/", body)
        self.assertNotIn("status", body.lower())
        r = self.get("/sub/")
        self.assertNotIn("status", r.body.decode("utf-8").lower())

    def test_waiting_gauge(self):
        conns = []
        try:
            for _ in range(5):
                c = Conn(self.port)
                conns.append(c)
                r = c.request("GET", "/b.txt")
                self.assertEqual(r.status, 200)
                self.assertFalse(r.closes())
            deadline = time.monotonic() + 2.0
            while True:
                s = parse_stub(status(self.port, "format=text").body
                               .decode("ascii"))
                if s["waiting"] >= 5 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertGreaterEqual(s["waiting"], 5, s)
            self.assertGreaterEqual(s["active"], 6, s)
            d, _ = status_json(self.port)
            self.assertGreaterEqual(d["connections"]["waiting"], 5)
        finally:
            for c in conns:
                c.close()
        # Closed idle connections leave the gauge.
        deadline = time.monotonic() + 2.0
        while True:
            s = parse_stub(status(self.port, "format=text").body.decode("ascii"))
            if s["waiting"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(s["waiting"], 0, s)


class TestOffByDefault(ServerCase):
    tree = {"f.txt": BODY}

    def test_404(self):
        self.assertStatus(self.get("/status"), 404)
        self.assertStatus(self.get("/status?format=json"), 404)
        self.assertStatus(self.head("/status"), 404)


class TestDenied(unittest.TestCase):
    def setUp(self):
        self.tmp = unique_tmpdir()
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        make_tree(self.root, {"f.txt": BODY})

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert403(self, port, host="127.0.0.1"):
        for q in (None, "format=json", "format=prometheus"):
            r = status(port, q, host=host)
            self.assertEqual(r.status, 403, r.describe())
            self.assertNotIn(b"accepts handled", r.body)
            self.assertNotIn(b"tinyweb_", r.body)
        with Conn(port, host=host) as c:
            r = c.request("HEAD", "/status")
            self.assertEqual(r.status, 403)

    def test_allow_only_v6_loopback(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback")
        with Server(self.root, "-b", "::1", "--status", "/status",
                    "--status-allow", "::1") as srv:
            self.assert403(srv.port)
            r = status(srv.port, "format=text", host="::1")
            self.assertEqual(r.status, 200, r.describe())
            self.assertRegex(r.body.decode("ascii"), STUB_EXACT)
            # Files are not affected by the list.
            self.assertEqual(get(srv.port, "/f.txt").status, 200)
            # A refusal is a 4xx like any other answer.
            d0 = json.loads(status(srv.port, host="::1").body)
            self.assertEqual(status(srv.port).status, 403)
            d1 = json.loads(status(srv.port, host="::1").body)
            self.assertEqual(d1["requests"]["4xx"] - d0["requests"]["4xx"], 1)
            self.assertEqual(d1["requests"]["total"] -
                             d0["requests"]["total"], 2)

    def test_allow_other_net(self):
        with Server(self.root, "--status", "/status",
                    "--status-allow", "10.0.0.0/8") as srv:
            self.assert403(srv.port)
            self.assertEqual(get(srv.port, "/f.txt").status, 200)

    def test_allow_all(self):
        with Server(self.root, "--status", "/status",
                    "--status-allow", "10.0.0.0/8",
                    "--status-allow", "all") as srv:
            self.assertEqual(status(srv.port).status, 200)

    def test_bad_allow_refused(self):
        for net in ("10.0.0.0/33", "host.example", "::1/200", ""):
            with self.assertRaises(AssertionError, msg=net):
                Server(self.root, "--status", "/status", "--status-allow", net,
                       startup_timeout=5)

    def test_bad_path_refused(self):
        with self.assertRaises(AssertionError):
            Server(self.root, "--status", "status", startup_timeout=5)


class TestFileAtStatusPath(unittest.TestCase):
    """The page wins over a file of the same name (documented), and the
    server says so in its error log when it starts."""

    def test_page_wins_and_warns(self):
        tmp = unique_tmpdir()
        try:
            root = os.path.join(tmp, "root")
            os.makedirs(root)
            make_tree(root, {"status": b"REAL FILE\n", "other": b"o\n"})
            elog = os.path.join(tmp, "error.log")
            with Server(root, "--status", "/status", "--error-log",
                        elog) as srv:
                r = get(srv.port, "/status")
                self.assertEqual(r.status, 200)
                self.assertNotIn(b"REAL FILE", r.body)
                self.assertRegex(r.body.decode("ascii"), STUB_EXACT)
                self.assertEqual(get(srv.port, "/other").body, b"o\n")
                stderr = srv.stderr_text()
            with open(elog, "rb") as f:
                log = f.read().decode("utf-8", "replace")
            self.assertRegex(
                log, re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[warn\] "
                                r"\d+ [a-z_]+: .*/status", re.M),
                "no warning about /status in the error log %s\n"
                "error log: %r\nstderr: %r" % (elog, log, stderr))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
