#!/bin/sh
# Fail if a module includes a module of a higher layer (scripts/layers.txt).
cd "$(dirname "$0")/.." || exit 2
status=0
layer() { awk -v m="$1" '$1 == m { print $2 }' scripts/layers.txt; }
for f in modules/*.c modules/*.h; do
	m=$(basename "$f"); m=${m%.*}; m=${m%_internal}
	lm=$(layer "$m")
	if [ -z "$lm" ]; then
		echo "check-layers: $f: module '$m' has no layer in scripts/layers.txt"
		status=1; continue
	fi
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f"); do
		li=$(layer "$inc")
		if [ -z "$li" ]; then
			echo "check-layers: $f includes unknown module $inc"; status=1
		elif [ "$li" -gt "$lm" ]; then
			echo "check-layers: $f (layer $lm) includes $inc.h (layer $li)"
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "check-layers: ok"
exit $status
