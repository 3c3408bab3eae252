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
// merged into their LV, pvseg rows into their PV (PV.Segments: every
// allocated range with its LV, and the free ones). Tool.InventoryAll adds
// the hidden LVs (fullreport -a: _tdata, _tmeta, _rimage_N, _corig...),
// which Inventory, like lvm's fullreport, leaves out.
// Tool.InventorySeparately gives the same Report from pvs, vgs and lvs, to
// cross-check and measure fullreport; it and ReadDisks derive the PV
// segments from the LV segments.
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
// ext mounted), pvremove of a VG member (CodeNotOrphan), and a pvresize
// below the PV's last allocated extent (CodePVShrink, naming the LV) or
// beyond its device (CodePVBeyondDevice: lvm -y would pretend the size).
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
// inventories equal pvs/vgs/lvs and `pvs --segments` on every compared
// field (0 mismatches); the
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
// accordingly. pvresize: a loop PV grown (backing file, losetup -c) and
// pvresized to the device and to a smaller explicit size (pv_size and VG
// free follow), a shrink below the allocated extents and a size beyond the
// device refused with nothing changed (lvm's own refusal of the former is
// ErrInUse), and a fault at each step leaves the old metadata exactly,
// the journal saying whether lvm had changed the VG. In the VM tier's guest (TestGuestLifecycle, booted by
// internal/vmtest): activation and deactivation, ext4 grown online and
// shrunk offline with its data's checksum intact, xfs grown and its shrink
// refused, lvremove/vgremove of a mounted LV refused, a classic snapshot
// merged back, a thin pool extended in data and metadata, a thin LV and a
// thin snapshot keeping its data, cache attach (the LV's attr 'C', one
// cache segment, its _corig hidden LV) and detach with --splitcache (one
// linear segment again, the cache pool kept) with the data's checksum
// intact, and a raid1 LV over both disks: synced (copy_percent 100),
// decoded (attr 'r', one raid1 segment of 2 stripes over _rimage_0 and
// _rimage_1, one on each PV), written, grown and synced again with the data
// intact, removed with its images. The host side fails under
// EOS_STORAGE_STRICT=1 when the VM assets lack dm_cache, dm_cache_smq,
// dm_raid or raid1, instead of leaving the part out.
//
// # Thin-pool policy
//
// Policy keeps thin pools from filling. Run checks every watched pool each
// interval: a UsageSource samples it (DMSource: DM_TABLE_STATUS of the
// "-tpool" device, the kernel's block counts, one ioctl; ReportSource: one
// lvs of the VG, data_percent and metadata_percent to 0.01%, for where the
// ioctl is not available), the last samples (WithHistory) give the fill
// rate by least squares, which a single noisy difference would not, and
// from it the time to the threshold and to full (Status). Data and
// metadata are judged apart, each with its threshold and step: a space at
// its threshold, or predicted to reach it within the lookahead, is
// extended through a PoolGrower (the lifecycle Manager; ToolGrower runs
// lvextend -L / --poolmetadatasize) by its step, or by more when the fill
// is fast (enough to stay under the threshold for twice the lookahead), in
// whole extents, metadata first, never beyond the VG's free space (the
// metadata growth counts twice: lvm grows the pool metadata spare with
// it) and never to a smaller size. The layout (VG free, sizes, thin LVs)
// is read fresh before every extension. Under Run an extension runs beside
// the sampling, so the use and the alerts stay current while lvm works;
// cancelling Run does not kill an extension in progress (lvm killed
// between suspending and resuming the pool would leave it suspended): Run
// returns when it has finished (WithGrowTimeout bounds it).
//
// A pool that needs space its VG does not have is switched to
// error-when-full (lvchange --errorwhenfull y, when the grower is a
// FullModeSetter) and raises the critical AlertCannotGrow; it looks for
// new VG space at each layout refresh, and when it can grow again it is
// extended, switched back to queueing (only if the policy switched it) and
// the alert resolves. Threshold alerts are perf
// Rules evaluated by a perf.Alerter (For, ClearFor, hysteresis and
// de-duplication as for disks) on the percent used, named MetricUtil, of
// device "vg/pool"; the policy's own conditions (cannot grow, out of data
// space, failed, extension failed, unmonitored) are perf.AlertEvents too.
// Admit refuses a new thin LV with an *AdmitError (errors.Is ErrNotAdmitted)
// when the pool is not watched or not sampled within three intervals,
// cannot grow, is full or failed, or when the thin LVs' virtual sizes with
// the new one would exceed the over-provisioning ratio of the pool's data
// size.
//
// Defaults, and where they come from:
//
//   - Threshold 80% for data and for metadata (WithDataThreshold,
//     WithMetaThreshold). dmeventd warns when a pool's data or metadata
//     passes 80% (lvmthin(7): again at 85, 90 and 95%); its thin plugin
//     does nothing below 50% and above it runs its thin command (lvextend
//     --use-policies) at every 5% step (dmeventd(8);
//     daemons/dmeventd/plugins/thin/dmeventd_thin.c: WARNING_THRESH,
//     CHECK_MINIMUM, CHECK_STEP). lvm.conf's
//     activation/thin_pool_autoextend_threshold defaults to 100, which
//     disables autoextension, and may not be set below 50 (lvmthin(7),
//     lvm.conf(5) of lvm 2.03.16; the example there is 70). 80 keeps a pool
//     below dmeventd's first warning; the lead time comes from the
//     prediction (lookahead 30 s) rather than from a low static threshold.
//   - Step 20% of the current size, data and metadata (WithExtendStep):
//     lvm.conf's thin_pool_autoextend_percent default.
//   - Critical alerts above 95% data (the level dmeventd_thin.c defines
//     as UMOUNT_THRESH: "Umount thin LVs when thin data or metadata LV is
//     >= and lvextend --use-policies has failed") and 95% metadata
//     (lvm-operator, internal/controllers/vgmanager/controller.go:
//     metadataWarningPercentage = 95; above it the VG is failed because a
//     metadata overflow "cannot be recovered"); warnings at the
//     thresholds, clearing 5 points lower. lvm-operator's own Prometheus
//     rules warn at 75% and are critical at 85%, data and metadata.
//   - Error-when-full once the VG is exhausted, queueing otherwise: what
//     stratisd does (src/engine/strat_engine/thinpool/thinpool.rs:
//     set_error_mode when the backstore has no space left to extend into,
//     set_queue_mode when it has again). stratisd extends data when less
//     than a low-water mark (15 GiB, or half a small pool) is free, by up
//     to 50 GiB of what is available. In queue mode a full pool holds
//     writes for 60 s and then fails them (lvmthin(7), "Data space
//     exhaustion"); with nothing left to extend into, failing at once is
//     the lesser harm.
//   - Over-provisioning ratio 1.0 (WithOverProvisioning): no promise the
//     pool cannot keep, like stratisd with overprovisioning disabled (the
//     filesystems' sizes must fit the data space). lvm-operator's
//     documented default limit is 10; a caller who accepts that risk says
//     so.
//   - Interval 1 s (perf's default; a sample by ioctl is one system call),
//     history 30 samples, layout refresh 1 min besides every extension,
//     metadata capped at lvm's 16 GiB.
//
// Hazards: the policy is a library, not a daemon: when its process stops
// nothing extends the pools (dmeventd, left configured above our
// thresholds, is a backstop). ToolGrower is not guarded (no journal, no
// before-image): use the lifecycle Manager where that matters. A failed
// pool (Fail, Error, read-only) is never extended. A pool filling faster
// than an extension takes still fills: the lookahead must cover the fill
// rate times the detection lag (the fit needs a few samples of the new
// rate) plus lvextend's time. In the VM tier's guest (TCG, one CPU)
// lvextend took 0.6 to 1.2 s with 8 MiB/s of writes in flight, and did
// not finish within 4 s once a 16 MiB/s fill had run a 64 MiB
// error-when-full pool out of space with a 3 s lookahead.
//
// The unit tests run the policy on a fake clock, pool and grower: a steady
// fill is extended predictively and never reaches its threshold; the
// least-squares rate of a noisy fill is within 10% of the truth; metadata
// grows alone when only it fills; an exhausted VG switches the pool to
// error-when-full with a critical alert and back when space returns; a
// half-failed extension is re-planned; Admit's refusals; Run samples while
// an extension runs and leaves no goroutine; and a rapid property that
// whatever the fills, free space, extents and settings, no extension
// overdraws the VG or shrinks the pool. FuzzParseThinPoolStatus checks the
// full status parser against ThinPoolUsage. In the VM tier's guest
// (internal/vmtest TestGuestThinPoolFill) fio writes 256 MiB at 8 MiB/s
// into a 512 MiB thin LV of a 64 MiB error-when-full pool and reads it
// back with checksums: 0 errors, five predictive extensions in each run
// (64 MiB to 464..508 MiB, each started at 16 to 64% use, lvextend taking
// 0.5 to 1.2 s), at most 66% used, DMSource and ReportSource agreeing to
// 0.01%, thin_check clean on reactivation. With the policy off the same fill reproduces
// lvmthin(7)'s exhaustion (Data% 100.00, ENOSPC at 64 MiB) and the watcher
// raises the out-of-data-space, data-critical and data-high alerts. With
// the VG exhausted (a filler LV), the policy switches a third, queueing
// pool to error-when-full at 14% use with the critical cannot-grow alert,
// and fio gets ENOSPC at 64 MiB after 9 s instead of queued writes.
package lvm
