#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The concurrency modes and prefork accept strategies side by side, with
# nginx at the same worker count: 1 KiB keep-alive at 50 and 500
# connections and one connection per request, median of 3 wrk runs each.
# Prints a Markdown table and appends it to build/bench/results.md.
#
#   bench/accept.sh [--quick] [WORKERS]     (default: one per CPU)
#
# Traffic stays on 127.0.0.1; every server is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3 SECS=2
if [ "${1:-}" = --quick ]; then RUNS=1 SECS=1; shift; fi
N=${1:-$(nproc)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tinyweb-accept.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

command -v wrk >/dev/null || { echo "accept.sh: wrk is missing (bench/run.sh installs it)" >&2; exit 1; }
[ -x build/tinyweb ] || make -s all
head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/1k.html"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$1/1k.html" && return 0
		sleep 0.1
	done
	echo "accept.sh: nothing answers on port $1" >&2
	return 1
}

# median of the wrk req/s over RUNS runs: ARGS = wrk options
measure() {
	local port=$1; shift
	for _ in $(seq "$RUNS"); do
		wrk -t2 -d"${SECS}s" "$@" "http://127.0.0.1:$port/1k.html" |
			awk '/Requests\/sec/ { print $2 }'
	done | sort -n | awk '{ a[NR] = $1 } END { printf "%d", a[int((NR + 1) / 2)] }'
}

row() {		# NAME START-COMMAND...
	local name=$1; shift
	local port; port=$(free_port)
	"$@" "$port" > "$WORK/$name.log" 2>&1 &
	PIDS+=("$!")
	local pid=$!
	wait_port "$port"
	local a50 a500 b
	a50=$(measure "$port" -c50)
	a500=$(measure "$port" -c500)
	b=$(measure "$port" -c50 -H 'Connection: close')
	kill "$pid"; wait "$pid" 2>/dev/null || true
	printf '| %s | %s | %s | %s |\n' "$name" "$a50" "$a500" "$b"
}

tw() {		# MODE-ARGS... PORT
	local port=${*: -1}
	# exec: the background job's pid is the server's, so row's kill and
	# the EXIT trap stop it (a subshell's pid left it running).
	exec build/tinyweb serve "$WORK" -q -b 127.0.0.1 -p "$port" \
		--max-connections 20000 "${@:1:$#-1}"
}

nginx_run() {
	local port=$1
	cat > "$WORK/nginx.conf" <<NGX
worker_processes $N;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 20000; }
http {
	access_log off; sendfile on; tcp_nopush on;
	open_file_cache max=10000 inactive=60s;
	keepalive_timeout 30s; keepalive_requests 1000;
	server { listen 127.0.0.1:$port; root $WORK; }
}
NGX
	exec nginx -c "$WORK/nginx.conf" -p "$WORK"
}

{
	echo
	echo "### Modes and accept strategies, $N workers each (req/s, median of $RUNS)"
	echo
	echo "| server | 1 KiB keep-alive, 50 conns | 500 conns | new connection per request |"
	echo "|---|---|---|---|"
	row "tinyweb prefork, accept exclusive" tw -m prefork -w "$N" --accept exclusive
	row "tinyweb prefork, accept reuseport" tw -m prefork -w "$N" --accept reuseport
	row "tinyweb prefork, accept mutex" tw -m prefork -w "$N" --accept mutex
	row "tinyweb prefork, accept mutex-file" tw -m prefork -w "$N" --accept mutex-file
	row "tinyweb prefork, accept mutex-sem" tw -m prefork -w "$N" --accept mutex-sem
	row "tinyweb threads, accept exclusive" tw -m threads -w "$N" --accept exclusive
	row "tinyweb threads, accept reuseport" tw -m threads -w "$N" --accept reuseport
	row "tinyweb threads, accept mutex" tw -m threads -w "$N" --accept mutex
	row "tinyweb threads, accept mutex-sem" tw -m threads -w "$N" --accept mutex-sem
	row "tinyweb epoll (1 worker)" tw -m epoll
	if command -v nginx >/dev/null; then
		row "nginx, worker_processes $N" nginx_run
	fi
} | tee -a build/bench/results.md
