#!/usr/bin/env bash
# Fetches util-linux's own test data from Debian's util-linux source package
# of the installed release and caches it: blkid's test images
# (tests/ts/blkid/images-fs and images-pt, decompressed), which the probe and
# preflight corpus tests read (blockdev/probe, safety), and lsblk's sysfs
# dumps with their expected outputs (tests/ts/lsblk, tests/expected/lsblk),
# which examples/lsblk's differential tests read. Nothing of it is
# committed to this repository (it is GPL data). Idempotent: a complete
# cache for the same source version exits at once.
#
# Cache: $EOS_STORAGE_UTIL_LINUX_TESTS, default /var/cache/eos-storage/util-linux-tests:
#   blkid/images-fs/*.img  blkid/images-pt/*.img   decompressed (sparse) images
#   blkid/expected/        util-linux's tests/expected/blkid/
#   lsblk/ts/              tests/ts/lsblk/ (the dumps stay .tar.xz, as the suite uses them)
#   lsblk/expected/        tests/expected/lsblk/
#   stamp                  the source version the cache holds
#
# Needs root (apt sources, apt-get), apt-get, dpkg-query, tar, xz, flock.
set -euo pipefail

cache="${EOS_STORAGE_UTIL_LINUX_TESTS:-/var/cache/eos-storage/util-linux-tests}"
export PATH="$PATH:/usr/sbin:/sbin"

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "util-linux-tests: not a Debian system; the corpus tests will skip" >&2
  exit 0
fi
# The source of the util-linux that is installed, so blkid and the images agree.
ver=$(dpkg-query -W -f='${source:Version}' util-linux 2>/dev/null || true)
[ -n "$ver" ] || { echo "util-linux-tests: util-linux is not installed" >&2; exit 2; }
want="util-linux=$ver layout=2"
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "util-linux-tests: $cache is missing or stale and preparing it needs root" >&2
  exit 2
fi
for tool in apt-get tar xz flock; do
  command -v "$tool" >/dev/null 2>&1 || { echo "util-linux-tests: needs $tool" >&2; exit 2; }
done

mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi

# A deb-src entry for the same archives as the binary entries, if none exists.
srclist=/etc/apt/sources.list.d/eos-storage-src.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # The entry of the release itself: the one whose Suites name its codename.
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  bin=$(grep -l "^Suites:.*\b${codename}\b" /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 || true)
  if [ -n "$bin" ]; then
    sed 's/^Types:.*/Types: deb-src/' "$bin" >"$srclist"
  else
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >"$srclist.list"
  fi
  apt-get update -q
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get source --download-only -q "util-linux=$ver" >/dev/null 2>apt.err; then
  apt-get update -q
  apt-get source --download-only -q "util-linux=$ver" >/dev/null
fi
orig=$(ls util-linux_*.orig.tar.* | head -n 1)
# util-linux_2.38.1.orig.tar.xz unpacks into util-linux-2.38.1/
top=$(basename "$orig" | sed 's/_\(.*\)\.orig\.tar\..*/-\1/')
tar xf "$orig" "$top/tests/ts/blkid/images-fs" "$top/tests/ts/blkid/images-pt" "$top/tests/expected/blkid" \
  "$top/tests/ts/lsblk" "$top/tests/expected/lsblk"

new="$cache.new"
rm -rf "$new"
mkdir -p "$new/blkid/images-fs" "$new/blkid/images-pt" "$new/lsblk"
for d in images-fs images-pt; do
  for f in "$top/tests/ts/blkid/$d"/*.img.xz; do
    # xz writes runs of zeros as holes: the corpus takes about 16 MiB on disk.
    xz -dc "$f" >"$new/blkid/$d/$(basename "$f" .xz)"
  done
done
cp -r "$top/tests/expected/blkid" "$new/blkid/expected"
cp -r "$top/tests/ts/lsblk" "$new/lsblk/ts"
cp -r "$top/tests/expected/lsblk" "$new/lsblk/expected"
chmod -R a+rX,a-w "$new"
echo "$want" >"$new/stamp"
rm -rf "$cache"
mv "$new" "$cache"
echo "util-linux-tests: $(ls "$cache/blkid/images-fs" | wc -l) filesystem and $(ls "$cache/blkid/images-pt" | wc -l) partition-table images, $(ls "$cache/lsblk/ts/dumps" | wc -l) lsblk dumps in $cache"
