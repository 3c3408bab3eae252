// Package blkpg holds the raw block-device ioctls the partition code needs:
// BLKPG (add, delete and resize one partition in the kernel's view) in
// blkpg.go, and the geometry and re-read family (BLKGETSIZE64, BLKSSZGET,
// BLKPBSZGET, BLKIOMIN, BLKIOOPT, BLKRRPART) in blkgeom.go.
//
// The numbers and struct layouts are copied from the kernel's uapi headers
// (include/uapi/linux/blkpg.h and include/uapi/linux/fs.h); the tests check
// sizes and field offsets against those headers and against x/sys/unix so a
// layout mistake fails a test instead of corrupting a kernel call.
//
// Everything here is internal: blockdev/partition turns these into typed Go
// errors and values. Callers pass an open file descriptor; nothing here opens
// or closes devices.
package blkpg
