#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make fuzz-long: every harness at once, one niced process each, for
# SECONDS seconds of wall time. Each grows its own corpus under build/fuzz/
# (seeded from tests/fuzz/corpus/<name>) and keeps what crashes under
# build/fuzz/crashes-<name>/; a harness that crashes is started again on
# its corpus for the time left, so one bug does not end its run. At the end
# build/fuzz/long-report.txt has one line per harness: executions, exec/s,
# coverage (cov/ft), corpus size (libFuzzer's inputs/bytes, and the files
# on disk) and crashes. Logs: build/fuzz/long-<name>.log.
#
# usage: tests/fuzz/long.sh SECONDS NAME...
set -u

secs=$1
shift
out=build/fuzz
report=$out/long-report.txt

# One harness: runs until its time is spent, then writes its summary line.
run_one() {
	name=$1
	bin=$out/fuzz_$name
	corpus=$out/corpus-$name
	crashes=$out/crashes-$name
	log=$out/long-$name.log
	mkdir -p "$corpus" "$crashes"
	: > "$log"
	start=$(date +%s)
	execs=0
	runs=0
	while :; do
		left=$((secs - ($(date +%s) - start)))
		[ "$left" -gt 0 ] || break
		runs=$((runs + 1))
		echo "=== run $runs: ${left}s left" >> "$log"
		before=$(wc -l < "$log")
		# The seeds come second: new inputs go to the first directory.
		nice -n 19 "$bin" -max_total_time="$left" -timeout=25 \
			-print_final_stats=1 -artifact_prefix="$crashes/" \
			"$corpus" "tests/fuzz/corpus/$name" >> "$log" 2>&1
		rc=$?
		# executions: the final stats, or the last status line if a
		# crash cut the run short
		this=$(tail -n +"$((before + 1))" "$log")
		n=$(echo "$this" |
		    sed -n 's/^stat::number_of_executed_units: *//p')
		[ -n "$n" ] || n=$(echo "$this" | grep -E '^#[0-9]+' |
				   tail -n 1 | sed 's/^#\([0-9]*\).*/\1/')
		execs=$((execs + ${n:-0}))
		[ "$rc" -eq 0 ] && break
	done
	elapsed=$(($(date +%s) - start))
	[ "$elapsed" -gt 0 ] || elapsed=1
	# the last status line ("#N DONE cov: ... ft: ... corp: N/size")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	# the working corpus (inputs/bytes) and the files kept on disk,
	# reductions included
	corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	nfiles=$(find "$corpus" -type f | wc -l)
	ncrash=$(find "$crashes" -type f | wc -l)
	printf '%-12s %2s runs %10s execs %6s exec/s cov %5s ft %6s corpus %11s (%5s files) crashes %s\n' \
		"$name" "$runs" "$execs" "$((execs / elapsed))" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$nfiles" "$ncrash" \
		> "$out/long-$name.summary"
}

mkdir -p "$out"
echo "fuzz-long: $* for ${secs}s each, started $(date -u '+%F %T') UTC" > "$report"
for name in "$@"; do
	rm -f "$out/long-$name.summary"
	run_one "$name" &
done
wait
for name in "$@"; do
	cat "$out/long-$name.summary" >> "$report" 2>/dev/null ||
		echo "$name: no summary" >> "$report"
done
echo "finished $(date -u '+%F %T') UTC" >> "$report"
cat "$report"
# Crashes fail the target: each one wants a regression input and a fix.
! grep -qE 'crashes [1-9]' "$report"
