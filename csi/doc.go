// Package csi is a Container Storage Interface driver (spec v1.14): the
// Identity, Controller and Node services on one unix socket, over any
// plugin.Backend, with every format, mount, unmount, grow and backend
// change going through a Stack (the storage Engine's surface), so preflight,
// the journal and recovery apply to what the driver does.
//
// Controller: CREATE_DELETE_VOLUME (CSI names map to backend names by hash,
// so a repeat finds its volume with no driver state; volumes from
// snapshots), GET_CAPACITY (the largest volume that fits now: the pool's
// free bytes), EXPAND_VOLUME (never shrinks), LIST_VOLUMES and
// LIST_SNAPSHOTS with the spec's pagination (the token is an index in ID
// order; a bad one is Aborted), GET_VOLUME, CREATE_DELETE_SNAPSHOT, and
// GET/LIST_VOLUME_HEALTH. Spec 1.14 removed the alpha VOLUME_CONDITION
// (and NodeGetVolumeStats's condition with it); its replacement, volume
// health, carries what the condition would have. An empty list is
// healthy; at most one entry per status and reason (a second finding of
// the same kind joins the first's message):
//   - pool: a volume whose device is gone (INACCESSIBLE NotAttached), a
//     pool under 1% free (DEGRADED PoolFull);
//   - drives: the whole disks under the volume, walked in sysfs (a
//     partition's disk, slaves/ of an LV, md or dm-crypt, a loop device's
//     backing file's filesystem by st_dev, or by mountinfo for btrfs's
//     anonymous device numbers; a directory volume's filesystem the same
//     way), each judged by blockdev/smart (smart.Health: the drive's own
//     verdict, attributes at or past their thresholds, pending and
//     uncorrectable sectors, a failed self-test, NVMe critical warnings):
//     failing is DEGRADED DriveFailing, warning DEGRADED DriveWarning, the
//     message naming the drive (path, model, serial) and the findings. A
//     drive with no SMART (loop, zram, virtio-blk, a file on tmpfs or zfs)
//     or whose read failed is not abnormal: one UNKNOWN_VOLUME_HEALTH_TYPE
//     entry, NoSMARTData, says "no SMART data" and why, and only when
//     nothing else is reported (the spec lets a CO show an unknown type
//     and forbids it acting on one). Each drive is read at most once per
//     TTL (DefaultSMARTTTL, 60 s; WithHealth sets it, the reader and the
//     clock), under DefaultSMARTTimeout, on a goroutine of its own so a
//     caller that gives up still leaves the answer cached; concurrent asks
//     share one read, and a volume's drives are read in parallel;
//   - filesystem (fsys Inspect through the Engine's fsys.Manager): errors
//     recorded in the superblock (ext's error state or s_error_count,
//     btrfs's error flag: DATA_LOSS FilesystemErrors), EIO while reading it
//     (xfs after a shutdown answers statfs so: DATA_LOSS FilesystemIOError),
//     a mount of it whose superblock the kernel made read-only under a
//     writable mount (DATA_LOSS RemountedReadOnly); a device with no
//     filesystem (a raw block volume) says nothing;
//   - node, with a publish path: a path that no longer holds the volume
//     (INACCESSIBLE NotPublished).
//
// ControllerListVolumeHealth lists only volumes with something more than
// the note, as the spec recommends (a page may be short or empty and still
// have a next token); the pools are read once per page.
//
// Node: publish attaches the volume if needed (after a reboot), makes the
// filesystem if the device has none (never over another) and mounts it, or
// bind-mounts the device on a file for block volumes; NodeExpandVolume
// grows the filesystem online; GET_VOLUME_STATS. Topology is
// eos-storage/node = the node ID. Access is single-node only.
//
// State: the driver keeps none. What is published is read from mountinfo
// (by the device's major:minor) and what exists from the backend, so a
// restarted node plugin publishes nothing twice and loses no volume. Calls
// on one volume or name are serialised in process. Metrics (client_golang):
// eos_csi_operations_total, eos_csi_errors_total and
// eos_csi_operation_duration_seconds by method and code, from a unary
// interceptor, served on an optional listener.
//
// Tested where: without root, volume health on a fake sysfs tree
// (partition, LV slaves, loop files on a disk, on tmpfs, on btrfs, a loop
// cycle) with replayed SMART readings (a failing WD, a warning Samsung,
// healthy Kingstons, QEMU's NVMe log with critical warning bits set), the
// cache (100 volumes on one drive: one read; re-read after the TTL on an
// injected clock; concurrent polls share a read; a read the caller
// abandons completes and is kept; a drive past the timeout is a cached
// failure, not abnormal). On the host as root, health on loopfile (normal with the note;
// a read-only superblock under a writable mount made by two remounts; an
// ext4 superblock marked with errors by debugfs), csi-sanity against loopfile
// (/dev/shm, xfs so the online node expansion works: the host's sandbox
// refuses ext4 online grow), restarts between every publish and unpublish
// for mount and block volumes, and 100 volumes created and published with
// their latency logged and the metrics read back. The lvm-thin run of
// csi-sanity belongs to the VM tier (device-mapper exists only there) and
// lands with the lvm backend. The tests and the example binaries run on the
// storage Engine (OpenEngine: the journal with every recovery handler, a
// recovery at start, then the Engine on it), so formatting, mounting and
// growing go through its preflight, journal and undo.
//
// Hazards: SMART is read from the live devices: a reading sends only
// read-only commands, but a hung drive costs each poll up to the timeout
// once per TTL. Health reads devices on the node the driver runs on (the
// controller is on the same node: volumes are node-local). A snapshot of a mounted, written volume is crash consistent
// only; deleting a volume still published is FailedPrecondition; a block
// volume's target that is an empty directory is replaced by a file.
package csi
