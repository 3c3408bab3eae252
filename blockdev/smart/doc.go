// Package smart reads drive health without smartctl: ATA SMART over SG_IO
// (ATA PASS-THROUGH(16), the SCSI/ATA Translation that libata, SAS HBAs and
// most USB bridges speak) and the NVMe SMART / Health log over the NVMe admin
// ioctl.
//
// Read picks the protocol from sysfs facts (the disk's device/subsystem link:
// nvme, or scsi), never from the device name; devices with no SMART at all
// (loop, zram, device-mapper, md, virtio-blk) answer ErrNotSupported at once
// without opening the device. A partition reads its disk; an NVMe
// controller node (/dev/nvme0) and a SCSI generic node (/dev/sg0) work too.
// ReadAll reads many devices with a bounded number of workers, each device's
// failure or timeout confined to its own Result. Only read-only commands are sent: IDENTIFY
// DEVICE, SMART READ DATA, READ THRESHOLDS, RETURN STATUS, READ LOG (self-test
// and summary error logs); Identify Controller/Namespace and Get Log Page for
// NVMe. Starting a self-test is the separate, explicit StartSelfTest.
//
// Every command carries a timeout to the kernel (the smaller of the
// per-command timeout and what is left of the context), so a hung drive costs
// at most that long; the context is checked between commands.
//
// Every page with a checksum (IDENTIFY with the A5h signature, SMART data,
// thresholds, logs) is verified; a bad checksum is a *ChecksumError for that
// page (errors.Is ErrChecksum), never silently used data. Sense data and NVMe
// completion statuses are decoded into *CommandError values that match
// ErrNotSupported, ErrDisabled, ErrTimeout, ErrPermission or ErrDevice.
//
// The page parsers (ParseIdentify, ParseSmartValues, ParseThresholds,
// ParseSelfTestLog, ParseErrorLog, ParseNVMeIdentify, ParseNVMeHealth,
// ParseNVMeErrorLog) are exported for replaying captured data;
// ParseAtasmartBlob reads libatasmart blobs. Attribute names and raw-value
// renderings follow smartctl's defaults (its DEFAULT drive database entry);
// MarshalSmartctlJSON writes smartctl -j key names for the shared fields.
//
// Health turns a reading (and optionally the previous one) into a verdict
// with machine-readable reasons. Missing data is never read as good news:
// an ATA reading with neither SMART RETURN STATUS nor the thresholds, or an
// NVMe reading without its health log, is VerdictUnknown (reason
// ReasonNotJudged) unless a finding makes it worse. Likewise IDENTIFY words
// that are marked not valid leave SMART support unknown, and the drive is
// asked, as smartctl does. Failed ATA PASS-THROUGH commands are classified
// from the returned ATA registers in either sense format (libata sends a
// drive's ABRT as fixed-format ABORTED COMMAND 00/00h with the registers in
// INFORMATION), so a refused command is ErrNotSupported, not ErrDevice.
// WriteText renders a reading like a short smartctl -a.
//
// Tested against smartctl three ways: its JSON from real drives
// (testdata/*.json: names, flags, raw renderings, WHEN_FAILED, status
// wording), its JSON for the same QEMU NVMe controller whose pages are kept
// in testdata/qemu_nvme_*, and, in the VM tier, smartctl -j on live SATA and
// NVMe drives, where every shared key agrees.
package smart
