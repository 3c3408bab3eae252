package smart

import (
	"context"
	"errors"
	"fmt"
)

// Class is what answers for a disk's health, decided the way smartctl
// autodetects a device: from sysfs facts and the device's own answers,
// never from its name.
type Class int

// Classes.
const (
	ClassUnknown Class = iota
	// ClassATA is an ATA device behind a SCSI/ATA Translation (libata, a
	// SAS HBA, a USB bridge that speaks SAT): smartctl's "sat".
	ClassATA
	// ClassNVMe is an NVMe controller or namespace: smartctl's "nvme".
	ClassNVMe
	// ClassSCSI is a SCSI or SAS logical unit read through its log pages:
	// smartctl's "scsi".
	ClassSCSI
	// ClassUSBBridge is a device behind a USB bridge this package cannot
	// pass commands through: one it does not know (smartctl: "Unknown USB
	// bridge"), one known to pass none, or one that needs a vendor tunnel.
	ClassUSBBridge
)

func (c Class) String() string {
	switch c {
	case ClassATA:
		return "ATA behind SAT"
	case ClassNVMe:
		return "NVMe"
	case ClassSCSI:
		return "SCSI"
	case ClassUSBBridge:
		return "USB bridge"
	}
	return "unknown"
}

// SmartctlType is smartctl's device.type for the class ("sat", "nvme",
// "scsi"); "" where smartctl names none (an unusable USB bridge).
func (c Class) SmartctlType() string {
	switch c {
	case ClassATA:
		return "sat"
	case ClassNVMe:
		return "nvme"
	case ClassSCSI:
		return "scsi"
	}
	return ""
}

// Protocol is the protocol a class is read with (ProtocolAuto for none).
func (c Class) Protocol() Protocol {
	switch c {
	case ClassATA:
		return ProtocolATA
	case ClassNVMe:
		return ProtocolNVMe
	case ClassSCSI:
		return ProtocolSCSI
	}
	return ProtocolAuto
}

// Classification is a device's class and the facts it was decided from.
type Classification struct {
	Class Class
	// Forced is set when WithProtocol chose the class (smartctl -d) and
	// nothing was detected.
	Forced bool
	// Bus is the sysfs subsystem of the disk's device ("scsi", "nvme").
	Bus string
	// USB is the USB device a SCSI device sits on, from sysfs; nil for
	// none.
	USB *USBBridge
	// Inquiry is the standard INQUIRY data of a SCSI device (nil when it
	// was not asked for).
	Inquiry *SCSIInquiry
	// ATAInformationVPD is set when the device lists VPD page 89h, which
	// a SCSI/ATA Translation layer keeps.
	ATAInformationVPD bool
	// SATProbed is set when IDENTIFY DEVICE was sent through ATA
	// PASS-THROUGH to decide; SATAnswered when the device answered it.
	SATProbed, SATAnswered bool
	// Reason says in words why the device is in its class.
	Reason string

	vpdPages []uint8 // the Supported VPD Pages list, when read
	vpdRead  bool
}

// UnsupportedError is a device whose health cannot be read here, with how
// it was classified and why. errors.Is(err, ErrNotSupported) is true.
type UnsupportedError struct {
	Device string
	Class  *Classification
	Reason string
	// Partial is what the device did tell (a SCSI disk's identity), nil
	// when nothing.
	Partial *SCSIData
	// Err is the refused command behind the reason, if one was; it is
	// never a failure of another kind.
	Err error
}

func (e *UnsupportedError) Error() string {
	s := fmt.Sprintf("smart: %s: no health data to read (%s): %s", e.Device, e.Class.Class, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrNotSupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }

func (e *UnsupportedError) Unwrap() error { return e.Err }

// Report is the partial reading as a Report, for rendering what is known;
// nil when there is none.
func (e *UnsupportedError) Report() *Report {
	r := &Report{Device: e.Device, Class: e.Class, Protocol: e.Class.Class.Protocol()}
	if e.Partial != nil {
		r.SCSI = e.Partial
	}
	return r
}

// Classify decides, with read-only commands, what kind of device answers
// for devicePath's health: the NVMe bus from sysfs; for a SCSI device, a
// USB bridge's id from sysfs, else the standard INQUIRY, the Supported VPD
// Pages and whether IDENTIFY DEVICE through ATA PASS-THROUGH is answered.
// It is the first step of Read.
func Classify(ctx context.Context, devicePath string, opts ...Option) (*Classification, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := cfg.locate(devicePath)
	if err != nil {
		return nil, err
	}
	if t.protocol == ProtocolNVMe {
		return classifyNVMe(t), nil
	}
	f, err := openDevice(t.node)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, _, err := cfg.classify(ctx, int(f.Fd()), t)
	return c, err
}

func classifyNVMe(t *target) *Classification {
	c := &Classification{Class: ClassNVMe, Bus: t.bus, Forced: t.forced, Reason: "the disk's device is on the NVMe bus"}
	if t.forced {
		c.Reason = "forced"
	}
	return c
}

// classify decides the class of an open SCSI device in smartctl's order.
// When it sent IDENTIFY DEVICE and the device answered, the page comes
// back too, so the ATA reading does not ask again.
func (cfg *config) classify(ctx context.Context, fd int, t *target) (*Classification, []byte, error) {
	c := &Classification{Bus: t.bus, USB: t.usb, Forced: t.forced}
	if t.forced {
		c.Reason = "forced"
		switch t.protocol {
		case ProtocolATA:
			c.Class = ClassATA
		case ProtocolSCSI:
			c.Class = ClassSCSI
		case ProtocolNVMe:
			c.Class = ClassNVMe
		}
		return c, nil, nil
	}
	// A USB bridge first, from its id alone: commands an unknown bridge
	// does not understand can hang it, so smartctl sends none.
	if u := t.usb; u != nil {
		switch {
		case !u.Known:
			c.Class, c.Reason = ClassUSBBridge, "unknown USB bridge "+u.ID()
		case u.PassThrough == "sat":
			c.Class, c.Reason = ClassATA, fmt.Sprintf("USB bridge %s (%s) speaks SAT", u.ID(), u.Name)
		case u.PassThrough == "":
			c.Class, c.Reason = ClassUSBBridge, fmt.Sprintf("unsupported USB bridge %s (%s): it passes no ATA commands", u.ID(), u.Name)
		default:
			c.Class, c.Reason = ClassUSBBridge, fmt.Sprintf("USB bridge %s (%s) needs smartctl's -d %s pass-through, which this package does not speak", u.ID(), u.Name, u.PassThrough)
		}
		return c, nil, nil
	}
	sd := &scsiDevice{cfg: cfg, fd: fd, name: t.name}
	inq, err := sd.inquiry(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.Inquiry = inq
	if !inq.ATAVendor {
		b, err := sd.vpd(ctx, vpdSupported, 252)
		if err == nil {
			c.vpdPages, err = parseSupportedVPD(b)
		}
		c.vpdRead = err == nil
		for _, p := range c.vpdPages {
			c.ATAInformationVPD = c.ATAInformationVPD || p == vpdATAInformation
		}
	}
	if inq.ATAVendor || c.ATAInformationVPD {
		c.SATProbed = true
		ad := &ataDevice{cfg: cfg, fd: fd, name: t.name}
		page, _, err := ad.run(ctx, cmdIdentify)
		if err == nil {
			c.SATAnswered, c.Class = true, ClassATA
			if inq.ATAVendor {
				c.Reason = "INQUIRY names vendor ATA and IDENTIFY DEVICE through ATA PASS-THROUGH is answered"
			} else {
				c.Reason = "VPD page 89h (ATA Information) is present and IDENTIFY DEVICE through ATA PASS-THROUGH is answered"
			}
			return c, page, nil
		}
		if !refused(err) {
			return nil, nil, err
		}
		c.Class = ClassSCSI
		if inq.ATAVendor {
			// smartctl stops here with "Probable ATA device behind a SAT
			// layer": the SCSI pages of a SATL describe the translation.
			c.Reason = "probable ATA device behind a SAT layer: INQUIRY names vendor ATA but ATA PASS-THROUGH is refused"
			return c, nil, &UnsupportedError{Device: t.name, Class: c, Reason: c.Reason, Err: err}
		}
		c.Reason = "VPD page 89h is present but ATA PASS-THROUGH is refused"
		return c, nil, nil
	}
	c.Class = ClassSCSI
	c.Reason = fmt.Sprintf("INQUIRY vendor %q is not ATA and there is no VPD page 89h (ATA Information)", inq.Vendor)
	return c, nil, nil
}

// unsupportedATA turns a refused IDENTIFY or SMART command on a device
// classified ATA into an UnsupportedError that carries the class; other
// errors pass unchanged.
func unsupportedATA(name string, c *Classification, err error) error {
	var ue *UnsupportedError
	if err == nil || !refused(err) || errors.As(err, &ue) {
		return err
	}
	var ce *CommandError
	if errors.As(err, &ce) {
		return &UnsupportedError{Device: name, Class: c, Reason: ce.Op + " through ATA PASS-THROUGH is refused", Err: err}
	}
	return &UnsupportedError{Device: name, Class: c, Reason: unwrapMessage(err)}
}

func unwrapMessage(err error) string {
	s := err.Error()
	if p := ErrNotSupported.Error() + ": "; len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
