// Package fsys manages filesystems as typed drivers: ext2/3/4, XFS, btrfs,
// vfat and swap. It inspects them in pure Go from the superblock, makes,
// checks and repairs them through their tools (run by internal/command),
// resizes them online by ioctl or offline by the tools, sets labels and
// UUIDs, freezes and thaws, and mounts by mount(2). Every mutation is also
// a sched.Operation wrapped by safety (preflight, journal, undo).
package fsys
