// Package probe identifies what a block device or image holds, the way
// `blkid -p -o export` does, in pure Go: filesystem and container
// superblocks (ext2/3/4, jbd, xfs, btrfs, swap, vfat, LVM2_member,
// crypto_LUKS 1 and 2, iso9660, squashfs), partition tables (gpt, dos with
// logical partitions, a protective MBR alone as PMBR), and for a partition
// the PART_ENTRY_* values of its entry in the parent disk's table.
//
// Nothing found is not an error: the Result is empty. Errors are kept for
// I/O failure (ErrRead, with the offset), a cancelled context and invalid
// options. A removable drive without a medium (ENOMEDIUM) is empty, not an
// error. Truncated or corrupt structures are simply not detected, as in
// blkid, and never panic.
//
// Reads are bounded: the first 68 KiB are read once (every fixed-place
// superblock lies there, the furthest being btrfs's at 64 KiB), and at most
// a few dozen small reads follow for structures that live elsewhere (GPT
// entry array and backup header, the extended-partition chain, a FAT root
// directory, FAT32's FSInfo). The context is checked before each read, but
// a read already issued to a hung device cannot be interrupted: callers
// that probe real devices run the probe in their own goroutine with a
// deadline (package blockdev does).
//
// Conflicts follow blkid's safe probe: an LVM physical volume or a LUKS
// header ends the search (blkid reports the container, not what lies under
// it, and ignores a partition table under an LVM PV); two filesystems are
// ambiguous and are listed in Result.Ambiguous with Type left empty, where
// blkid prints "ambivalent result" and exits 8. iso9660 is tolerant of a
// second signature, as in blkid. On devices of 1.44 MB or less the first
// signature wins.
//
// Where blkid's answer depends on the host (ext2 is reported as ext4 on a
// kernel without an ext2 driver, and ext4dev on test-flagged superblocks),
// this package answers as on a normal modern kernel: ext2 stays ext2.
package probe
