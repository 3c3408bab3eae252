// Package zfs is the in-tree ZFS backend of package plugin. A pool's
// volumes are the datasets directly below its root dataset: filesystems
// are directory volumes (Volume.Path is the mountpoint) whose size is
// their refquota, with a refreservation of the same size when thick; zvols
// are block volumes (Volume.Device is /dev/zvol/pool/name) sized by
// volsize, sparse (-s) when thin. Snapshots are `zfs snapshot`, clones
// `zfs clone` into the snapshot's pool. Tags are kept in the user property
// eos-storage:tags.
//
// Every command runs through an internal/command Runner with scripted
// output (-H). Sizes are read with `zfs get -H -p`, which prints exact
// bytes on OpenZFS and on zfs-fuse alike; `zpool list` has -p only on
// OpenZFS, and without it (zfs-fuse) ParseSize reads its human units
// ("250M", "1.50G") as approximate, which is why pool capacity comes from
// the root dataset's used+available instead. The flavour is found by
// asking `zpool list -H -p`: refused, the ZFS is taken to be zfs-fuse
// (the only ZFS on Linux without it), which has no zvols; block volumes
// are then reported unavailable with that reason, never tried (its
// `zfs create -V` aborts). New runs nothing: a missing zpool or zfs shows
// in Capabilities, naming the tool.
//
// Every mutation is one sched.Operation keyed Key(pool, dataset)
// (exclusive; a clone also holds its source shared). An operation of
// several zfs commands undoes the ones that ran when a later one fails, so
// a failed Execute leaves the dataset as it was; Rollback undoes a
// successful one (destroys what a create made, sets back the old sizes).
//
// # Tests
//
// The conformance suite (plugintest) runs against zfs-fuse for real on a
// pool on a sparse file (testenv.ZFSFuse). A fixed scenario runs on
// zfs-fuse too and is recorded (EOS_STORAGE_RECORD=1) into
// testdata/zfsfuse, which replays without root or zfs; testdata/openzfs is
// OpenZFS -p output written by hand from the documented format, as no
// OpenZFS runs here, and proves the zvol paths only against that. A fake
// runner fails each step of a multi-command resize. The parsers have fuzz
// targets.
//
// # Hazards
//
// zfs-fuse says "dataset is busy" for a destroy right after it unmounted
// the dataset, while FUSE is still releasing it; destroys are retried on
// that for about three seconds before it is ErrInUse. Shrinking a zvol
// cuts off its end, as lvreduce does: the caller's safety layer must
// preflight it. Datasets created outside this package (no refquota) report
// their used+available as their size.
package zfs
