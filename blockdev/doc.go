// Package blockdev discovers the block devices of a Linux system and how they
// stack, as lsblk shows them, without running a process.
//
// Discover reads sysfs (and /proc/self/mountinfo, /proc/swaps, and the udev
// database where one exists) through one root seam, so the same code reads the
// live system or a fake tree built with blockdevtest (WithRoot, like lsblk
// --sysroot). The result is a Graph keyed by major:minor: a partition is a
// child of its disk, a device-mapper or md device a child of every device it
// is built on (sysfs holders), and a device with several parents appears under
// each of them in a tree listing.
//
// # Facts, absence and errors
//
// Every fact comes from sysfs attributes and links, never from device names:
// the type from the dm/, md/ and loop/ directories and the SCSI peripheral
// type, the transport from the SCSI host class or the device's subsystem
// link, hotplug from the buses on the device path. An attribute the kernel
// lacks is absent (nil pointer or empty string), never placeholder text. An
// attribute that exists but cannot be read or parsed is absent too, and an
// *AttrError (matching ErrAttribute) is added to Device.Errs; discovery goes
// on with the next attribute and the next device.
//
// A disk whose sysfs directory cannot be opened or listed is still listed,
// with an *AttrError (Attr ".") that also matches ErrPartitions: its
// partitions are unknown, not absent.
//
// # Failed reads are not empty tables
//
// Mounts come from /proc/self/mountinfo and swap from /proc/swaps. When one
// of them cannot be read (or mountinfo has a line that cannot be parsed),
// discovery carries on and Graph.Errs holds an error matching ErrMounts or
// ErrSwaps. A caller must then conclude nothing from a
// device having no Mounts (or Swap false): it may well be mounted (or swap).
// Anything that decides a device is unused, such as a preflight check before
// a destructive operation, treats a non-empty Graph.Errs as "in use unknown"
// and refuses or reads the tables itself. A missing /proc/swaps is not an
// error (a kernel built without swap support has none); a missing mountinfo
// is.
//
// A Scanner reports the same way. In a Watch, each event's snapshot keeps
// the Errs of the snapshot before it (devices read under a failed table
// keep what they were read with) and adds the failures of its own reads;
// an event whose disk could not be read again because /sys/block could not
// be opened leaves that disk as it was and adds an error matching
// ErrNoDevices. A resync (Event.Resync) starts again from a full discovery
// and its Errs.
//
// # Partition tables and udev properties
//
// Device.PTType and PTUUID name the partition table of a device: its own,
// or for a partition without one, the table that holds its entry, with its
// disk's identifier, as udev (which imports a disk's ID_PART_TABLE_*
// properties into its partitions) and lsblk report them. They come from the
// signature probe, or from the udev properties of a device that was not
// probed.
//
// Device.Udev holds the device's record in the udev database where one
// exists. In a fake tree it also holds the property file lsblk --sysroot
// reads, kept where the device's node would be (DIR/dev/sda,
// DIR/dev/mapper/NAME): KEY=VALUE lines, as util-linux's lsblk test dumps
// record udevadm info --query=property (blockdevtest.Tree.PropertyFile). An
// empty /dev entry, one over 1 MiB or one holding a NUL byte (a probe image)
// has no properties.
//
// # Signature probing and hung devices
//
// With probing on (the default on the live system), every device with a size
// is probed for filesystem and partition-table signatures by blockdev/probe,
// in a pool of WithProbeWorkers workers, each device under a deadline of
// WithProbeTimeout. A read from a hung device cannot be interrupted, so a
// device that does not answer in time gets a ProbeError matching
// ErrProbeTimeout and its probe goroutine is abandoned: it holds its file
// descriptor until the kernel completes or fails the read, then exits. It
// never blocks Discover.
//
// # Watching
//
// Watch opens the kernel's uevent socket (blockdev/uevent), discovers once,
// then turns each block add, change or remove into an Event carrying a new
// Graph snapshot: only the disk the event concerns is read again (with its
// partitions, holders and slaves), the rest of the graph is shared with the
// previous snapshot, and no published snapshot or Device is ever modified.
// When the kernel drops events (socket overrun) the next Event is a full
// rediscovery marked Resync. Mounts have no uevents: a device's mountpoints
// are current as of the last event that touched its disk.
//
// # Cost
//
// Each attribute is one bounded read of one file. One listing of each disk's
// directory finds its partitions and tells which optional attributes exist,
// so an absent attribute costs nothing. Queue attributes and ro/rm of a
// partition are taken from its disk rather than read again.
//
// Files and directories opened per device for the default attribute set
// (udev off, probing off), counted by TestOpensPerDevice:
//
//	SATA disk         30   (13 of them in queue/)
//	USB disk          28
//	CD-ROM            29
//	NVMe disk         27
//	virtio disk       25
//	loop device       24
//	dm device         25
//	partition          8
//
// A disk's device directory (the device behind the disk) is listed once,
// and of the identity attributes named for SCSI devices (type, model,
// vendor, rev, serial, wwid) only those it has are read: a virtio device
// has only a vendor, an NVMe controller a model and a serial, and a failed
// open through the device link costs the kernel most of a successful one.
// (With the hardware group off only device/type is read, without a
// listing.)
//
// Add one open each of /proc/self/mountinfo and /proc/swaps per Discover,
// one udev record per device where a udev database exists, and in a fake
// tree a stat of each device's /dev entry and a read of those that hold
// properties. With WithAttributes(0) (the core only: names, numbers, type,
// size, ro, rm, stacking, mounts) a SATA disk costs 9 and a partition 6.
//
// The groups the default leaves out cost, when asked for (TestOpensPerGroup):
// AttrQueueExtra 2 files per disk, AttrZones 6 per disk, AttrState 1 per
// disk (device/state where the device has one, dm/suspended for
// device-mapper), AttrSubsystems one readlink per directory from a disk up
// to /sys/devices (those between a disk and its device skipped, and its
// device's read already with the hardware group) and one per partition,
// AttrNode one stat per device and, when some device has a node, one read
// each of the root's /etc/passwd and /etc/group per Discover. A partition's
// queue attributes come from its disk, free. Identity attributes are read
// once, as the kernel shows them (Device.SysfsIdentity), and trimmed for
// Model, Vendor, Revision and Serial.
//
// WithEmpty(false) leaves out devices of size zero, as lsblk -A does; an
// empty disk then costs one open (its size) instead of twenty-odd.
// WithDetachedLoops(false) leaves out loop devices with no backing file, as
// lsblk does without -a: on the live system one read of /proc/diskstats
// tells the loop devices among all entries, and each then costs one
// fstatat (of its loop/ directory, which exists only while a file is
// bound). A device's own number always comes from its dev attribute, read
// with its other attributes, never from that table, which may be older
// than the device (a partition table rewritten between the two reads);
// but for a detached loop device read in brief, whose number follows from
// its name.
//
// WithBriefDetachedLoops lists detached loop devices (the loop major, no
// loop/ directory, size zero) with only what makes them one: name, number,
// sysfs path, size, type, removable false and, with the hardware group,
// transport and hotplug; not ro, diskseq or any queue attribute. Each
// costs a readlink and an fstatat (its loop/), its number coming from one
// read of /proc/diskstats and its zero size from one of /proc/partitions
// (which lists only devices whose size is not zero) for all of them,
// instead of twenty-odd reads (TestBriefDetachedLoopsOpens). Anything that
// only looks detached is read in full. AttrRotational reads
// queue/rotational alone, for a caller that wants no other queue limit.
//
// Attributes are read with openat(2) relative to the disk's open directory
// (internal/sysfs.Dir): one open, one read and one close per attribute, and
// no walk of the long /sys/devices path for each file.
//
// Those opens are nearly all of Discover's time. The kernel spends about
// 8 µs of CPU to open, fill and release one sysfs attribute on the machines
// this was measured on (the same in C as in Go), so a disk costs about
// 0.2 ms of CPU. Disks are read by as many goroutines as there are CPUs (at
// most four, the caller being one), each taking the next disk into a
// record of its own, the physical disks first (names are taken from the
// end: dm-*, loop* and md* sort before nvme*, sd* and vd*). Reading
// /proc/self/mountinfo and /proc/swaps is one more item of that queue,
// taken after each worker's first disk. The graph is built from the
// records in name order, so the result does not depend on which one
// finished first.
//
// A second CPU is slow to join on the two-CPU virtual machines this was
// measured on: the first helper is started before /sys/block is even
// listed, and still starts working 50 µs later at the median (p90 150 µs)
// when Discover runs back to back. After the machine was idle for a few
// milliseconds the guest's scheduler places the woken helper on the CPU of
// the caller nine times in ten, where it runs only when the caller is done:
// Discover is then as slow as one reader.
//
// Against exec'ing lsblk -J -O -b on such a machine (one virtio disk, a
// zram disk and eight detached loop devices, the same devices on both
// sides, Discover with its default groups) Discover is about 8x faster
// (BenchmarkDiscoverLive, which
// runs lsblk after every fifth call; measured apart, each of the four calls
// after an lsblk run is slower than calls back to back without lsblk runs,
// about 800 against 515 µs at the median, as the hypervisor leaves the
// second CPU asleep for a while). One call after 5 ms of idleness is about
// 5x faster than one lsblk run after the same (BenchmarkDiscoverLiveIdle).
// Reading every group as lsblk -O does (AttrAll: a stat of each node, the
// zone limits, the subsystem walk) costs more opens per disk and lowers
// the ratio (BenchmarkDiscoverLiveEvery).
//
// The kernel's share of the work is a floor, and
// BenchmarkDiscoverLiveFloor measures it: it records with strace the
// system calls of one Discover (177 on that machine: 52 opens, 50 closes,
// 47 reads, 12 directory reads, 9 fstatat, 6 readlink, 1 statfs) and
// replays exactly those, with no parsing and no graph, against the same
// lsblk runs. The replay measures about 9x (8.7-9.5x by mean in six runs
// where Discover measured 7.8-8.2x): Discover's own code costs some 10-15%
// on top of the calls it cannot avoid, and no Go program that makes those
// calls reaches 10x there (a replay in C measured 9.4-10.4x).
//
// A caller that discovers again and again (an exporter, an inventory loop)
// uses a Scanner: it keeps the attribute files open and reads them again
// from offset 0, which costs the kernel about a fifth of opening them (1.7
// against 8.8 µs of CPU measured from C), while still listing every
// directory each time and reopening any file whose device has gone (ENODEV).
// With lsblk's default device set it measures 10.6-11.2x against the same
// lsblk -J -O -b runs (BenchmarkScannerLiveDefault).
package blockdev
