package smart

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sgio"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// scsiDevice sends read-only SCSI commands (INQUIRY, LOG SENSE, MODE
// SENSE, READ DEFECT DATA) to an open SCSI device.
type scsiDevice struct {
	cfg  *config
	fd   int
	name string
	// modeTen is set once MODE SENSE(6) was refused as an unknown
	// command, so later mode pages go straight to MODE SENSE(10).
	modeTen bool
}

// in sends one data-in command with an n-byte buffer and returns the bytes
// the device transferred. A UNIT ATTENTION (a reset or a changed
// parameter, reported once to each initiator) is answered by sending the
// command once more; RECOVERED ERROR is success with the data valid.
func (d *scsiDevice) in(ctx context.Context, op string, cdb []byte, n int) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		timeout, err := d.cfg.commandTimeout(ctx)
		if err != nil {
			return nil, &CommandError{Device: d.name, Op: op, Err: err, kind: ErrTimeout}
		}
		buf := make([]byte, n)
		d.cfg.logger.DebugContext(ctx, "scsi command", "device", d.name, "op", op, "cdb", fmt.Sprintf("% x", cdb))
		res, err := sgio.Do(d.fd, sgio.Request{CDB: cdb, Direction: sgio.DxferFromDev, Data: buf, Timeout: timeout})
		if err != nil {
			return nil, &CommandError{Device: d.name, Op: op, Err: err, kind: classifySyscall(err)}
		}
		if err := res.Err(); err != nil {
			var se *sgio.SenseError
			switch {
			case errors.As(err, &se) && (se.Sense.Key == sgio.KeyRecoveredError || se.Sense.Key == sgio.KeyNoSense):
			case errors.As(err, &se) && se.Sense.UnitAttention() && attempt == 0:
				continue
			default:
				return nil, &CommandError{Device: d.name, Op: op, Err: err, kind: classifySG(err)}
			}
		}
		got := n - int(res.Resid)
		if got < 0 || got > n {
			got = n
		}
		return buf[:got], nil
	}
}

// refused reports a command the device does not implement (or a field of
// it, such as a page it does not keep).
func refused(err error) bool { return errors.Is(err, ErrNotSupported) }

func senseOf(err error) (sgio.Sense, bool) {
	var se *sgio.SenseError
	if errors.As(err, &se) {
		return se.Sense, true
	}
	return sgio.Sense{}, false
}

// inquiry reads the standard INQUIRY data: 36 bytes, and 64 when a
// device refuses that (some Marvell controllers do), as smartctl does.
func (d *scsiDevice) inquiry(ctx context.Context) (*SCSIInquiry, error) {
	b, err := d.in(ctx, "INQUIRY", sgio.InquiryCDB(false, 0, inquiryLen), inquiryLen)
	if err != nil {
		var err2 error
		if b, err2 = d.in(ctx, "INQUIRY", sgio.InquiryCDB(false, 0, 64), 64); err2 != nil {
			return nil, err
		}
	}
	return ParseSCSIInquiry(b)
}

func (d *scsiDevice) vpd(ctx context.Context, page uint8, n int) ([]byte, error) {
	return d.in(ctx, fmt.Sprintf("INQUIRY VPD %02Xh", page), sgio.InquiryCDB(true, page, uint16(n)), n)
}

// logSense reads a whole log page with smartctl's twin fetch: the 4-byte
// header first to learn the length, then exactly that (rounded up to an
// even count, which some HBAs need), so no HBA sees an allocation length
// it chokes on.
func (d *scsiDevice) logSense(ctx context.Context, page uint8) ([]byte, error) {
	op := fmt.Sprintf("LOG SENSE %02Xh", page)
	hdr, err := d.in(ctx, op, sgio.LogSenseCDB(page, 0, logPageHeaderLen), logPageHeaderLen)
	if err != nil {
		return nil, err
	}
	if len(hdr) < logPageHeaderLen {
		return nil, &CommandError{Device: d.name, Op: op, kind: ErrDevice, Err: fmt.Errorf("short transfer: %d of %d header bytes", len(hdr), logPageHeaderLen)}
	}
	n := logPageHeaderLen + int(binary.BigEndian.Uint16(hdr[2:]))
	if n == logPageHeaderLen {
		return hdr, nil
	}
	n = min(n+n%2, 0xfffe)
	return d.in(ctx, op, sgio.LogSenseCDB(page, 0, uint16(n)), n)
}

// modeSense reads one mode page (current values): MODE SENSE(6) first,
// MODE SENSE(10) for devices that do not know the 6-byte command. It
// returns the response and whether it is the 10-byte form.
func (d *scsiDevice) modeSense(ctx context.Context, page uint8) ([]byte, bool, error) {
	if !d.modeTen {
		b, err := d.in(ctx, fmt.Sprintf("MODE SENSE(6) %02Xh", page), sgio.ModeSense6CDB(sgio.ModeCurrent, page, 0, 252), 252)
		if s, ok := senseOf(err); !ok || s.ASC != sgio.ASCInvalidOpcode {
			return b, false, err
		}
		d.modeTen = true
	}
	b, err := d.in(ctx, fmt.Sprintf("MODE SENSE(10) %02Xh", page), sgio.ModeSense10CDB(sgio.ModeCurrent, page, 0, 512), 512)
	return b, true, err
}

// grownDefects asks READ DEFECT DATA for the header of the grown defect
// list alone (the allocation length leaves no room for descriptors): the
// 12-byte command, and the 10-byte one where that is unknown. A device
// that keeps no such list (ASC 1Ch) returns nil, nil.
func (d *scsiDevice) grownDefects(ctx context.Context) (*DefectList, error) {
	twelve := true
	b, err := d.in(ctx, "READ DEFECT DATA(12)", sgio.ReadDefectData12CDB(false, true, sgio.DefectFormatBytesFromIndex, 8), 8)
	if s, ok := senseOf(err); ok && s.ASC == sgio.ASCInvalidOpcode {
		twelve = false
		b, err = d.in(ctx, "READ DEFECT DATA(10)", sgio.ReadDefectData10CDB(false, true, sgio.DefectFormatBytesFromIndex, 4), 4)
	}
	if s, ok := senseOf(err); ok && s.DefectListNotFound() {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l, err := ParseDefectListHeader(b, twelve)
	if err != nil {
		return nil, err
	}
	if !l.Grown {
		return nil, malformed("READ DEFECT DATA", "asked for the grown defect list, the header describes another")
	}
	return l, nil
}

// readCapacity takes the size from sysfs (what the kernel's sd driver read
// with READ CAPACITY), so no command is sent for it.
func (c *config) readCapacity(t *target) *SCSICapacity {
	dir := t.sysDir
	if _, err := sysfs.ReadAttr(filepath.Join(dir, "size")); err != nil {
		// A SCSI generic node: its disk is the block device of the same
		// SCSI device, if it has one.
		m, _ := filepath.Glob(filepath.Join(dir, "device", "block", "*"))
		if len(m) != 1 {
			return nil
		}
		dir = m[0]
	}
	num := func(name string) (uint64, bool) {
		s, err := sysfs.ReadAttr(filepath.Join(dir, name))
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(s, 10, 64)
		return v, err == nil
	}
	sectors, ok1 := num("size")
	lbs, ok2 := num("queue/logical_block_size")
	if !ok1 || !ok2 || lbs == 0 || lbs > 1<<20 || sectors > ^uint64(0)/512 {
		return nil
	}
	c2 := &SCSICapacity{Bytes: sectors * 512, LogicalBlockSize: uint32(lbs)}
	c2.Blocks = c2.Bytes / lbs
	if pbs, ok := num("queue/physical_block_size"); ok && pbs > lbs && pbs <= 1<<20 {
		c2.PhysicalBlockSize = uint32(pbs)
	}
	return c2
}

// scsiDiskAttrs returns a reader of the sd driver's numeric attributes
// (the scsi_disk class directory of the disk's SCSI device).
func (c *config) scsiDiskAttrs(t *target) func(string) (uint64, bool) {
	m, _ := filepath.Glob(filepath.Join(t.sysDir, "device", "scsi_disk", "*"))
	return func(name string) (uint64, bool) {
		if len(m) != 1 {
			return 0, false
		}
		s, err := sysfs.ReadAttr(filepath.Join(m[0], name))
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(s, 10, 64)
		return v, err == nil
	}
}

// read runs the read-only sequence for a SCSI disk whose standard INQUIRY
// is in cls (and its Supported VPD Pages, when classification read them).
// What the device refuses is absent; what fails otherwise is in Problems.
// It returns an *UnsupportedError, carrying what was read, when the device
// is no disk or keeps no health data at all.
func (d *scsiDevice) read(ctx context.Context, t *target, cls *Classification) (*SCSIData, error) {
	inq := cls.Inquiry
	s := &SCSIData{Inquiry: inq}
	var problems []error
	note := func(err error) {
		if err != nil && !refused(err) {
			problems = append(problems, err)
		}
	}
	vpds, vpdsKnown := cls.vpdPages, cls.vpdRead
	if !vpdsKnown {
		b, err := d.vpd(ctx, vpdSupported, 252)
		if err == nil {
			vpds, err = parseSupportedVPD(b)
		}
		vpdsKnown = err == nil
		note(err)
	}
	has := func(p uint8) bool {
		for _, x := range vpds {
			if x == p {
				return true
			}
		}
		return false
	}
	if !vpdsKnown || has(vpdUnitSerial) {
		b, err := d.vpd(ctx, vpdUnitSerial, 252)
		if err == nil {
			s.Serial, err = parseUnitSerial(b)
		}
		if vpdsKnown {
			note(err)
		}
	}
	if !vpdsKnown || has(vpdDeviceID) {
		b, err := d.vpd(ctx, vpdDeviceID, 1020)
		var id *deviceID
		if err == nil {
			id, err = parseDeviceID(b)
		}
		if err == nil {
			s.LogicalUnitID = id.LogicalUnit
			if id.Transport >= 0 {
				tp := uint8(id.Transport)
				s.Transport = &tp
			}
		}
		if vpdsKnown {
			note(err)
		}
	}
	if has(vpdBlockDevChar) {
		b, err := d.vpd(ctx, vpdBlockDevChar, 64)
		var bdc *blockDevChar
		if err == nil {
			bdc, err = parseBlockDevChar(b)
		}
		if err == nil {
			s.RotationRate, s.FormFactor = &bdc.RotationRate, bdc.FormFactor
		}
		note(err)
	}
	s.Capacity = d.cfg.readCapacity(t)
	disk := d.cfg.scsiDiskAttrs(t)
	// smartctl reads LBPME (and the protection type) from READ
	// CAPACITY(16) only when INQUIRY reports protection or a physical
	// block spans several logical ones; the kernel keeps both in sysfs.
	rc16 := inq.Protect || (s.Capacity != nil && s.Capacity.PhysicalBlockSize != 0)
	if rc16 {
		if v, ok := disk("protection_type"); ok && v <= 3 {
			s.ProtectionType = uint8(v)
		}
	}
	if has(vpdProvisioning) {
		b, err := d.vpd(ctx, vpdProvisioning, 64)
		var typ, lbprz uint8
		if err == nil {
			typ, lbprz, err = parseProvisioningVPD(b)
		}
		if err == nil {
			s.Provisioning = &SCSIProvisioning{Type: typ, LBPME: -1, LBPRZ: int(lbprz)}
			if v, ok := disk("thin_provisioning"); ok && rc16 && v <= 1 {
				s.Provisioning.LBPME = int(v)
			}
		}
		note(err)
	}
	if !inq.IsDisk() {
		return nil, &UnsupportedError{Device: d.name, Class: cls,
			Reason:  fmt.Sprintf("peripheral device type %q (%02Xh) keeps no disk health pages", inq.DeviceTypeName(), inq.DeviceType),
			Partial: s}
	}

	b, ten, err := d.modeSense(ctx, modePageIEC)
	if err == nil {
		s.ExceptionControl, err = parseIECPage(b, ten)
	}
	note(err)

	b, err = d.logSense(ctx, LogPageSupported)
	if err == nil {
		s.LogPages, err = ParseSupportedLogPages(b)
	}
	logErr := err
	note(err)
	read := func(page uint8, decode func([]byte) error) {
		if !s.HasLogPage(page) {
			return
		}
		b, err := d.logSense(ctx, page)
		if err == nil {
			err = decode(b)
		}
		note(err)
	}
	read(LogPageInfoExceptions, func(b []byte) (err error) {
		s.Exceptions, err = ParseInformationalExceptionsPage(b)
		return
	})
	read(LogPageTemperature, func(b []byte) (err error) {
		s.Temperature, err = ParseTemperaturePage(b)
		return
	})
	read(LogPageStartStop, func(b []byte) (err error) {
		s.StartStop, err = ParseStartStopPage(b)
		return
	})
	for _, p := range []struct {
		page uint8
		dst  **ErrorCounters
	}{{LogPageReadErrors, &s.ReadErrors}, {LogPageWriteErrors, &s.WriteErrors}, {LogPageVerifyErrors, &s.VerifyErrors}} {
		read(p.page, func(b []byte) (err error) {
			*p.dst, err = ParseErrorCounterPage(b)
			return
		})
	}
	read(LogPageNonMediumErrors, func(b []byte) error {
		n, ok, err := ParseNonMediumErrorPage(b)
		if ok {
			s.NonMediumErrors = &n
		}
		return err
	})
	read(LogPageSolidStateMedia, func(b []byte) error {
		n, ok, err := ParseSolidStateMediaPage(b)
		if ok {
			s.PercentageUsed = &n
		}
		return err
	})
	read(LogPageBackgroundScan, func(b []byte) (err error) {
		s.BackgroundScan, err = ParseBackgroundScanPage(b)
		return
	})
	if d.cfg.logs {
		read(LogPageSelfTest, func(b []byte) (err error) {
			s.SelfTests, err = ParseSCSISelfTestPage(b)
			return
		})
		if s.SelfTests != nil && len(s.SelfTests.Entries) > 0 {
			b, ten, err := d.modeSense(ctx, modePageControl)
			var sec uint16
			if err == nil {
				sec, err = parseControlPage(b, ten)
			}
			if err == nil && sec > 0 {
				s.ExtendedSelfTestSeconds = &sec
			}
			note(err)
		}
	}
	dl, err := d.grownDefects(ctx)
	if err == nil && dl != nil {
		s.GrownDefects = dl.Count
	}
	note(err)
	s.Problems = problems
	s.Status = s.status()

	if !s.keepsHealthData() {
		reason := "it keeps none of the log pages health is read from"
		switch {
		case logErr != nil && s.ExceptionControl == nil:
			reason = "it has no Informational Exceptions Control mode page (1Ch) and refuses LOG SENSE"
		case logErr != nil:
			reason = "it refuses LOG SENSE"
		}
		return nil, &UnsupportedError{Device: d.name, Class: cls, Reason: reason, Partial: s, Err: refusedErr(logErr)}
	}
	return s, nil
}

// refusedErr keeps err only when it is a refusal, so an UnsupportedError
// never also matches ErrDevice.
func refusedErr(err error) error {
	if refused(err) {
		return err
	}
	return nil
}
