// Package lvm is LVM2 for EOS: a typed inventory of physical volumes,
// volume groups, logical volumes and their segments, and the lifecycle
// operations on them, guarded and journaled (Manager).
//
// # Two ways to read
//
// Tool.Inventory runs one `lvm fullreport` and types its JSON into a
// Report: PVs, VGs (sizes, free, extent size, seqno, tags) and LVs with
// lv_attr decoded into named fields (LVAttr), layout and role, pool,
// origin, data and metadata percent, health, and the kernel major:minor
// (Report.ByDevNum joins a blockdev.Device with its LV). Segment rows are
// merged into their LV. Tool.InventorySeparately gives the same Report
// from pvs, vgs and lvs, to cross-check and measure fullreport.
//
// ReadDisks reads the same without starting a process: the PV label
// ("LABELONE" in one of the first four sectors, its CRC, the pv_header
// with the data and metadata areas), the mda_header of each metadata area
// and its raw_locn, which points into a circular buffer (text that runs
// past the area's end continues after the 512-byte header), the text
// metadata itself (a small config language: sections, key = value,
// strings, numbers, lists, comments) from the copy with the highest seqno,
// and device-mapper's state by ioctl on /dev/mapper/control
// (internal/dmioctl: DM_LIST_DEVICES, DM_TABLE_STATUS) for the active,
// open and major:minor columns. Sizes are computed from extents exactly as
// lvm computes them. It decodes linear and striped segments; a VG with any
// other segment type (thin pools, snapshots, raid, cache, VDO...), hidden
// LVs, a system ID or a lock type is an *UnsupportedError naming the
// feature, and ReadOrRun then runs lvm instead and records why in
// Report.Fallback. ThinPoolUsage reads a thin pool's status line, which is
// what the thin-pool policy samples.
//
// # Running lvm
//
// Every command goes through internal/command (argv, LC_ALL=C, process
// group killed on cancel, fixtures), as the one `lvm` binary with the
// subcommand first, scoped with --devices when WithDevices is given, and
// one merged --config string (lvm refuses a second): the command log in
// the JSON report (lvm 2.03.26+ prints errors only there), no D-Bus
// notification, and no udev synchronisation unless WithUdev(true), so
// nothing waits for a udev that does not run (containers, these test
// machines). Reports are --reportformat json_std where lvm has it
// (2.03.17+, detected once from `lvm version`), json otherwise (Debian
// 12's 2.03.16); both are read, with sizes in bytes (--units b
// --nosuffix). A failure is an *Error keeping lvm's messages from the JSON
// log and stderr, classified into ErrNotFound, ErrExists, ErrNoSpace,
// ErrBusy or ErrInUse; lvm's exit 5 can come with a valid report, which is
// then returned alongside the error.
//
// # Lifecycle
//
// A Manager (NewManager with WithJournal, WithFsys) builds every change as
// a sched.Operation wrapped by safety.Guard: PVCreateOp, PVResizeOp,
// PVRemoveOp, VGCreateOp/ExtendOp/ReduceOp/RenameOp/RemoveOp, LVCreateOp
// (linear, striped, raid1, thin pool with its metadata size, thin LV,
// cache pool), LVResizeOp, LVRenameOp, LVRemoveOp, ActivateOp, SnapshotOp
// (size 0 on a thin origin: a thin snapshot; else classic), MergeSnapshotOp,
// ThinPoolExtendOp (data or metadata), CacheAttachOp/CacheDetachOp; GrowPool
// is the thin-pool policy's adapter. Keys: sched.VG(name) exclusive, the
// LV's VG(name).LV(lv), and each PV's disk key (safety.TargetKey). Every
// command is non-interactive (-y, --wipesignatures y, -f for removals)
// and scoped by --devices; lvm's own --fs/-r is never used.
//
// # Safety
//
// pvcreate and pvremove write the device: their Guard target is the device,
// pvcreate's preflight is safety's format check (a device with any
// signature, an LVM label included, is refused), and the first MiB (label
// and metadata area) is the before-image. A VG metadata change is
// journaled against a per-VG anchor file in the journal (a VG spans
// devices): before lvm runs, `vgcfgbackup -f` writes the old metadata into
// the mutation's images directory and the step "backup" journals the VG
// seqno and that file; "changed" is journaled with the new seqno. A failed
// or rolled-back change is settled by the seqno: unchanged means lvm wrote
// nothing (it commits a VG atomically), else the operation's inverse
// (lvremove after lvcreate, the old name after a rename, vgreduce after
// vgextend, the old size after a resize...) or `vgcfgrestore -f` runs;
// vgcfgrestore is refused for VGs with thin pools (lvm's manual warns it
// can lose data) unless CodeThinRestore is overridden. RollForward(tool)
// registers recovery for every kind: after a crash, Settled reads the
// journal's steps and the VG's seqno and says "old" or "new"; both settle
// the entry. Preflight refusals are *RefusedError (ErrRefused) with codes:
// lvremove, deactivation or vgremove with an open LV (CodeOpen), reducing
// an origin with snapshots (CodeHasSnapshots), reducing an LV whose
// filesystem cannot be read, e.g. inactive (CodeFsUnknown), and a
// filesystem that cannot shrink there (CodeFsShrink: xfs, below MinSize,
// ext mounted), pvremove of a VG member (CodeNotOrphan).
//
// Filesystem-aware resize: a reduce plans the filesystem's shrink with
// fsys.Manager.PlanResize and shrinks it (fsys Resize) before lvresize; an
// extend runs lvresize and then grows the filesystem (online when mounted).
//
// Hazards: a merge cannot be undone once lvm started it; thin pools do not
// shrink, so a pool extension has no inverse; removing a thin LV loses its
// data even if the metadata is restored. Classic snapshots need
// device-mapper to be created (lvm activates them), so the host tier only
// plans them.
//
// # What the tests prove
//
// On loop devices with a private LVM_SYSTEM_DIR (metadata only,
// --driverloaded n), names with '+', '_', '.' and '-', tags, four PVs, a
// linear LV spanning two PVs, a striped -i2 LV and an orphan PV, the three
// inventories equal pvs/vgs/lvs on every compared field (0 mismatches); the
// recorded fixtures and PV heads in testdata replay that comparison
// without root. In the VM tier's guest (device-mapper), the on-disk
// inventory of active LVs equals lvs with the kernel columns, a thin VG
// falls back to fullreport, and the pool's status read by ioctl gives
// lvs's percentages.
//
// Lifecycle, on the host (loop devices, metadata only): pvcreate, vgcreate,
// vgextend, lvcreate linear and striped, lvresize up and (overridden) down,
// lvrename, lvremove, vgreduce, vgrename, vgremove and pvremove run for
// real; pvcreate over a PV and pvremove of a VG member are refused. A fault
// at each journaled step of lvcreate, lvresize, lvrename, lvremove and
// vgextend leaves the VG's metadata exactly as vgcfgbackup saved it, and
// the journal says compensated; a crash (the goroutine dies mid-mutation)
// before lvm ran recovers as old, after it as new, and the LV exists or not
// accordingly. In the VM tier's guest (TestGuestLifecycle, booted by
// internal/vmtest): activation and deactivation, ext4 grown online and
// shrunk offline with its data's checksum intact, xfs grown and its shrink
// refused, lvremove/vgremove of a mounted LV refused, a classic snapshot
// merged back, a thin pool extended in data and metadata, a thin LV and a
// thin snapshot keeping its data, and cache attach/detach where the guest
// kernel has dm_cache.
package lvm
