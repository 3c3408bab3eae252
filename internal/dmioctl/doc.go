// Package dmioctl is the device-mapper control interface
// (include/uapi/linux/dm-ioctl.h): the struct dm_ioctl header every call
// carries, the DM_* ioctl numbers on /dev/mapper/control, and the two
// read-only calls the lvm package needs, DM_LIST_DEVICES and
// DM_TABLE_STATUS (with or without DM_STATUS_TABLE_FLAG, which chooses the
// table or the targets' status lines: a thin pool's used data and metadata
// blocks are in its status line).
//
// Why an ioctl and not dmsetup: the pure-Go LVM inventory must not start a
// process, and the data the kernel gives here is exactly what dmsetup
// prints. Every call is one buffer: the header, then data from data_start;
// when the kernel sets DM_BUFFER_FULL_FLAG the buffer was too small and the
// call is repeated with a larger one. The decoders of the returned data
// (ParseNameList, ParseTargets) are pure functions with fuzz targets, so a
// malformed kernel answer is an error, never a panic.
//
// The host test machines have no device-mapper; the layout is checked
// against the header here and the calls run for real in the VM tier (the
// lvm package's guest test).
package dmioctl
