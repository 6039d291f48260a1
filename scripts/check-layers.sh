#!/bin/sh
# Fail if a module includes a module of a higher layer. A module's layer is
# its folder under modules/ (modules/README.md): the order of LAYERS below,
# lowest first. Includes name the folder ("net/conn.h"), so the rule reads
# off each #include line.
cd "$(dirname "$0")/.." || exit 2
LAYERS="base net parse http run front"
rank() {
	i=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
}
status=0
for d in modules/*/; do
	d=${d%/}; d=${d#modules/}
	[ -n "$(rank "$d")" ] && continue
	echo "check-layers: modules/$d is not a layer ($LAYERS)"; status=1
done
for f in modules/*/*.c modules/*/*.h; do
	dir=${f#modules/}; dir=${dir%%/*}
	lf=$(rank "$dir")
	[ -n "$lf" ] || continue
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		*/*) ;;
		*)	# a module's own internal header, beside it
			if [ -f "modules/$dir/$inc" ]; then continue; fi
			echo "check-layers: $f includes \"$inc\" without its layer folder"
			status=1; continue ;;
		esac
		li=$(rank "${inc%%/*}")
		if [ -z "$li" ] || [ ! -f "modules/$inc" ]; then
			echo "check-layers: $f includes unknown module $inc"; status=1
		elif [ "$li" -gt "$lf" ]; then
			echo "check-layers: $f (${dir}) includes $inc (${inc%%/*})"
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "check-layers: ok"
exit $status
