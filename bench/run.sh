#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tinyweb's benchmark (make bench): tinyweb, nginx, h2o, lighttpd and a
# bare epoll responder side by side on 127.0.0.1, loaded by wrk and (rows
# h and i) bench/hammer.c, tinyweb's modes beside the blocking designs of
# bench/blocking.c, and tinyweb proxy beside nginx proxy_pass and HAProxy,
# tinyweb, nginx and h2o over HTTPS, and their on-the-fly gzip. See
# bench/README.md.
#
#   bench/run.sh [--quick] [--runs N]
#                [--only one,every,designs,proxy,tls,compress]
#                [--rows abcdefghijpqtuvz] [--idle N] [--no-install]
#   TINYWEB_BIN=old TINYWEB_BIN_B=new bench/run.sh ...   (two builds)
#
# This script installs what is missing (Debian packages), builds the
# responder, hammer, the blocking designs and the allocator
# micro-benchmark, makes a work directory and hands over to
# bench/bench.py. Whatever is started is recorded by pid in WORK/pids and
# stopped on exit, even when bench.py dies.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
OUT=build/bench
QUICK=
INSTALL=1
PYARGS=()
ONLY=one,every,designs,proxy,tls,compress

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1; PYARGS+=(--quick) ;;
	--only) ONLY=$2; PYARGS+=("$1" "$2"); shift ;;
	--idle|--rows|--runs) PYARGS+=("$1" "$2"); shift ;;
	--no-install) INSTALL= ;;
	-h|--help)
		sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

# ---- tools: nginx, h2o, lighttpd, haproxy, wrk (and taskset, python3)
# from Debian packages; the designs table alone needs none of the servers,
# the proxy table nginx and haproxy only, the TLS table nginx, h2o and the
# openssl command (the certificate, and s_time for new connections).
tools="wrk:wrk taskset:util-linux python3:python3 cc:gcc"
case ,$ONLY, in
*,one,*|*,every,*) tools="nginx:nginx h2o:h2o lighttpd:lighttpd $tools" ;;
*,tls,*|*,compress,*) tools="nginx:nginx h2o:h2o $tools" ;;
esac
case ,$ONLY, in
*,tls,*) tools="openssl:openssl $tools" ;;
esac
case ,$ONLY, in
*,proxy,*)
	case " $tools " in
	*" nginx:nginx "*) ;;
	*) tools="nginx:nginx $tools" ;;
	esac
	tools="haproxy:haproxy $tools" ;;
esac
missing=()
for pair in $tools; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ -z "$INSTALL" ]; then
		echo "bench: missing ${missing[*]} (and --no-install)" >&2
		exit 1
	fi
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	# apt-get update only when the package lists cannot offer them.
	for p in "${missing[@]}"; do
		if ! apt-cache policy "$p" 2>/dev/null |
			grep -q 'Candidate: [0-9]'; then
			echo "bench: apt-get update" >&2
			$SUDO apt-get update -qq
			break
		fi
	done
	echo "bench: installing ${missing[*]}" >&2
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
fi

# ---- binaries
# TINYWEB_BIN: another build to measure; TINYWEB_BIN_B: a second build
# measured beside it in the one-worker and every-core tables (an A/B run
# of a change). Their columns are labelled TINYWEB_LABEL and
# TINYWEB_LABEL_B (default tinyweb and tinyweb-b).
TW=${TINYWEB_BIN:-build/tinyweb}
[ -x "$TW" ] || make -s all
TWARGS=(--tinyweb "$TW" --label "${TINYWEB_LABEL:-tinyweb}")
if [ -n "${TINYWEB_BIN_B:-}" ]; then
	if [ ! -x "$TINYWEB_BIN_B" ]; then
		echo "bench: TINYWEB_BIN_B=$TINYWEB_BIN_B is not executable" >&2
		exit 2
	fi
	TWARGS+=(--tinyweb-b "$TINYWEB_BIN_B"
		--label-b "${TINYWEB_LABEL_B:-tinyweb-b}")
fi
mkdir -p "$OUT"
cc -O2 -o "$OUT/responder" bench/responder.c
cc -O2 -o "$OUT/hammer" bench/hammer.c
make -s bench-build
cc -std=gnu17 -D_GNU_SOURCE -O2 -Imodules -o "$OUT/malloc_vs_pool" \
	bench/malloc_vs_pool.c modules/base/pool.c

# ---- work directory: on a disk, so row g's page-cache eviction means
# something (a tmpfs root never leaves memory).
BASE=${TMPDIR:-/tmp}
if [ "$(stat -f -c %T "$BASE")" = tmpfs ]; then
	BASE=$TOP/$OUT
fi
WORK=$(mktemp -d "$BASE/tinyweb-bench.XXXXXX")
chmod 755 "$WORK"
touch "$WORK/pids"

PY=
cleanup() {
	local pid name
	# bench.py first: it stops its servers itself on TERM.
	if [ -n "$PY" ] && kill -0 "$PY" 2>/dev/null; then
		kill -TERM "$PY" 2>/dev/null || true
		wait "$PY" 2>/dev/null || true
	fi
	# Each line is "PID NAME"; a pid is signalled only while it still
	# runs the program we started under it.
	while read -r pid name; do
		[ -n "$pid" ] || continue
		if [ -d "/proc/$pid" ] &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			grep -q -e "$WORK" -e "$TOP"; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done <"$WORK/pids"
	sleep 0.3
	while read -r pid name; do
		[ -n "$pid" ] || continue
		if [ -d "/proc/$pid" ] &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			grep -q -e "$WORK" -e "$TOP"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$WORK/pids"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Row d holds 10,000 sockets in the client and in every server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# In the background, so a signal to this script runs the trap at once
# instead of after bench.py ends.
python3 bench/bench.py --work "$WORK" "${TWARGS[@]}" \
	--responder "$OUT/responder" --hammer "$OUT/hammer" \
	--blocking "$OUT/blocking" \
	--out "$OUT/results.md" \
	${PYARGS[@]+"${PYARGS[@]}"} &
PY=$!
rc=0
wait "$PY" || rc=$?
PY=
[ "$rc" -eq 0 ] || exit "$rc"

MVP=("$OUT/malloc_vs_pool")
[ -z "$QUICK" ] || MVP+=(--quick)
{
	echo
	echo "### Allocator: modules/base/pool.c against malloc (bench/malloc_vs_pool.c)"
	echo
	"${MVP[@]}"
} | tee -a "$OUT/results.md"
