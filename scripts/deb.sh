#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make deb: builds the Debian package from a copy of the source tree under
# build/deb/src (dpkg-buildpackage writes into the parent directory of the
# tree it builds, and debian/ fills with build files: neither touches the
# checkout), runs lintian on it, and leaves the .deb, .buildinfo,
# .changes and lintian's report in build/deb/.
#
# Needs debhelper, dpkg-dev, fakeroot and lintian: scripts/deps.sh --deb.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^VERSION = //p' config.mk)
out=build/deb
src=$out/src/tinyweb-$version

for tool in dpkg-buildpackage dh fakeroot; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "deb.sh: no $tool: run scripts/deps.sh --deb" >&2
		exit 1
	fi
done

# The tree as git sees it (tracked and new files, not ignored ones), or
# everything but build/ outside a git checkout.
rm -rf "$out/src"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -C "$src" -xf -
else
	tar --exclude=./build -cf - . | tar -C "$src" -xf -
fi

rm -f "$out"/tinyweb_* "$out"/tinyweb-dbgsym_*
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
mv "$out"/src/tinyweb_* "$out"/src/tinyweb-dbgsym_* "$out"/ 2>/dev/null || true
rm -rf "$out/src"

deb=$(ls "$out"/tinyweb_"$version"_*.deb)
changes=$(ls "$out"/tinyweb_"$version"_*.changes)
if command -v lintian >/dev/null 2>&1; then
	# Errors fail the build; warnings are listed (README: Debian package).
	lintian --fail-on error --display-info "$changes" \
		> "$out/lintian.txt" 2>&1 || {
		cat "$out/lintian.txt" >&2
		echo "deb.sh: lintian reports errors (above)" >&2
		exit 1
	}
	cat "$out/lintian.txt"
else
	echo "deb.sh: no lintian: the package is not checked (scripts/deps.sh --deb)" >&2
fi
echo "deb.sh: $deb"
