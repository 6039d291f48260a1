#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs on Debian what tinyweb's build and tests need, and only what is
# missing: the compiler and make, pkg-config, libmagic, OpenSSL 3,
# libdeflate, libbrotli and libzstd, libcrypt (the server), cmocka (unit
# tests), curl, the openssl command, python3 and python3-websockets
# (integration tests: a real WebSocket client through the proxy),
# apache2-utils (htpasswd, for the access control tests), chromium and
# two fonts (the listing's browser test), testssl.sh (the HTTPS audit
# test), systemd (systemd-analyze and systemd-socket-activate, for
# test_systemd), mandoc, groff-base and man-db (the man pages rendered as
# people read them), clang and its runtime libraries (libFuzzer,
# sanitizers).
#
#   scripts/deps.sh           install what is missing (apt-get update first)
#   scripts/deps.sh --check   list what is missing, exit 1 if anything is
#   scripts/deps.sh --deb     also what make deb and make check-deb need:
#                             debhelper, dpkg-dev, fakeroot, lintian and
#                             debootstrap (make check does not need them)
#
# Running it again when everything is there changes nothing and asks the
# network nothing.
set -euo pipefail

usage()
{
	echo "usage: $0 [--check] [--deb]" >&2
	exit 2
}

check=0
deb=0
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	--deb) deb=1 ;;
	*) usage ;;
	esac
done

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: no dpkg/apt-get: this script knows Debian only; install by hand:" >&2
	echo "  a C17 compiler, make, pkg-config, libmagic, OpenSSL 3 (libssl), libdeflate, libbrotli, libzstd, cmocka, curl, openssl, python3, testssl.sh, clang with its sanitizer/libFuzzer runtime" >&2
	exit 1
fi

# libFuzzer and the sanitizer runtimes come in a package named after
# clang's major version (libclang-rt-14-dev on Debian 12). Follow the
# installed clang; before clang is installed, assume Debian 12's.
clang_major=14
if command -v clang >/dev/null 2>&1; then
	v=$(clang -dumpversion 2>/dev/null || true)
	[[ ${v%%.*} =~ ^[0-9]+$ ]] && clang_major=${v%%.*}
fi

packages=(
	build-essential gcc make pkg-config
	libmagic-dev libssl-dev libcmocka-dev
	# on-the-fly compression: gzip (libdeflate), br, zstd
	libdeflate-dev libbrotli-dev libzstd-dev
	curl openssl python3 python3-websockets
	# test_oneliner compares the start-up URLs with `ip -o addr` (not in
	# Debian's container images)
	iproute2
	# test_tls_audit scans the HTTPS server with it (it skips without)
	testssl.sh
	# auth_basic_user_file's hashes (bcrypt, SHA-crypt) are checked by
	# libcrypt; test_auth makes its user files with htpasswd
	libcrypt-dev apache2-utils
	# test_listing_browser renders listings in headless Chromium (it
	# skips without); the fonts give emoji and Chinese names real widths
	chromium fonts-noto-color-emoji fonts-wqy-zenhei
	# test_systemd: systemd-analyze verify on the units, and
	# systemd-socket-activate (no running systemd needed)
	systemd
	# test_docs renders the man pages with both formatters people use
	mandoc groff-base man-db
	clang "libclang-rt-$clang_major-dev"
)
# make deb (dpkg-buildpackage, dh, lintian) and make check-deb (a
# debootstrapped chroot); asked for with --deb only.
if (( deb )); then
	packages+=(debhelper dpkg-dev fakeroot lintian debootstrap)
fi

installed()
{
	dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
	(( check )) || echo "deps.sh: all build and test dependencies are installed"
	exit 0
fi

if (( check )); then
	echo "deps.sh: missing: ${missing[*]}" >&2
	exit 1
fi

as_root=()
if (( EUID != 0 )); then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo)
	else
		echo "deps.sh: missing ${missing[*]}, and not root with no sudo to install them" >&2
		exit 1
	fi
fi

echo "deps.sh: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"

# Say so when apt-get succeeded and still left something out.
still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if (( ${#still[@]} )); then
	echo "deps.sh: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "deps.sh: installed ${missing[*]}"
