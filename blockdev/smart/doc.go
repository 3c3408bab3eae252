// Package smart reads drive health without smartctl: ATA SMART over SG_IO
// (ATA PASS-THROUGH(16), the SCSI/ATA Translation that libata, SAS HBAs and
// most USB bridges speak), the NVMe SMART / Health log over the NVMe admin
// ioctl, and a SCSI or SAS disk's log pages (Informational Exceptions,
// Temperature, Start-Stop Cycle Counter, the error counters, Self-Test
// Results) over SG_IO.
//
// Classify decides what answers for a disk the way smartctl autodetects it,
// from sysfs facts and the device's own answers, never from its name: a
// disk on the NVMe bus is NVMe; a SCSI device behind a USB bridge is
// judged by the bridge's id alone (a table of known bridges: one that
// speaks SAT is ATA, an unknown one is refused unprobed, as smartctl
// refuses it); any other SCSI device is ATA behind SAT when INQUIRY names
// vendor "ATA" or lists VPD page 89h and IDENTIFY DEVICE through ATA
// PASS-THROUGH is answered, else SCSI. WithProtocol forces the answer
// like smartctl's -d sat, -d nvme, -d scsi. Read classifies, then reads;
// devices with no SMART at all (loop, zram, device-mapper, md, virtio-blk)
// answer ErrNotSupported at once without being opened, and a device that
// cannot report health (an unknown USB bridge, a SCSI disk without log
// pages, an ATA-vendor device whose translation refuses pass-through)
// answers an *UnsupportedError that matches ErrNotSupported and carries
// the classification, the reason and what the device did tell. A
// partition reads its disk; an NVMe controller node (/dev/nvme0) and a
// SCSI generic node (/dev/sg0) work too.
// ReadAll reads many devices with a bounded number of workers, each device's
// failure or timeout confined to its own Result. Only read-only commands are
// sent: INQUIRY, IDENTIFY DEVICE, SMART READ DATA, READ THRESHOLDS, RETURN
// STATUS, READ LOG (self-test and summary error logs); Identify
// Controller/Namespace and Get Log Page for NVMe; LOG SENSE, MODE SENSE and
// READ DEFECT DATA (the grown list's header) for SCSI. A SCSI disk's size
// comes from sysfs, not READ CAPACITY. Starting a self-test is the
// separate, explicit StartSelfTest (ATA and NVMe).
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
// ParseNVMeErrorLog, ParseSCSIInquiry, ParseLogPage and the typed SCSI log
// page decoders, ParseDefectListHeader) are exported for replaying captured
// data;
// ParseAtasmartBlob reads libatasmart blobs. Attribute names and raw-value
// renderings follow smartctl's defaults (its DEFAULT drive database entry);
// MarshalSmartctlJSON writes smartctl -j key names for the shared fields.
//
// Health turns a reading (and optionally the previous one) into a verdict
// with machine-readable reasons. Missing data is never read as good news:
// an ATA reading with neither SMART RETURN STATUS nor the thresholds, an
// NVMe reading without its health log, or a SCSI reading without the
// Informational Exceptions log page (smartctl falls back to REQUEST SENSE,
// which this package does not send) is VerdictUnknown (reason
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
// wording; the SAS drives' JSON decodes into our types and encodes back
// unchanged, and hand-laid pages of one of them render to its JSON), its
// JSON for the same QEMU NVMe controller whose pages are kept in
// testdata/qemu_nvme_*, and, in the VM tier, smartctl -j on live SATA,
// NVMe, virtio-SCSI and USB disks (and scsi_debug where the assets carry
// it), where the classification, the verdict and every shared key agree,
// with autodetection and with -d sat and -d scsi.
package smart
