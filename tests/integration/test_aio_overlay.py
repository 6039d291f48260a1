# SPDX-License-Identifier: MIT
"""--aio threads on an overlay mount (overlayfs: the root file system of
most container images). overlayfs refuses RWF_NOWAIT reads (EOPNOTSUPP,
seen on Linux 6.18), so conn cannot probe a window with one; it asks
mincore instead (net/resident), and a cold window still goes to the pool.

The module mounts `overlay` on TMP/m (lowerdir TMP/l, upperdir TMP/u,
workdir TMP/w) and serves TMP/m/root: the files of test_aio are written
to the lower directory before the mount, and the copies test_aio makes
when a page will not leave memory land in the upper one. Then test_aio's
checks run again on it, by subclassing its classes (their helpers read
test_aio's module state, which setUpModule points at the mount): bodies
byte for byte, the aio counters growing for cold files and not for warm
ones or HEAD, keep-alive, pipelining, 16 cold clients at once, clients
vanishing mid-read, --aio off, the prefork and threads modes, a graceful
stop. test_aio's tests of what does not depend on the file system (pool
sizes, configuration) are not repeated.

And, here only: mincore starts no disk read, unlike the RWF_NOWAIT probe
(whose read can bring a window in before the probe looks, which is why
test_aio can only bound its counts), so every cold window costs exactly
one pool read of exactly its bytes: those counts are asserted exactly,
for files in the lower and in the upper directory.

Needs root (mount); skipped, saying why, when not root or when the mount
fails (an unprivileged container, no overlayfs). The mount is undone in
tearDownModule. Assertions are on behaviour, never on timing.
"""

import errno
import os
import shutil
import subprocess
import unittest

from harness import start, unique_tmpdir

import test_aio
from test_aio import (CONCURRENT, FILES, KIB, MIB, STATUS, TINY, WINDOW,
                      aio_counters, cold)

_ov = {}


def _mount(lower, upper, work, merged):
    """None, or why the overlay could not be mounted."""
    opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, upper, work)
    try:
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts,
                            merged], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if r.returncode != 0:
        return (r.stderr or r.stdout).strip() or "exit %d" % r.returncode
    return None


def _umount(merged):
    r = subprocess.run(["umount", merged], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        # Busy (a straggling server): detach it now, gone when free.
        subprocess.run(["umount", "-l", merged], capture_output=True,
                       timeout=30)


def _nowait_refused(path):
    """True if a RWF_NOWAIT read of path fails with EOPNOTSUPP."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)
        return False
    except OSError as e:
        if e.errno == errno.EAGAIN:
            return False
        if e.errno in (errno.EOPNOTSUPP, errno.EINVAL):
            return True
        raise
    finally:
        os.close(fd)


def setUpModule():
    if os.geteuid() != 0:
        raise unittest.SkipTest("mounting an overlay needs root")
    tmp = unique_tmpdir("tinyweb-aio-overlay-")
    dirs = {d: os.path.join(tmp, d) for d in ("l", "u", "w", "m")}
    for d in dirs.values():
        os.makedirs(d)
    lower_root = os.path.join(dirs["l"], "root")
    os.makedirs(lower_root)
    data = {}
    sizes = dict(FILES)
    sizes.update((n, MIB) for n in CONCURRENT)
    sizes.update(TINY)
    for name, size in sizes.items():
        body = os.urandom(size)
        with open(os.path.join(lower_root, name), "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        data[name] = body
    why = _mount(dirs["l"], dirs["u"], dirs["w"], dirs["m"])
    if why is not None:
        shutil.rmtree(tmp, ignore_errors=True)
        raise unittest.SkipTest("cannot mount an overlay here: " + why)
    root = os.path.join(dirs["m"], "root")
    _ov.update(tmp=tmp, merged=dirs["m"],
               refused=_nowait_refused(os.path.join(root, "k100.bin")))
    # test_aio's helpers (cold(), the classes' servers) read this.
    test_aio._mod.clear()
    test_aio._mod.update(tmp=tmp, root=root, data=data, copies=0)


def tearDownModule():
    # Unmounted first: rmtree must not walk into the mount.
    _umount(_ov["merged"])
    shutil.rmtree(_ov["tmp"], ignore_errors=True)
    test_aio._mod.clear()


# ------------------------------------------------- test_aio, on overlay

class TestColdFilesOverlay(test_aio.TestColdFiles):
    """All of test_aio's cold-file checks, small files too: where
    RWF_NOWAIT is refused, http/static reads a small file on the loop
    only when mincore says its pages are in memory."""


class TestAioOffOverlay(test_aio.TestAioOff):
    pass


class TestModesOverlay(test_aio.TestModes):
    # Threads per loop do not depend on the file system.
    test_pool_size_per_loop = None


class TestGracefulStopOverlay(test_aio.TestGracefulStop):
    pass


# ------------------------------------------------ exact counts, overlay

class TestExactCounts(test_aio.AioCase):
    """Where RWF_NOWAIT is refused, every cold window is exactly one pool
    read of exactly the window's bytes."""

    @classmethod
    def setUpClass(cls):
        if not _ov["refused"]:
            raise unittest.SkipTest("this kernel's overlayfs takes "
                                    "RWF_NOWAIT: the mincore path is not "
                                    "taken, counts are only bounded "
                                    "(test_aio)")
        cls.server = start(test_aio._mod["root"], "--aio", "threads",
                           "--status", STATUS)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def cold_range(self, name, first, last):
        """GET bytes first-last of a cold name; the counters' deltas."""
        name = cold(name)
        data = self.body(name)
        r0, b0 = aio_counters(self.port)
        r = self.fetch(self.port, name,
                       headers=[("Range", "bytes=%d-%d" % (first, last))])
        self.assertEqual(r.status, 206, r.describe())
        self.assertTrue(r.body == data[first:last + 1],
                        "%s %d-%d: wrong bytes" % (name, first, last))
        r1, b1 = aio_counters(self.port)
        return r1 - r0, b1 - b0

    def test_one_window_files(self):
        for name in ("k100.bin", "t16k1.bin"):
            with self.subTest(file=name):
                self.assertEqual(self.cold_get(self.port, name),
                                 (1, len(self.body(name))))

    def test_one_window_ranges(self):
        size = len(self.body("m5.bin"))
        for first, last in ((0, WINDOW - 1), (3 * WINDOW, 4 * WINDOW - 1),
                            (size - WINDOW, size - 1), (size - 700, size - 1),
                            (1000000, 1000999)):
            with self.subTest(range=(first, last)):
                self.assertEqual(self.cold_range("m5.bin", first, last),
                                 (1, last - first + 1))

    def test_whole_cold_file(self):
        """5 MiB, 10 windows: the first is cold, so read by the pool; the
        kernel's readahead behind a pool read may bring later windows in
        whole, and mincore then rightly lets them go without one. Every
        pool read is of a whole window."""
        reads, nbytes = self.cold_get(self.port, "m5.bin")
        self.assertGreaterEqual(reads, 1)
        self.assertLessEqual(reads, 10)
        self.assertEqual(nbytes, reads * WINDOW)

    def test_warm_file_no_pool_read(self):
        self.fetch(self.port, "m1p7.bin")
        r0 = aio_counters(self.port)
        self.assertWhole(self.fetch(self.port, "m1p7.bin"), "m1p7.bin")
        self.assertEqual(aio_counters(self.port), r0)

    def test_file_in_upper_directory(self):
        """A file written through the mount lives in the upper directory
        (on a file system that takes RWF_NOWAIT itself); through the
        overlay it is refused just the same."""
        name = "upper-k200.bin"
        body = os.urandom(200 * KIB)
        path = os.path.join(test_aio._mod["root"], name)
        with open(path, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        test_aio._mod["data"][name] = body
        self.assertTrue(os.path.exists(os.path.join(
            _ov["tmp"], "u", "root", name)), "not in the upper directory")
        self.assertEqual(self.cold_get(self.port, name), (1, 200 * KIB))


if __name__ == "__main__":
    unittest.main()
