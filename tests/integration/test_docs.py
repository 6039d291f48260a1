#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every flag is in --help, the man page and the three shell completions;
every directive is in tinyweb.conf(5) and the example config.

The flags printed by `tinyweb --help` are the truth; the man page
(man/tinyweb.1, every .Fl macro) and the completions (bash, run for real;
zsh and fish, read) must name exactly the same long and short flags, and
agree on which of them take a value. Also checks --version, -h/-V and the
exit status of an unknown flag.

For the config file, the parser is the truth: every directive that
`tinyweb check-config` prints, and the directive of every flag, has an
entry in man/tinyweb.conf.5, and every entry there names a directive the
parser knows, with an example that parses. conf/tinyweb.conf and
conf/mime.types must pass check-config, and its output must read back to
the same configuration.

The commands are documented too: serve, check-config and the control
commands stop, quit, reload and reopen are in --help, the man page (its
SYNOPSIS, and CONTROL COMMANDS with the errors the binary really prints
and their exit statuses), the README and the three completions; every
signal a server obeys is in SIGNALS. The STATUS section and the README
name every JSON key and Prometheus metric a running server prints.

The binary is $TINYWEB_BIN, or build/tinyweb beside this repository.
python3's standard library only.
"""

import os
import re
import shlex
import shutil
import tempfile
import json
import unittest
import urllib.request
from pathlib import Path

from harness import Server, run

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TINYWEB_BIN") or str(ROOT / "build" / "tinyweb")
MAN = ROOT / "man" / "tinyweb.1"
BASH = ROOT / "completions" / "tinyweb.bash"
ZSH = ROOT / "completions" / "_tinyweb"
FISH = ROOT / "completions" / "tinyweb.fish"
CONF_MAN = ROOT / "man" / "tinyweb.conf.5"
CONF = ROOT / "conf" / "tinyweb.conf"
MIME = ROOT / "conf" / "mime.types"

SERVE_COMMANDS = {"serve", "proxy", "check-config"}
# Commands that signal a running server, found by its pid file.
CONTROL_COMMANDS = {"stop": "SIGTERM", "quit": "SIGQUIT", "reload": "SIGHUP",
                    "reopen": "SIGUSR1"}
COMMANDS = SERVE_COMMANDS | set(CONTROL_COMMANDS)
CONTROL_FLAGS = {"--pidfile", "-c", "--config"}
# Every signal a server reacts to, each in the man page's SIGNALS list.
SIGNALS = {"SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2",
           "SIGPIPE"}

# The values a completion offers; each must also appear in --help.
VALUES = {
    "--symlinks": {"never", "inside", "always"},
    "--charset": {"auto", "off"},
    "--access-log": {"-", "off"},
    "--error-log": {"-"},
    "--log-format": {"combined", "common", "json"},
    "--log-level": {"error", "warn", "info", "debug"},
    "--mode": {"epoll", "prefork", "threads"},
    "--workers": {"auto"},
    "--accept": {"exclusive", "reuseport", "mutex", "mutex-file",
                  "mutex-sem"},
    "--status-allow": {"all"},
    "--expires": {"max", "off"},
    "--sandbox": {"on", "off"},
}
# Values that are also files: zsh offers them through a function.
FILE_VALUES = {"--access-log", "--error-log"}

SHORT_RE = re.compile(r"^-[A-Za-z0-9]$")
LONG_RE = re.compile(r"^--[a-z0-9][a-z0-9-]*$")


class Flags:
    """Short and long flags, and those that take a value."""

    def __init__(self, names=(), valued=()):
        self.short = set()
        self.long = set()
        self.odd = set()
        self.valued = set(valued)
        for n in names:
            self.add(n)

    def add(self, name, takes_value=False):
        if SHORT_RE.match(name):
            self.short.add(name)
        elif LONG_RE.match(name):
            self.long.add(name)
        else:
            self.odd.add(name)
        if takes_value:
            self.valued.add(name)


# --- --help -----------------------------------------------------------------

# "  -p, --port N   text", "      --index NAME   text", "  -q, --quiet  text",
# "      --max-keepalive-requests N" (text on the next line),
# "      --add-header 'NAME: VALUE'", "      --user USER[:GROUP]".
# Continuation lines are indented far deeper than 8 columns.
HELP_OPT_RE = re.compile(
    r"^\s{1,8}(?:(-[A-Za-z0-9])(?:,[ \t]*|(?=\s)))?"
    r"(--[a-z0-9][a-z0-9-]*)?"
    r"(?:[ =]('[A-Z][^']*'|[A-Z][A-Z0-9_|:]*(?:\[[^\]\s]*\])?))?"
    r"(?=\s{2,}|\s*$)")


def parse_help(text):
    flags = Flags()
    for line in text.splitlines():
        m = HELP_OPT_RE.match(line)
        if not m or not (m.group(1) or m.group(2)):
            continue
        for name in (m.group(1), m.group(2)):
            if name:
                flags.add(name, takes_value=bool(m.group(3)))
    return flags


_help_cache = {}


def help_output():
    if "r" not in _help_cache:
        if not os.access(BIN, os.X_OK):
            raise AssertionError(
                "no tinyweb binary at %s: build it or set TINYWEB_BIN" % BIN)
        _help_cache["r"] = run([BIN, "--help"])
    return _help_cache["r"]


def help_flags():
    return parse_help(help_output().stdout)


# --- man page (mdoc) ----------------------------------------------------------

DELIMS = {"|", ",", ".", ";", ":", "(", ")", "[", "]", "?", "!"}
MACRO_RE = re.compile(r"^[A-Z][a-z]{1,2}$")


def roff_tokens(line):
    """Splits an mdoc macro line into arguments, honouring double quotes."""
    toks = re.findall(r'"((?:[^"]|"")*)"|(\S+)', line)
    out = []
    for quoted, bare in toks:
        t = quoted.replace('""', '"') if quoted else bare
        out.append(t.replace("\\-", "-").replace("\\&", ""))
    return out


def parse_man(text):
    """Returns (flags of every .Fl, flags of the option list's .It lines).

    Fl prefixes each of its arguments with "-" up to the next macro, so
    ".Fl p" is -p and ".Fl \\-port" is --port; delimiters are skipped.
    """
    every = Flags()
    items = Flags()
    for line in text.splitlines():
        if not line.startswith(".") or line.startswith(".\\\""):
            continue
        toks = roff_tokens(line[1:])
        names = []
        has_ar = False
        in_fl = False
        for t in toks:
            if MACRO_RE.match(t):
                in_fl = t == "Fl"
                has_ar = has_ar or (t == "Ar" and bool(names))
                continue
            if in_fl and t not in DELIMS and t != "":
                names.append("-" + t)
        for n in names:
            every.add(n)
            if toks[0] == "It":
                items.add(n, takes_value=has_ar)
    every.valued = items.valued
    return every, items


# --- zsh ----------------------------------------------------------------------

# '(-p --port)-p+[desc]:msg:'   '*--bind=[desc]:msg:'   '--hidden[desc]'
ZSH_SPEC_RE = re.compile(
    r"^\s*'(?:\([^)]*\))?\*?(--?[A-Za-z0-9][A-Za-z0-9-]*?)(?:=-?|\+|-)?"
    r"(?=[\[:'])")


def parse_zsh(text):
    flags = Flags()
    values = {}
    for line in text.splitlines():
        m = ZSH_SPEC_RE.match(line)
        if not m:
            continue
        rest = line[m.end():]
        if rest.startswith("["):
            rest = rest[rest.index("]") + 1:]
        flags.add(m.group(1), takes_value=rest.startswith(":"))
        values[m.group(1)] = rest
    return flags, values


# --- fish ---------------------------------------------------------------------

def parse_fish(text):
    flags = Flags()
    args = {}
    for line in text.splitlines():
        if not line.lstrip().startswith("complete "):
            continue
        toks = shlex.split(line, comments=True)
        names = []
        valued = False
        arg = ""
        i = 1
        while i < len(toks):
            t = toks[i]
            if t in ("-s", "--short-option", "-o", "--old-option") \
                    and i + 1 < len(toks):
                names.append("-" + toks[i + 1])
                i += 1
            elif t in ("-l", "--long-option") and i + 1 < len(toks):
                names.append("--" + toks[i + 1])
                i += 1
            elif t in ("-a", "--arguments") and i + 1 < len(toks):
                arg = toks[i + 1]
                i += 1
            elif t in ("-n", "--condition", "-c", "--command", "-d",
                       "--description", "-w", "--wraps"):
                i += 1
            elif t in ("-x", "--exclusive", "-r", "--require-parameter"):
                valued = True
            i += 1
        for n in names:
            flags.add(n, takes_value=valued)
            args[n] = arg
    return flags, args


# --- bash (the completion function is run) ------------------------------------

BASH_DRIVER = r'''
source "$1"
shift
spec=$(complete -p tinyweb) || exit 3
fn=${spec##*-F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" tinyweb "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def bash_complete(*words, cwd=None):
    """What bash offers for the command line `words`; the last is the
    word being completed."""
    r = run(["bash", "-c", BASH_DRIVER, "driver", str(BASH)] + list(words),
            cwd=cwd)
    if r.returncode != 0:
        raise AssertionError("bash completion failed (%d): %s"
                             % (r.returncode, r.stderr))
    return [w for w in r.stdout.splitlines() if w]


# --- tests --------------------------------------------------------------------

class FlagSetsMixin:
    def assertSameFlags(self, got, what):
        want = help_flags()
        self.assertEqual(got.odd, set(),
                         "%s names flags that are neither -x nor --xx" % what)
        self.assertEqual(got.long, want.long,
                         "long flags of %s differ from --help" % what)
        self.assertEqual(got.short, want.short,
                         "short flags of %s differ from --help" % what)


class TestHelp(unittest.TestCase):
    def test_help_exits_0_on_stdout(self):
        r = help_output()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Usage:", r.stdout)
        self.assertEqual(r.stderr, "")

    def test_help_names_flags(self):
        f = help_flags()
        self.assertEqual(f.odd, set())
        for name in ("--port", "--bind", "--help", "--version", "-p", "-h"):
            self.assertIn(name, f.long | f.short)
        # a flag taking a value: --port N; one that does not: --quiet
        self.assertIn("--port", f.valued)
        self.assertNotIn("--quiet", f.valued)

    def test_usage_names_every_command(self):
        usage = help_output().stdout.split("\n\n", 1)[0]
        for cmd in COMMANDS:
            self.assertRegex(usage, r"(?<![\w-])%s(?![\w-])" % re.escape(cmd),
                             cmd)

    def test_short_h_is_help(self):
        r = run([BIN, "-h"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, help_output().stdout)

    def test_values_are_in_help(self):
        text = help_output().stdout
        for flag, vals in VALUES.items():
            line = next((l for l in text.splitlines() if flag + " " in l),
                        None)
            self.assertIsNotNone(line, flag)
            block = text[text.index(line):].split("\n  -", 1)[0]
            for v in vals:
                self.assertRegex(block, r"(?<![\w-])%s(?![\w-])"
                                 % re.escape(v), "%s %s" % (flag, v))

    def test_version(self):
        for flag in ("--version", "-V"):
            r = run([BIN, flag])
            self.assertEqual(r.returncode, 0, flag)
            self.assertRegex(r.stdout, r"\Atinyweb [0-9][0-9A-Za-z.+~-]*\n\Z",
                             flag)

    def test_unknown_flag_exits_2_with_one_line(self):
        for argv in (["--no-such-flag"], ["serve", "--no-such-flag"],
                     ["serve", "-Z"], ["serve", "--symlinks", "sometimes"],
                     ["serve", "--port"]):
            r = run([BIN] + argv, timeout=5)
            self.assertEqual(r.returncode, 2, argv)
            self.assertEqual(r.stdout, "", argv)
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, "%s: %r" % (argv, r.stderr))
            self.assertTrue(lines[0].strip(), argv)
            self.assertTrue(r.stderr.endswith("\n"), argv)


class TestHelpParser(unittest.TestCase):
    """The regex that reads --help must itself be right."""

    def test_rows(self):
        rows = [
            ("  -p, --port N          TCP port", ["-p", "--port"], True),
            ("      --index NAME      index file", ["--index"], True),
            ("      --hidden          serve dotfiles", ["--hidden"], False),
            ("  -q, --quiet           no log", ["-q", "--quiet"], False),
            ("      --max-keepalive-requests N", ["--max-keepalive-requests"],
             True),
            ("  -x                    short only", ["-x"], False),
            ("      --add-header 'NAME: VALUE'", ["--add-header"], True),
            ("      --user USER[:GROUP]       drop root", ["--user"], True),
            ("  -t, --test-config     check", ["-t", "--test-config"],
             False),
            ("                                (default 0.0.0.0)", [], False),
            ("       tinyweb --help | --version", [], False),
            ("Serve the files under DIR --port", [], False),
        ]
        for line, names, valued in rows:
            f = parse_help(line)
            self.assertEqual(sorted(f.short | f.long), sorted(names), line)
            self.assertEqual(f.valued == set(names) and bool(names), valued,
                             line)


class TestManPage(FlagSetsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.every, cls.items = parse_man(MAN.read_text())

    def test_every_fl_matches_help(self):
        self.assertSameFlags(self.every, "man/tinyweb.1 (.Fl)")

    def test_option_list_matches_help(self):
        self.assertSameFlags(self.items, "man/tinyweb.1 (.It Fl list)")

    def test_same_flags_take_a_value(self):
        self.assertEqual(self.items.valued, help_flags().valued)

    def test_parser(self):
        every, items = parse_man(
            ".It Fl p , Fl \\-port Ar port\n"
            ".It Fl \\-no\\-listing\n"
            ".Op Fl \\-gzip\\-static | \\-no\\-gzip\\-static\n"
            "text that says Fl \\-bogus\n")
        self.assertEqual(every.short, {"-p"})
        self.assertEqual(every.long, {"--port", "--no-listing",
                                      "--gzip-static", "--no-gzip-static"})
        self.assertEqual(items.long, {"--port", "--no-listing"})
        self.assertEqual(items.valued, {"-p", "--port"})

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc not installed")
    def test_mandoc_lint(self):
        r = run(["mandoc", "-T", "lint", "-W", "warning", str(MAN)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")

    def test_synopsis_names_every_command(self):
        syn = man_section(MAN.read_text(), "SYNOPSIS")
        named = set()
        for line in syn.splitlines():
            if line.startswith(".Cm "):
                named |= {w for w in roff_tokens(line[4:])
                          if w not in DELIMS}
        self.assertEqual(named, COMMANDS)

    def test_control_commands_section(self):
        sec = man_section(MAN.read_text(), "CONTROL COMMANDS")
        for cmd, sig in CONTROL_COMMANDS.items():
            # ".It Cm stop" then ".Dv SIGTERM :" in its entry
            self.assertRegex(sec, r"(?m)^\.It Cm %s\n\.Dv %s\b"
                             % (re.escape(cmd), sig), cmd)

    def test_signals_section(self):
        sec = man_section(MAN.read_text(), "SIGNALS")
        items = set()
        for line in sec.splitlines():
            if line.startswith(".It "):
                items |= set(re.findall(r"\bSIG[A-Z0-9]+\b", line))
        self.assertEqual(items, SIGNALS)

    def test_control_errors_are_documented(self):
        """Each error a control command prints is one of the documented
        lines, with the documented exit status."""
        documented = man_control_errors(MAN.read_text())
        self.assertGreaterEqual(len(documented), 4)
        with tempfile.TemporaryDirectory() as d:
            stale = os.path.join(d, "stale.pid")
            with open(stale, "w") as f:
                f.write("%d\n" % os.getpid())  # not locked: stale
            cases = [
                (["stop"], 2),
                (["quit", "--pidfile"], 2),
                (["reload", "extra"], 2),
                (["reopen", "--pidfile", os.path.join(d, "missing.pid")], 1),
                (["stop", "--pidfile", stale], 1),
            ]
            for argv, status in cases:
                with self.subTest(argv=argv):
                    r = run([BIN] + argv, timeout=5)
                    self.assertEqual(r.returncode, status, r.stderr)
                    self.assertEqual(r.stdout, "")
                    lines = r.stderr.splitlines()
                    self.assertEqual(len(lines), 1, r.stderr)
                    hits = [st for rx, st in documented if rx.match(lines[0])]
                    self.assertEqual(hits, [status],
                                     "%r: not documented with status %d"
                                     % (lines[0], status))


def man_section(text, name):
    """The text of section .Sh name, up to the next .Sh."""
    return text.split("\n.Sh %s\n" % name, 1)[1].split("\n.Sh ", 1)[0]


def man_control_errors(text):
    """[(regex, exit status)] of the quoted .It Li lines of CONTROL
    COMMANDS; CMD, FILE, ARG and PID stand for any word."""
    sec = man_section(text, "CONTROL COMMANDS")
    out = []
    for m in re.finditer(r'(?m)^\.It Li "(.*)"\n((?:[^.].*\n|\.(?!It ).*\n)*)',
                         sec):
        msg = roff_text(m.group(1))
        st = re.search(r"Exit status (\d)", m.group(2))
        if not st:
            continue
        rx = re.escape(msg)
        for ph in ("CMD", "FILE", "ARG", "PID"):
            rx = rx.replace(ph, r"\S+")
        rx = rx.replace(re.escape("Operation not permitted"), ".+")
        out.append((re.compile(rx + r"\Z"), int(st.group(1))))
    return out


class TestBashCompletion(FlagSetsMixin, unittest.TestCase):
    def test_syntax(self):
        r = run(["bash", "-n", str(BASH)])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_flags_match_help(self):
        got = Flags(bash_complete("tinyweb", "serve", "-"))
        self.assertSameFlags(got, "completions/tinyweb.bash (serve -)")

    def test_subcommand(self):
        # the first word is a command or a directory (tinyweb DIR)
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "pub"))
            open(os.path.join(d, "afile"), "w").close()
            self.assertEqual(set(bash_complete("tinyweb", "", cwd=d)),
                             COMMANDS | {"pub"})
            self.assertEqual(bash_complete("tinyweb", "pu", cwd=d), ["pub"])
            # options before DIR are serve's
            self.assertEqual(bash_complete("tinyweb", "pub", "--sym",
                                           cwd=d), ["--symlinks"])
            self.assertEqual(bash_complete("tinyweb", "-p", "0", "p",
                                           cwd=d), ["pub"])
        self.assertEqual(bash_complete("tinyweb", "se"), ["serve"])
        self.assertEqual(bash_complete("tinyweb", "ch"), ["check-config"])
        top = set(bash_complete("tinyweb", "-"))
        self.assertEqual(top, {"-h", "--help", "-V", "--version"})

    def test_values(self):
        for flag, vals in VALUES.items():
            with self.subTest(flag=flag):
                got = set(bash_complete("tinyweb", "serve", flag, ""))
                self.assertTrue(vals <= got, "%s: %s" % (flag, got))
                # --flag=value, split at "=" by COMP_WORDBREAKS
                got = set(bash_complete("tinyweb", "serve", flag, "=", ""))
                self.assertTrue(vals <= got, "%s=: %s" % (flag, got))
        self.assertEqual(bash_complete("tinyweb", "serve", "--symlinks",
                                       "in"), ["inside"])

    def test_control_commands(self):
        for cmd in CONTROL_COMMANDS:
            with self.subTest(cmd=cmd):
                self.assertEqual(set(bash_complete("tinyweb", cmd, "-")),
                                 CONTROL_FLAGS)
                self.assertEqual(set(bash_complete("tinyweb", cmd, "")),
                                 CONTROL_FLAGS)
        self.assertEqual(bash_complete("tinyweb", "rel"), ["reload"])
        self.assertEqual(set(bash_complete("tinyweb", "re")),
                         {"reload", "reopen"})
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "t.pid"), "w").close()
            open(os.path.join(d, "t.conf"), "w").close()
            for flag in ("--pidfile", "-c", "--config"):
                got = set(bash_complete("tinyweb", "quit", flag, "t", cwd=d))
                self.assertEqual(got, {"t.pid", "t.conf"}, flag)
            got = set(bash_complete("tinyweb", "stop", "--pidfile", "=", "t.p",
                                    cwd=d))
            self.assertEqual(got, {"t.pid"})

    def test_check_config_takes_the_serve_flags(self):
        got = Flags(bash_complete("tinyweb", "check-config", "-"))
        self.assertSameFlags(got, "completions/tinyweb.bash (check-config -)")
        self.assertEqual(set(bash_complete("tinyweb", "check-config", "-c",
                                           "-", "--mode", "")),
                         VALUES["--mode"])

    def test_file_flags(self):
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "my.conf"), "w").close()
            open(os.path.join(d, "mime.types"), "w").close()
            for flag in ("-c", "--config", "--mime-types", "--pidfile",
                         "--error-log"):
                with self.subTest(flag=flag):
                    got = set(bash_complete("tinyweb", "serve", flag, "m",
                                            cwd=d))
                    self.assertEqual(got, {"my.conf", "mime.types"})
            got = set(bash_complete("tinyweb", "check-config", "--config",
                                    "=", "my", cwd=d))
            self.assertEqual(got, {"my.conf"})

    def test_user(self):
        got = bash_complete("tinyweb", "serve", "--user", "roo")
        self.assertIn("root", got)
        self.assertNotIn("tinyweb-no-such-user", got)
        # --user root:GROUP, split at ":" by COMP_WORDBREAKS
        got = bash_complete("tinyweb", "serve", "--user", "root", ":", "roo")
        self.assertIn("root", got)

    def test_dir_and_files(self):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "adir"))
            os.mkdir(os.path.join(d, "a dir"))
            open(os.path.join(d, "afile"), "w").close()
            got = sorted(bash_complete("tinyweb", "serve", "a", cwd=d))
            self.assertEqual(got, ["a dir", "adir"])
            got = set(bash_complete("tinyweb", "serve", "--access-log", "",
                                    cwd=d))
            self.assertEqual(got, {"-", "off", "adir", "a dir", "afile"})
            # a flag's number is not a directory
            self.assertEqual(bash_complete("tinyweb", "serve", "-p", "",
                                           cwd=d), [])


class TestZshCompletion(FlagSetsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = ZSH.read_text()
        cls.flags, cls.specs = parse_zsh(cls.text)

    def test_compdef_first_line(self):
        self.assertEqual(self.text.splitlines()[0], "#compdef tinyweb")

    def test_flags_match_help(self):
        self.assertSameFlags(self.flags, "completions/_tinyweb")

    def test_same_flags_take_a_value(self):
        self.assertEqual(self.flags.valued, help_flags().valued)

    def test_values(self):
        for flag, vals in VALUES.items():
            spec = self.specs[flag]
            if flag in FILE_VALUES:
                fn = re.search(r":(_tinyweb_[a-z_]+)'", spec)
                self.assertIsNotNone(fn, "%s: no value function" % flag)
                start = self.text.index(fn.group(1) + "() {")
                spec = self.text[start:self.text.index("\n}", start)]
                self.assertIn("_files", spec)
            for v in vals:
                self.assertRegex(spec, r"[(\s]%s\\?:" % re.escape(v),
                                 "%s %s" % (flag, v))
        self.assertRegex(self.text, r"'1:[^']*:_files -/'")
        for flag in ("-c", "--config", "--mime-types", "--pidfile"):
            self.assertRegex(self.specs[flag], r":_files'", flag)
        self.assertRegex(self.specs["--user"], r":_users'")
        for cmd in COMMANDS:
            self.assertRegex(self.text, r"'%s:" % re.escape(cmd))
            self.assertRegex(self.text, r"\b%s\b[|)]" % re.escape(cmd))

    def test_control_commands(self):
        start = self.text.index("_tinyweb_control() {")
        body = self.text[start:self.text.index("\n}", start)]
        flags, specs = parse_zsh(body)
        self.assertEqual(flags.short | flags.long, CONTROL_FLAGS)
        self.assertEqual(flags.valued, CONTROL_FLAGS)
        for flag in CONTROL_FLAGS:
            self.assertRegex(specs[flag], r":_files'(\s*\\)?$", flag)
        self.assertRegex(self.text, r"(?m)^\s*stop\|quit\|reload\|reopen\)\n"
                         r"\s*_tinyweb_control\b")

    def test_parser(self):
        f, _ = parse_zsh("\t\t'(-p --port)-p+[port]:n:' \\\n"
                         "\t\t'*--bind=[addr]:a:' \\\n"
                         "\t\t'(--listing --no-listing)--no-listing[x]' \\\n"
                         "\t\t'1:directory:_files -/'\n")
        self.assertEqual(f.short, {"-p"})
        self.assertEqual(f.long, {"--bind", "--no-listing"})
        self.assertEqual(f.valued, {"-p", "--bind"})

    @unittest.skipUnless(shutil.which("zsh"), "zsh not installed")
    def test_syntax(self):
        r = run(["zsh", "-n", str(ZSH)])
        self.assertEqual(r.returncode, 0, r.stderr)


class TestFishCompletion(FlagSetsMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags, cls.args = parse_fish(FISH.read_text())

    def test_flags_match_help(self):
        self.assertSameFlags(self.flags, "completions/tinyweb.fish")

    def test_same_flags_take_a_value(self):
        self.assertEqual(self.flags.valued, help_flags().valued)

    def test_file_flags(self):
        text = FISH.read_text()
        for flag in ("c", "config", "mime-types", "pidfile", "error-log",
                     "access-log"):
            line = next(l for l in text.splitlines()
                        if re.search(r" -[ls] %s( |$)" % re.escape(flag), l))
            self.assertRegex(line, r" -F( |$)", flag)
        self.assertRegex(text, r"-l user .*__fish_complete_users")

    def test_values(self):
        for flag, vals in VALUES.items():
            words = {w.split("\t")[0] for w in
                     shlex.split(self.args[flag].replace("\\t", "\t"))}
            self.assertTrue(vals <= words, "%s: %s" % (flag, words))

    @unittest.skipUnless(shutil.which("fish"), "fish not installed")
    def test_syntax_and_run(self):
        r = run(["fish", "-n", str(FISH)])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(["fish", "-c", 'source $argv[1]; complete -C"tinyweb serve -"',
                 str(FISH)])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = Flags(l.split("\t")[0] for l in r.stdout.splitlines())
        self.assertSameFlags(got, "fish, run (serve -)")
        r = run(["fish", "-c", 'source $argv[1]; complete -C"tinyweb "',
                 str(FISH)])
        self.assertEqual({l.split("\t")[0] for l in r.stdout.splitlines()},
                         COMMANDS)
        r = run(["fish", "-c", 'source $argv[1]; '
                 'complete -C"tinyweb check-config -"', str(FISH)])
        got = Flags(l.split("\t")[0] for l in r.stdout.splitlines())
        self.assertSameFlags(got, "fish, run (check-config -)")
        for cmd in CONTROL_COMMANDS:
            r = run(["fish", "-c", 'source $argv[1]; '
                     'complete -C"tinyweb %s -"' % cmd, str(FISH)])
            self.assertEqual({l.split("\t")[0] for l in r.stdout.splitlines()},
                             CONTROL_FLAGS, cmd)
        r = run(["fish", "-c", 'source $argv[1]; '
                 'complete -C"tinyweb serve --user roo"', str(FISH)])
        self.assertIn("root", [l.split("\t")[0]
                               for l in r.stdout.splitlines()])


# --- tinyweb.conf(5) and the example files --------------------------------------

# Flags without a directive of their own: -p/-b are `listen`.
NO_DIRECTIVE = {"--config", "--test-config", "--port", "--bind", "--help",
                "--version", "--tls-cert", "--tls-key"}
# --spa is "try_files $uri $uri/ /index.html" at the top level.
NO_DIRECTIVE |= {"--spa"}
# --auth-file is auth_basic_user_file, turning auth_basic on.
NO_DIRECTIVE |= {"--auth-file"}


def man_directives(text):
    """{name: entry} for every `.It Ic name` of the DIRECTIVES section."""
    sec = text.split("\n.Sh DIRECTIVES\n", 1)[1].split("\n.Sh ", 1)[0]
    out = {}
    cur = None
    for line in sec.splitlines():
        m = re.match(r"^\.It Ic (\S+)", line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def roff_text(s):
    for a, b in (("\\(dq", '"'), ("\\(aq", "'"), ("\\-", "-"),
                 ("\\&", ""), ("\\e", "\\")):
        s = s.replace(a, b)
    return s


def check_config(conf_text=None, args=(), cwd=None, name="t.conf"):
    """Runs `tinyweb check-config` on conf_text (None: no -c)."""
    with tempfile.TemporaryDirectory() as d:
        argv = [BIN, "check-config"]
        if conf_text is not None:
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(conf_text)
            os.mkdir(os.path.join(d, "conf.d"))
            argv += ["-c", path]
        return run(argv + list(args), cwd=cwd or d)


def printed_directives(out):
    return {l.split()[0] for l in out.splitlines()
            if l.strip() and not l.startswith("#")}


class TestConfManPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = CONF_MAN.read_text()
        cls.dirs = man_directives(cls.text)

    def test_parser(self):
        d = man_directives(".Sh DESCRIPTION\n.It Ic bogus\n"
                           ".Sh DIRECTIVES\n.Bl -tag\n.It Ic a Ar x\nA.\n"
                           ".It Ic b\n.Dl b;\n.El\n.Sh FILES\n.It Ic c\n")
        self.assertEqual(set(d), {"a", "b"})
        self.assertIn(".Dl b;", d["b"])

    def test_default_output_is_documented(self):
        r = check_config()
        self.assertEqual(r.returncode, 0, r.stderr)
        names = printed_directives(r.stdout)
        self.assertIn("listen", names)
        self.assertEqual(names - set(self.dirs), set(),
                         "check-config prints directives tinyweb.conf.5 "
                         "does not document")

    def test_full_output_is_documented(self):
        conf = ("pidfile /tmp/tinyweb-docs.pid;\nuser root;\n"
                "add_header X-A b;\nmime_types %s;\n"
                "types { text/x-a aa; }\n" % json_str(MIME))
        r = check_config(conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = printed_directives(r.stdout)
        self.assertTrue({"pidfile", "user", "add_header", "mime_types",
                         "types"} <= names, names)
        self.assertEqual(names - set(self.dirs), set())

    def test_every_flag_has_a_documented_directive(self):
        flags = help_flags().long - NO_DIRECTIVE
        for flag in flags:
            name = flag[2:]
            if name.startswith("no-") and "--" + name[3:] in flags:
                continue
            self.assertIn(name.replace("-", "_"), self.dirs, flag)

    def test_documented_directives_are_known(self):
        r = check_config("no_such_directive on;\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown directive", r.stderr)
        self.assertIn("include", self.dirs)
        for name in self.dirs:
            r = check_config("%s;\n" % name)
            self.assertNotIn("unknown directive", r.stderr, name)

    def test_entries_have_default_and_example(self):
        for name, entry in self.dirs.items():
            self.assertIn("Default", entry, name)
            self.assertRegex(entry, r"(?m)^\.Dl %s[ ;]" % re.escape(name),
                             name)

    def test_examples_parse(self):
        for name, entry in self.dirs.items():
            for line in re.findall(r"(?m)^\.Dl (.*)$", entry):
                conf = roff_text(line) + "\n"
                r = check_config(conf)
                # A directive of a block is shown alone; it must parse
                # in the block its error names.
                if ("allowed only in a server block" in r.stderr or
                        "allowed only in a server or location" in r.stderr):
                    conf = "server { %s }\n" % conf
                    r = check_config(conf)
                elif "allowed only in a location block" in r.stderr:
                    conf = "server { location /a/ { %s } }\n" % conf
                    r = check_config(conf)
                with self.subTest(example=conf):
                    # A path or a user this machine lacks is no syntax error.
                    if r.returncode != 0 or r.stderr:
                        self.assertRegex(r.stderr, r"No such file or "
                                         r"directory|does not exist")
                    else:
                        self.assertIn(name, printed_directives(r.stdout) |
                                      {"include", "log_format",
                                       "log_level"})

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc not installed")
    def test_mandoc_lint(self):
        r = run(["mandoc", "-T", "lint", "-W", "warning", str(CONF_MAN)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")


def json_str(path):
    """A path as a quoted config string."""
    return '"%s"' % str(path).replace("\\", "\\\\").replace('"', '\\"')


def strip_overstrike(text):
    """Rendered man text without bold/underline backspace sequences."""
    return re.sub(r".\x08", "", text)


def render_man(tool, page):
    """(text, stderr) of page rendered for an 80-column terminal by
    groff (as man-db runs it, warnings on), mandoc, or man-db's man -l."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    if tool == "groff":
        argv = ["groff", "-ww", "-man", "-Tutf8", str(page)]
    elif tool == "mandoc":
        argv = ["mandoc", "-Tutf8", "-W", "warning", str(page)]
    else:
        argv = ["man", "--warnings", "-P", "cat", "-l", str(page)]
    r = run(argv, env=env)
    return strip_overstrike(r.stdout), r.stderr, r.returncode


def column_rows(src):
    """[(first cell, last cell)] of every row of every .Bl -column list,
    as plain text, for the rows whose last cell is words only."""
    rows = []
    for block in re.findall(r"(?ms)^\.Bl -column.*?^\.El$", src):
        for line in block.splitlines():
            if not line.startswith(".It "):
                continue
            cells = line[4:].split(" Ta ")
            last = roff_text(cells[-1])
            if len(cells) > 1 and re.fullmatch(r"[\w ,.'()-]+", last):
                rows.append((cells[0], last))
    return rows


class TestManRendering(unittest.TestCase):
    """Both pages read right with man-db's groff (man -l) as well as with
    mandoc: no formatter warnings, every row of a column table keeps its
    columns (a macro that swallowed the next cell showed in groff only),
    and the footer names tinyweb, not "BSD" or the build machine."""

    TOOLS = ("groff", "mandoc", "man")

    def tools(self):
        have = [t for t in self.TOOLS if shutil.which(t)]
        if not have:
            self.skipTest("none of groff, mandoc, man installed "
                          "(scripts/deps.sh installs them)")
        return have

    def test_no_warnings(self):
        for tool in self.tools():
            for page in (MAN, CONF_MAN):
                with self.subTest(tool=tool, page=page.name):
                    _, err, rc = render_man(tool, page)
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(err, "", "%s warns on %s" % (tool,
                                                                 page.name))

    def test_footer(self):
        for tool in self.tools():
            for page in (MAN, CONF_MAN):
                with self.subTest(tool=tool, page=page.name):
                    text, _, _ = render_man(tool, page)
                    date = re.search(r"(?m)^\.Dd (.*)$",
                                     page.read_text()).group(1)
                    last = [ln for ln in text.splitlines() if ln.strip()][-1]
                    self.assertRegex(last, r"^tinyweb\s+%s\s+tinyweb$"
                                     % re.escape(date))

    def test_table_rows_keep_their_columns(self):
        for tool in self.tools():
            for page in (MAN, CONF_MAN):
                rows = column_rows(page.read_text())
                if not rows:
                    continue
                text, _, _ = render_man(tool, page)
                lines = text.splitlines()
                for first, last in rows:
                    with self.subTest(tool=tool, page=page.name, row=last):
                        hits = [ln for ln in lines if re.search(
                            r"\S {2,}%s$" % re.escape(last), ln)]
                        self.assertTrue(hits, "%s: no line ends with the "
                                        "column %r after a gap" % (tool,
                                                                   last))

    def test_the_escapes_table_is_checked(self):
        # the table that lost a column: its rows are among those checked
        rows = [r[1] for r in column_rows(CONF_MAN.read_text())]
        self.assertIn("a space", rows)
        self.assertIn("a double quote", rows)


class TestConfigFiles(unittest.TestCase):
    def test_example_config_passes(self):
        for args in ([], ["--mime-types", "conf/mime.types"]):
            r = run([BIN, "check-config", "-c", "conf/tinyweb.conf"] + args,
                    cwd=ROOT)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "")

    def test_example_config_names_every_directive(self):
        text = CONF.read_text()
        for name in man_directives(CONF_MAN.read_text()):
            self.assertRegex(text, r"(?m)^#?%s\b" % re.escape(name), name)
        # include and types are shown working, not only described
        self.assertRegex(text, r"(?m)^include \S")
        self.assertRegex(text, r"(?m)^types \{")

    def test_output_reads_back_the_same(self):
        cases = [
            ("conf/tinyweb.conf", []),
            ("conf/tinyweb.conf", ["--mime-types", "conf/mime.types", "-q",
                                   "-p", "0", "-b", "::1",
                                   "--add-header", "X-Q: \"a\" \\ b",
                                   "--expires", "max", "--log-format",
                                   "json", "--log-level", "debug",
                                   "--workers", "3", "--keepalive-timeout",
                                   "1500ms", "--max-request-body", "3k",
                                   "--user", "root:root", "--pidfile",
                                   "x.pid"]),
        ]
        for conf, args in cases:
            with self.subTest(args=args):
                r1 = run([BIN, "check-config", "-c", conf] + args, cwd=ROOT)
                self.assertEqual(r1.returncode, 0, r1.stderr)
                with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
                    f.write(r1.stdout)
                    f.flush()
                    r2 = run([BIN, "check-config", "-c", f.name], cwd=ROOT)
                self.assertEqual(r2.returncode, 0, r2.stderr)
                self.assertEqual(r2.stdout, r1.stdout)

    def test_mime_types_file(self):
        seen = {}
        ntypes = 0
        for n, line in enumerate(MIME.read_text().splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            ntypes += 1
            self.assertRegex(words[0], r"^[A-Za-z0-9!#$&^_.+-]+/"
                             r"[A-Za-z0-9!#$&^_.+-]+$", "line %d" % n)
            for ext in words[1:]:
                self.assertRegex(ext, r"^[A-Za-z0-9._+-]{1,31}$",
                                 "line %d" % n)
                self.assertNotIn(ext.lower(), seen,
                                 "line %d: %s already on line %s"
                                 % (n, ext, seen.get(ext.lower())))
                seen[ext.lower()] = n
        for ext in ("html", "css", "js", "json", "svg", "png", "woff2",
                    "wasm", "mp4", "pdf"):
            self.assertIn(ext, seen)

    def test_config_error_is_one_line_and_status_1(self):
        rows = [
            ("index a;\nbogus on;\n", 2, "unknown directive"),
            ("index a\n", 1, "';'"),
            ("\n\nkeepalive_timeout 1x;\n", 3, "duration"),
            ("index a;\nindex b;\n", 2, "duplicate"),
            ("listing maybe;\n", 1, "on or off"),
            ("index \"a;\n", 1, "unterminated"),
            ("types { text/x a;\n", 1, "block 'types' is not closed"),
            ("include missing.conf;\n", 1, "missing.conf"),
            ("include t.conf;\n", 1, "loop"),
            ("max_request_body 1q;\n", 1, "size"),
        ]
        for conf, line, what in rows:
            with self.subTest(conf=conf):
                r = check_config(conf)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertEqual(r.stdout, "")
                lines = r.stderr.splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertRegex(lines[0], r"^tinyweb: \S*t\.conf:%d: .*%s"
                                 % (line, re.escape(what)))


class TestReadme(unittest.TestCase):
    def test_names_every_flag_and_command(self):
        text = (ROOT / "README.md").read_text()
        for flag in help_flags().long | COMMANDS:
            self.assertRegex(text, r"(?<![\w-])%s(?![\w-])"
                             % re.escape(flag), flag)

    def test_shows_every_command_in_use(self):
        text = (ROOT / "README.md").read_text()
        for cmd in COMMANDS:
            self.assertRegex(text, r"(?m)^tinyweb %s " % re.escape(cmd), cmd)
        for sig in SIGNALS:
            self.assertIn("`%s" % sig[3:], text, sig)

    def test_usage_block_is_the_help(self):
        text = (ROOT / "README.md").read_text()
        self.assertIn("```\n" + help_output().stdout + "```\n", text)


def fetch(port, query="", accept=None):
    req = urllib.request.Request("http://127.0.0.1:%d/status%s"
                                 % (port, query))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()


def json_keys(v, prefix=""):
    """Dotted keys of a JSON value; list items as NAME[]."""
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(prefix + k)
            out |= json_keys(x, prefix + k + ".")
    elif isinstance(v, list):
        for x in v:
            out |= json_keys(x, prefix)
    return out


class TestStatusDocs(unittest.TestCase):
    """The status page's keys and metrics, read from a running server, are
    all in the man page and the README."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with Server(cls.tmp.name, "--status", "/status") as srv:
            cls.text = fetch(srv.port)
            cls.json = json.loads(fetch(srv.port, "?format=json"))
            cls.prom = fetch(srv.port, "?format=prometheus")
        cls.man = man_section(MAN.read_text(), "STATUS")
        cls.readme = (ROOT / "README.md").read_text()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_stub_status_layout_is_documented(self):
        # The documented example has the live page's shape, blanks too.
        shape = re.sub(r"\d+", "N", self.text)
        block = self.man.split("Active connections:", 1)[1]
        block = "Active connections:" + block.split("\n.Ed\n", 1)[0] + "\n"
        self.assertEqual(re.sub(r"\d+", "N", roff_text(block)), shape)
        self.assertEqual(shape, "Active connections: N \nserver accepts "
                         "handled requests\n N N N \nReading: N Writing: N "
                         "Waiting: N \n")
        # The README shows the same lines (indented in a list item).
        lines = [l.strip("\n") for l in shape.splitlines()]
        for line in lines:
            self.assertRegex(re.sub(r"\d+", "N", self.readme),
                             r"(?m)^ *%s$" % re.escape(line), line)

    def test_json_keys_are_documented(self):
        keys = json_keys(self.json)
        self.assertIn("workers.pid", keys)
        for key in keys:
            leaf = key.rsplit(".", 1)[-1]
            self.assertRegex(self.man, r"(?<![\w-])%s(?![\w-])"
                             % re.escape(leaf), key)
            self.assertRegex(self.readme, r"`%s`" % re.escape(leaf), key)

    def test_prometheus_metrics_are_documented(self):
        names = set(re.findall(r"(?m)^# TYPE (\S+) ", self.prom))
        self.assertIn("tinyweb_requests_total", names)
        for name in names:
            self.assertRegex(self.man, r"(?<![\w-])%s(?![\w-])"
                             % re.escape(name), name)
            self.assertRegex(self.readme, r"(?<![\w-])%s(?![\w-])"
                             % re.escape(name), name)

    def test_scrape_examples(self):
        for text in (self.man, self.readme):
            self.assertIn("scrape_configs:", text)
            self.assertIn("format: [prometheus]", text)
            self.assertIn("?format=prometheus", text)
            self.assertIn("application/json", text)


if __name__ == "__main__":
    unittest.main()
