# SPDX-License-Identifier: MIT
"""make check-deb: the Debian package in a fresh Debian 12 chroot.

The .deb that `make deb` left in build/deb is installed with apt-get in a
chroot made by debootstrap (the minbase tree is kept in
build/deb/bookworm-minbase.tar, so only the first run downloads it);
tinyweb runs there as the user tinyweb with the shipped configuration
and serves a file to curl outside; logrotate rotates its logs and the
server writes on in the new file; `apt-get purge` leaves nothing behind
but the site's file and the system user. Not part of make check: it
needs root and the network (Debian's archive) and takes a minute or two.
Skips with a message where it cannot run.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import harness  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "build", "deb")
BASE = os.path.join(OUT, "bookworm-minbase.tar")
ROOT = os.path.join(OUT, "chroot")
MIRROR = "http://deb.debian.org/debian"

# What apt, dpkg and logrotate keep of their own, and what the chroot's
# kernel file systems hold: not the package's files.
STATE = ("/proc", "/sys", "/dev", "/tmp", "/var/lib/dpkg", "/var/lib/apt",
         "/var/cache", "/var/log/apt", "/var/log/dpkg.log",
         "/var/log/alternatives.log", "/var/lib/logrotate",
         "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
         "/etc/subuid-", "/etc/subgid-", "/etc/ld.so.cache")


def version():
    with open(os.path.join(TOP, "config.mk")) as f:
        return re.search(r"^VERSION = (\S+)", f.read(), re.M).group(1)


def sh(*args, timeout=600, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (
            " ".join(args), r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return r


def inside(*args, **kw):
    env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
    return sh("chroot", ROOT, "env", "-i", env, "LC_ALL=C",
              "DEBIAN_FRONTEND=noninteractive", *args, **kw)


def host(path):
    return os.path.join(ROOT, path.lstrip("/"))


def snapshot():
    """Every path in the chroot, but the state of apt, dpkg, logrotate."""
    paths = set()
    for d, dirs, files in os.walk(ROOT):
        rel = "/" + os.path.relpath(d, ROOT).lstrip(".")
        dirs[:] = [x for x in dirs
                   if not (rel.rstrip("/") + "/" + x).startswith(STATE)]
        for name in dirs + files:
            p = rel.rstrip("/") + "/" + name
            if not p.startswith(STATE):
                paths.add(p)
    return paths


def network():
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=5).close()
        return True
    except OSError:
        return False


def why_not():
    if os.geteuid() != 0:
        return "needs root (chroot, debootstrap, dpkg)"
    if not glob.glob(os.path.join(OUT, "tinyweb_%s_*.deb" % version())):
        return "no build/deb/tinyweb_%s_*.deb: run make deb" % version()
    if not os.path.exists(BASE) and shutil.which("debootstrap") is None:
        return "no debootstrap (scripts/deps.sh --deb) and no cached chroot"
    if not network():
        return "no network: deb.debian.org cannot be reached"
    return None


def make_base():
    """debootstrap once; later runs unpack the tarball."""
    tmp = BASE + ".dir"
    shutil.rmtree(tmp, ignore_errors=True)
    sh("debootstrap", "--variant=minbase", "bookworm", tmp, MIRROR,
       timeout=1200)
    sh("tar", "-C", tmp, "-cf", BASE + ".part", ".")
    os.rename(BASE + ".part", BASE)
    shutil.rmtree(tmp)


def umount_proc():
    subprocess.run(["umount", "-l", host("/proc")], capture_output=True)


class DebianChroot(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        reason = why_not()
        if reason:
            raise unittest.SkipTest(reason)
        if not os.path.exists(BASE):
            make_base()
        if os.path.ismount(host("/proc")):
            umount_proc()
        shutil.rmtree(ROOT, ignore_errors=True)
        os.makedirs(ROOT)
        sh("tar", "-C", ROOT, "-xf", BASE)
        sh("mount", "-t", "proc", "proc", host("/proc"))
        try:
            cls.prepare()
        except BaseException:
            # unittest skips tearDownClass when setUpClass fails: the
            # chroot's /proc must not stay mounted under build/.
            cls.tearDownClass()
            raise

    @classmethod
    def prepare(cls):
        shutil.copy("/etc/resolv.conf", host("/etc/resolv.conf"))
        cls.deb = sorted(glob.glob(os.path.join(
            OUT, "tinyweb_%s_*.deb" % version())))[-1]
        shutil.copy(cls.deb, host("/tmp/tinyweb.deb"))
        inside("apt-get", "update", "-q")
        # What the package pulls in is installed first, so that the
        # snapshot to compare with after the purge holds it.
        sim = inside("apt-get", "install", "-s", "/tmp/tinyweb.deb").stdout
        deps = [m for m in re.findall(r"^Inst (\S+)", sim, re.M)
                if m != "tinyweb"]
        if deps:
            inside("apt-get", "install", "-y", "-q", *deps)
        cls.before = snapshot()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None and cls.server.poll() is None:
            cls.server.terminate()  # the master takes its workers along
            try:
                cls.server.wait(10)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait()
        umount_proc()
        shutil.rmtree(ROOT, ignore_errors=True)

    def test_1_install(self):
        inside("apt-get", "install", "-y", "-q", "/tmp/tinyweb.deb")
        pw = inside("getent", "passwd", "tinyweb").stdout.split(":")
        self.assertEqual(pw[5:], ["/nonexistent", "/usr/sbin/nologin\n"])
        st = os.stat(host("/var/log/tinyweb"))
        self.assertEqual(st.st_uid, int(pw[2]))
        self.assertEqual(st.st_mode & 0o777, 0o750)
        files = inside("dpkg", "-L", "tinyweb").stdout.split()
        for f in ("/usr/bin/tinyweb", "/etc/tinyweb/tinyweb.conf",
                  "/etc/logrotate.d/tinyweb",
                  "/usr/share/man/man1/tinyweb.1.gz",
                  "/usr/share/man/man5/tinyweb.conf.5.gz",
                  "/usr/share/bash-completion/completions/tinyweb",
                  "/usr/share/zsh/vendor-completions/_tinyweb",
                  "/usr/share/fish/vendor_completions.d/tinyweb.fish",
                  "/usr/lib/sysusers.d/tinyweb.conf"):
            self.assertIn(f, files)
        if os.path.exists(os.path.join(TOP, "dist", "systemd",
                                       "tinyweb.socket")):
            for f in ("/lib/systemd/system/tinyweb.service",
                      "/lib/systemd/system/tinyweb.socket"):
                self.assertIn(f, files)
            # Enabled (deb-systemd-helper's link), the socket unit not.
            wants = host("/etc/systemd/system/multi-user.target.wants/")
            self.assertTrue(os.path.islink(wants + "tinyweb.service"))
            self.assertFalse(os.path.exists(
                host("/etc/systemd/system/sockets.target.wants/"
                     "tinyweb.socket")))
        conff = inside("dpkg-query", "-W", "-f", "${Conffiles}",
                       "tinyweb").stdout
        self.assertIn("/etc/tinyweb/tinyweb.conf", conff)

    def test_2_version(self):
        r = inside("tinyweb", "--version")
        self.assertEqual(r.stdout.strip(), "tinyweb " + version())
        inside("tinyweb", "check-config", "-c", "/etc/tinyweb/tinyweb.conf")

    def test_3_serve_and_rotate(self):
        body = "served from the chroot %d\n" % os.getpid()
        with open(host("/var/www/html/hello.txt"), "w") as f:
            f.write(body)
        # What systemd's RuntimeDirectory=tinyweb does before ExecStart.
        inside("install", "-d", "-o", "tinyweb", "-g", "tinyweb",
               "/run/tinyweb")
        port = harness.free_port()
        err = open(os.path.join(OUT, "chroot-server.err"), "w")
        cls = type(self)
        cls.server = subprocess.Popen(
            ["chroot", "--userspec=tinyweb:tinyweb", ROOT, "/usr/bin/tinyweb",
             "serve", "-c", "/etc/tinyweb/tinyweb.conf", "-b", "127.0.0.1",
             "-p", str(port)], stdout=err, stderr=err)
        pidfile = host("/run/tinyweb/tinyweb.pid")
        self.assertTrue(harness.wait_until(
            lambda: harness.read_pid(pidfile) == cls.server.pid, 10),
            open(err.name).read())

        def curl(path):
            return sh("curl", "-sS", "--max-time", "5",
                      "http://127.0.0.1:%d%s" % (port, path)).stdout

        self.assertEqual(curl("/hello.txt"), body)
        log = host("/var/log/tinyweb/access.log")
        self.assertTrue(harness.wait_until(
            lambda: "GET /hello.txt " in open(log).read(), 5))
        # The snippet's postrotate makes the server reopen its logs.
        inside("logrotate", "-f", "/etc/logrotate.d/tinyweb")
        self.assertIn("GET /hello.txt ",
                      open(log + ".1").read())
        curl("/hello.txt?after-rotation")
        self.assertTrue(harness.wait_until(
            lambda: os.path.exists(log) and
            "after-rotation" in open(log).read(), 5),
            "the server did not write to the new access.log")
        self.assertNotIn("after-rotation", open(log + ".1").read())
        cls.server.send_signal(signal.SIGTERM)
        self.assertEqual(cls.server.wait(10), 0)
        self.assertFalse(os.path.exists(pidfile))
        os.rmdir(host("/run/tinyweb"))  # systemd's part again

    def test_4_purge(self):
        inside("apt-get", "purge", "-y", "-q", "tinyweb")
        after = snapshot()
        # The site's file stays (it is not the package's); so does the
        # system user, in /etc/passwd and /etc/group, which were there.
        site = {"/var/www", "/var/www/html", "/var/www/html/hello.txt"}
        self.assertEqual(sorted(after - self.before - site), [])
        self.assertEqual(sorted(self.before - after), [])
        self.assertIn("/var/www/html/hello.txt", after)
        self.assertEqual([p for p in after if "tinyweb" in p], [])
        inside("getent", "passwd", "tinyweb")


if __name__ == "__main__":
    unittest.main()
