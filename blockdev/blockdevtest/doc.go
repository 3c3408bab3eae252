// Package blockdevtest builds fake sysfs/proc/dev/run trees for tests of code
// that discovers block devices: ours, and any user's of blockdev.
//
// A Tree is laid out exactly as the kernel lays out sysfs: each device's
// directory lives under /sys/devices (behind its PCI function, ATA port, SCSI
// host and target, USB interface, NVMe controller, or under
// /sys/devices/virtual for loop, dm and md), partitions are subdirectories
// of their disk, /sys/block, /sys/class/block and /sys/dev/block hold
// relative symlinks to those directories, and stacking is recorded with
// holders/ and slaves/ links. Because of that, `lsblk --sysroot DIR` reads a
// Tree too, which is how our differential tests use it.
//
// Presets (SATA, NVMe, Virtio, USB, CDROM, Loop, DM, MD) build one device of
// a kind with the attributes its driver exposes; AddDisk and AddPartition
// build anything else; Set, Remove and WriteFile bend a tree into the broken
// shapes a robust reader must survive. Sample builds a whole machine.
//
// Methods record the first error and skip the rest (like bufio.Writer):
// check Err once at the end.
package blockdevtest
