// Package loopfile is a plugin.Backend that keeps volumes as sparse files in
// one directory (the pool) and exposes them as loop devices: volumes for
// machines with no spare disk, and what the CSI and Nomad tests use on the
// host.
//
// Layout: volume NAME is NAME.img plus the metadata sidecar NAME.json (size,
// tags, snapshot-of), written atomically (temporary file, fsync, rename,
// fsync of the directory). The sidecar is the commit point: an image
// without one is a create that crashed and is replaced by the next create.
// Snapshot VOL@SNAP is VOL@SNAP.snap plus VOL@SNAP.snap.json, a reflink
// (FICLONE) where the filesystem can share extents, else a sparse copy of
// the data extents (CopyMethod says which; tmpfs and ext4 copy). Names are
// [A-Za-z0-9][A-Za-z0-9_-]{0,95}: a name is always one local path element,
// so no request can name a file outside the directory.
//
// Loop devices are attached by ioctl (LOOP_CTL_GET_FREE, LOOP_CONFIGURE,
// falling back to LOOP_SET_FD + LOOP_SET_STATUS64), WITHOUT autoclear: a
// volume stays attached when the process that attached it exits, so a CSI
// node plugin can restart under mounted volumes. Which device holds an image
// is found again from /sys/block/loopN/loop/backing_file and confirmed by
// the backing inode (LOOP_GET_STATUS64), never remembered in memory.
// Resizing truncates the image and issues LOOP_SET_CAPACITY. Capacity is the
// filesystem's (statfs); volumes are sparse, so the pool reports its
// over-provisioning.
//
// Every mutation is a sched.Operation keyed
// sched.Root("loopfile", dir).Child("volume", name), holding the directory's
// flock while it runs so concurrent processes (two Nomad plugin runs, the
// CSI driver) serialise. Create, resize, snapshot and attach have rollbacks;
// deletes are the commit and have none.
//
// Tests (as root, on t.TempDir() and /dev/shm): the whole lifecycle with
// data written through the device and read back from a clone, the device
// size after grow and shrink, a second Backend on the same directory finding
// the same devices (a restart), delete refused with ErrInUse while the
// device is open exclusively, rollback of a create in a failed plan leaving
// nothing, a crashed half-create redone, concurrent creates of one name, bad
// names and sizes as typed errors, and a fuzzed sidecar parser.
//
// Hazards: shrinking discards the image's tail (shrink what is on it
// first); a snapshot of a mounted, written filesystem is crash consistent
// only (freeze first); a reboot detaches everything (EnsureAttached
// re-attaches); deleting a directory of images by hand leaves their loop
// devices attached to deleted files.
package loopfile
