// Package storage is eos-storage: a pure-Go Linux storage-management library
// for the EOS infrastructure platform.
//
// It replaces the shell-outs EOS used to make (lsblk, blkid, fdisk and sgdisk,
// smartctl, iostat, lvm and the resize tools) with typed packages:
//
//	blockdev            the device graph from /sys, /proc and the devices' own
//	                    signatures (Discover, Watch)
//	blockdev/probe      on-disk signatures, matching blkid -p
//	blockdev/partition  GPT and MBR tables: read, verify, repair, crash-ordered write
//	blockdev/smart      drive health: ATA SMART over SG_IO, NVMe health log
//	perf                /proc/diskstats sampling with iostat's numbers, windows,
//	                    baselines and alerts; perf/promexport for Prometheus
//	sched               a concurrent scheduler: plans (DAGs), resource locks,
//	                    retries, batching and rollback
//	safety              preflight with reasons, a write-ahead journal,
//	                    before-images, rollback and lock-down
//
// # The Engine
//
// The root package composes them behind one facade, storage.Engine (New with
// WithRoot, WithLogger, WithMetricsSink, WithJournal, WithScheduler,
// WithBackends, validated once):
//
//   - Inventory reads the machine into one JSON-serializable view: the
//     device graph, partition tables, filesystems (fsys Inspect, statfs usage
//     when mounted), LVM, every backend's pools and volumes, SMART health (a
//     deadline per drive; unknown is "unknown") and I/O rates. Every failed
//     read is in Inventory.Errors with its source and device; as non-root it
//     says what it could not open. It reads only what it shows (the
//     hardware identity and rotational of the sysfs groups, detached loop
//     devices in brief: name, number, type and zero size, without the ro
//     and rotational their last binding left), and reads rates while the
//     device graph is read.
//   - A Spec is the desired state (GPT partitions on disks chosen by path,
//     serial or WWN; PVs, VGs, thin pools, LVs; backend volumes;
//     filesystems; mounts; a disposable marker on what may be destroyed).
//     Plan compares it with the inventory and returns a Plan: typed actions,
//     each with its reason and dependencies, the stages a dry run would start
//     together, JSON for storing or sending to other nodes, and a sched.Plan.
//     A spec that holds plans nothing; one that cannot hold is refused with a
//     *RefusedError listing every reason at once.
//   - Apply runs the plan on the scheduler: every action is a guarded
//     operation (preflight, journal, before-images, undo); Recover rolls
//     interrupted ones forward (JournalOptions registers the handlers) and
//     loads a rolled-forward partition table into the kernel.
//   - Resizes are whole-stack: partition -> PV -> LV (filesystem-aware) ->
//     filesystem to grow, the reverse to shrink, with every minimum checked
//     at plan time, before the first write.
//   - Heavy actions (resizes, mkfs of 64 GiB and more) are refused on a drive
//     SMART calls failing and deferred (sched.ErrRetryable) while the drive
//     is at or above WithSaturation's %util; a Spec override lifts either,
//     and the override is journaled.
//   - EnsureFilesystem, EnsureMounted, EnsureUnmounted and GrowFilesystem are
//     the idempotent single-device helpers of the CSI driver and the Nomad
//     plugin; RunOps runs a backend's operations on the Engine's scheduler.
//
// What the tests prove: the planner on hand-built inventories without root
// (a holding spec plans nothing, a changed spec only the difference,
// refusals list every reason, stage order, whole-stack grow and shrink order,
// the LVM stack's dependencies, a JSON round trip); on loop devices as root,
// GPT -> partitions -> ext4 and xfs -> mounts from one spec, an empty
// re-plan and an online whole-stack grow; a whole-stack shrink (ext4, then
// the partition) SIGKILLed after each journaled step, then recovered and
// finished, with e2fsck clean and every checksum intact. The LVM scenario
// runs in the VM tier (internal/vmtest TestGuestStorageEngine). Inventory's
// devices are a full Discover's but for the ro and rotational of detached
// loop devices, on a fake tree and on this machine between two full reads
// (TestInventoryDevicesAsFullDiscover*). BenchmarkInventory times it against
// the tools it replaces in the same run.
//
// Hazards: a partition grown while in use is resized in the kernel by the
// Engine itself (BLKPG_RESIZE_PARTITION keeps the start, as growpart does),
// because the partition editor's kernel sync refuses any change to a
// partition in use. Shrinks of mounted ext filesystems are refused (offline
// only). The planner reads sizes from the kernel: a table written but not
// loaded (a crash before the sync) is loaded by Recover.
//
// The original design names its core types BlockDevice, FilesystemDriver,
// Operation and MetricCollector. In Go they read without stutter:
//
//	BlockDevice       -> blockdev.Device
//	FilesystemDriver  -> fsys.Driver
//	Operation         -> sched.Operation
//	MetricCollector   -> perf.Collector
//
// Every package that reads the system takes its paths from one root value
// (internal/sysfs.Root, exposed as WithRoot options), so the same code runs
// against the live machine, a fake tree built with blockdev/blockdevtest, or a
// --sysroot directory. Every call that may block takes a context.Context first;
// loggers (*slog.Logger) and metrics sinks come from the caller; errors are
// typed and work with errors.Is.
package storage
