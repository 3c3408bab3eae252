// Package safety makes every mutation of eos-storage refusable, journaled
// and reversible (DESIGN.md principles 7 and 8).
//
// # Preflight
//
// Check gathers the facts about a target (mounts of it, its partitions and
// anything stacked on it; swap; holders; an O_EXCL open; protected system
// devices; read-only; a direct probe for signatures, including backup
// locations such as the GPT backup header) and returns a Report: allowed or
// refused, with every Reason as a stable Code, a sentence and the evidence.
// The decision is a pure function of a Facts value (Evaluate), so it is
// tested without root. "Unreadable" is never "empty". With WithJournal (or
// a read-only Snapshot from ReadJournal) a locked-down target or one with
// an interrupted mutation is refused too (locked_down, pending_recovery).
// An operator may override one Code at a time (never all; facts that make
// the operation impossible and lock-down cannot be), and the override is
// journaled.
//
// # Blank means zero, not unrecognised
//
// A format no prober knows still keeps its metadata where every format
// does: near the start, where the superblocks and primary tables are, and
// in the last sectors, where RAID member formats (md 0.90 and 1.0, DDF,
// Intel, LSI, Promise, the other fake-RAID BIOSes), DRBD and ZFS keep
// theirs because the start belongs to the data. So when the probe, the
// backup scan and the kernel find nothing on a target, preflight reads
// probe.MetadataRegions: the first MiB, the last MiB and 64 KiB, the VMFS
// headers at 1 and 2 MiB, Promise's farthest copy, the ext2/3/4 backup
// superblocks of group 1 and the btrfs mirrors at 64 MiB and 256 GiB. Any
// 4 KiB block there that is not all zero refuses format and partition as
// unrecognized_data, with the byte ranges as evidence (Facts.UnrecognizedData);
// it is overridable and journaled like not_empty. It reads about 2.2 MiB
// per target, once per preflight and only when nothing else was found;
// discovery never reads it. BenchmarkScanData measures it against one
// blkid -p process on the same device. The scan trusts no size but the
// device's own: a device graph whose size differs from the device's makes
// the target unreadable, and so does a device that ends before its size,
// since the regions read would then not be its last sectors. A partition
// whose disk is an md or firmware RAID member is refused as md_member: it
// is part of the array's data.
//
// # Journal
//
// OpenJournal opens the write-ahead journal of a state directory (default
// /var/lib/eos-storage; one process at a time, the directory is flocked).
// Records are framed (magic, length, CRC32C over length and payload) and
// fsynced, with the directory, before the mutation they announce starts. A
// torn last record (a crash mid-append) is detected, ignored and truncated;
// a damaged record followed by an intact one is corruption (ErrCorrupt) and
// is never skipped silently. Every record carries its FormatVersion; a
// record of another version, of an unknown kind or missing what its kind
// needs is refused (ErrVersion, ErrCorrupt) and the file left as it is,
// never read with this version's meaning. After a failed write or fsync the journal is
// unusable until reopened (ErrJournalBroken): after a failed fsync the
// kernel may have dropped the pages, and retrying would lie.
//
// A mutation's life: Journal.Begin saves the before-images of the byte
// ranges it will overwrite (files named like sfdisk's backups,
// images/<id>/sfdisk-<dev>-0x<offset>.bak, restorable with dd) and journals
// the intent with the target's Identity; Mutation.Step marks progress;
// Mutation.Done, Cancel or Undo journals the outcome. Undo goes level by
// level: the operation's own compensation, then the before-images, then
// lock-down. A locked-down target refuses every Begin (LockedDownError)
// until Journal.Clear, with an operator's reason, lifts it.
//
// On open, mutations with an intent and no outcome are Interrupted, with
// the steps they recorded. Recover settles them: it refuses when the
// device at the path is no longer the journaled one (ErrIdentityMismatch;
// identities carry the boot id, and after a reboot only a serial, WWN or
// inode can prove a device the same, since maj:min and diskseq are per boot),
// rolls forward with the op kind's registered RollForward, rolls back when
// it cannot (first by the kind's registered RollBack, for writes no
// before-image covers, such as mke2fs's undo file; then with the
// before-images), and locks down when that fails. Each
// attempt is journaled before it acts and both directions are idempotent,
// so a crash during recovery is finished by the next run.
//
// Journal.Plan is the dry run: what Begin would save and write, and whether
// it would be refused, without touching anything.
//
// # With the scheduler
//
// Guard wraps a mutating operation as a sched.Operation: each attempt runs
// the preflight, takes the device lock, journals intent and before-images,
// and journals the outcome; a failed attempt restores what it wrote (the
// scheduler expects a failed Execute to leave nothing behind) or locks the
// target down. Its Rollback is journaled as a mutation of its own and goes
// level by level: the caller's Compensate, the forward mutation's
// before-images, lock-down. Without the scheduler, the same levels are
// Mutation.Undo.
//
// # The root seam
//
// Everything that reads /sys, /proc or /dev takes the caller's root
// (DESIGN.md principle 1): WithRoot for Check, Gather, IdentityOf and
// LockDevice (and, among Guarded.PreflightOpts, for Guard's locking and
// identification); WithSysRoot for a journal's recovery. Target paths are
// used as given; the root says where their sysfs entries and whole-disk
// nodes are. An identity whose sysfs entry or attributes exist but cannot
// be read is an error, never a weaker identity.
//
// # Hazards
//
// Hold the target with LockDevice (flock on the whole disk, O_EXCL on the
// target) for the whole mutation. Before-images are pruned to the newest
// WithRetention finished mutations, never those of unfinished ones nor those
// of a locked-down target (until Clear: they are the operator's way back). The
// journal is compacted at open once it exceeds WithCompactAt (or by
// Compact): unfinished and retained mutations and active lock-downs are
// rewritten to a new file that atomically replaces the old, and the old
// one is kept as journal-<time>.wal.old (the newest few) for the audit
// trail of overrides and cleared lock-downs.
//
// A preflight is a snapshot: between Check and the write, something may
// mount the device. Guard re-checks before every attempt and then holds
// the O_EXCL descriptor, which is what closes that window for good.
//
// State directory layout:
//
//	journal.wal                  the journal
//	journal.lock                 flocked by the process that has it open
//	journal-<time>.wal.old       archives left by compaction
//	images/<mutation-id>/sfdisk-<dev>-0x<offset>.bak   before-images
package safety
