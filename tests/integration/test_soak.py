# SPDX-License-Identifier: MIT
"""bench/soak, the soak run (make soak, not part of make check), kept from
rotting: its verdict on synthetic samples (growth, descriptors, the
open-file cache), and a short real run in prefork mode (every load kind
answered, HUP and USR1 sent, workers re-discovered after each HUP, the
verdict printed is the one its CSV gives)."""

import csv
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import unittest

import harness
from harness import unique_tmpdir

SOAK = os.path.join(harness.REPO, "bench", "soak")


def load_soak():
    loader = importlib.machinery.SourceFileLoader("soak", SOAK)
    spec = importlib.util.spec_from_loader("soak", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


soak = load_soak()
FIELDS = ["time", "mode", "pid", "role", "rss_kib", "fds", "file_fds",
          "max_per_file", "caches", "phase"]


def row(t, pid, role, rss, fds, phase, file_fds=0, max_per_file=0,
        caches=1, mode="prefork"):
    return {"time": "%.1f" % t, "mode": mode, "pid": str(pid), "role": role,
            "rss_kib": str(rss), "fds": str(fds + file_fds),
            "file_fds": str(file_fds), "max_per_file": str(max_per_file),
            "caches": str(caches), "phase": phase}


class TestVerdict(unittest.TestCase):
    """summarize() over a CSV written and read back as the script does."""

    def setUp(self):
        self.tmp = unique_tmpdir()

    def summary(self, rows):
        path = os.path.join(self.tmp, "m.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
        lines, passed = soak.summarize(soak.read_csv(path))
        self.assertTrue(lines[-1].startswith("verdict prefork: " +
                                             ("PASS" if passed else "FAIL")),
                        lines[-1])
        return passed, lines

    def prefork(self, end_rss=(1000, 5000, 5000), end_fds=(10, 20, 20),
                end_files=(0, 50, 50), max_per_file=1):
        """Master 100 and two workers at warm-up; new workers (a HUP came
        between) at the end; a load sample in between that is ignored."""
        rows = [row(3, 100, "master", 1000, 10, "load"),
                row(3, 101, "worker", 4000, 20, "load"),
                row(60, 100, "master", 1000, 10, "warm"),
                row(60, 101, "worker", 5000, 20, "warm", 40, 1),
                row(60, 102, "worker", 5000, 20, "warm", 40, 1),
                row(90, 100, "master", 9000, 90, "load"),
                row(90, 103, "worker", 90000, 900, "load"),
                row(120, 100, "master", end_rss[0], end_fds[0], "end"),
                row(120, 103, "worker", end_rss[1], end_fds[1], "end",
                    end_files[1], max_per_file),
                row(120, 104, "worker", end_rss[2], end_fds[2], "end",
                    end_files[2], 1)]
        return self.summary(rows)

    def test_flat_passes(self):
        passed, lines = self.prefork()
        self.assertTrue(passed, lines)
        self.assertIn("growth   RSS +0 KiB, fds +0", "\n".join(lines))

    def test_rss_growth_below_1mib_passes(self):
        self.assertTrue(self.prefork(end_rss=(1000, 5500, 5523))[0])

    def test_rss_growth_of_1mib_fails(self):
        passed, lines = self.prefork(end_rss=(1000, 5500, 5524))
        self.assertFalse(passed)
        self.assertIn("RSS +1024 KiB", lines[-1])

    def test_master_growth_fails(self):
        self.assertFalse(self.prefork(end_rss=(3000, 5000, 5000))[0])

    def test_descriptor_not_returned_fails(self):
        passed, lines = self.prefork(end_fds=(11, 20, 20))
        self.assertFalse(passed)
        self.assertIn("fds 50 -> 51 (NOT back to baseline)", lines[-1])

    def test_fewer_descriptors_pass(self):
        self.assertTrue(self.prefork(end_fds=(10, 19, 20))[0])

    def test_more_cached_files_pass(self):
        # The open-file cache holds what the load touched since the HUP.
        passed, lines = self.prefork(end_files=(0, 300, 200))
        self.assertTrue(passed, lines)

    def test_file_held_twice_fails(self):
        passed, lines = self.prefork(max_per_file=2)
        self.assertFalse(passed)
        self.assertIn("1 processes hold a file more often", lines[-1])

    def test_threads_hold_a_file_per_cache(self):
        rows = [row(60, 7, "server", 8000, 20, "warm", 10, 2, 2, "threads"),
                row(120, 8, "server", 8000, 20, "end", 10, 2, 2, "threads")]
        path = os.path.join(self.tmp, "t.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
        lines, passed = soak.summarize(soak.read_csv(path))
        self.assertTrue(passed, lines)
        rows[1]["max_per_file"] = "3"
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
        self.assertFalse(soak.summarize(soak.read_csv(path))[1])

    def test_without_quiesced_samples_uses_load_samples(self):
        rows = [row(t, 100, "master", 1000 + t * 20, 10, "load")
                for t in range(0, 101, 10)]
        passed, lines = self.summary(rows)
        # 40% in (t=40, 1800 KiB) to the last (t=100, 3000 KiB).
        self.assertFalse(passed)
        self.assertIn("RSS +1200 KiB", lines[-1])
        self.assertIn("no quiesced sample", "\n".join(lines))


class TestShortRun(unittest.TestCase):
    """The script itself, 10 s against the real binary, prefork mode."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = unique_tmpdir()
        cls.out = os.path.join(cls.tmp, "out")
        cls.work = os.path.join(cls.tmp, "work")
        cls.proc = subprocess.run(
            [sys.executable, SOAK, "--seconds", "10", "--mode", "prefork",
             "--workers", "2", "--hup-every", "3", "--rate", "300",
             "--clients", "1", "--cold-files", "20", "--list-entries", "100",
             "--sample", "1", "--bin", harness.BIN, "--out", cls.out,
             "--work", cls.work, "--keep"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=120)

    def setUp(self):
        self.assertIn(self.proc.returncode, (0, 1), self.proc.stderr)

    def test_verdict_is_the_csvs(self):
        rows = soak.read_csv(os.path.join(self.out, "prefork.csv"))
        with open(os.path.join(self.out, "prefork.json")) as f:
            info = json.load(f)
        lines, passed = soak.summarize(rows, info)
        printed = [ln for ln in self.proc.stdout.splitlines()
                   if ln.startswith("verdict prefork: ")]
        self.assertEqual(printed, [lines[-1]], self.proc.stdout)
        self.assertEqual(self.proc.returncode, 0 if passed else 1)

    def test_every_kind_sent_and_counted(self):
        with open(os.path.join(self.out, "prefork.json")) as f:
            info = json.load(f)
        for kind, (ok, err, retry) in info["counts"].items():
            self.assertGreater(ok + err, 0, kind)
        self.assertRegex(self.proc.stdout,
                         r"requests \d+ answered as expected, \d+ errors")

    def test_signals_sent_and_log_rotated(self):
        with open(os.path.join(self.out, "prefork.json")) as f:
            info = json.load(f)
        self.assertEqual(len(info["hups"]), 3, info["hups"])
        self.assertEqual(len(info["usr1s"]), 3, info["usr1s"])
        self.assertEqual(info["reopen_failures"], [])
        self.assertEqual(info["crashes"], [])
        work = [d for d in os.listdir(self.work)
                if d.startswith("tinyweb-soak.")]
        self.assertEqual(len(work), 1, work)
        logs = os.path.join(self.work, work[0], "prefork")
        self.assertTrue(os.path.getsize(os.path.join(logs, "access.log.1")))
        self.assertTrue(os.path.getsize(os.path.join(logs, "access.log")))

    def test_workers_rediscovered_after_hup(self):
        rows = soak.read_csv(os.path.join(self.out, "prefork.csv"))
        masters = {r["pid"] for r in rows if r["role"] == "master"}
        self.assertEqual(len(masters), 1, masters)
        with open(os.path.join(self.out, "prefork.json")) as f:
            first_hup = json.load(f)["hups"][0]
        first = {r["pid"] for r in rows
                 if r["role"] == "worker" and
                 float(r["time"]) < first_hup - 0.5}
        last = {r["pid"] for r in rows
                if r["role"] == "worker" and r["phase"] == "end"}
        self.assertEqual(len(first), 2, first)
        self.assertEqual(len(last), 2, last)
        self.assertFalse(first & last, "the same workers after 3 HUPs")
        phases = {r["phase"] for r in rows}
        self.assertEqual(phases, {"load", "warm", "end"})
        for r in rows:
            self.assertRegex(r["rss_kib"], r"^[1-9]\d*$")
            self.assertRegex(r["fds"], r"^[1-9]\d*$")

    def test_nothing_left_running(self):
        marker = re.escape(self.work)
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            if "serve" in cmd and re.search(marker, cmd):
                self.fail("left running: %s %s" % (d, cmd))


if __name__ == "__main__":
    unittest.main()
