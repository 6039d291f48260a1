#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tinyweb past one machine: three nodes behind a load balancer.

`make check-cluster` (not part of `make check`: it needs root, network
namespaces, HAProxy and rsync). Three network namespaces joined to this
one by veth pairs are the test's hosts, 10.231.N.2 each; a tinyweb node in
each serves its own copy of one tree (rsync -t, so ETag and Last-Modified
agree on every node): node 1 in epoll mode, node 2 prefork, node 3
threads, each with `--health /healthz`. In front, first HAProxy from
Debian (`option httpchk` on the health path, retries and redispatch), then
tinyweb's own proxy (an upstream group with health_check on the same
path). Clients that never retry send a bounded keep-alive load through
the front while the nodes are:

- restarted one by one (QUIT, wait for the exit, start again): no request
  may fail;
- upgraded one by one (USR2, then QUIT to the old binary): none may fail;
- killed (SIGKILL of every process of one node): no GET may fail, since a
  GET is safe to send again and the front must do so.

A conditional GET revalidates (304) on any node with the validators
another node gave. Skips with the reason where it cannot run.

Environment: TINYWEB_BIN (default build/tinyweb).
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("TINYWEB_BIN") or os.path.join(REPO, "build", "tinyweb")
MODES = (("epoll",), ("prefork", "-w", "2"), ("threads", "-w", "2"))
NODE_PORT = 8080
HEALTH = "/healthz"
# Load: threads, each one keep-alive connection to the front.
CLIENTS = 8
FILES = {"index.html": b"<h1>cluster</h1>\n",
         "a.txt": b"a" * 1000,
         "big.bin": bytes(range(256)) * 1024,       # 256 KiB
         "sub/b.css": b"body{color:red}\n" * 50}


def why_not():
    """The reason this test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "haproxy", "rsync"):
        if shutil.which(tool) is None:
            return "%s is not installed (scripts/deps.sh --cluster)" % tool
    if not os.access(BIN, os.X_OK):
        return "no binary at %s (make first)" % BIN
    r = subprocess.run(["ip", "netns", "add", "twc-probe-%d" % os.getpid()],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "cannot make a network namespace: " + r.stderr.strip()
    subprocess.run(["ip", "netns", "del", "twc-probe-%d" % os.getpid()],
                   capture_output=True)
    return None


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def wait_until(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(host, port, path, headers=None, timeout=5):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Net:
    """Three namespaces, each joined to this one by a veth pair."""

    def __init__(self, n):
        tag = "%04x" % (os.getpid() & 0xffff)
        self.ns = ["twc%s-%d" % (tag, k) for k in range(1, n + 1)]
        self.host_if = ["twh%s%d" % (tag, k) for k in range(1, n + 1)]
        self.node_if = ["twn%s%d" % (tag, k) for k in range(1, n + 1)]
        self.made = []

    def addr(self, i):
        return "10.231.%d.2" % (i + 1)

    def up(self):
        for i, ns in enumerate(self.ns):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "link", "add", self.host_if[i], "type", "veth", "peer",
               "name", self.node_if[i])
            sh("ip", "link", "set", self.node_if[i], "netns", ns)
            sh("ip", "addr", "add", "10.231.%d.1/24" % (i + 1), "dev",
               self.host_if[i])
            sh("ip", "link", "set", self.host_if[i], "up")
            inside = ("ip", "netns", "exec", ns)
            sh(*inside, "ip", "addr", "add", self.addr(i) + "/24", "dev",
               self.node_if[i])
            sh(*inside, "ip", "link", "set", self.node_if[i], "up")
            sh(*inside, "ip", "link", "set", "lo", "up")

    def down(self):
        for ns in self.made:
            # Deleting the namespace deletes its end of the pair, and
            # with it the other end.
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []


class Node:
    """A tinyweb in its namespace, serving its own copy of the tree."""

    def __init__(self, net, i, mode, work):
        self.net, self.i, self.mode = net, i, mode
        self.addr = net.addr(i)
        self.root = os.path.join(work, "node%d" % (i + 1))
        self.pidfile = os.path.join(work, "node%d.pid" % (i + 1))
        self.errlog = os.path.join(work, "node%d.err" % (i + 1))
        self.proc = None

    def pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def healthy(self):
        try:
            return get(self.addr, NODE_PORT, HEALTH, timeout=1)[0] == 200
        except OSError:
            return False

    def start(self):
        cmd = ["ip", "netns", "exec", self.net.ns[self.i], BIN, "serve",
               self.root, "-b", self.addr, "-p", str(NODE_PORT), "-m",
               *self.mode, "--health", HEALTH, "--pidfile", self.pidfile,
               "--add-header", "X-Node: %d" % (self.i + 1),
               "-q", "--error-log", self.errlog]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(self.healthy, 10):
            raise RuntimeError("node %d did not come up: %s" %
                               (self.i + 1, self.log()))

    def log(self):
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()[-2000:]
        except FileNotFoundError:
            return ""

    def quit(self):
        """Graceful stop; True once every process of it is gone."""
        pid = self.pid()
        if pid is None:
            return True
        os.kill(pid, signal.SIGQUIT)
        gone = wait_until(lambda: not alive(pid) and not self.pids(), 20)
        self.reap()
        return gone

    def pids(self):
        out = subprocess.run(["ip", "netns", "pids", self.net.ns[self.i]],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill(self):
        for p in self.pids():
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_until(lambda: not self.pids(), 10)
        self.reap()
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass

    def upgrade(self):
        """USR2, then QUIT to the old binary once the new one serves."""
        old = self.pid()
        os.kill(old, signal.SIGUSR2)
        new = wait_until(lambda: self.pid() not in (None, old) and
                         self.pid(), 10)
        if not new:
            raise RuntimeError("node %d: no new binary after USR2: %s" %
                               (self.i + 1, self.log()))
        os.kill(old, signal.SIGQUIT)
        if not wait_until(lambda: not alive(old), 20):
            raise RuntimeError("node %d: the old binary stayed" %
                               (self.i + 1))
        self.reap()
        return new

    def reap(self):
        if self.proc is not None and self.proc.poll() is not None:
            self.proc = None


class Load:
    """Clients that never retry: each failure is one lost request."""

    def __init__(self, port, front=None, names=None):
        self.port = port
        self.names = sorted(names or FILES)
        self.front = front
        self.first_upstreams = None
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.by_node = {}
        self.failures = []
        self.threads = [threading.Thread(target=self.run, args=(k,),
                                         daemon=True)
                        for k in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def run(self, k):
        names = self.names
        c = None
        n = k
        while not self.stop_ev.is_set():
            name = names[n % len(names)]
            n += 1
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
                c.request("GET", "/" + name)
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or body != FILES[name]:
                    self.fail("%s: %d, %d bytes" % (name, r.status,
                                                    len(body)))
                else:
                    node = r.getheader("X-Node")
                    with self.lock:
                        self.ok += 1
                        self.by_node[node] = self.by_node.get(node, 0) + 1
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException) as e:
                self.fail("%s: %r" % (name, e))
                if c is not None:
                    c.close()
                c = None
        if c is not None:
            c.close()

    def fail(self, what):
        with self.lock:
            self.failures.append((time.strftime("%H:%M:%S"), what))
            first = len(self.failures) == 1
        if first and self.front is not None:
            self.first_upstreams = self.front.upstreams()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(15)
        return not any(t.is_alive() for t in self.threads)


class Front:
    """What the clients talk to: HAProxy or tinyweb's proxy."""

    def __init__(self, work, nodes):
        self.work, self.nodes = work, nodes
        self.port = free_port()
        self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.work, "front.err"),
                      errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return "(none)"
        # The causes, not the answers they led to.
        lines = [ln for ln in lines if "[info]" not in ln]
        return "\n".join(lines[:25] + ["..."] + lines[-10:])

    def upstreams(self):
        """What the front thinks of the nodes (tinyweb's status page)."""
        return ""

    def serving(self):
        try:
            return get("127.0.0.1", self.port, "/a.txt", timeout=2)[0] == 200
        except OSError:
            return False


class HAProxy(Front):
    name = "haproxy"

    def start(self):
        cfg = os.path.join(self.work, "haproxy.cfg")
        servers = "".join(
            "    server n%d %s:%d check\n" % (n.i + 1, n.addr, NODE_PORT)
            for n in self.nodes)
        with open(cfg, "w") as f:
            f.write("""global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
frontend fe
    bind 127.0.0.1:%d
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET %s
    http-check expect status 200
    default-server inter 250ms fall 2 rise 1
%s""" % (self.port, HEALTH, servers))
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", cfg],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(self.serving, 10):
            raise RuntimeError("haproxy did not start")


class TinywebProxy(Front):
    name = "tinyweb proxy"

    def upstreams(self):
        try:
            body = get("127.0.0.1", self.port, "/status?format=json")[2]
            return json.dumps(json.loads(body)["upstreams"])
        except (OSError, ValueError, KeyError) as e:
            return repr(e)

    def start(self):
        cfg = os.path.join(self.work, "front.conf")
        # The servers with the defaults (max_fails=1 fail_timeout=10s,
        # nginx's): the restart of a node marks it out for 10 s, so the
        # checks must bring it back, or a rolling restart of every node
        # within 10 s leaves none.
        servers = "".join("    server %s:%d;\n" % (n.addr, NODE_PORT)
                          for n in self.nodes)
        with open(cfg, "w") as f:
            f.write("""proxy_next_upstream error timeout http_502 http_503 http_504;
proxy_next_upstream_tries 3;
proxy_connect_timeout 1s;
status /status;
upstream nodes {
%s    health_check uri=%s interval=250ms fails=2 passes=1;
}
server {
    listen 127.0.0.1:%d;
    location / {
        proxy_pass http://nodes;
    }
}
""" % (servers, HEALTH, self.port))
        self.errlog = os.path.join(self.work, "front.err")
        self.proc = subprocess.Popen([BIN, "serve", "-c", cfg, "-q",
                                      "--error-log", self.errlog],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(self.serving, 10):
            raise RuntimeError("the tinyweb front did not start")


class ClusterCase:
    """The scenarios, run against one kind of front (a subclass's)."""

    FRONT = None

    @classmethod
    def setUpClass(cls):
        reason = why_not()
        if reason:
            raise unittest.SkipTest(reason)
        cls.work = tempfile.mkdtemp(prefix="tinyweb-cluster.")
        src = os.path.join(cls.work, "src")
        for name, data in FILES.items():
            path = os.path.join(src, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        cls.net = Net(len(MODES))
        cls.nodes = []
        try:
            cls.net.up()
            for i, mode in enumerate(MODES):
                node = Node(cls.net, i, mode, cls.work)
                # -t keeps mtimes: the same validators on every node.
                sh("rsync", "-a", "-t", src + "/", node.root + "/")
                cls.nodes.append(node)
                node.start()
            cls.front = cls.FRONT(cls.work, cls.nodes)
            cls.front.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "front", None) is not None:
            cls.front.stop()
        for node in getattr(cls, "nodes", []):
            node.kill()
        cls.net.down()
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        # Every node up and seen up by the front before a scenario.
        for node in self.nodes:
            if node.pid() is None or not node.healthy():
                node.start()
        time.sleep(1.0)     # a few check intervals

    def under_load(self, action, names=None):
        load = Load(self.front.port, self.front, names).start()
        self.addCleanup(load.stop_ev.set)
        time.sleep(0.5)
        before = load.ok
        action()
        time.sleep(0.5)
        finished = load.stop()
        self.assertTrue(finished, "client threads hung")
        self.assertEqual(load.failures[:5], [],
                         "%s: %d failed, %d served; at the first failure "
                         "it saw the nodes as %s; its log:\n%s" % (
                             self.front.name, len(load.failures), load.ok,
                             load.first_upstreams, self.front.log()))
        # The load ran throughout, and every node served some of it.
        self.assertGreater(load.ok - before, 100)
        self.assertEqual(sorted(load.by_node),
                         [str(n.i + 1) for n in self.nodes], load.by_node)
        return load

    def test_rolling_restart(self):
        def roll():
            for node in self.nodes:
                self.assertTrue(node.quit(), "node %d stayed" % (node.i + 1))
                node.start()
                time.sleep(1.0)     # the front sees it up again
        self.under_load(roll)

    def test_rolling_upgrade(self):
        def roll():
            for node in self.nodes:
                node.upgrade()
                self.assertTrue(wait_until(node.healthy, 10))
                time.sleep(0.3)
        self.under_load(roll)

    def test_kill_one_node(self):
        victim = self.nodes[1]

        def kill():
            victim.kill()
            time.sleep(1.0)     # the load goes on without it
        # Files that leave in one write: a response already streaming
        # when its node dies is cut (no front replays half a body; the
        # client sees the short Content-Length), so the large file would
        # measure the timing of the kill, not the front.
        self.under_load(kill, [n for n in FILES if len(FILES[n]) < 4096])
        self.assertIsNone(victim.pid())

    def test_conditional_get_on_any_node(self):
        st, h, body = get(self.nodes[0].addr, NODE_PORT, "/big.bin")
        self.assertEqual((st, body), (200, FILES["big.bin"]))
        etag, lm = h["ETag"], h["Last-Modified"]
        for node in self.nodes:
            st, h2, _ = get(node.addr, NODE_PORT, "/big.bin")
            self.assertEqual((h2["ETag"], h2["Last-Modified"]), (etag, lm),
                             "node %d" % (node.i + 1))
            self.assertEqual(get(node.addr, NODE_PORT, "/big.bin",
                                 {"If-None-Match": etag})[0], 304)
            self.assertEqual(get(node.addr, NODE_PORT, "/big.bin",
                                 {"If-Modified-Since": lm})[0], 304)
        for _ in range(len(self.nodes) * 2):
            self.assertEqual(get("127.0.0.1", self.front.port, "/big.bin",
                                 {"If-None-Match": etag})[0], 304)


class TestBehindHAProxy(ClusterCase, unittest.TestCase):
    FRONT = HAProxy


class TestBehindTinywebProxy(ClusterCase, unittest.TestCase):
    FRONT = TinywebProxy


if __name__ == "__main__":
    unittest.main(verbosity=2)
