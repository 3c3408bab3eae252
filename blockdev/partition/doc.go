// Package partition reads, verifies, repairs, edits and writes GPT and
// MBR (dos) partition tables, and tells the kernel about the result.
//
// # Reading
//
// Open a disk (an image file or a whole-disk block device) or wrap any
// Device with NewDisk, then Read. Read follows one rule, which is also what
// makes writes crash-safe:
//
//  1. unless sector 0 holds a real dos table (the kernel, sfdisk and blkid
//     read a GPT only behind a protective or hybrid MBR), a primary GPT
//     whose header CRC and entries CRC check wins;
//  2. otherwise, unless sector 0 holds a real dos table, a backup GPT
//     whose CRCs check is used (Table.Source == FromBackup, and a warning
//     is logged);
//  3. otherwise a dos MBR (with its extended/logical EBR chain) is used;
//  4. otherwise a GPT signature or a 0xEE entry with no intact copy is
//     ErrUnreadable, and nothing at all is ErrNoTable.
//
// GPT headers of any size from 92 bytes to the sector size, entries of
// 128·2ⁿ bytes and any count, and 512 to 4096-byte logical sectors are read;
// bytes the spec reserves beyond the 92-byte header and 128-byte entry are
// carried through unchanged.
//
// # Verifying and repairing
//
// Verify reports every problem sgdisk -v reports, each a Problem whose Kind
// is one of the ErrXxx problem sentinels (errors.Is works on a Problem):
// header and entries CRCs of both copies, the backup not at the last LBA,
// copies that differ, overlapping partitions, partitions outside the usable
// range or the disk, entries arrays reaching into the usable area, a missing
// or wrong protective MBR, a hybrid MBR, a disk that grew or shrank. Repair
// rewrites the damaged copy from the good one (and moves the backup to the
// new end of a grown disk, as sgdisk -e does); what no copy can fix is
// ErrUnrepairable and nothing is written.
//
// # Editing
//
// NewGPT and NewDOS create tables laid out as sgdisk and sfdisk lay them
// out. Table.Add places a partition best-fit (the smallest free region it
// fits; "rest" takes the largest) at a start aligned to the least common
// multiple of 1 MiB, the physical sector and the optimal I/O size. Sizes
// are bytes with units (MiB, GiB, K, M, G, T; KB, MB, GB in powers of ten),
// sectors ("100s"), a percentage of the usable area ("25%") or "rest". Every
// edit is validated on a copy (overlap, bounds, physical alignment, unique
// GUIDs) and the table is only changed when the result is valid.
//
// # Writing
//
// Disk.Write writes a validated table in this order, syncing after each:
// backup entries, backup header, primary entries, primary header,
// protective MBR. Under the read rule above every prefix of that sequence,
// including a torn sector at the point of the crash, reads as exactly the
// old table or exactly the new one: until the primary header is rewritten
// the old primary is intact or fails its entries CRC, in which case the
// already-synced new backup is read. When the primary is already dead and
// the backup is the only intact copy (a repair), the copies swap places so
// the good one is never the one being overwritten. When the backup moves
// (Repair on a disk that grew), the old backup header is erased after the
// protective MBR, once the new primary no longer points at it, so a disk
// that later shrinks back cannot read a stale table from it. The tests replay every prefix of the
// write log, torn at sector and sub-sector points, for thousands of random
// layouts. A dos table's MBR is a single sector, so a dos edit is atomic on
// a disk that writes whole sectors (a sub-sector tear could mix two entry
// arrays; the tests tear dos writes at sector granularity only). Turning a
// dos disk into GPT switches at the protective MBR, the last write: until
// then the dos MBR in sector 0 wins, so that one sector carries the same
// whole-sector assumption. When one GPT copy would land on an EBR of the
// old chain, that copy is written after the protective MBR instead, so the
// old chain stays whole while it still decides; turning GPT into dos writes
// the EBRs and the MBR before erasing the GPT headers, for the same reason.
// EBRs are
// written last-in-chain first, so a new EBR is complete before anything
// links to it and one sector (a link or the head) switches old to new; the
// replay covers adding, deleting and resizing logical partitions, counting
// a broken chain as a failure. The journal's before-images (WithJournal)
// remain the way back for anything else.
// Before the first write the journal (if any, WithJournal) holds the intent,
// every step with its data, and the before-image of every range to be
// written; the whole-disk flock is held (udev's convention) for the
// duration. Package partsafety adapts the safety package's journal (and
// registers the roll-forward that recovery uses) and runs its preflight:
// editing a partition the kernel would have to delete, move or resize is
// refused while it is mounted, swap or held; its neighbours may change.
// A table from Read remembers what it was read from: Write refuses it with
// ErrChanged when another writer has changed the table on disk since, and
// plans, like Repair decides, under the lock.
// Context cancellation is honoured before the first write, never between
// steps: stopping half way is the crash the ordering guards against.
//
// # Kernel
//
// SyncKernel brings the kernel's partition list in line with a table by
// BLKPG add, delete and resize, partition by partition, so partitions that
// did not change (mounted ones included) are never touched. Kernels without
// partition-table parsers (like the test hosts) only learn partitions this
// way. A partition that is in use and would have to change fails with a
// KernelError (ErrKernelNotUpdated) saying what to do.
//
// # Why not go-diskfs
//
// github.com/diskfs/go-diskfs v1.9.4 was evaluated; diskfs_decision_test.go
// holds the evidence as assertions, so an upgrade that changes it fails
// there. Its GPT write syncs backup before primary, but it writes the
// protective MBR first (not last); it always writes a 92-byte header
// (dropping a larger header's reserved bytes); it writes overlapping
// partitions without complaint; and its MBR reader does not follow the
// extended partition's EBR chain, so logical partitions are invisible.
// Its reader has no typed problems to match sgdisk -v. This package keeps
// the format code itself: it is small and defined by the UEFI spec.
package partition
