package smart

import "fmt"

// Protocol is how a drive is asked for its health.
type Protocol int

// Protocols.
const (
	ProtocolAuto Protocol = iota // pick from sysfs facts and the device's answers
	ProtocolATA                  // ATA over SG_IO with ATA PASS-THROUGH(16) (SAT; smartctl -d sat)
	ProtocolNVMe                 // NVMe admin commands (smartctl -d nvme)
	ProtocolSCSI                 // SCSI log and mode pages over SG_IO (smartctl -d scsi)
)

func (p Protocol) String() string {
	switch p {
	case ProtocolAuto:
		return "auto"
	case ProtocolATA:
		return "ATA"
	case ProtocolNVMe:
		return "NVMe"
	case ProtocolSCSI:
		return "SCSI"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Status is the drive's own overall assessment: SMART RETURN STATUS for ATA,
// the critical warning byte for NVMe, the Informational Exceptions log
// page for SCSI.
type Status int

// Statuses.
const (
	StatusUnknown Status = iota
	StatusPassed
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusPassed:
		return "PASSED"
	case StatusFailed:
		return "FAILED"
	}
	return "UNKNOWN"
}

// Report is one reading of a drive's health.
type Report struct {
	Device   string
	Protocol Protocol
	// Class is how the device was classified, and from what (nil for
	// replayed data).
	Class *Classification
	ATA   *ATAData  // set for ProtocolATA
	NVMe  *NVMeData // set for ProtocolNVMe
	SCSI  *SCSIData // set for ProtocolSCSI
}

// Status is the drive's self-assessment.
func (r *Report) Status() Status {
	switch {
	case r == nil:
		return StatusUnknown
	case r.ATA != nil:
		return r.ATA.Status
	case r.SCSI != nil:
		return r.SCSI.Status
	case r.NVMe != nil && r.NVMe.Health != nil:
		if r.NVMe.Health.CriticalWarning != 0 {
			return StatusFailed
		}
		return StatusPassed
	}
	return StatusUnknown
}

// ATAData is what an ATA drive told us.
type ATAData struct {
	Identity   *Identity
	Values     *SmartValues
	Thresholds *Thresholds
	Attributes []Attribute
	Status     Status
	SelfTests  *SelfTestLog
	Errors     *ErrorLog
	// Problems are failures of optional pages (thresholds, status, logs)
	// that did not stop the reading; each matches a sentinel with errors.Is.
	Problems []error
}

// NewATAData assembles ATAData from decoded pages; any of them but id may be nil.
func NewATAData(id *Identity, v *SmartValues, th *Thresholds, st Status) *ATAData {
	var rpm uint16
	if id != nil {
		rpm = id.RotationRate
	}
	return &ATAData{Identity: id, Values: v, Thresholds: th, Status: st, Attributes: Attributes(v, th, rpm)}
}

// Attribute returns the attribute with the given id.
func (d *ATAData) Attribute(id uint8) (Attribute, bool) {
	if d == nil {
		return Attribute{}, false
	}
	for _, a := range d.Attributes {
		if a.ID == id {
			return a, true
		}
	}
	return Attribute{}, false
}

// Temperature is the current temperature in Celsius from attribute 194, else
// 190 (the low raw byte, as smartctl reports temperature.current).
func (d *ATAData) Temperature() (int, bool) {
	for _, id := range []uint8{194, 190} {
		if a, ok := d.Attribute(id); ok {
			if t := int(a.Raw[0]); t > 0 && t < 128 {
				return t, true
			}
		}
	}
	return 0, false
}

// PowerOnHours is attribute 9 in its default raw24 form.
func (d *ATAData) PowerOnHours() (uint64, bool) {
	if a, ok := d.Attribute(9); ok {
		return a.RawValue & 0xffffff, true
	}
	return 0, false
}

// PowerCycles is attribute 12's raw value.
func (d *ATAData) PowerCycles() (uint64, bool) {
	if a, ok := d.Attribute(12); ok {
		return a.RawValue, true
	}
	return 0, false
}
