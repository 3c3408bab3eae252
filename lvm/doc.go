// Package lvm is LVM2 for EOS: the read side here (typed inventory of
// physical volumes, volume groups, logical volumes and their segments), on
// which the lifecycle operations, safety and the thin-pool policy build.
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
package lvm
