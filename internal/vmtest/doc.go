// Package vmtest is the VM test tier: it boots a QEMU guest with a real
// Debian kernel and real SATA, NVMe, SCSI, USB (and virtio-blk) disks, runs
// a shell script in it, and returns what the script printed. It exists for
// what the host kernel cannot show: SMART through real ATA and NVMe
// drivers, per-transport sysfs trees, device-mapper (LVM thin pools,
// snapshots, activation), md raid, and a kernel that parses partition tables.
//
// # Running it
//
//	go test -race ./internal/vmtest/ ./blockdev/smart/
//
// as root on a Debian machine. It needs qemu-system-x86, kmod, busybox-static
// and apt-get (scripts/install-test-deps.sh installs the packages). The first
// run calls scripts/vm-assets.sh, which downloads the Debian kernel package
// once and caches the kernel (also uncompressed, so QEMU starts it through
// its PVH entry and skips ten seconds of decompression), the storage modules
// with a modules.dep and a static busybox in /var/cache/eos-storage/vm
// (override with EOS_STORAGE_VM_CACHE); later runs find the cache in
// milliseconds. A boot takes 8-30 s under TCG depending on how busy the 2
// host cores are; loading the filesystem and device-mapper modules adds
// about ten, so tests that only need disks pass DriverModules() (the guest
// kernel still loads a filesystem module by itself on mount). Without QEMU or assets
// the tests skip, and fail under EOS_STORAGE_STRICT=1; -short skips them.
//
// # What a run does
//
// Run validates the Config, creates a sparse image per Disk in a temporary
// directory, and writes an initramfs (newc cpio, written in Go so
// /dev/console is a real device node without mknod rights) holding busybox,
// the modules, the Config's Files (static Go binaries: BuildGo builds them
// with CGO_ENABLED=0), its Tools (host programs such as smartctl, lsblk, lvm,
// copied to their host paths with every library ldd lists and the dynamic
// loader), the script, and an init. The init mounts proc, sysfs, devtmpfs,
// devpts and tmpfs, modprobes the module list, waits until as many disks as
// the Config names appear in /sys/block, runs the script and powers off.
//
// The script's stdout and stderr each have a serial port to themselves
// (ttyS1 and ttyS2, raw mode), framed by begin and end markers that carry a
// random per-run nonce and the exit status; the kernel console (ttyS0) is
// kept apart in Result.Console for diagnosis. So output is byte-exact: no
// kernel message lands in it, no \r is added, and the script cannot forge
// its end. A guest that dies before the end marker (a kernel panic exits
// QEMU at once: panic=-1 with -no-reboot) returns ErrNoOutput with what the
// script printed so far; a non-zero exit returns the output with a
// *ScriptError.
//
// Disk.Options passes extra QEMU device properties, for example
// smart_critical_warning=4 on an NVMe disk to make it report a failing
// drive (blockdev/smart's VM test does this). Assets.HasModule tells
// whether the cache carries a module beyond the usual list, so a test can
// add it to Config.Modules where it exists (blockdev/smart loads scsi_debug,
// a SCSI target with log pages, when the cache has it).
//
// # Hazards
//
//   - Always TCG (-accel tcg) with one CPU: KVM exists on these machines but
//     the guest hangs at boot.
//   - QEMU runs in its own process group; cancelling the context (or the
//     Config's Timeout, 3 minutes by default) kills the group, and the
//     temporary directory is removed whatever happens.
//   - The guest has no udev: lsblk inside prints sysfs's space-padded model
//     and no serial for SATA/SCSI (it takes those from udev), just as on the
//     host.
//   - QEMU cannot give NVMe or USB disks a model; NVMe needs a serial.
//   - Two runs at once cost two busy host cores: tests in this tier do not
//     call t.Parallel.
package vmtest
