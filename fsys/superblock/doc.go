// Package superblock reads filesystem superblocks in pure Go: ext2/3/4,
// XFS, btrfs, FAT (vfat) and Linux swap headers. No tool is run and nothing
// is written; every reader takes an io.ReaderAt and the device's size and
// returns a typed value, or a typed error (ErrNotFound when the magic is
// absent, a *CorruptError matching ErrCorrupt when it is present but the
// structure around it is damaged). Malformed input never panics.
//
// Each type has its own reader returning its own struct (Ext, XFS, Btrfs,
// FAT, Swap) with the fields that type's tool prints (dumpe2fs -h,
// xfs_db sb print, btrfs inspect-internal dump-super, fsck.fat -n,
// swaplabel), and a Super method giving the common view the fsys package
// reports.
package superblock
