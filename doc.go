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
