#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the integration tests and print TAP.

usage: run.py [test_file.py ...]

Discovers tests/integration/test_*.py (or only the files named), runs every
TestCase method and prints one line per test, `ok N - module.Class.test` or
`not ok N - ...` followed by the failure as `# ` lines, then `1..N`.
Exit status 1 if any test failed.
"""

import importlib
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class TapResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.n = 0
        self.nfailed = 0
        self.nskipped = 0
        self._cur = None

    def _emit(self, ok, name, detail="", directive=""):
        self.n += 1
        if not ok:
            self.nfailed += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.n, name)
        if directive:
            line += " # " + directive
        self.out.write(line + "\n")
        for d in detail.rstrip("\n").splitlines() if detail else ():
            self.out.write("#   " + d + "\n")
        self.out.flush()

    # One line per test: collect everything between startTest and stopTest.
    def startTest(self, test):
        super().startTest(test)
        self._cur = {"ok": True, "detail": [], "skip": None,
                     "t0": time.monotonic()}

    def stopTest(self, test):
        super().stopTest(test)
        cur, self._cur = self._cur, None
        if cur is None:
            return
        if cur["skip"] is not None and cur["ok"]:
            self.nskipped += 1
            self._emit(True, test.id(), directive="SKIP " + cur["skip"])
        else:
            self._emit(cur["ok"], test.id(), "\n".join(cur["detail"]))

    def _fail(self, test, text):
        if self._cur is None:
            # setUpClass/tearDownClass/module fixtures: a line of their own.
            self._emit(False, getattr(test, "description", str(test)), text)
        else:
            self._cur["ok"] = False
            self._cur["detail"].append(text)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(test, "subtest %s\n%s" % (
                subtest._subDescription(),
                self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if self._cur is None:
            self.nskipped += 1
            self._emit(True, str(test), directive="SKIP " + reason)
        else:
            self._cur["skip"] = reason

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test, "unexpected success")


def module_names(args):
    if not args:
        return sorted(f[:-3] for f in os.listdir(HERE)
                      if f.startswith("test_") and f.endswith(".py"))
    names = []
    for a in args:
        base = os.path.basename(a)
        if base.endswith(".py"):
            base = base[:-3]
        names.append(base)
    return names


def main(argv):
    out = sys.stdout
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    result = TapResult(out)
    for name in module_names(argv[1:]):
        try:
            mod = importlib.import_module(name)
        except Exception:
            import traceback
            result._emit(False, name + " (import)", traceback.format_exc())
            continue
        suite.addTest(loader.loadTestsFromModule(mod))
    t0 = time.monotonic()
    suite.run(result)
    out.write("# %d passed, %d failed, %d skipped in %.1f s\n" % (
        result.n - result.nfailed - result.nskipped, result.nfailed,
        result.nskipped, time.monotonic() - t0))
    out.write("1..%d\n" % result.n)
    out.flush()
    return 1 if result.nfailed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
