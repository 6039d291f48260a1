# SPDX-License-Identifier: MIT
"""The listing in a real browser: headless Chromium (Debian's chromium,
which scripts/deps.sh installs) driven over the DevTools protocol on a
pipe (--remote-debugging-pipe: NUL-separated JSON on descriptors 3 and
4, so no third-party client is needed). At 1200 and 390 CSS pixels wide,
light and dark: no horizontal overflow, the tricky names shown as they
are on disk, every link the browser resolves fetches 200 and names the
right file. Screenshots go to build/screenshots/ for a person to look at.

Skips, saying why, where chromium is not installed or cannot start (no
user namespaces, say). As root it runs with --no-sandbox, which Chromium
requires there."""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import unittest
from urllib.parse import unquote, urlsplit

from harness import REPO, ServerCase, get

NAMES = {
    "with space.txt": b"space\n",
    "hash#1.txt": b"hash\n",
    "q?.txt": b"question\n",
    "pct%41.txt": b"percent\n",
    "quote\"s'.txt": b"quotes\n",
    "<b>&amp;.txt": b"markup\n",
    "你好世界.txt": b"chinese\n",
    "emoji😀🎉.txt": b"emoji\n",
    # A long name with no place to break: it must wrap, not widen.
    "a-very-long-file-name-without-any-spaces-" + "x" * 120 + ".tar.gz":
        b"long\n",
    "很长的中文文件名" * 8 + ".txt": b"long chinese\n",
}
DIR_NAME = "sub dir #1 😀"
SHOTS = os.path.join(REPO, "build", "screenshots")
WIDTHS = (1200, 390)
TIMEOUT = 30.0

# What the page says of itself, from inside the browser.
PROBE = """JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  bodyScrollWidth: document.body.scrollWidth,
  links: [...document.querySelectorAll('a')].map(
    a => ({href: a.href, text: a.textContent})),
  cells: [...document.querySelectorAll('td:first-child')].map(
    td => td.textContent),
  background: getComputedStyle(document.body).backgroundColor,
  scripts: document.scripts.length,
  sheets: [...document.styleSheets].filter(s => s.href).length
})"""


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Browser:
    """One headless Chromium, spoken to over --remote-debugging-pipe."""

    def __init__(self, path, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # The protocol's pipe is descriptors 3 (in) and 4 (out).
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [path, "--headless", "--remote-debugging-pipe",
                "--user-data-dir=" + profile, "--no-first-run",
                "--no-default-browser-check", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--hide-scrollbars", "--mute-audio", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        # close_fds would close 3 and 4 after preexec_fn made them; the
        # descriptors Python opened are close-on-exec anyway.
        # Its chatter goes to a file: a pipe nobody reads would fill and
        # stop it.
        self.log = open(os.path.join(profile, "stderr.log"), "w+b")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.log,
                                     preexec_fn=fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            os.close(self.to_child)
        except OSError:
            pass
        try:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.from_child)
        self.log.close()

    def stderr_tail(self):
        try:
            self.log.seek(0)
            return self.log.read().decode("utf-8", "replace")[-2000:]
        except (OSError, ValueError):
            return ""

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            r, _, _ = select.select([self.from_child], [], [], left)
            if not r:
                continue
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=TIMEOUT):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method,
               "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and \
                        m.get("sessionId") == session:
                    del self.events[i]
                    return m
            self.events.append(self._read_message(deadline))


class TestListingInBrowser(ServerCase):
    tree = {"tricky": dict(NAMES, **{DIR_NAME: {"inner.txt": b"inner\n"}})}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.browser = None
        cls.skip_reason = None
        path = chromium_path()
        if path is None:
            cls.skip_reason = ("chromium is not installed (scripts/deps.sh "
                               "installs it)")
            return
        cls.profile = tempfile.mkdtemp(prefix="tw_chromium.")
        try:
            cls.browser = Browser(path, cls.profile)
            cls.browser.call("Browser.getVersion")
        except Exception as e:
            tail = cls.browser.stderr_tail() if cls.browser else ""
            if cls.browser:
                cls.browser.close()
            cls.browser = None
            cls.skip_reason = "chromium cannot run here: %s %s" % (
                e, tail.strip().splitlines()[-1:] if tail else "")

    @classmethod
    def tearDownClass(cls):
        if cls.browser is not None:
            cls.browser.close()
        if getattr(cls, "profile", None):
            shutil.rmtree(cls.profile, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self.skip_reason:
            self.skipTest(self.skip_reason)

    def open_page(self, url, width, dark=False):
        """Load url at width CSS pixels; returns the probe's answer and
        the PNG of the whole page."""
        b = self.browser
        target = b.call("Target.createTarget", {"url": "about:blank"})
        tid = target["targetId"]
        sid = b.call("Target.attachToTarget",
                     {"targetId": tid, "flatten": True})["sessionId"]
        try:
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": width, "height": 800, "deviceScaleFactor": 1,
                    "mobile": width < 600}, sid)
            b.call("Emulation.setEmulatedMedia",
                   {"features": [{"name": "prefers-color-scheme",
                                  "value": "dark" if dark else "light"}]},
                   sid)
            b.call("Page.enable", {}, sid)
            nav = b.call("Page.navigate", {"url": url}, sid)
            self.assertNotIn("errorText", nav, nav)
            b.wait_event("Page.loadEventFired", sid)
            r = b.call("Runtime.evaluate",
                       {"expression": PROBE, "returnByValue": True}, sid)
            probe = json.loads(r["result"]["value"])
            shot = b.call("Page.captureScreenshot",
                          {"format": "png", "captureBeyondViewport": True},
                          sid)
            return probe, base64.b64decode(shot["data"])
        finally:
            b.call("Target.closeTarget", {"targetId": tid})

    def save(self, name, png):
        os.makedirs(SHOTS, exist_ok=True)
        with open(os.path.join(SHOTS, name), "wb") as f:
            f.write(png)

    def check_links(self, probe):
        """Every link as the browser resolved it fetches 200; an entry's
        link names the file it shows."""
        base = "http://127.0.0.1:%d" % self.port
        shown = {}
        for link in probe["links"]:
            u = urlsplit(link["href"])
            self.assertEqual("%s://%s" % (u.scheme, u.netloc), base, link)
            target = u.path + ("?" + u.query if u.query else "")
            with self.subTest(href=link["href"]):
                r = get(self.port, target)
                self.assertEqual(r.status, 200, r.describe())
            shown[link["text"]] = (unquote(u.path), target)
        for name, body in NAMES.items():
            with self.subTest(name=name):
                self.assertIn(name, shown)
                path, target = shown[name]
                self.assertEqual(path, "/tricky/" + name)
                self.assertEqual(get(self.port, target).body, body)
        path, _ = shown[DIR_NAME + "/"]
        self.assertEqual(path, "/tricky/" + DIR_NAME + "/")

    def test_fits_and_links_at_each_width(self):
        url = "http://127.0.0.1:%d/tricky/" % self.port
        for width in WIDTHS:
            for dark in (False, True):
                with self.subTest(width=width, dark=dark):
                    probe, png = self.open_page(url, width, dark)
                    self.save("listing-%d%s.png" % (
                        width, "-dark" if dark else ""), png)
                    self.assertTrue(png.startswith(b"\x89PNG"))
                    widths = {k: probe[k] for k in ("scrollWidth",
                              "bodyScrollWidth", "clientWidth")}
                    self.assertLessEqual(probe["scrollWidth"],
                                         probe["clientWidth"], widths)
                    self.assertLessEqual(probe["bodyScrollWidth"],
                                         probe["clientWidth"], widths)
                    self.assertEqual(probe["clientWidth"], width)
                    self.assertEqual(probe["scripts"], 0)
                    self.assertEqual(probe["sheets"], 0)
                    # Light and dark by prefers-color-scheme.
                    bright = probe["background"] == "rgb(255, 255, 255)"
                    self.assertEqual(bright, not dark, probe["background"])
                    cells = set(probe["cells"])
                    for name in NAMES:
                        self.assertIn(name, cells)
                    self.check_links(probe)

    def test_sorted_views_fit_too(self):
        for q in ("?sort=size", "?sort=date&order=asc",
                  "?sort=name&order=desc"):
            with self.subTest(query=q):
                url = "http://127.0.0.1:%d/tricky/%s" % (self.port, q)
                probe, _ = self.open_page(url, 390)
                self.assertLessEqual(probe["scrollWidth"],
                                     probe["clientWidth"],
                                     (probe["scrollWidth"],
                                      probe["clientWidth"]))
                self.check_links(probe)


if __name__ == "__main__":
    unittest.main()
