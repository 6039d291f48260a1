# SPDX-License-Identifier: MIT
"""The benchmark's verdicts (bench/bench.py): the per-pair ratios of
interleaved runs, and "ahead", "behind" or "within noise" from them, for
rows where higher is better (req/s) and where lower is (ms, KiB)."""

import importlib.util
import os
import unittest

from harness import REPO

_spec = importlib.util.spec_from_file_location(
    "bench", os.path.join(REPO, "bench", "bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


class PairedRatios(unittest.TestCase):
    def test_pairs_by_run_index(self):
        # Run i of one server against run i of the other, not sorted
        # figures or medians: 100/50 and 300/100.
        self.assertEqual(bench.paired_ratios([100, 300], [50, 100]),
                         [2.0, 3.0])

    def test_failed_runs_drop_their_pair(self):
        # A run that gave no figure (None, "timeout") or a zero divisor
        # leaves out that pair only.
        self.assertEqual(
            bench.paired_ratios([10, None, 30, "timeout", 50],
                                [5, 10, None, 10, 0]),
            [2.0])


class Verdict(unittest.TestCase):
    def test_higher_is_better_ahead(self):
        self.assertEqual(bench.verdict([1.02, 1.10, 1.05, 1.01, 1.07],
                                       "higher"), "ahead")

    def test_higher_is_better_behind(self):
        self.assertEqual(bench.verdict([0.90, 0.97, 0.95, 0.99, 0.93],
                                       "higher"), "behind")

    def test_lower_is_better_ahead(self):
        # Lower latency: ratios below 1.00 put x ahead.
        self.assertEqual(bench.verdict([0.90, 0.97, 0.95, 0.99, 0.93],
                                       "lower"), "ahead")

    def test_lower_is_better_behind(self):
        self.assertEqual(bench.verdict([1.02, 1.10, 1.05, 1.01, 1.07],
                                       "lower"), "behind")

    def test_one_pair_disagreeing_is_within_noise(self):
        # A median well above 1.00 with one pair below is noise.
        r = [1.20, 1.25, 0.98, 1.30, 1.22]
        self.assertEqual(bench.verdict(r, "higher"), "within noise")
        self.assertEqual(bench.verdict(r, "lower"), "within noise")

    def test_a_ratio_of_exactly_one_is_within_noise(self):
        # Row d's connections held: 10000/10000 in every run.
        self.assertEqual(bench.verdict([1.0] * 5, "higher"),
                         "within noise")

    def test_fewer_than_five_pairs_is_na(self):
        self.assertEqual(bench.VERDICT_RUNS, 5)
        self.assertEqual(bench.verdict([1.1, 1.2, 1.3, 1.4], "higher"),
                         "n/a")
        self.assertEqual(bench.verdict([1.1] * 5, "higher"), "ahead")

    def test_info_rows_have_none(self):
        self.assertEqual(bench.verdict([1.1] * 5, "info"), "n/a")


class RatioCell(unittest.TestCase):
    def test_median_range_and_verdict(self):
        x = [110, 120, 100, 130, 105]
        y = [100, 100, 100, 100, 100]
        self.assertEqual(bench.ratio_cell(x, y, "higher"),
                         "1.10x (1.00–1.30) within noise")
        self.assertEqual(bench.ratio_cell([v + 1 for v in x], y, "higher"),
                         "1.11x (1.01–1.31) ahead")

    def test_quick_run_has_ratio_alone(self):
        self.assertEqual(bench.ratio_cell([150], [100], "higher"), "1.50x")

    def test_ceiling_has_no_verdict(self):
        self.assertEqual(bench.ratio_cell([90] * 5, [100] * 5, "higher",
                                          judge=False),
                         "0.90x (0.90–0.90)")

    def test_no_pairs(self):
        self.assertEqual(bench.ratio_cell([], [100], "higher"), "n/a")


if __name__ == "__main__":
    unittest.main()
