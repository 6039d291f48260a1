#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tinyweb's benchmark: tinyweb, nginx, h2o, lighttpd and a bare epoll
responder on the same generated root, each bound to 127.0.0.1, loaded by
wrk (rows a, b, c, e, f, g), by bench/hammer.c (rows h and i: rows a and
b again with a lighter client) and by small python clients (rows d and
g's cold readers) in interleaved runs, with a verdict per ratio (ahead,
behind, within noise); a second tinyweb build beside the first
(--tinyweb-b); a table of server designs: the blocking baselines of
bench/blocking.c (iterative, fork, thread) beside tinyweb's epoll,
prefork and threads modes; a proxy table (rows p and q): tinyweb
proxy, nginx proxy_pass and HAProxy in front of one upstream tinyweb;
and a compression table (row z): a 200 KiB JavaScript file asked for
with Accept-Encoding: gzip from tinyweb, nginx gzip at levels 1 and 6,
and h2o compress.

Started by bench/run.sh, which installs the tools, builds the binaries,
makes the work directory and kills whatever this script leaves behind (it
records every pid it starts in WORK/pids). Python standard library only.
"""

import argparse
import datetime
import gzip
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SMALL = "/1k.html"
BIG = "/100m.bin"
LISTDIR = "/list/"
LIST_ENTRIES = 1000
# Row z: a JavaScript file of this size, asked for with gzip.
JS = "/app.js"
JS_BYTES = 200 * 1024
BIG_BYTES = 100 << 20
COLD_BYTES = 1 << 20
# Row g's cold clients fetch this many 1 MiB files per second in all.
COLD_RATE = 200

# Each server may hold this many connections: row d holds 10,000 idle ones
# and still opens fresh ones beside them.
MAX_CONN = 20000

# Row d's idle connections in the designs table: a process or a thread
# each for the fork and thread designs, so fewer than the 10,000 of the
# other tables keep the run short and the machine usable.
DESIGN_IDLE = 1000

# Row j: clients that each send this many requests for SMALL at once on a
# connection (the last with Connection: close), read the answers, and
# start again; under every server's keep-alive limit (nginx's and
# lighttpd's 1,000 in the configurations here).
PIPE_DEPTH = 500
PIPE_CLIENTS = 2

# A fresh request's wait for its answer before it counts as a timeout,
# and how many timeouts in a row end row d's series (an iterative server
# answers none while a client it serves stays idle).
FRESH_TIMEOUT = 3.0
FRESH_GIVE_UP = 3
OPEN_TIMEOUT = 5.0


class Failed(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

class Procs:
    """Every process this script starts, recorded by pid for run.sh."""

    def __init__(self, work):
        self.path = os.path.join(work, "pids")
        self.live = []

    def start(self, argv, name, logpath, cpus=None):
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv
        out = open(logpath, "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        with open(self.path, "a") as f:
            f.write("%d %s\n" % (p.pid, name))
        self.live.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            kids = descendants(p.pid)
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(self.live):
            self.stop(p)


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def rss_kib(pid, path="status", field="VmRSS:"):
    """VmRSS summed over pid and its descendants, in KiB."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/%s" % (p, path)) as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def pss_kib(pid):
    """Pss summed over pid and its descendants, in KiB: pages shared by
    several processes (a forked child's copy of its parent) count once
    in all, where VmRSS counts them in each."""
    return rss_kib(pid, "smaps_rollup", "Pss:")


def nofile_limits(pid):
    """Soft 'Max open files' of pid and each descendant."""
    out = []
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/limits" % p) as f:
                for line in f:
                    if line.startswith("Max open files"):
                        out.append(int(line.split()[3]))
        except (OSError, ValueError):
            pass
    return out


class OtherLoad:
    """CPU time spent by processes this script did not start, over
    an interval: other work on the machine makes every figure unreliable.
    Our own share comes from getrusage (self and reaped children: wrk,
    the servers and their workers)."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK")
        self.t0 = time.monotonic()
        self.cpu0 = self.user_ticks()
        self.own0 = self.own()

    @staticmethod
    def user_ticks():
        """user + nice + system; irq and softirq are left out on both
        sides (our loopback traffic's softirq work lands there)."""
        with open("/proc/stat") as f:
            v = f.readline().split()
        return int(v[1]) + int(v[2]) + int(v[3])

    @staticmethod
    def own():
        a = resource.getrusage(resource.RUSAGE_SELF)
        b = resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def cpus_used(self):
        """Average number of CPUs others kept busy."""
        wall = time.monotonic() - self.t0
        total = (self.user_ticks() - self.cpu0) / self.hz
        return max(0.0, total - (self.own() - self.own0)) / wall


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, secs=10.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- the root

def make_root(root, ncold):
    os.makedirs(os.path.join(root, "list"))
    os.makedirs(os.path.join(root, "cold"))
    with open(os.path.join(root, "1k.html"), "w") as f:
        f.write(("<p>tinyweb bench</p>\n" * 60)[:1024])
    with open(os.path.join(root, JS.lstrip("/")), "wb") as f:
        f.write(javascript(JS_BYTES))
    block = os.urandom(1 << 20)
    with open(os.path.join(root, "100m.bin"), "wb") as f:
        for _ in range(BIG_BYTES >> 20):
            f.write(block)
    for i in range(LIST_ENTRIES):
        with open(os.path.join(root, "list", "entry-%04d.txt" % i), "w") as f:
            f.write("x" * (i % 97))
    for i in range(ncold):
        with open(cold_path(root, i), "wb") as f:
            f.write(i.to_bytes(8, "little"))
            f.write(block[8:COLD_BYTES])
    os.sync()
    for dirpath, dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for n in files:
            os.chmod(os.path.join(dirpath, n), 0o644)


def javascript(n):
    """n bytes of made-up JavaScript, the same every run: functions over a
    vocabulary of identifiers and strings, numbers from a fixed seed, so
    that it compresses about as a real bundle does (gzip -6: 4-5x)."""
    import random
    rnd = random.Random(15)
    words = ["data", "value", "item", "index", "result", "options", "node",
             "element", "config", "state", "props", "event", "handler",
             "callback", "request", "response", "error", "message", "count",
             "length", "buffer", "offset", "target", "source", "parent",
             "child", "list", "map", "key", "name", "type", "id", "url",
             "path", "query", "params", "headers", "body", "status", "cache"]
    ops = ["+", "-", "*", "===", "!==", "<", ">", "&&", "||"]
    out = []
    size = 0
    while size < n:
        a, b, c = (rnd.choice(words) for _ in range(3))
        f = "%s%s%d" % (a, b.capitalize(), rnd.randrange(1000))
        body = [
            "function %s(%s, %s) {" % (f, a, b),
            "  var %s = %s.%s %s %d;" % (c, a, rnd.choice(words),
                                         rnd.choice(ops),
                                         rnd.randrange(100000)),
            "  if (%s %s %s.%s) {" % (c, rnd.choice(ops), b,
                                      rnd.choice(words)),
            "    return %s(%s, \"%s-%s\");" % (rnd.choice(words), c,
                                              rnd.choice(words),
                                              rnd.randrange(100)),
            "  }",
            "  %s.%s = [%s];" % (b, rnd.choice(words), ", ".join(
                str(rnd.randrange(256)) for _ in range(rnd.randrange(6)))),
            "  return %s;" % c,
            "}",
        ]
        text = "\n".join(body) + "\n"
        out.append(text)
        size += len(text)
    return "".join(out).encode()[:n]


def cold_path(root, i):
    return os.path.join(root, "cold", "c%03d.bin" % i)


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def resident_fraction(paths):
    """Share of the files' pages in the page cache, from fincore, or None."""
    if not shutil.which("fincore"):
        return None
    try:
        out = subprocess.run(["fincore", "-b", "-n", "-o", "RES,SIZE"] +
                             paths, capture_output=True, text=True,
                             timeout=10).stdout
        res = size = 0
        for line in out.split("\n"):
            f = line.split()
            if len(f) == 2:
                res += int(f[0])
                size += int(f[1])
        return res / size if size else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------- servers

class Server:
    """One server under test: how to start it and what it takes part in."""

    rows = set("abcdefghij")
    scheme = "http"

    def __init__(self, key, label, bench):
        self.key = key
        self.label = label
        self.bench = bench
        self.proc = None
        self.port = None
        self.etag = None
        self.z_bytes = None
        self.config = None

    def argv(self, work):
        raise NotImplementedError

    def write_config(self, work, name, text):
        """Write the server's configuration file into WORK/key/; the
        report shows it, so that a reader sees what each server was
        given."""
        d = os.path.join(work, self.key)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        self.config = (path, text)
        return path

    def effective_config(self, argv):
        """The server's own account of its settings, or None."""
        return None

    def start(self, cpus):
        b = self.bench
        self.port = free_port()
        argv = self.argv(b.work)
        b.record_settings(self, argv, cpus)
        logp = os.path.join(b.work, "%s.log" % self.key)
        self.proc = b.procs.start(argv, self.key, logp, cpus)
        if not wait_port(self.port, self.proc):
            with open(logp, errors="replace") as f:
                tail = f.read()[-800:]
            b.procs.stop(self.proc)
            self.proc = None
            raise Failed("%s did not start: %s" % (self.label, tail.strip()))

    def stop(self):
        if self.proc is not None:
            self.bench.procs.stop(self.proc)
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Tinyweb(Server):
    def __init__(self, key, label, bench, mode=None, workers=1, binary=None):
        super().__init__(key, label, bench)
        self.mode = mode
        self.workers = workers
        self.binary = binary or bench.tinyweb

    def argv(self, work):
        a = [self.binary, "serve", self.bench.root, "-p",
             str(self.port), "-b", "127.0.0.1", "-q",
             "--max-connections", str(MAX_CONN)]
        if self.mode:
            a += ["--mode", self.mode, "--workers", str(self.workers)]
        # For A/B runs of an option: BENCH_TINYWEB_ARGS="--aio off".
        return a + os.environ.get("BENCH_TINYWEB_ARGS", "").split()

    def effective_config(self, argv):
        # serve -t prints every setting, the defaults included, and
        # exits (an older build without -t: nothing).
        try:
            r = subprocess.run(argv + ["-t"], capture_output=True,
                               text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout if r.returncode == 0 and r.stdout.strip() else None


class Nginx(Server):
    # The TLS table's nginx adds to the listen line and the server block.
    listen_extra = ""
    server_extra = ""

    def __init__(self, key, label, bench, workers=1):
        super().__init__(key, label, bench)
        self.workers = workers

    def argv(self, work):
        d = os.path.join(work, self.key)
        os.makedirs(d, exist_ok=True)
        temps = "".join("    %s_temp_path %s/%s;\n" % (t, d, t) for t in
                        ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # nginx's static-file advice: sendfile with tcp_nopush (the head
        # and the file's first bytes in one packet) and an open file cache
        # (descriptors, sizes and mtimes kept between requests).
        conf = self.write_config(work, "nginx.conf", f"""\
worker_processes {self.workers};
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log;
worker_rlimit_nofile {MAX_CONN + 100};
events {{
    worker_connections {MAX_CONN};
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30s;
    keepalive_requests 1000;
    open_file_cache max=10000 inactive=60s;
{temps}
    server {{
        listen 127.0.0.1:{self.port}{self.listen_extra};
{self.server_extra}        root {self.bench.root};
        location /list/ {{
            autoindex on;
        }}
    }}
}}
""")
        return ["nginx", "-c", conf, "-e", os.path.join(d, "error.log")]


class H2o(Server):
    # The TLS table's h2o adds an ssl block to the listener and top-level
    # directives.
    listen_extra = ""
    top_extra = ""

    def __init__(self, key, label, bench, threads=1):
        super().__init__(key, label, bench)
        self.threads = threads

    def argv(self, work):
        d = os.path.join(work, self.key)
        root = self.bench.root
        # user: root, because h2o drops to nobody before it writes its
        # pid file into our (root-owned) work directory. No access-log
        # directive: h2o then writes none. http1-request-timeout is h2o's
        # keep-alive wait, set to tinyweb's 30 s (its default is 10 s).
        # file.send-compressed is h2o's gzip_static (off by default):
        # off, as wrk asks for no encoding.
        conf = self.write_config(work, "h2o.conf", f"""\
user: root
listen:
  host: 127.0.0.1
  port: {self.port}
{self.listen_extra}{self.top_extra}num-threads: {self.threads}
max-connections: {MAX_CONN}
http1-request-timeout: 30
pid-file: {d}/h2o.pid
error-log: {d}/error.log
file.send-compressed: OFF
hosts:
  default:
    paths:
      /list:
        file.dir: {root}/list
        file.dirlisting: ON
      /:
        file.dir: {root}
""")
        return ["h2o", "-c", conf]


class TinywebNoDefer(Tinyweb):
    """tinyweb with --no-defer-accept (accepts not deferred, nginx's
    default): the new-connection rows only (b, and i with hammer),
    beside the default (deferred, as h2o always does)."""
    rows = set("bi")

    def argv(self, work):
        return super().argv(work) + ["--no-defer-accept"]


class TinywebZ(Tinyweb):
    """tinyweb as it ships: compression is on by default."""
    rows = set("z")


class NginxGzip(Nginx):
    """nginx with gzip on at a level (its docs' gzip module), the types a
    site compresses, and Vary (gzip_vary), as tinyweb sends."""
    rows = set("z")

    def __init__(self, key, label, bench, level):
        super().__init__(key, label, bench)
        self.level = level

    def argv(self, work):
        self.server_extra = f"""\
        gzip on;
        gzip_comp_level {self.level};
        gzip_vary on;
        gzip_types text/css application/javascript application/json image/svg+xml application/xml;
"""
        return super().argv(work)


class H2oCompress(H2o):
    """h2o with compress: ON (its on-the-fly gzip, and brotli where built
    in; wrk asks for gzip only), the other settings as in the one-worker
    table."""
    rows = set("z")
    top_extra = "compress: ON\n"


def nofile_hard():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


class Lighttpd(Server):
    """lighttpd 1.4 (Debian's 1.4.69), set up from its documentation:
    Docs_Performance, Server_network-backendDetails,
    Server_max-workerDetails, Server_stat-cache-engineDetails,
    Docs_ModDirlisting and the annotated doc/config/lighttpd.conf."""

    def __init__(self, key, label, bench, workers=0):
        super().__init__(key, label, bench)
        # server.max-worker = 0: one process, no workers (the default).
        self.workers = workers

    def limits(self):
        """server.max-fds and server.max-connections. lighttpd keeps half
        its descriptors for files and backends: it clamps max-connections
        to max-fds / 2 ("can't have more connections than fds/2") and
        cannot raise max-fds past the hard RLIMIT_NOFILE without root's
        CAP_SYS_RESOURCE."""
        fds = min(2 * MAX_CONN + 100, nofile_hard())
        return fds, min(MAX_CONN, fds // 2)

    def argv(self, work):
        d = os.path.join(work, self.key)
        fds, conns = self.limits()
        # network-backend "writev": 1.4.69 offers sendfile, writev and
        # write (lighttpd -V). sendfile is its documented choice on
        # Linux, but on this project's VM writev (lighttpd maps the file
        # and writes from the mapping) moved 100 MiB at 2.9-3.4 GB/s
        # against sendfile's 1.8-2.0 (4 connections, 3 alternating wrk
        # runs each), so the peer gets its faster backend. The event handler is left to its
        # default, epoll on Linux. stat-cache "simple" (the default,
        # recommended): stat() cached for a second. ETags from inode,
        # mtime and size (the defaults) so If-None-Match gets 304s.
        # No mod_accesslog: no access log. dir-listing.cache off: nginx,
        # h2o and tinyweb build each listing per request too.
        conf = self.write_config(work, "lighttpd.conf", f"""\
server.document-root = "{self.bench.root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{d}/error.log"
server.modules = ( "mod_dirlisting", "mod_staticfile" )
server.network-backend = "writev"
server.max-worker = {self.workers}
server.max-fds = {fds}
server.max-connections = {conns}
server.max-keep-alive-requests = 1000
server.max-keep-alive-idle = 30
server.stat-cache-engine = "simple"
static-file.etags = "enable"
etag.use-inode = "enable"
etag.use-mtime = "enable"
etag.use-size = "enable"
mimetype.assign = (
    ".html" => "text/html",
    ".txt" => "text/plain",
    ".bin" => "application/octet-stream",
    "" => "application/octet-stream",
)
$HTTP["url"] =~ "^/list/" {{
    dir-listing.activate = "enable"
}}
""")
        return ["lighttpd", "-D", "-f", conf]


class Blocking(Server):
    """A blocking-I/O design of bench/blocking.c: iterative, fork or
    thread. It serves files only, so it takes part in rows a and d."""
    rows = set("ad")

    def __init__(self, key, label, bench, design):
        super().__init__(key, label, bench)
        self.design = design

    def argv(self, work):
        # The keep-alive wait of tinyweb, nginx and h2o: 30 s.
        return [self.bench.blocking, "--design", self.design, "-p",
                str(self.port), "-b", "127.0.0.1", "--timeout", "30",
                self.bench.root]


class Responder(Server):
    rows = set("abhi")

    def __init__(self, key, label, bench, workers=1):
        super().__init__(key, label, bench)
        self.workers = workers

    def argv(self, work):
        return [self.bench.responder, str(self.port), str(self.workers)]


# ---------------------------------------------------------------- proxies

# Client connections a proxy may hold in the proxy table (wrk opens 50).
PROXY_CONN = 4096


class Upstream(Tinyweb):
    """The proxies' upstream: tinyweb serving the root, the same for every
    proxy, and measured directly too (the proxy table's ceiling). With 3
    or more CPUs it has one of its own; otherwise it shares the proxies'
    (the client's CPU is wrk's)."""
    rows = set("pq")

    def start(self, cpus):
        super().start(self.bench.upstream_cpus or cpus)


class TinywebProxy(Tinyweb):
    """`tinyweb proxy URL`: the one-liner reverse proxy, one loop."""
    rows = set("pq")

    def __init__(self, key, label, bench, upstream, binary, help_text):
        super().__init__(key, label, bench, binary=binary)
        self.upstream = upstream
        self.help = help_text

    def argv(self, work):
        a = [self.binary, "proxy", "http://127.0.0.1:%d" % self.upstream.port,
             "-p", str(self.port), "-b", "127.0.0.1", "-q"]
        # Idle upstream connections kept: 64, as nginx's keepalive here.
        if "--proxy-keepalive" in self.help:
            a += ["--proxy-keepalive", "64"]
        return a + os.environ.get("BENCH_TINYWEB_ARGS", "").split()


class NginxProxy(Server):
    """nginx proxy_pass with keep-alive to the upstream, as its docs
    (ngx_http_upstream_module, keepalive) ask: an upstream block with
    keepalive, proxy_http_version 1.1 and an empty Connection header."""
    rows = set("pq")

    def __init__(self, key, label, bench, upstream):
        super().__init__(key, label, bench)
        self.upstream = upstream

    def argv(self, work):
        d = os.path.join(work, self.key)
        os.makedirs(d, exist_ok=True)
        temps = "".join("    %s_temp_path %s/%s;\n" % (t, d, t) for t in
                        ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # keepalive 64: every one of wrk's 50 connections keeps its
        # upstream connection idle between requests (the docs' examples
        # use 16 or 32 for many workers). Buffering stays on (the
        # default) but never spills to a temporary file
        # (proxy_max_temp_file_size 0: the 100 MiB row would otherwise
        # write the body to disk and read it back), in 64 KiB buffers:
        # measured here on 100 MiB, 4 connections, 3 alternating runs of
        # 2 s, 1.09-1.22 GB/s against 0.90-0.95 with the default 4 KiB
        # ones (buffering off: 0.73-0.78); 1 KiB requests the same.
        conf = self.write_config(work, "nginx.conf", f"""\
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log;
worker_rlimit_nofile {2 * PROXY_CONN + 100};
events {{
    worker_connections {2 * PROXY_CONN};
}}
http {{
    access_log off;
    keepalive_timeout 30s;
    keepalive_requests 1000;
{temps}
    upstream backend {{
        server 127.0.0.1:{self.upstream.port};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;
            proxy_buffer_size 64k;
            proxy_buffers 8 64k;
        }}
    }}
}}
""")
        return ["nginx", "-c", conf, "-e", os.path.join(d, "error.log")]


class Haproxy(Server):
    """HAProxy (Debian's 2.6) in HTTP mode, one thread, keep-alive on
    both sides (its default, option http-keep-alive) and http-reuse
    always, which its configuration manual recommends where the server
    is known to keep connections open (it is: tinyweb, 1000 requests a
    connection) for "a significant performance increase over safe".
    option splice-response: the kernel moves response bodies (splice)
    where HAProxy sees fit; measured here on 100 MiB, 4 connections, 3
    alternating runs of 2 s, 1.33-1.36 GB/s against 0.89-1.09 without
    (splice-auto: 0.91-1.10); 1 KiB requests the same."""
    rows = set("pq")

    def __init__(self, key, label, bench, upstream):
        super().__init__(key, label, bench)
        self.upstream = upstream

    def argv(self, work):
        conf = self.write_config(work, "haproxy.cfg", f"""\
global
    nbthread 1
    maxconn {PROXY_CONN}

defaults
    mode http
    option http-keep-alive
    http-reuse always
    option splice-response
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s

frontend bench
    bind 127.0.0.1:{self.port}
    default_backend upstream

backend upstream
    server up 127.0.0.1:{self.upstream.port}
""")
        # -db: in the foreground, as the bench stops what it started.
        return ["haproxy", "-db", "-f", conf]


# ---------------------------------------------------------------- TLS

# Mozilla's "intermediate" TLS 1.2 list (what tinyweb uses by default),
# given to nginx and h2o too so that every server offers the same suites.
TLS_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
               "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
               "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
               "DHE-RSA-CHACHA20-POLY1305")
# Full handshakes at once in row t: openssl s_time clients, each one
# connection at a time.
HANDSHAKE_CLIENTS = 4


def make_tls_cert(work):
    """One ECDSA P-256 certificate and key for every server of the TLS
    table, made with the openssl command in the work directory."""
    d = os.path.join(work, "tls")
    os.makedirs(d, exist_ok=True)
    crt, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
         "-days", "30", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Failed("openssl req: %s" % r.stderr.strip())
    return crt, key


class TinywebTls(Tinyweb):
    """tinyweb serve with --tls-cert/--tls-key and its TLS defaults
    (TLS 1.2 and 1.3, tickets with shared rotated keys, a shared 1.2
    session cache): nothing to tune."""
    rows = set("tuv")
    scheme = "https"

    def argv(self, work):
        crt, key = self.bench.tls_cert
        a = super().argv(work)
        return a[:3] + ["--tls-cert", crt, "--tls-key", key] + a[3:]


class NginxTls(Nginx):
    """nginx with its documented TLS settings (the ssl module's docs and
    Mozilla's intermediate profile): a shared session cache, tickets,
    TLS 1.2 and 1.3, the intermediate ciphers, X25519 and P-256."""
    rows = set("tuv")
    scheme = "https"

    def argv(self, work):
        crt, key = self.bench.tls_cert
        self.listen_extra = " ssl"
        self.server_extra = f"""\
        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {TLS_CIPHERS};
        ssl_prefer_server_ciphers off;
        ssl_ecdh_curve X25519:prime256v1;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 1d;
        ssl_session_tickets on;
"""
        return super().argv(work)


class H2oTls(H2o):
    """h2o with its ssl block: the same certificate, TLS 1.2 at least,
    the intermediate ciphers, client preference, and session resumption
    by both cache and tickets (ssl-session-resumption mode all)."""
    rows = set("tuv")
    scheme = "https"

    def argv(self, work):
        crt, key = self.bench.tls_cert
        self.listen_extra = f"""\
  ssl:
    certificate-file: {crt}
    key-file: {key}
    minimum-version: TLSv1.2
    cipher-suite: {TLS_CIPHERS}
    cipher-preference: client
"""
        self.top_extra = """\
ssl-session-resumption:
  mode: all
"""
        return super().argv(work)


def proxy_help(binary):
    """This tinyweb build's --help if it has the proxy command (its usage
    names `tinyweb proxy`), else None."""
    try:
        r = subprocess.run([binary, "--help"], capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if "tinyweb proxy " in r.stdout else None


# ---------------------------------------------------------------- clients

def http_get(port, path, headers=None, method="GET", timeout=10,
             scheme="http"):
    c = connection(port, scheme, timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body
    finally:
        c.close()


def connection(port, scheme="http", timeout=10):
    if scheme == "http":
        return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    # The bench's own certificate: nothing to verify it against.
    ctx = ssl._create_unverified_context()
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                       context=ctx)


def tls_version(port):
    """The protocol a default client gets from the server."""
    ctx = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.version()


WRK_RE = re.compile(r"BENCH (.*)")


def compress_table(b, secs):
    """Row z: tinyweb (compression on by default), nginx with gzip at
    levels 1 and 6, h2o with compress ON, one worker each, pinned as the
    one-worker table."""
    tw, twb = b.label, b.label_b
    servers = [TinywebZ("z_tinyweb", tw, b)]
    ratios = [(tw, "nginx gzip 1"), (tw, "nginx gzip 6"), (tw, "h2o")]
    if b.tinyweb_b:
        servers.append(TinywebZ("z_tinyweb_b", twb, b, binary=b.tinyweb_b))
        ratios.append((twb, tw))
    servers += [NginxGzip("z_nginx1", "nginx gzip 1", b, 1),
                NginxGzip("z_nginx6", "nginx gzip 6", b, 6),
                H2oCompress("z_h2o", "h2o", b)]
    res = b.configuration("compress", servers, secs, True, rows="z")
    cpus = sorted(b.all_cpus)
    pin = ("server on CPU %d, clients on CPU %d" % (cpus[0], cpus[1])
           if b.ncpu >= 2 else "no pinning")
    return b.table("On-the-fly compression (one worker each: tinyweb "
                   "as shipped, nginx gzip on at comp_level 1 and 6, h2o "
                   "compress ON; %s)" % pin, servers, res, ratios, None,
                   COMPRESS_ROWS)


def wrk(bench, port, path, conns, secs, headers=(), timeout="5s",
        scheme="http"):
    """One wrk run; returns a dict of its counters (see report.lua)."""
    threads = max(1, min(conns, bench.wrk_threads))
    # wrk takes whole seconds only.
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns,
            "-d%ds" % max(1, round(secs)),
            "--timeout", timeout, "--latency",
            "-s", os.path.join(HERE, "report.lua")]
    for h in headers:
        argv += ["-H", h]
    argv.append("%s://127.0.0.1:%d%s" % (scheme, port, path))
    if bench.client_cpus is not None:
        argv = ["taskset", "-c", bench.client_cpus] + argv
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=secs + 60)
    m = WRK_RE.search(r.stdout)
    if r.returncode != 0 or not m:
        raise Failed("wrk failed: %s" % (r.stderr.strip() or r.stdout[-300:]))
    d = dict((k, int(v)) for k, v in
             (kv.split("=") for kv in m.group(1).split()))
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    d["bps"] = d["bytes"] / (d["duration_us"] / 1e6)
    d["errors"] = d["connect"] + d["read"] + d["write"] + d["status"] + \
        d["timeout"]
    return d


HAMMER_RE = re.compile(r"^requests=\d+ .*$", re.M)


def hammer(bench, port, path, conns, secs, fresh=False):
    """One bench/hammer.c run: conns connections with one GET in flight
    each (fresh: a new connection per request, Connection: close).
    Returns its counters, or {"failed": why} when it exits non-zero,
    prints an error or counts one: a figure from a run with wrong
    answers is no figure."""
    argv = [bench.hammer, "-c", str(conns), "-d", "%g" % secs]
    if fresh:
        argv.append("-x")
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    if bench.client_cpus is not None:
        argv = ["taskset", "-c", bench.client_cpus] + argv
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=secs + 60)
    m = HAMMER_RE.search(r.stdout)
    d = {}
    if m:
        d = dict((k, float(v) if "." in v else int(v)) for k, v in
                 (kv.split("=") for kv in m.group(0).split()))
    if r.returncode != 0 or r.stderr.strip() or not m or \
            d.get("errors", 1) or not d.get("requests"):
        why = " ".join(r.stderr.split())[:160] or r.stdout.strip()[-160:]
        return {"failed": "exit %d: %s" % (r.returncode, why or "no output")}
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    return d


def cpu_seconds(pid):
    """utime + stime of pid and its descendants (nginx's workers)."""
    ticks = 0
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                v = f.read().rsplit(")", 1)[1].split()
            ticks += int(v[11]) + int(v[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_per_request(s, cpu0, d):
    """The server's CPU time (all its processes and threads) per request
    answered since cpu0, in microseconds. Where the client's core is the
    limit (rows a, b and i), the rates of efficient servers meet at the
    client's ceiling and this is the figure that tells them apart."""
    n = d.get("requests", 0)
    return (cpu_seconds(s.proc.pid) - cpu0) / n * 1e6 if n else None


S_TIME_RE = re.compile(r"(\d+) connections in [\d.]+s;")
S_TIME_BYTES_RE = re.compile(r"(\d+) bytes read per connection")


def new_tls_connections(bench, s, secs):
    """Full TLS 1.3 handshakes with one request each: openssl s_time -new
    (a new session for every connection, one HTTP/1.0 GET, read to the
    close), HANDSHAKE_CLIENTS of them at once on the client CPU. wrk is
    no use here: it keeps the session of its last connection and resumes
    it. Returns connections per second, the server's CPU time per
    connection (what tells the servers apart when the client is the
    bottleneck), and the bytes each connection read."""
    argv = ["openssl", "s_time", "-connect", "127.0.0.1:%d" % s.port,
            "-new", "-tls1_3", "-www", SMALL,
            "-time", str(max(1, round(secs)))]
    if bench.client_cpus is not None:
        argv = ["taskset", "-c", bench.client_cpus] + argv
    pid = s.proc.pid
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    ps = [subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True) for _ in range(HANDSHAKE_CLIENTS)]
    outs = []
    for p in ps:
        try:
            outs.append(p.communicate(timeout=secs + 30))
        except subprocess.TimeoutExpired:
            p.kill()
            outs.append(p.communicate())
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    n, per = 0, []
    for out, err in outs:
        m = S_TIME_RE.search(out)
        if not m:
            raise Failed("openssl s_time: %s" % (err.strip()[-300:] or
                                                 out.strip()[-300:]))
        n += int(m.group(1))
        b = S_TIME_BYTES_RE.search(out)
        per.append(int(b.group(1)) if b else 0)
    if n == 0:
        raise Failed("openssl s_time made no connection")
    return {"t": n / wall, "t_cpu": cpu / n * 1e6, "bytes": min(per)}


def recv_response(s, buf=b""):
    """Read one HTTP response with a Content-Length; returns the leftover."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before headers")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if not head.startswith(b"HTTP/1.") or not m:
        raise ConnectionError("bad response: %r" % head[:80])
    need = int(m.group(1))
    while len(rest) < need:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed in body")
        rest += chunk
    return int(head.split()[1]), rest[need:]


def fresh_request_ms(port, req, timeout=5):
    t0 = time.perf_counter_ns()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(req)
        status, _ = recv_response(s)
    finally:
        s.close()
    if status != 200:
        raise ConnectionError("status %d" % status)
    return (time.perf_counter_ns() - t0) / 1e6


def idle_connections(server, count, fresh):
    """Row d: hold count idle keep-alive connections (each has made one
    request), measure the server's memory growth and fresh-request latency.
    Bounded in time for a server that stops answering (an iterative one
    stays with the first idle client): opening ends at the first answer
    not come within OPEN_TIMEOUT, the fresh series after FRESH_GIVE_UP
    failures in a row."""
    port = server.port
    pid = server.proc.pid
    req = b"GET " + SMALL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _ in range(20):
        fresh_request_ms(port, req)
    time.sleep(0.3)
    before, pss_before = rss_kib(pid), pss_kib(pid)
    socks, failures, first_error = [], 0, None
    batch = 250
    t_open = time.monotonic()
    stalled = False
    while len(socks) < count and failures < 50 and not stalled:
        if time.monotonic() - t_open > 20:
            first_error = first_error or "gave up opening after 20 s"
            break
        group = []
        for _ in range(min(batch, count - len(socks))):
            try:
                s = socket.create_connection(("127.0.0.1", port),
                                             timeout=OPEN_TIMEOUT)
                s.sendall(req)
                group.append(s)
            except OSError as e:
                failures += 1
                first_error = first_error or "connect: %s" % e
        for s in group:
            if stalled:
                failures += 1
                s.close()
                continue
            try:
                status, _ = recv_response(s)
                if status != 200:
                    raise ConnectionError("status %d" % status)
                socks.append(s)
            except socket.timeout:
                stalled = True
                failures += 1
                first_error = first_error or (
                    "no answer within %g s: stopped opening" % OPEN_TIMEOUT)
                s.close()
            except OSError as e:
                failures += 1
                first_error = first_error or "request: %s" % e
                s.close()
    opened = len(socks)
    time.sleep(1.0)
    after, pss_after = rss_kib(pid), pss_kib(pid)
    lat, lat_err, in_row, last_err = [], 0, 0, None
    for _ in range(fresh):
        try:
            lat.append(fresh_request_ms(port, req, FRESH_TIMEOUT))
            in_row = 0
        except OSError as e:
            lat_err += 1
            in_row += 1
            last_err = e
            first_error = first_error or "fresh request: %s" % e
            if in_row >= FRESH_GIVE_UP:
                break
    held = 0
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1, socket.MSG_PEEK) == b"":
                continue
            held += 1       # data where none was due: count it, note it
            first_error = first_error or "unexpected bytes on idle conn"
        except BlockingIOError:
            held += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    lat.sort()
    # No answer at all: the cell says why instead of a number.
    failed = "timeout" if isinstance(last_err, socket.timeout) else "failed"
    # Per connection only where most were held: an iterative server's
    # one connection says nothing of what a connection costs.
    per = held if held >= count // 2 and held else None
    return {
        "opened": opened, "held": held, "wanted": count,
        "kib_per_conn": (after - before) / per if per else None,
        "pss_per_conn": (pss_after - pss_before) / per if per else None,
        "rss_before": before, "rss_after": after,
        "fresh_median": statistics.median(lat) if lat else failed,
        "fresh_p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        if lat else failed,
        "fresh_errors": lat_err, "error": first_error,
    }


def probed_wrk(bench, port, path, conns, secs):
    """wrk on path with conns connections, and meanwhile one request on a
    fresh connection: its time in ms, or "timeout" if it got no answer
    while wrk still ran. wrk's own latency counts answered requests only,
    so a server that leaves connections waiting (an iterative one serves
    one of the conns) shows up here and not in wrk's p99."""
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    out = {}

    def probe():
        # Well inside the run, and over before wrk closes its
        # connections (which would let an iterative server go on).
        time.sleep(secs / 4)
        try:
            out["ms"] = fresh_request_ms(port, req, secs / 2)
        except socket.timeout:
            out["ms"] = "timeout"
        except OSError:
            out["ms"] = "failed"

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    d = wrk(bench, port, path, conns, secs)
    t.join()
    d["probe_ms"] = out.get("ms", "failed")
    return d


# Row j's pipelining client, a process of its own (threads of this
# script would share its interpreter lock with the fresh requests).
# argv: port, seconds, depth, path. Prints the answers it counted and
# the batches that did not bring all of them.
PIPE_CLIENT = r'''
import socket, sys, time
port, secs, depth, path = int(sys.argv[1]), float(sys.argv[2]), \
    int(sys.argv[3]), sys.argv[4]
one = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
batch = (one + b"\r\n") * (depth - 1) + one + b"Connection: close\r\n\r\n"
end = time.monotonic() + secs
answers = bad = 0
while time.monotonic() < end:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(batch)
    got = bytearray()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    s.close()
    n = got.count(b"HTTP/1.1 200 ")
    answers += n
    bad += n != depth
print(answers, bad)
'''


def pipelined(port, secs):
    """Row j: PIPE_CLIENTS clients pipelining PIPE_DEPTH requests each,
    again and again, and meanwhile requests on fresh connections, 2 ms
    apart: how long a newcomer waits while a server answers pipelines
    (one that answers a whole pipeline in one go makes it wait for it)."""
    req = b"GET " + SMALL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    procs = [subprocess.Popen([sys.executable, "-c", PIPE_CLIENT, str(port),
                               str(secs), str(PIPE_DEPTH), SMALL],
                              stdout=subprocess.PIPE, text=True)
             for _ in range(PIPE_CLIENTS)]
    lat, errors = [], 0
    try:
        time.sleep(0.3)
        end = time.monotonic() + secs - 0.6
        while time.monotonic() < end:
            try:
                lat.append(fresh_request_ms(port, req, FRESH_TIMEOUT))
            except OSError:
                errors += 1
            time.sleep(0.002)
    finally:
        answers = bad = 0
        for p in procs:
            try:
                out, _ = p.communicate(timeout=secs + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            try:
                a, b = out.split()
                answers, bad = answers + int(a), bad + int(b)
            except ValueError:
                bad += 1
    lat.sort()
    return {"med": statistics.median(lat) if lat else None,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            if lat else None,
            "rps": answers / secs, "errors": errors, "bad": bad}


def disk_sectors_read(path):
    """Sectors read so far from the block device that holds path, or None
    (a partition's /sys/dev/block entry has its own stat)."""
    d = os.stat(path).st_dev
    try:
        with open("/sys/dev/block/%d:%d/stat" % (os.major(d),
                                                 os.minor(d))) as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return None


class ColdReaders:
    """Row g: clients that each evict a cold file from the page cache and
    then fetch it, until stopped, at rate files per second in all. The
    rate is bounded so that the clients' own CPU (they share a core with
    wrk) does not pass for the server's latency: what the row shows is a
    server's loop waiting on the disk. With cold=False the files are not
    evicted: the same load from memory, the row's control."""

    def __init__(self, root, ncold, port, nclients, rate, cold=True):
        self.root, self.ncold, self.port = root, ncold, port
        self.rate = rate
        self.cold = cold
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.next = 0
        self.bytes = 0
        self.errors = 0
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(nclients)]

    def run(self):
        while not self.stop_ev.is_set():
            with self.lock:
                k = self.next
                self.next += 1
            i = k % self.ncold
            wait = self.t0 + k / self.rate - time.monotonic()
            if wait > 0 and self.stop_ev.wait(wait):
                break
            try:
                if self.cold:
                    evict(cold_path(self.root, i))
                st, _, body = http_get(self.port, "/cold/c%03d.bin" % i)
                if st != 200 or len(body) != COLD_BYTES:
                    raise ConnectionError("status %d" % st)
                with self.lock:
                    self.bytes += len(body)
            except OSError:
                with self.lock:
                    self.errors += 1
                time.sleep(0.05)

    def __enter__(self):
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=15)
        self.secs = time.monotonic() - self.t0


# ---------------------------------------------------------------- rows

# (id, row, metric, unit, better, format)
ROWS = [
    ("a50", "a", "1 KiB keep-alive, 50 conns", "req/s", "higher", "int"),
    ("a50p99", "a", "1 KiB keep-alive, 50 conns: p99", "ms", "lower", "ms"),
    ("a500", "a", "1 KiB keep-alive, 500 conns", "req/s", "higher", "int"),
    ("a500p99", "a", "1 KiB keep-alive, 500 conns: p99", "ms", "lower",
     "ms"),
    ("a50_probe", "a", "a fresh connection's request during the 50-conn "
     "load", "ms", "lower", "ms"),
    ("a500_probe", "a", "a fresh connection's request during the 500-conn "
     "load", "ms", "lower", "ms"),
    ("a50_cpu", "a", "1 KiB keep-alive, 50 conns: server CPU per request",
     "µs", "lower", "us"),
    ("a500_cpu", "a", "1 KiB keep-alive, 500 conns: server CPU per "
     "request", "µs", "lower", "us"),
    ("b", "b", "1 KiB, new connection per request", "req/s", "higher",
     "int"),
    ("b_cpu", "b", "1 KiB, new connection per request: server CPU per "
     "request", "µs", "lower", "us"),
    ("h50", "h", "1 KiB keep-alive, 50 conns, hammer", "req/s", "higher",
     "int"),
    ("h50p99", "h", "1 KiB keep-alive, 50 conns, hammer: p99", "ms",
     "lower", "ms"),
    ("h500", "h", "1 KiB keep-alive, 500 conns, hammer", "req/s", "higher",
     "int"),
    ("h500p99", "h", "1 KiB keep-alive, 500 conns, hammer: p99", "ms",
     "lower", "ms"),
    ("h50_cpu", "h", "1 KiB keep-alive, 50 conns, hammer: server CPU per "
     "request", "µs", "lower", "us"),
    ("h500_cpu", "h", "1 KiB keep-alive, 500 conns, hammer: server CPU per "
     "request", "µs", "lower", "us"),
    ("i", "i", "1 KiB, new connection per request, hammer", "req/s",
     "higher", "int"),
    ("i_cpu", "i", "1 KiB, new connection per request, hammer: server CPU "
     "per request", "µs", "lower", "us"),
    ("c", "c", "100 MiB file, 4 conns", "MiB/s", "higher", "int"),
    ("d_mem", "d", "10,000 idle keep-alive: RSS per conn", "KiB", "lower",
     "kib"),
    ("d_pss", "d", "10,000 idle keep-alive: PSS per conn", "KiB", "lower",
     "kib"),
    ("d_held", "d", "10,000 idle keep-alive: conns held", "count",
     "higher", "held"),
    ("d_med", "d", "fresh request while they are open: median", "ms",
     "lower", "ms"),
    ("d_p99", "d", "fresh request while they are open: p99", "ms",
     "lower", "ms"),
    ("e", "e", "1,000-entry listing", "req/s", "higher", "int"),
    ("f", "f", "304 revalidation (If-None-Match)", "req/s", "higher", "int"),
    ("g_alone", "g", "hot 1 KiB p99, alone", "ms", "lower", "ms"),
    ("g_cold", "g", "hot 1 KiB p99, cold files streaming", "ms", "lower",
     "ms"),
    ("g_warm", "g", "hot 1 KiB p99, the same files streaming from memory",
     "ms", "lower", "ms"),
    ("g_ratio", "g", "hot p99 with cold / alone", "x", "lower", "x"),
    ("g_disk_share", "g", "hot p99 with cold / with warm (the disk's share)",
     "x", "lower", "x"),
    ("g_mibs", "g", "cold files served meanwhile (asked: %d)" % COLD_RATE,
     "MiB/s", "higher", "int"),
    ("g_disk", "g", "read from the disk meanwhile (eviction check)",
     "MiB/s", "info", "int"),
    ("j_med", "j", "fresh request beside %d clients pipelining %d: median" %
     (PIPE_CLIENTS, PIPE_DEPTH), "ms", "lower", "ms"),
    ("j_p99", "j", "fresh request beside %d clients pipelining %d: p99" %
     (PIPE_CLIENTS, PIPE_DEPTH), "ms", "lower", "ms"),
    ("j_rps", "j", "the pipelining clients' answers", "req/s", "higher",
     "int"),
    ("p50", "p", "1 KiB through the proxy, keep-alive, 50 conns", "req/s",
     "higher", "int"),
    ("p50p99", "p", "1 KiB through the proxy, keep-alive, 50 conns: p99",
     "ms", "lower", "ms"),
    ("q", "q", "100 MiB through the proxy, 4 conns", "MiB/s", "higher",
     "int"),
    ("t", "t", "new TLS 1.3 connections, full handshake, one 1 KiB "
     "request each", "conn/s", "higher", "int"),
    ("t_cpu", "t", "server CPU time per new TLS 1.3 connection", "µs",
     "lower", "int"),
    ("u50", "u", "1 KiB keep-alive over TLS, 50 conns", "req/s", "higher",
     "int"),
    ("u50p99", "u", "1 KiB keep-alive over TLS, 50 conns: p99", "ms",
     "lower", "ms"),
    ("v", "v", "100 MiB file over TLS, 4 conns", "MiB/s", "higher", "int"),
    ("z", "z", "200 KiB JavaScript, Accept-Encoding: gzip, keep-alive, 50 "
     "conns", "req/s", "higher", "int"),
    ("z_bytes", "z", "bytes per response (the gzip body)", "bytes", "lower",
     "int"),
]


# What each table shows: the designs table has rows a and d only, with a
# fresh connection's wait during row a (wrk's p99 counts answered
# requests only) and PSS beside RSS (a forked child's pages are shared).
DESIGN_ROWS = ["a50", "a50p99", "a50_probe", "a500", "a500p99",
               "a500_probe", "d_mem", "d_pss", "d_held", "d_med", "d_p99"]
MAIN_ROWS = [r[0] for r in ROWS if r[0] not in
             ("a50_probe", "a500_probe", "d_pss") and r[1] not in "pqtuvz"]
# The proxy table: rows p and q only, through each proxy to one upstream.
PROXY_ROWS = ["p50", "p50p99", "q"]
# The TLS table: rows t, u and v, each server serving HTTPS only.
TLS_ROWS = ["t", "t_cpu", "u50", "u50p99", "v"]
# The compression table: row z.
COMPRESS_ROWS = ["z", "z_bytes"]


# ---------------------------------------------------------------- verdicts

# A verdict needs this many paired runs: with 5 pairs, a server no faster
# than its peer still lands on the same side of 1.00 in all five with
# probability 2 * (1/2)^5 = 1/16 (a two-sided sign test at 6.25%).
VERDICT_RUNS = 5


def paired_ratios(xs, ys):
    """x_i / y_i for each run index i where both runs gave a figure: run
    i of x and run i of y ran in the same round (interleaved), so what
    disturbed one of a pair most likely disturbed the other too."""
    out = []
    for x, y in zip(xs, ys):
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and not isinstance(x, bool) and y:
            out.append(x / y)
    return out


def verdict(ratios, better, min_pairs=VERDICT_RUNS):
    """ahead, behind or within noise, for x against y given the per-pair
    ratios x/y and which way is better ("higher" or "lower"): x is ahead
    (or behind) only when every pair agrees, i.e. the range min..max of
    the ratios lies wholly on one side of 1.00; a range that reaches
    1.00 is "within noise". Fewer than min_pairs pairs, or an "info"
    row: "n/a"."""
    if better not in ("higher", "lower") or len(ratios) < min_pairs:
        return "n/a"
    lo, hi = min(ratios), max(ratios)
    if lo <= 1.0 <= hi:
        return "within noise"
    above = lo > 1.0
    return "ahead" if above == (better == "higher") else "behind"


def ratio_cell(xs, ys, better, min_pairs=VERDICT_RUNS, judge=True):
    """A ratio column's cell: the median of the per-pair ratios, their
    range and the verdict ("1.04x (1.01-1.07) ahead"); one pair gives the
    ratio alone (--quick)."""
    r = paired_ratios(xs, ys)
    if not r:
        return "n/a"
    med = statistics.median(r)
    if len(r) == 1:
        return "%.2fx" % med
    cell = "%.2fx (%.2f–%.2f)" % (med, min(r), max(r))
    if judge:
        cell += " " + verdict(r, better, min_pairs)
    return cell


def fmt(v, kind):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if kind == "int":
        return "{:,}".format(round(v))
    if kind == "ms":
        return "%.2f" % v
    if kind == "us":
        return "%.1f" % v
    if kind == "kib":
        return "%.2f" % v
    if kind == "x":
        return "%.2f" % v
    if kind == "held":
        return "%d" % v
    return str(v)


class Bench:
    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.rows = a.rows
        self.work = a.work
        self.root = os.path.join(a.work, "root")
        self.tinyweb = os.path.abspath(a.tinyweb)
        self.tinyweb_b = os.path.abspath(a.tinyweb_b) if a.tinyweb_b \
            else None
        self.label = a.label
        self.label_b = a.label_b
        self.responder = os.path.abspath(a.responder)
        self.hammer = os.path.abspath(a.hammer) if a.hammer else None
        self.blocking = os.path.abspath(a.blocking) if a.blocking else None
        self.procs = Procs(a.work)
        self.all_cpus = os.sched_getaffinity(0)
        self.ncpu = len(self.all_cpus)
        self.runs = 1 if a.quick else a.runs
        self.ncold = 50 if a.quick else 200
        self.idle = a.idle
        self.cur_idle = a.idle
        self.probe_fresh = False
        self.notes = []
        # (table, label) -> what the server was started with.
        self.settings = {}
        self.cur_title = None
        self.client_cpus = None
        self.wrk_threads = 1
        # The proxy table's upstream: a CPU of its own when there is one.
        self.upstream_cpus = None
        # The TLS table's certificate and key (make_tls_cert).
        self.tls_cert = None
        self.has_modes = self.modes_of(self.tinyweb)
        self.has_modes_b = self.modes_of(self.tinyweb_b) \
            if self.tinyweb_b else False

    @staticmethod
    def modes_of(binary):
        return "--mode" in subprocess.run(
            [binary, "serve", "--help"], capture_output=True,
            text=True).stdout

    def note(self, msg):
        msg = " ".join(msg.split())
        if len(msg) > 240:
            msg = msg[:240] + "..."
        if msg not in self.notes:
            self.notes.append(msg)
        log("note: " + msg)

    def record_settings(self, s, argv, cpus):
        """The first command line and configuration file of each server
        in each table, for the report's settings section."""
        key = (self.cur_title, s.label)
        if key in self.settings:
            return
        cmd = (["taskset", "-c", cpus] if cpus is not None else []) + argv
        text = "$ " + " ".join(cmd) + "\n"
        if s.config:
            text += "\n# %s\n%s" % (os.path.basename(s.config[0]),
                                     s.config[1])
        extra = s.effective_config(argv)
        if extra:
            text += "\n" + extra
        self.settings[key] = text

    # one configuration: a list of servers, durations, pinning
    def configuration(self, title, servers, secs, pinned, rows="abcdefghij",
                      idle=None, probe=False):
        self.cur_title = title
        if pinned and self.ncpu >= 2:
            cpus = sorted(self.all_cpus)
            server_cpus, self.client_cpus = str(cpus[0]), str(cpus[1])
            self.wrk_threads = 1
        else:
            server_cpus, self.client_cpus = None, None
            self.wrk_threads = max(1, self.ncpu // 2)
        self.server_cpus = server_cpus
        self.cur_idle = idle or self.idle
        self.probe_fresh = probe
        # This script's own clients (rows d and g) run where wrk runs.
        os.sched_setaffinity(0, {int(self.client_cpus)}
                             if self.client_cpus else self.all_cpus)
        results = {s.key: {} for s in servers}
        load = OtherLoad()
        up = []
        for s in servers:
            try:
                s.start(server_cpus)
                up.append(s)
                log("%s: %s on port %d" % (title, s.label, s.port))
            except Failed as e:
                self.note(str(e))
        try:
            self.prepare(up)
            t0 = time.monotonic()
            for row in (r for r in "ahcefgjdbipqtuvz" if r in self.rows and
                        r in rows):
                self.row(row, up, secs, results)
                log("%s: row %s done at %.0f s" % (title, row,
                                                  time.monotonic() - t0))
        finally:
            for s in servers:
                s.stop()
        other = load.cpus_used()
        log("%s: other processes used %.2f CPUs meanwhile" % (title, other))
        if other > 0.1:
            self.note("%s: other processes on this machine kept %.2f CPUs "
                      "busy during the run: its figures are "
                      "disturbed" % (title, other))
        return results

    def prepare(self, servers):
        for s in list(servers):
            if s.scheme == "https":
                # A warm-up over TLS (rows t, u, v only).
                if not self.quick:
                    try:
                        wrk(self, s.port, SMALL, 50, 1, scheme="https")
                    except Failed as e:
                        self.note("%s warm-up: %s" % (s.label, e))
                continue
            if "f" in s.rows:
                st, h, _ = http_get(s.port, SMALL, method="HEAD")
                s.etag = h.get("etag")
                if st != 200 or not s.etag:
                    self.note("%s: no ETag for %s (status %d)" %
                              (s.label, SMALL, st))
            if not self.quick:
                try:
                    wrk(self, s.port, SMALL, 50, 1)
                except Failed as e:
                    self.note("%s warm-up: %s" % (s.label, e))

    def probe(self, s, row):
        """Check the server answers this row's request as it should."""
        p = s.port
        if row in "abhij":
            st, _, body = http_get(p, SMALL)
            return st == 200 and len(body) == 1024
        if row == "c":
            st, h, _ = http_get(p, BIG, method="HEAD")
            return st == 200 and h.get("content-length") == str(BIG_BYTES)
        if row == "d":
            return True
        if row == "e":
            st, _, body = http_get(p, LISTDIR)
            return st == 200 and body.count(b"entry-") >= LIST_ENTRIES
        if row == "f":
            if not s.etag:
                return False
            st, _, _ = http_get(p, SMALL, {"If-None-Match": s.etag})
            return st == 304
        if row == "g":
            st, _, body = http_get(p, "/cold/c000.bin")
            return st == 200 and len(body) == COLD_BYTES
        if row == "p":
            st, _, body = http_get(p, SMALL)
            return st == 200 and len(body) == 1024
        if row == "t":
            v = tls_version(p)
            if v != "TLSv1.3":
                self.note("%s negotiates %s, not TLSv1.3" % (s.label, v))
                return False
            st, _, body = http_get(p, SMALL, scheme="https")
            return st == 200 and len(body) == 1024
        if row == "u":
            st, _, body = http_get(p, SMALL, scheme="https")
            return st == 200 and len(body) == 1024
        if row == "z":
            return self.probe_gzip(s)
        if row in "qv":
            # The whole body, once: a server that cuts it short is out.
            c = connection(p, s.scheme, 30)
            try:
                c.request("GET", BIG)
                r = c.getresponse()
                n = 0
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    n += len(chunk)
                return r.status == 200 and n == BIG_BYTES
            finally:
                c.close()
        return False

    def probe_gzip(self, s):
        """Row z: the server answers the JavaScript in gzip that decodes
        to the file (tinyweb sends a file that changed in the last
        moments plain: asked again for up to 5 s); its size is the
        row's bytes per response."""
        with open(os.path.join(self.root, JS.lstrip("/")), "rb") as f:
            want = f.read()
        deadline = time.monotonic() + 5
        while True:
            st, h, body = http_get(s.port, JS,
                                   {"Accept-Encoding": "gzip"})
            if st == 200 and h.get("content-encoding") == "gzip":
                break
            if time.monotonic() > deadline:
                self.note("%s: no gzip answer for %s (status %d, %s)" %
                          (s.label, JS, st,
                           h.get("content-encoding", "plain")))
                return False
            time.sleep(0.1)
        if gzip.decompress(body) != want:
            self.note("%s: its gzip body of %s does not decode to the "
                      "file" % (s.label, JS))
            return False
        s.z_bytes = len(body)
        return True

    def row(self, row, servers, secs, results):
        runs = {}
        active = []
        for s in servers:
            if row not in s.rows:
                continue
            if not s.alive():
                self.note("%s died before row %s" % (s.label, row))
                continue
            try:
                ok = self.probe(s, row)
            except OSError as e:
                ok = False
                self.note("%s row %s probe: %s" % (s.label, row, e))
            if not ok:
                self.note("%s answers row %s's request wrongly: skipped" %
                          (s.label, row))
                continue
            active.append(s)
        # Interleaved: run i measures every server in turn, the order
        # rotated by one each run so that no server always goes first
        # (right after the previous row, or a cooler CPU). Figures are
        # kept by run index: run i of one server pairs with run i of
        # another in the ratio columns.
        n = self.runs
        for i in range(n):
            k0 = i % len(active) if active else 0
            for s in active[k0:] + active[:k0]:
                if not s.alive():
                    continue
                try:
                    m = self.measure(row, s, secs)
                except (Failed, OSError, subprocess.SubprocessError) as e:
                    self.note("%s row %s: %s" % (s.label, row, e))
                    continue
                for k, v in m.items():
                    runs.setdefault((s.key, k), [None] * n)[i] = v
        for (key, k), vals in runs.items():
            results[key].setdefault("_runs", {})[k] = vals
            nums = [v for v in vals if isinstance(v, (int, float))]
            words = [v for v in vals if isinstance(v, str)]
            # "timeout" in most runs is the figure; in a few, a note.
            # hammer's "failed" (wrong answers) in any run is the figure.
            if len(words) > len(nums) or (row in "hi" and words):
                results[key][k] = words[0]
            elif nums:
                results[key][k] = statistics.median(nums)
                if words:
                    s = next(x for x in servers if x.key == key)
                    self.note("%s row %s: %s: %s in %d of %d runs" %
                              (s.label, row, k, words[0], len(words),
                               len(vals)))

    def check_errors(self, s, row, d, allow_read=False):
        errs = d["errors"] - (d["read"] if allow_read else 0)
        if errs > 0.001 * max(1, d["requests"]):
            self.note("%s row %s: wrk saw errors (connect %d, read %d, "
                      "write %d, status %d, timeout %d of %d requests)" %
                      (s.label, row, d["connect"], d["read"], d["write"],
                       d["status"], d["timeout"], d["requests"]))

    def measure(self, row, s, secs):
        p = s.port
        if row == "a":
            out = {}
            for c in (50, 500):
                cpu0 = cpu_seconds(s.proc.pid)
                if self.probe_fresh:
                    d = probed_wrk(self, p, SMALL, c, secs)
                    out["a%d_probe" % c] = d["probe_ms"]
                else:
                    d = wrk(self, p, SMALL, c, secs)
                self.check_errors(s, "a", d)
                out["a%d" % c] = d["rps"]
                out["a%d_cpu" % c] = cpu_per_request(s, cpu0, d)
                out["a%dp99" % c] = d["p99_us"] / 1000
                # A request left unanswered for half the run is past the
                # 99th percentile of all requests; wrk's figure, of the
                # answered ones only, is not the server's p99.
                if d.get("probe_ms") == "timeout":
                    out["a%dp99" % c] = "timeout"
            return out
        if row == "b":
            cpu0 = cpu_seconds(s.proc.pid)
            d = wrk(self, p, SMALL, 50, secs, ["Connection: close"])
            self.check_errors(s, "b", d)
            return {"b": d["rps"], "b_cpu": cpu_per_request(s, cpu0, d)}
        if row == "h":
            out = {}
            for c in (50, 500):
                cpu0 = cpu_seconds(s.proc.pid)
                d = hammer(self, p, SMALL, c, secs)
                if "failed" in d:
                    self.note("%s row h, %d conns: hammer failed (%s)" %
                              (s.label, c, d["failed"]))
                    out["h%d" % c] = out["h%dp99" % c] = "failed"
                    continue
                out["h%d" % c] = d["rps"]
                out["h%dp99" % c] = d["p99_us"] / 1000
                out["h%d_cpu" % c] = cpu_per_request(s, cpu0, d)
            return out
        if row == "i":
            cpu0 = cpu_seconds(s.proc.pid)
            d = hammer(self, p, SMALL, 50, secs, fresh=True)
            if "failed" in d:
                self.note("%s row i: hammer failed (%s)" %
                          (s.label, d["failed"]))
                return {"i": "failed", "i_cpu": "failed"}
            return {"i": d["rps"], "i_cpu": cpu_per_request(s, cpu0, d)}
        if row == "c":
            d = wrk(self, p, BIG, 4, max(secs, 2), timeout="20s")
            self.check_errors(s, "c", d)
            return {"c": d["bps"] / (1 << 20)}
        if row == "p":
            d = wrk(self, p, SMALL, 50, secs)
            self.check_errors(s, "p", d)
            return {"p50": d["rps"], "p50p99": d["p99_us"] / 1000}
        if row == "q":
            d = wrk(self, p, BIG, 4, max(secs, 2), timeout="20s")
            self.check_errors(s, "q", d)
            return {"q": d["bps"] / (1 << 20)}
        if row == "t":
            d = new_tls_connections(self, s, secs)
            if d["bytes"] < 1024:
                self.note("%s row t: %d bytes read per connection, short "
                          "of the 1 KiB body" % (s.label, d["bytes"]))
            return {"t": d["t"], "t_cpu": d["t_cpu"]}
        if row == "u":
            d = wrk(self, p, SMALL, 50, secs, scheme="https")
            self.check_errors(s, "u", d)
            return {"u50": d["rps"], "u50p99": d["p99_us"] / 1000}
        if row == "v":
            d = wrk(self, p, BIG, 4, max(secs, 2), timeout="20s",
                    scheme="https")
            self.check_errors(s, "v", d)
            return {"v": d["bps"] / (1 << 20)}
        if row == "z":
            d = wrk(self, p, JS, 50, secs, ["Accept-Encoding: gzip"])
            self.check_errors(s, "z", d)
            return {"z": d["rps"], "z_bytes": s.z_bytes}
        if row == "e":
            d = wrk(self, p, LISTDIR, 50, secs)
            self.check_errors(s, "e", d)
            return {"e": d["rps"]}
        if row == "f":
            d = wrk(self, p, SMALL, 50, secs,
                    ["If-None-Match: %s" % s.etag])
            self.check_errors(s, "f", d)
            return {"f": d["rps"]}
        if row == "g":
            alone = wrk(self, p, SMALL, 10, secs)
            # The same streams from the page cache: what streaming costs
            # the machine's CPUs, so that cold / warm is the disk's share.
            for i in range(self.ncold):
                with open(cold_path(self.root, i), "rb") as f:
                    while f.read(1 << 20):
                        pass
            with ColdReaders(self.root, self.ncold, p, 4, COLD_RATE,
                             cold=False):
                time.sleep(0.2)
                warm = wrk(self, p, SMALL, 10, secs)
            sect = disk_sectors_read(self.root)
            with ColdReaders(self.root, self.ncold, p, 4,
                             COLD_RATE) as cr:
                time.sleep(0.2)
                cold = wrk(self, p, SMALL, 10, secs)
            sect2 = disk_sectors_read(self.root)
            self.check_errors(s, "g", alone)
            self.check_errors(s, "g", cold)
            self.check_errors(s, "g", warm)
            if cr.errors:
                self.note("%s row g: %d cold fetches failed" %
                          (s.label, cr.errors))
            a99, c99 = alone["p99_us"] / 1000, cold["p99_us"] / 1000
            w99 = warm["p99_us"] / 1000
            return {"g_alone": a99, "g_cold": c99, "g_warm": w99,
                    "g_ratio": c99 / a99 if a99 > 0 else None,
                    "g_disk_share": c99 / w99 if w99 > 0 else None,
                    "g_mibs": cr.bytes / (1 << 20) / cr.secs,
                    "g_disk": (sect2 - sect) * 512 / (1 << 20) / cr.secs
                    if sect is not None and sect2 is not None else None}
        if row == "j":
            d = pipelined(p, max(secs, 3))
            if d["errors"] or d["bad"]:
                self.note("%s row j: %d fresh requests failed, %d "
                          "pipelines came back short" %
                          (s.label, d["errors"], d["bad"]))
            return {"j_med": d["med"], "j_p99": d["p99"],
                    "j_rps": d["rps"]}
        if row == "d":
            # A fresh server, so memory freed by earlier rows' connections
            # (500 at once in row a) does not hide what 10,000 cost.
            s.stop()
            s.start(self.server_cpus)
            r = idle_connections(s, self.cur_idle,
                                 60 if self.quick else 200)
            lim = nofile_limits(s.proc.pid)
            if lim and min(lim) < self.cur_idle + 100:
                self.note("%s: RLIMIT_NOFILE %d < %d connections + 100" %
                          (s.label, min(lim), self.cur_idle))
            # One process holds at most max-connections; workers (every
            # core table) each hold that many.
            if isinstance(s, Lighttpd) and s.workers == 0:
                fds, conns = s.limits()
                if conns < self.cur_idle + 100:
                    self.note("%s: server.max-connections is %d (max-fds "
                              "%d, the hard RLIMIT_NOFILE, / 2: lighttpd "
                              "keeps half its descriptors for files), "
                              "short of %d idle connections + 100: its "
                              "fresh requests wait for a free slot" %
                              (s.label, conns, fds, self.cur_idle))
            if r["held"] < r["wanted"] or r["error"]:
                self.note("%s row d: held %d of %d (opened %d)%s" %
                          (s.label, r["held"], r["wanted"], r["opened"],
                           ": " + r["error"] if r["error"] else ""))
            log("  %s d: RSS %d -> %d KiB, held %d" %
                (s.label, r["rss_before"], r["rss_after"], r["held"]))
            return {"d_mem": r["kib_per_conn"], "d_pss": r["pss_per_conn"],
                    "d_held": r["held"],
                    "d_med": r["fresh_median"], "d_p99": r["fresh_p99"]}
        raise Failed("unknown row %s" % row)

    # ------------------------------------------------------------ tables

    def table(self, title, servers, results, ratios, ceiling,
              row_ids=MAIN_ROWS, idle=None):
        idle = idle or self.idle
        cols = [s.label for s in servers]
        head = ["row", "metric", "unit", "better"] + cols + \
            ["%s/%s" % (n, d) for n, d in ratios]
        if ceiling:
            head.append("%s/%s" % (self.label, ceiling))
        lines = ["### " + title, "",
                 "| " + " | ".join(head) + " |",
                 "|" + "|".join("---" for _ in head) + "|"]
        by_label = {s.label: s for s in servers}

        def runs_of(label, rid):
            s = by_label.get(label)
            if s is None or isinstance(s, Skip):
                return []
            return results.get(s.key, {}).get("_runs", {}).get(rid, [])

        for rid, row, metric, unit, better, kind in ROWS:
            if rid not in row_ids or row not in self.rows:
                continue
            metric = metric.replace("10,000", "{:,}".format(idle))
            cells = ["(%s)" % row, metric, unit, better]
            for s in servers:
                v = results.get(s.key, {}).get(rid)
                if isinstance(s, Skip):
                    cells.append("n/a")
                    continue
                if v is None and row not in s.rows:
                    cells.append("—")
                    continue
                if rid == "d_held" and v is not None:
                    v = "%d/%d" % (v, idle)
                cells.append(fmt(v, kind))
            for n, d in ratios:
                if better == "info":
                    cells.append("—")
                    continue
                cells.append(ratio_cell(runs_of(n, rid), runs_of(d, rid),
                                        better))
            if ceiling:
                # How close to the ceiling, not a contest: no verdict.
                cells.append(ratio_cell(runs_of(self.label, rid),
                                        runs_of(ceiling, rid), better,
                                        judge=False)
                             if row in by_label[ceiling].rows else "—")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def designs_table(b, secs):
    """The six server designs: the blocking baselines and tinyweb's three
    modes, rows a and d, nothing pinned (a design's use of the cores is
    part of the design)."""
    n = b.ncpu
    tw = b.label
    idle = min(b.idle, DESIGN_IDLE)
    servers = []
    if b.blocking:
        servers += [Blocking("blk_" + d, d, b, d)
                    for d in ("iterative", "fork", "thread")]
    else:
        b.note("no build/bench/blocking: the designs table has tinyweb's "
               "modes only")
    servers.append(Tinyweb("dz_epoll", tw + " epoll", b))
    servers += mode_servers(b, b.tinyweb, tw, "dz", b.has_modes, n)
    real = [s for s in servers if not isinstance(s, Skip)]
    res = b.configuration("designs", real, secs, False, rows="ad",
                          idle=idle, probe=True)
    ratios = [(tw + " epoll", "iterative"), (tw + " epoll", "fork"),
              (tw + " epoll", "thread"), (tw + " prefork", "fork"),
              (tw + " threads", "thread")]
    return b.table("Server designs (blocking: iterative, a process or a "
                   "thread per connection; %s: epoll, prefork and threads "
                   "with %d workers; nothing pinned)" % (tw, n), servers,
                   res, ratios, None, DESIGN_ROWS, idle)


def proxy_table(b, secs):
    """Rows p and q through tinyweb proxy, nginx proxy_pass and HAProxy,
    each one worker, to the same upstream tinyweb; the upstream alone
    (wrk straight at it) is the ceiling column. Pinned as the one-worker
    table: the proxies on the first CPU, the clients on the second, the
    upstream on a third if there is one, else beside the proxies."""
    tw, twb = b.label, b.label_b
    cpus = sorted(b.all_cpus)
    b.upstream_cpus = str(cpus[2]) if len(cpus) >= 3 else None
    up = Upstream("px_upstream", "upstream direct", b)
    servers = [up]
    builds = [("px_tinyweb", tw, b.tinyweb)]
    if b.tinyweb_b:
        builds.append(("px_tinyweb_b", twb, b.tinyweb_b))
    for key, label, binary in builds:
        h = proxy_help(binary)
        if h:
            servers.append(TinywebProxy(key, label, b, up, binary, h))
        else:
            b.note("%s has no `tinyweb proxy` yet: its proxy column is "
                   "n/a" % label)
            servers.append(Skip(key, label, b))
    ratios = [(tw, "nginx proxy_pass"), (tw, "haproxy")]
    if b.tinyweb_b:
        ratios.append((twb, tw))
    servers += [NginxProxy("px_nginx", "nginx proxy_pass", b, up),
                Haproxy("px_haproxy", "haproxy", b, up)]
    real = [s for s in servers if not isinstance(s, Skip)]
    res = b.configuration("proxy", real, secs, True, rows="pq")
    if len(cpus) >= 3:
        pin = ("proxies on CPU %d, clients on CPU %d, upstream on CPU %d" %
               (cpus[0], cpus[1], cpus[2]))
    elif len(cpus) == 2:
        pin = ("proxies and upstream on CPU %d, clients on CPU %d" %
               (cpus[0], cpus[1]))
    else:
        pin = "no pinning"
    return b.table("Reverse proxy to one upstream tinyweb (one worker "
                   "each: tinyweb proxy, nginx worker_processes 1, "
                   "haproxy nbthread 1; %s)" % pin, servers, res, ratios,
                   "upstream direct", PROXY_ROWS)


def tls_table(b, secs):
    """Rows t, u and v over HTTPS: tinyweb, nginx and h2o, one worker
    each, the same ECDSA P-256 certificate, each with its documented TLS
    settings; pinned as the one-worker table."""
    tw, twb = b.label, b.label_b
    b.tls_cert = make_tls_cert(b.work)
    servers = [TinywebTls("tls_tinyweb", tw, b)]
    ratios = [(tw, "nginx"), (tw, "h2o")]
    if b.tinyweb_b:
        servers.append(TinywebTls("tls_tinyweb_b", twb, b,
                                  binary=b.tinyweb_b))
        ratios.append((twb, tw))
    servers += [NginxTls("tls_nginx", "nginx", b),
                H2oTls("tls_h2o", "h2o", b)]
    res = b.configuration("tls", servers, secs, True, rows="tuv")
    cpus = sorted(b.all_cpus)
    pin = ("server on CPU %d, clients on CPU %d" % (cpus[0], cpus[1])
           if b.ncpu >= 2 else "no pinning")
    return b.table("HTTPS (one worker each, the same ECDSA P-256 "
                   "certificate; %s)" % pin, servers, res, ratios, None,
                   TLS_ROWS)


def versions(bench, only):
    def first(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=10)
            return (r.stdout + r.stderr).strip().split("\n")[0]
        except OSError:
            return "?"
    out = ["%s: %s" % (bench.label, first([bench.tinyweb, "--version"]))]
    if bench.tinyweb_b:
        out.append("%s: %s" % (bench.label_b,
                               first([bench.tinyweb_b, "--version"])))
    if "one" in only or "every" in only:
        out += [first(["nginx", "-v"]).replace("nginx version: ", ""),
                first(["h2o", "-v"]),
                first(["lighttpd", "-v"]).split(" - ")[0].split(" (")[0]]
    elif "tls" in only or "compress" in only:
        out += [first(["nginx", "-v"]).replace("nginx version: ", ""),
                first(["h2o", "-v"])]
    if "tls" in only:
        out.append(first(["openssl", "version"]).split(" (")[0])
    if "proxy" in only:
        if not {"one", "every", "tls"} & set(only.split(",")):
            out.append(first(["nginx", "-v"]).replace("nginx version: ",
                                                      ""))
        out.append(" ".join(first(["haproxy", "-v"]).split()[:3]))
    out.append(first(["wrk", "-v"]).split(" [")[0])
    return ", ".join(out)


def mode_servers(b, binary, label, key, has_modes, n, defer=False):
    """prefork and threads columns of one tinyweb build (and with
    --no-defer-accept on row b, if defer), or n/a columns when it has no
    --mode."""
    if has_modes:
        both = [Tinyweb(key + "_prefork", label + " prefork", b, "prefork",
                        n, binary),
                Tinyweb(key + "_threads", label + " threads", b, "threads",
                        n, binary)]
        return both if not defer else both + [
                TinywebNoDefer(key + "_prefork_nodefer",
                               label + " prefork --no-defer-accept", b,
                               "prefork", n, binary),
                TinywebNoDefer(key + "_threads_nodefer",
                               label + " threads --no-defer-accept", b,
                               "threads", n, binary)]
    b.note("%s serve has no --mode: its prefork and threads columns are "
           "n/a" % label)
    return [Skip(key + "_skip_prefork", label + " prefork", b),
            Skip(key + "_skip_threads", label + " threads", b)]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", required=True)
    ap.add_argument("--tinyweb", required=True)
    ap.add_argument("--tinyweb-b", default=None,
                    help="a second tinyweb build, measured beside the first")
    ap.add_argument("--label", default="tinyweb",
                    help="column label of --tinyweb")
    ap.add_argument("--label-b", default="tinyweb-b",
                    help="column label of --tinyweb-b")
    ap.add_argument("--responder", required=True)
    ap.add_argument("--hammer", default=None,
                    help="build/bench/hammer, the client of rows h and i")
    ap.add_argument("--blocking", default=None,
                    help="build/bench/blocking, for the designs table")
    ap.add_argument("--out", required=True)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--only", default="one,every,designs,proxy,tls,compress",
                    help="tables to run: one, every, designs, proxy, tls, "
                    "compress (comma list)")
    ap.add_argument("--rows", default="abcdefghijpqtuvz",
                    help="rows to run, e.g. eg (for a quick look at two)")
    ap.add_argument("--runs", type=int, default=VERDICT_RUNS,
                    help="interleaved runs per row (default %d; a verdict "
                    "needs %d)" % (VERDICT_RUNS, VERDICT_RUNS))
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    if a.tinyweb_b and a.label == a.label_b:
        ap.error("--label and --label-b must differ")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    b = Bench(a)
    if not (b.hammer and os.access(b.hammer, os.X_OK)) and \
            set("hi") & set(b.rows):
        b.note("no hammer binary (--hammer, build/bench/hammer): rows h "
               "and i left out")
        b.rows = "".join(r for r in b.rows if r not in "hi")
    if hard < b.idle + 1000:
        b.note("the client's RLIMIT_NOFILE hard limit is %d: row d opens "
               "only %d connections" % (hard, hard - 1000))
        b.idle = hard - 1000

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    t_start = time.monotonic()
    # 2 s runs (3 s in the one-worker table before verdicts): five
    # interleaved runs of 2 s pin a ratio down better than three of 3 s,
    # and keep the full run near the time three took.
    secs1 = 1.0 if a.quick else 2.0
    secsN = 1.0 if a.quick else 2.0
    out = []
    tw, twb = b.label, b.label_b
    try:
        log("generating the root in %s" % b.root)
        make_root(b.root, b.ncold)
        for i in range(b.ncold):
            evict(cold_path(b.root, i))
        frac = resident_fraction([cold_path(b.root, i)
                                  for i in range(b.ncold)])
        if frac is not None and frac > 0.05:
            b.note("posix_fadvise(DONTNEED) left %.0f%% of the cold files "
                   "cached: row g is not cold" % (frac * 100))
        if b.ncpu < 2:
            b.note("one CPU: server and wrk are not pinned apart")
        mode = "quick" if a.quick else "full"
        header = ("## tinyweb benchmark (%s run, %s)\n\n"
                  "%d CPUs, %s. %s; %d interleaved run%s per row, median; "
                  "wrk and hammer %gs per run (one worker), %gs (every "
                  "core, designs).\n" %
                  (mode, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                   b.ncpu, os.uname().release, versions(b, a.only), b.runs,
                   "" if b.runs == 1 else "s", secs1, secsN))
        out.append(header)

        if "one" in a.only:
            twd = tw + " --no-defer-accept"
            servers = [Tinyweb("tinyweb", tw, b),
                       TinywebNoDefer("tinyweb_nodefer", twd, b)]
            ratios = [(tw, "nginx"), (tw, "h2o"), (tw, "lighttpd"),
                      (twd, "nginx"), (twd, "h2o"), (twd, "lighttpd")]
            if b.tinyweb_b:
                servers.append(Tinyweb("tinyweb_b", twb, b,
                                       binary=b.tinyweb_b))
                ratios.append((twb, tw))
            servers += [Nginx("nginx", "nginx", b),
                        H2o("h2o", "h2o", b),
                        Lighttpd("lighttpd", "lighttpd", b),
                        Responder("responder", "responder", b)]
            res = b.configuration("one worker", servers, secs1, True)
            cpus = sorted(b.all_cpus)
            pin = ("server on CPU %d, clients on CPU %d" % (cpus[0], cpus[1])
                   if b.ncpu >= 2 else "no pinning")
            out.append(b.table(
                "One worker each (tinyweb epoll, nginx worker_processes 1, "
                "h2o num-threads 1, lighttpd server.max-worker 0; %s)" %
                pin, servers, res, ratios, "responder"))
        if "every" in a.only:
            n = b.ncpu
            servers = mode_servers(b, b.tinyweb, tw, "tw", b.has_modes, n,
                                   defer=True)
            ratios = [(tw + " " + m, p) for m in
                      ("prefork", "threads", "prefork --no-defer-accept",
                       "threads --no-defer-accept")
                      for p in ("nginx", "h2o", "lighttpd")]
            if b.tinyweb_b:
                servers += mode_servers(b, b.tinyweb_b, twb, "twb",
                                        b.has_modes_b, n)
                ratios += [(twb + " prefork", tw + " prefork"),
                           (twb + " threads", tw + " threads")]
            servers += [Nginx("nginx_n", "nginx", b, n),
                        H2o("h2o_n", "h2o", b, n),
                        Lighttpd("lighttpd_n", "lighttpd", b, n),
                        Responder("responder_n", "responder", b, n)]
            real = [s for s in servers if not isinstance(s, Skip)]
            res = b.configuration("every core", real, secsN, False)
            out.append(b.table(
                "Every core (%d workers or threads each; nothing pinned)" % n,
                servers, res, ratios, None))
        if "designs" in a.only:
            out.append(designs_table(b, secsN))
        if "proxy" in a.only:
            out.append(proxy_table(b, secs1))
        if "tls" in a.only:
            out.append(tls_table(b, secs1))
        if "compress" in a.only:
            out.append(compress_table(b, secs1))
    except KeyboardInterrupt:
        b.note("interrupted")
        b.procs.stop_all()
        raise
    finally:
        b.procs.stop_all()

    notes = ["A ratio column x/y divides x's figure by y's: above 1.00x is "
             "better for x where the better column says higher, below "
             "1.00x where it says lower. Runs are interleaved (run i "
             "measures every server in turn, the order rotated each run) "
             "and a cell is the median of the per-run ratios x_i/y_i, "
             "(min–max) of those ratios, and a verdict: \"ahead\" or "
             "\"behind\" when every pair agrees (the whole range on one "
             "side of 1.00), \"within noise\" when the range reaches "
             "1.00, \"n/a\" with fewer than %d pairs." % VERDICT_RUNS]
    if "one" in a.only or "every" in a.only:
        notes.append("The responder (a bare epoll loop answering a fixed "
                     "1 KiB response) takes part in rows a, b, h and i "
                     "only: it "
                     "is the ceiling of this machine.")
    if ("one" in a.only or "every" in a.only) and set("hi") & set(b.rows):
        notes.append("Rows h and i are rows a and b with bench/hammer.c "
                     "as the client instead of wrk (one thread, one epoll "
                     "loop, lighter per request than wrk, whose own core "
                     "is the limit in row a). hammer's p99 is read once "
                     "per turn of its loop, so its resolution is one loop "
                     "turn: it is not comparable with wrk's p99. A "
                     "hammer run that exits non-zero, prints an error "
                     "or counts one makes its cell \"failed\".")
    if b.tinyweb_b:
        notes.append("%s is %s; %s is %s." % (tw, b.tinyweb, twb,
                                              b.tinyweb_b))
    if "designs" in a.only:
        notes.append("Designs table: a fresh connection's request is sent "
                     "a quarter into each row a run; \"timeout\" means no "
                     "answer within half the run, and then the p99 is "
                     "\"timeout\" too (wrk's p99 counts only answered "
                     "requests). Row d there holds %d "
                     "connections; \"timeout\" in its fresh rows means "
                     "%d requests in a row got no answer within %g s." %
                     (min(b.idle, DESIGN_IDLE), FRESH_GIVE_UP,
                      FRESH_TIMEOUT))
    if "proxy" in a.only:
        notes.append("Proxy table: every proxy forwards to the same "
                     "upstream (tinyweb serve on the root, started once "
                     "for the table); \"upstream direct\" is wrk "
                     "straight at it, the ceiling no proxy can pass.")
    if "tls" in a.only:
        notes.append("TLS table: rows u and v are wrk over https. Row t "
                     "is %d openssl s_time -new -tls1_3 clients at once, "
                     "each a full handshake and one HTTP/1.0 GET per "
                     "connection (wrk would resume: it keeps the session "
                     "of a closed connection for the next, half of its "
                     "Connection: close handshakes were resumptions on "
                     "tinyweb's status page); the client side does the "
                     "heavier half of a handshake (it verifies the "
                     "signature), so with one client CPU its rate is "
                     "mostly the client's, and the server CPU time per "
                     "connection is what compares the servers."
                     % HANDSHAKE_CLIENTS)
    if "compress" in a.only:
        notes.append("Compression table: wrk asks for %s (%d bytes of "
                     "JavaScript made up from a fixed seed) with "
                     "Accept-Encoding: gzip; each server's gzip body was "
                     "checked to decode to the file first, and its size "
                     "is the bytes row. tinyweb compresses the file once "
                     "and sends the kept variant; nginx and h2o compress "
                     "it for every response." % (JS, JS_BYTES))
    if b.quick:
        notes.append("--quick: 1 run per row (no verdicts), 1 s wrk runs, "
                     "%d cold files; figures are indicative only." %
                     b.ncold)
    elif b.runs < VERDICT_RUNS:
        notes.append("--runs %d: fewer than %d runs, no verdicts." %
                     (b.runs, VERDICT_RUNS))
    notes += b.notes
    notes.append("Total time: %.0f s." % (time.monotonic() - t_start))
    out.append("Notes:\n\n" + "".join("- %s\n" % n for n in notes))
    out.append(settings_section(b))
    text = "\n".join(out)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    log("written to %s" % a.out)


def settings_section(b):
    """What each server was started with, table by table: its command
    line and the configuration file the bench wrote for it (ports and
    paths are this run's)."""
    lines = ["### Settings", "",
             "Each server's command line and configuration file as the "
             "bench started it (the first start in each table; row d "
             "restarts it on a new port).", ""]
    for (title, label), text in b.settings.items():
        lines += ["#### %s: %s" % (title, label), "", "```",
                  text.rstrip("\n"), "```", ""]
    return "\n".join(lines)


class Skip(Server):
    """A column with no server behind it (tinyweb without --mode)."""
    rows = set()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
