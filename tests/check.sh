#!/bin/sh
# make check: unit tests (ASan+UBSan builds), the integration suite against
# the release binary and against the sanitizer binary, fuzz regressions,
# and the layering/header checks. Ends with one line "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
passed=0
failed=0
log=build/check.log
: > "$log"

# Count TAP lines of one suite's output; show failures in full.
tally() {
	name=$1 out=$2 rc=$3
	p=$(grep -c '^ok ' "$out")
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": not a
	# failure (the test said why it could not run, e.g. not root).
	f=$(grep '^not ok ' "$out" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed, or failed outside a test
		echo "not ok - $name exited with status $rc" >> "$out"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-28s %4d passed, %d failed\n' "$name" "$p" "$f"
	if [ "$f" -ne 0 ]; then
		grep -A15 '^not ok' "$out" | head -60
		tail -n 20 "$out"
	fi
	cat "$out" >> "$log"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in build/test/test_*; do
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$tmp" 2>&1
	tally "unit $(basename "$t")" "$tmp" $?
done

TINYWEB_BIN="$PWD/build/tinyweb" python3 tests/integration/run.py > "$tmp" 2>&1
tally "integration (release)" "$tmp" $?
TINYWEB_BIN="$PWD/build/tinyweb-asan" python3 tests/integration/run.py > "$tmp" 2>&1
tally "integration (asan)" "$tmp" $?
# The same HTTP suite in the other run modes (DESIGN: all three serve the
# same); the docs checks do not depend on the mode. Threads mode runs it
# with the aio pool off (the default is on), so both paths see it all.
for mode in prefork threads; do
	extra=
	[ "$mode" = threads ] && extra="--aio off"
	TINYWEB_MODE_ARGS="-m $mode -w 2 $extra" \
		TINYWEB_BIN="$PWD/build/tinyweb" \
		python3 tests/integration/run.py test_http.py test_paths.py \
		test_ranges.py test_conditional.py test_listing.py test_limits.py \
		test_robustness.py test_framing.py test_scopes.py \
		test_compress.py test_pages.py > "$tmp" 2>&1
	tally "integration ($mode)" "$tmp" $?
done

# Fuzz regressions and seeds: replay every kept input once.
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	p=${f##*/fuzz_}
	: > "$tmp"
	n=0
	for d in tests/fuzz/regression/$p tests/fuzz/corpus/$p; do
		[ -d "$d" ] || continue
		for input in "$d"/*; do
			[ -f "$input" ] || continue
			n=$((n + 1))
			if "$f" "$input" > /dev/null 2>&1; then
				echo "ok $n - $input" >> "$tmp"
			else
				echo "not ok $n - $input" >> "$tmp"
			fi
		done
	done
	tally "fuzz replay $p" "$tmp" 0
done

for c in check-layers check-headers; do
	if make -s "$c" > "$tmp" 2>&1; then
		echo "ok 1 - $c" >> "$tmp"; tally "$c" "$tmp" 0
	else
		echo "not ok 1 - $c" >> "$tmp"; tally "$c" "$tmp" 1
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
