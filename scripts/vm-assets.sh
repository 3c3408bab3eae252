#!/usr/bin/env bash
# Prepares the VM test tier's guest assets (internal/vmtest): a Debian kernel,
# the storage modules it needs with their dependencies and a modules.dep, and a
# static busybox. Idempotent: when the cache already matches this script's
# module list it exits at once without touching the network.
#
# Cache: $EOS_STORAGE_VM_CACHE, default /var/cache/eos-storage/vm. Layout:
#   vmlinuz            the kernel image
#   vmlinux            the same kernel uncompressed, when it could be extracted:
#                      QEMU boots its PVH entry directly, which skips about ten
#                      seconds of decompression under TCG
#   kver               its version (the directory name under lib/modules)
#   busybox            a statically linked busybox
#   modules/lib/modules/<kver>/...   the modules, modules.dep and friends
#   stamp              what the cache was built for; a mismatch rebuilds it
#
# Needs root (apt-get download into the cache, dpkg -x), apt-get, dpkg, depmod
# and modprobe (kmod), flock (util-linux). Concurrent runs serialise on a lock
# and the cache is swapped in whole, so a reader never sees half of it.
set -euo pipefail

cache="${EOS_STORAGE_VM_CACHE:-/var/cache/eos-storage/vm}"
export PATH="$PATH:/usr/sbin:/sbin"

# The storage drivers and filesystems the guest loads (TESTBED.md, VM tier).
# scsi_debug gives the smart tests a SCSI disk with real log pages.
# crc32c_generic and crc32_generic are soft dependencies of ext4 and btrfs
# that --show-depends does not list; sg gives smartctl and lsblk a generic
# SCSI node when they want one. vfat mounts need the code page and character
# set its defaults name (cp437, ascii; utf8 and iso8859-1 on request);
# quota_v2 and quota_tree are ext4's quota formats; dm_cache, dm_cache_smq
# and dm_raid back LVM's cache and raid LVs.
modules=(
  ahci nvme virtio_pci virtio_scsi virtio_blk sd_mod sg xhci_pci usb_storage
  dm_mod dm_thin_pool dm_snapshot raid1 loop ext4 xfs btrfs vfat
  crc32c_generic crc32_generic scsi_debug
  nls_cp437 nls_ascii nls_utf8 nls_iso8859_1 quota_v2 quota_tree
  dm_cache dm_cache_smq dm_raid
)
# Bump when the layout of the cache changes.
layout=2
want="layout=$layout modules=${modules[*]}"

if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ] &&
  [ -s "$cache/vmlinuz" ] && [ -x "$cache/busybox" ] && [ -s "$cache/kver" ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "vm-assets: $cache is missing or stale and preparing it needs root" >&2
  exit 2
fi
for tool in apt-get apt-cache dpkg dpkg-deb depmod modprobe flock; do
  command -v "$tool" >/dev/null 2>&1 || { echo "vm-assets: needs $tool" >&2; exit 2; }
done

mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
# Another run may have finished while this one waited for the lock.
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi

work="$(mktemp -d "$cache.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# Which kernel: the version linux-image-amd64 points at. Refresh the package
# lists once if apt knows none.
pkg_of_meta() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
kpkg="$(pkg_of_meta || true)"
if [ -z "$kpkg" ]; then
  apt-get update -q >&2
  kpkg="$(pkg_of_meta)"
fi
[ -n "$kpkg" ] || { echo "vm-assets: cannot resolve linux-image-amd64" >&2; exit 1; }

# apt-get download writes into the current directory; _apt cannot write into a
# root-only temp dir, so the sandbox warning is expected and harmless.
# A security update can retire the version stale lists point at: refresh
# the lists and resolve again before giving up.
if ! (cd "$work" && apt-get download -q "$kpkg" >&2); then
  apt-get update -q >&2
  kpkg="$(pkg_of_meta)"
  (cd "$work" && apt-get download -q "$kpkg" >&2)
fi
deb=("$work"/linux-image-*.deb)
mkdir "$work/root"
dpkg -x "${deb[0]}" "$work/root"
rm -f "${deb[@]}"

# Newer Debian kernels install modules under /usr/lib; depmod -b and modprobe
# -d look under lib/modules, so point that at wherever they are.
if [ ! -d "$work/root/lib/modules" ] && [ -d "$work/root/usr/lib/modules" ]; then
  mkdir -p "$work/root/lib"
  ln -s ../usr/lib/modules "$work/root/lib/modules"
fi
kver="$(ls "$work/root/lib/modules" 2>/dev/null | head -n1)"
[ -n "$kver" ] || { echo "vm-assets: no modules in $kpkg" >&2; exit 1; }
src="$work/root/lib/modules/$kver"

# A full modules.dep of the package lets modprobe resolve dependencies.
depmod -b "$work/root" "$kver"

out="$work/out"
dst="$out/modules/lib/modules/$kver"
mkdir -p "$dst"
declare -A seen=()
for m in "${modules[@]}"; do
  deps="$(modprobe -d "$work/root" -S "$kver" --show-depends "$m" 2>&1)" || {
    echo "vm-assets: module $m: $deps" >&2
    exit 1
  }
  while read -r verb path _; do
    [ "$verb" = insmod ] || continue # "builtin X" needs nothing
    rel="${path#"$work/root/lib/modules/$kver/"}"
    [ -n "${seen[$rel]:-}" ] && continue
    seen[$rel]=1
    mkdir -p "$dst/$(dirname "$rel")"
    cp "$path" "$dst/$rel"
  done <<<"$deps"
done
# busybox modprobe loads plain .ko files: decompress whatever the package
# shipped compressed.
find "$dst" -name '*.ko.xz' -exec xz -d {} +
find "$dst" -name '*.ko.zst' -exec zstd -q -d --rm {} +
find "$dst" -name '*.ko.gz' -exec gzip -d {} +
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$src/$f" ] && cp "$src/$f" "$dst/$f"
done
depmod -b "$out/modules" "$kver"

cp "$work/root/boot/vmlinuz-$kver" "$out/vmlinuz"
# Debian compresses the bzImage payload with xz. The uncompressed ELF carries
# a PVH entry note (Xen PHYS32_ENTRY) that QEMU can start directly. Best
# effort: without xz, or with another compressor, vmtest boots vmlinuz.
if command -v xz >/dev/null 2>&1; then
  off="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$out/vmlinuz" | head -n1 | cut -d: -f1 || true)"
  if [ -n "$off" ]; then
    # xz stops with an error at the trailing bytes after the stream; the
    # ELF magic check below decides whether the result is usable.
    tail -c +"$((off + 1))" "$out/vmlinuz" | xz -dcq >"$work/vmlinux" 2>/dev/null || true
    if [ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
      mv "$work/vmlinux" "$out/vmlinux"
    fi
  fi
fi
echo "$kver" >"$out/kver"

# busybox: the host's if it is static (busybox-static), else the package.
bb="$(command -v busybox || true)"
if [ -n "$bb" ] && ! ldd "$bb" >/dev/null 2>&1; then
  cp "$bb" "$out/busybox"
else
  (cd "$work" && apt-get download -q busybox-static >&2)
  mkdir "$work/bb"
  dpkg -x "$work"/busybox-static_*.deb "$work/bb"
  cp "$work/bb/bin/busybox" "$out/busybox"
fi
chmod 755 "$out/busybox"
echo "$want" >"$out/stamp"

# Swap the finished cache in whole.
if [ -d "$cache" ]; then
  mv "$cache" "$work/old"
fi
mv "$out" "$cache"
echo "vm-assets: kernel $kver, $(find "$cache/modules" -name '*.ko' | wc -l) modules in $cache" >&2
