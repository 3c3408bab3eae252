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
// GET/LIST_VOLUME_HEALTH. Spec 1.14 removed the alpha VOLUME_CONDITION;
// its replacement, volume health, reports a volume whose device is gone
// (inaccessible), a pool under 1% free (degraded) and, on the node, a
// publish path that no longer holds the volume or a filesystem the kernel
// remounted read-only after an error (data loss). SMART is not joined yet.
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
// Tested where: on the host as root, csi-sanity against loopfile
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
// Hazards: a snapshot of a mounted, written volume is crash consistent
// only; deleting a volume still published is FailedPrecondition; a block
// volume's target that is an empty directory is replaced by a file.
package csi
