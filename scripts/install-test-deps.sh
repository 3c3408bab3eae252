#!/usr/bin/env bash
# Installs what the test tiers need on a Debian machine of this kind. Idempotent:
# it installs only the packages that are missing and succeeds when all are there.
# Not root or no apt-get: it says so and leaves the tests to skip (or, under
# EOS_STORAGE_STRICT=1, to fail and name what is missing).
set -euo pipefail

# Real-kernel and differential tiers (TESTBED.md): filesystems, table tools,
# iostat, smartctl, lvm2, fio, bpftrace (the eBPF latency collector's oracle), a
# Prometheus server, and the VM tier's QEMU guest;
# and the makers of the formats the probe's differential tests check against
# blkid -p (md superblocks, exFAT, NTFS, F2FS, HFS, UDF, ISO 9660, ZFS).
pkgs=(
  util-linux fdisk gdisk parted e2fsprogs xfsprogs btrfs-progs dosfstools
  squashfs-tools cryptsetup-bin lvm2 sysstat smartmontools nvme-cli fio
  prometheus prometheus-node-exporter kmod busybox-static cpio xz-utils qemu-system-x86
  mdadm exfatprogs ntfs-3g f2fs-tools hfsutils mtools udftools xorriso genisoimage zfs-fuse
  udev bpftrace
  thin-provisioning-tools # thin_check/thin_dump for the lvm VM tier (thin pools, cache)
)

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: not root or no apt-get; privileged tiers will skip" >&2
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No package may start a service (zfs-fuse, mdadm's monitor): the tests start
# and stop the daemons they need themselves. policy-rc.d exit 101 tells
# invoke-rc.d "not now"; an existing one is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
