// Package loopdev attaches, finds, resizes and detaches loop devices by
// ioctl (LOOP_CTL_GET_FREE on /dev/loop-control, LOOP_CONFIGURE,
// LOOP_SET_CAPACITY, LOOP_CLR_FD), without losetup. A device is found by its
// backing file's device and inode (/sys/block/loopN/loop/backing_file names
// a path, which a rename or a bind mount makes ambiguous; LOOP_GET_STATUS64
// gives lo_device and lo_inode, which are the file's identity).
//
// # Hazards
//
//   - Attaching races other attachers for the free device LOOP_CTL_GET_FREE
//     names: LOOP_CONFIGURE then fails with EBUSY and Attach asks again, a
//     bounded number of times.
//   - No LO_FLAGS_AUTOCLEAR: the device stays attached when the process that
//     attached it exits, which is what a volume must do (a CSI node plugin
//     restarts; the volume stays). Detach is explicit.
//   - LOOP_CLR_FD on a device still open elsewhere (mounted) is deferred by
//     the kernel until the last close: Detach refuses a device with holders
//     or mounts before asking, so a detach either happens or is refused.
package loopdev
