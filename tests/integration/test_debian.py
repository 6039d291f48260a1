# SPDX-License-Identifier: MIT
"""debian/ agrees with the source tree (fast; make check-deb builds and
installs the package for real, in a chroot).

- `make install` with debian/rules' INSTALL_VARS installs exactly the
  files debian/tinyweb.install takes, at Debian's paths.
- The conffile passes check-config (its /usr/share/tinyweb paths taken
  from that install) and names the paths the maintainer scripts and the
  logrotate snippet use.
- The logrotate snippet's postrotate command, run against a live server,
  makes it write to a new access log.
- The systemd units, where dist/systemd has them, run the conffile as
  the sysusers user, with its pidfile and log directories, and the socket
  unit binds its listen line.
- debian/changelog's version is config.mk's.
"""

import os
import re
import shutil
import subprocess
import unittest

from harness import BIN, REPO, Server, get, run, unique_tmpdir, wait_until

DEB = os.path.join(REPO, "debian")
UNITS_SRC = os.path.join(REPO, "dist", "systemd")
# debian/rules installs the units when the source has them.
UNITS = ({"lib/systemd/system/tinyweb.service",
          "lib/systemd/system/tinyweb.socket"}
         if os.path.exists(os.path.join(UNITS_SRC, "tinyweb.socket"))
         else set())


def read(name):
    with open(os.path.join(DEB, name)) as f:
        return f.read()


def rules_var(name):
    """A variable of debian/rules, its continuation lines joined."""
    m = re.search(r"^%s = ((?:.*\\\n)*.*)$" % name, read("rules"), re.M)
    return m.group(1).replace("\\\n", " ").split()


def conf_value(text, directive):
    m = re.search(r"^%s (.*);$" % directive, text, re.M)
    return m.group(1).split() if m else None


def tree(top):
    out = set()
    for d, _, files in os.walk(top):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), top))
    return out


def postrotate(text):
    return re.search(r"postrotate\n(.*?)\n\s*endscript", text,
                     re.S).group(1).strip()


class DebianFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir("tinyweb-deb-")
        cls.dest = os.path.join(cls.tmp, "dest")
        r = subprocess.run(["make", "-s", "-C", REPO, "install",
                            "DESTDIR=" + cls.dest] + rules_var("INSTALL_VARS"),
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise AssertionError("make install: " + r.stdout + r.stderr)
        cls.conf = read("tinyweb.conf")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_install_list_is_what_make_install_installs(self):
        listed = set()
        for line in read("tinyweb.install").splitlines():
            words = line.split()
            if words and not words[0].startswith("debian/"):
                listed.add(words[0])
        self.assertEqual(sorted(tree(self.dest)), sorted(listed | UNITS))
        # Debian's places, not the source tree's defaults.
        for path in ("usr/bin/tinyweb",
                     "usr/share/man/man1/tinyweb.1",
                     "usr/share/man/man5/tinyweb.conf.5",
                     "usr/share/bash-completion/completions/tinyweb",
                     "usr/share/zsh/vendor-completions/_tinyweb",
                     "usr/share/fish/vendor_completions.d/tinyweb.fish"):
            self.assertIn(path, listed)

    def test_packaged_files_exist(self):
        for line in read("tinyweb.install").splitlines():
            words = line.split()
            if words and words[0].startswith("debian/"):
                self.assertTrue(os.path.exists(os.path.join(REPO, words[0])),
                                words[0])

    def test_conffile_passes_check_config(self):
        text = self.conf.replace(
            "/usr/share/tinyweb/",
            os.path.join(self.dest, "usr/share/tinyweb") + "/")
        self.assertNotEqual(text, self.conf)
        path = os.path.join(self.tmp, "tinyweb.conf")
        with open(path, "w") as f:
            f.write(text)
        r = run([BIN, "check-config", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("listen 0.0.0.0:80;", r.stdout)
        self.assertIn('root "/var/www/html";', r.stdout)
        self.assertIn("daemon off;", r.stdout)  # systemd's Type=notify

    def test_conffile_paths_are_the_scripts_paths(self):
        postinst, postrm = read("tinyweb.postinst"), read("tinyweb.postrm")
        logrotate = read("tinyweb.logrotate")
        root = conf_value(self.conf, "root")[0]
        self.assertIn("mkdir -p %s\n" % root, postinst)
        self.assertIn("rmdir --ignore-fail-on-non-empty %s " % root, postrm)
        for d in ("access_log", "error_log"):
            log = conf_value(self.conf, d)[0]
            logdir = os.path.dirname(log)
            self.assertIn("%s/*.log {" % logdir, logrotate)
            self.assertIn("-m 0750 %s\n" % logdir, postinst)
            self.assertIn("rm -rf %s\n" % logdir, postrm)
        pidfile = conf_value(self.conf, "pidfile")[0]
        self.assertIn("--pidfile %s;" % pidfile, postrotate(logrotate))
        user = read("tinyweb.sysusers").split("\nu ")[1].split()[0]
        self.assertIn("create 0640 %s adm" % user, logrotate)
        self.assertIn("-o %s -g adm" % user, postinst)

    def test_logrotate_command_reopens_the_log(self):
        cmd = postrotate(read("tinyweb.logrotate"))
        pidfile = conf_value(self.conf, "pidfile")[0]
        site = os.path.join(self.tmp, "site")
        os.makedirs(site, exist_ok=True)
        with open(os.path.join(site, "a.txt"), "w") as f:
            f.write("a\n")
        mine = os.path.join(self.tmp, "t.pid")
        log = os.path.join(self.tmp, "access.log")
        with Server(site, "--pidfile", mine, "--access-log", log) as s:
            self.assertEqual(get(s.port, "/a.txt?before").status, 200)
            self.assertTrue(wait_until(
                lambda: "before" in open(log).read(), 5))
            os.rename(log, log + ".1")
            # /usr/bin/tinyweb is the binary under test here.
            sh = cmd.replace(pidfile, mine).replace("/usr/bin/tinyweb", BIN)
            r = subprocess.run(["sh", "-ec", sh], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(get(s.port, "/a.txt?after").status, 200)
            self.assertTrue(wait_until(
                lambda: os.path.exists(log) and "after" in open(log).read(),
                5), "no new access.log after the postrotate command")
        # Without a running server (no pidfile) it is no error for logrotate.
        r = subprocess.run(["sh", "-ec", sh], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def unit(self, name):
        if not UNITS:
            self.skipTest("no systemd units in dist/systemd")
        with open(os.path.join(self.dest, "lib/systemd/system", name)) as f:
            return dict(line.split("=", 1) for line in f.read().splitlines()
                        if "=" in line and not line.startswith("#"))

    def test_service_unit_runs_the_conffile(self):
        u = self.unit("tinyweb.service")
        user = read("tinyweb.sysusers").split("\nu ")[1].split()[0]
        self.assertEqual(u["User"], user)
        self.assertEqual(u["ExecStart"],
                         "/usr/bin/tinyweb serve -c /etc/tinyweb/tinyweb.conf")
        pidfile = conf_value(self.conf, "pidfile")[0]
        self.assertEqual(os.path.dirname(pidfile),
                         "/run/" + u["RuntimeDirectory"])
        log = conf_value(self.conf, "access_log")[0]
        self.assertEqual(os.path.dirname(log), "/var/log/" + u["LogsDirectory"])

    def test_socket_unit_matches_a_listen_line(self):
        u = self.unit("tinyweb.socket")
        self.assertEqual(conf_value(self.conf, "listen"), [u["ListenStream"]])

    def test_changelog_version_is_the_source_version(self):
        with open(os.path.join(REPO, "config.mk")) as f:
            version = re.search(r"^VERSION = (\S+)", f.read(), re.M).group(1)
        first = read("changelog").splitlines()[0]
        self.assertEqual(first.split()[:2], ["tinyweb", "(%s)" % version])
        self.assertEqual(read("source/format").strip(), "3.0 (native)")
        self.assertIn("debhelper-compat (= 13)", read("control"))


if __name__ == "__main__":
    unittest.main()
