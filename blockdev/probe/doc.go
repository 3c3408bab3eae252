// Package probe identifies what a block device or image holds, the way
// `blkid -p -o export` from util-linux 2.38 does, in pure Go: TYPE, USAGE,
// VERSION, UUID, UUID_SUB and LABEL of every superblock blkid 2.38 knows
// (the 77 probers of superblock.go, in blkid's order: md and firmware RAID
// members, bcache, Ceph bluestore, DRBD, LVM1/2, DM snapshot/verity/
// integrity, LUKS, VMFS, UBI, VDO, stratis, BitLocker, then FAT, swap,
// swsuspend, xfs and its external log, exfs, ext4dev, ext2/3/4 and jbd,
// reiserfs and reiser4, jfs, UDF, iso9660, ZFS, HFS/HFS+, UFS, HPFS, SysV,
// Xenix, NTFS, ReFS, cramfs, romfs, minix, GFS/GFS2, OCFS/OCFS2, Oracle ASM, VxFS,
// squashfs 3 and 4, NSS, btrfs, UBIFS, BFS, BeFS, nilfs2, exFAT, F2FS,
// mpool, APFS, zonefs, erofs); PTTYPE and PTUUID of the partition tables
// blkid knows (dos with logical partitions, gpt, a protective MBR alone as
// PMBR, and aix, sgi, sun, mac, ultrix, bsd, unixware, solaris_x86, minix
// and atari); and for a partition the PART_ENTRY_* values of its entry in
// the parent disk's table.
//
// Every answer is checked against blkid itself: on util-linux's own blkid
// test images (scripts/util-linux-tests.sh fetches them from Debian's
// source package; TestCorpusFiles and TestCorpusLoop), on images made with
// the real mkfs tools, and on synthetic images whose fields were worked out
// by hand. Checksums and consistency checks are those blkid 2.38 applies,
// no more: a stricter probe would call blank a disk that blkid, and the
// tools users trust, call a RAID member.
//
// Nothing found is not an error: the Result is empty. Errors are kept for
// I/O failure (ErrRead, with the offset), a cancelled context and invalid
// options. A removable drive without a medium (ENOMEDIUM) is empty, not an
// error. Truncated or corrupt structures are simply not detected, as in
// blkid, and never panic; every prober has a fuzz target. An empty Result
// does not make a device blank: package safety decides blankness from the
// bytes themselves (MetadataRegions lists where formats keep metadata).
//
// # What it reads
//
// The first 68 KiB are read once (every superblock at a fixed place near
// the start lies there, the furthest being btrfs's at 64 KiB), and the last
// 256 KiB at most once, on the first request that falls there (md 0.90 and
// 1.0, the firmware RAID formats, DRBD, the GPT backup, the nilfs2 backup
// superblock). Most probers check a magic in those two buffers before they
// read anything else; the formats blkid itself finds without a fixed magic
// near the start or end cost every device a few reads, as in blkid. A
// bounded number of further reads follow (at most 96 per probe, each after
// a context check, and at most 16 MiB in all) for the structures that live
// elsewhere or are found by following pointers: Promise's scattered
// RAID copies, LUKS2's secondary headers, VMFS headers at 1 and 2 MiB, the
// UFS superblock at 256 KiB, GPT entries, the extended-partition chain, FAT
// and exFAT root directories, the NTFS MFT, the HFS+ catalog, UDF
// descriptors, ZFS labels. A small read takes the whole 4 KiB blocks
// around it (the kernel reads whole pages anyway) and is remembered for the
// probers after it. TestReadCounts pins how many reads a probe makes (16
// on a zeroed 8 MiB disk); blkid makes about three times as many on the
// same images, and reads more bytes (a whole 256 KiB ZFS label where we
// read its 128 KiB uberblock ring). A whole-disk probe of a device of 64
// MiB or more reads about 900 KiB; through a cold page cache that costs a
// few milliseconds, a quarter of one blkid -p process. A read
// already issued to a hung device cannot be interrupted: callers that probe
// real devices run the probe in their own goroutine with a deadline
// (package blockdev does).
//
// # Conflicts
//
// The search follows blkid's safe probe: a RAID member or crypto container
// (md, firmware RAID, LVM PV, LUKS, DRBD, BitLocker...) ends it, since blkid
// reports the container, not what lies under it, and ignores a partition
// table under a RAID-like member (except under an LVM2 label, whose first
// 8 KiB blkid treats as rewritable: a dos table there replaces the PV in
// the answer, any other table is reported beside it); two filesystems are ambiguous and are
// listed in Result.Ambiguous with Type left empty, where blkid prints
// "ambivalent result" and exits 8, unless the later ones are tolerant (hfs,
// iso9660, udf). On devices of 1.44 MB or less the first signature wins and
// no RAID is looked for; on optical drives (CDROM_GET_CAPABILITY) no RAID,
// swap or journal is. Hardware-RAID metadata is looked for only on whole
// disks and image files, as in blkid: a device probed WithParent (or
// WithParentTable) is a partition.
//
// Where blkid prints a key with an empty value (VERSION= of a DDF header
// whose revision starts with NUL, UUID= of an ISO date starting with NUL),
// the Result has no way to say "present and empty" and leaves it out.
package probe
