#!/bin/sh
# Every module header must compile on its own (self-contained headers).
cd "$(dirname "$0")/.." || exit 2
cc=${1:-cc}; flags=${2:-}
status=0
for h in modules/*/*.h; do
	if ! printf '#include "%s"\n' "$h" | $cc $flags -x c -fsyntax-only - ; then
		echo "check-headers: $h does not compile alone"; status=1
	fi
done
[ $status -eq 0 ] && echo "check-headers: ok"
exit $status
