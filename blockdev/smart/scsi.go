package smart

// SCSIData is what a SCSI or SAS disk told us: its identity from INQUIRY
// and its VPD pages, whether it reports informational exceptions (its
// "SMART"), and the log pages smartctl reads for it. Anything the device
// does not keep is nil (or ""), never a zero that looks like a reading.
type SCSIData struct {
	Inquiry       *SCSIInquiry
	Serial        string // Unit Serial Number VPD page (80h)
	LogicalUnitID string // the logical unit designator of VPD page 83h, as smartctl prints it
	// Transport is the protocol identifier of the device's ports (VPD
	// 83h), 6 for SAS; nil when the page names none.
	Transport *uint8
	// Capacity comes from sysfs (the kernel's READ CAPACITY); nil when
	// the device node has no block device.
	Capacity *SCSICapacity
	// RotationRate is the Block Device Characteristics page's value: 0 not
	// reported, 1 solid state, else rpm. nil when the page is absent.
	RotationRate *uint16
	FormFactor   uint8 // nominal form factor code, 0 not reported
	// Provisioning is the Logical Block Provisioning VPD page (B2h); nil
	// when the device has none.
	Provisioning *SCSIProvisioning
	// ProtectionType is the protection information type the disk is
	// formatted with (1-3), from sysfs; 0 for none or unknown.
	ProtectionType uint8

	// ExceptionControl is mode page 1Ch; nil when the device has none,
	// which smartctl reports as "SMART support is: Unavailable".
	ExceptionControl *SCSIExceptionControl
	// LogPages are the page codes of the Supported Log Pages page; nil
	// when the device refuses LOG SENSE.
	LogPages []uint8

	Exceptions      *InformationalExceptions // log page 2Fh
	Temperature     *SCSITemperature         // 0Dh
	StartStop       *StartStopCycles         // 0Eh
	ReadErrors      *ErrorCounters           // 03h
	WriteErrors     *ErrorCounters           // 02h
	VerifyErrors    *ErrorCounters           // 05h
	NonMediumErrors *uint64                  // 06h
	SelfTests       *SCSISelfTestLog         // 10h
	PercentageUsed  *uint8                   // 11h: percentage used endurance indicator
	BackgroundScan  *BackgroundScan          // 15h: status, with the power-on minutes
	// GrownDefects is the number of entries in the grown defect list
	// (READ DEFECT DATA); nil when the device keeps no list or its format
	// does not say how many.
	GrownDefects *uint64
	// ExtendedSelfTestSeconds is the Control mode page's estimate of an
	// extended self-test, read when the self-test log has entries.
	ExtendedSelfTestSeconds *uint16

	// Status is the device's own verdict from the Informational Exceptions
	// page: FAILED for a failure prediction (5Dh) or a warning (0Bh),
	// PASSED for none, UNKNOWN without the page.
	Status Status
	// Problems are failures of single pages that did not stop the
	// reading; each matches a sentinel with errors.Is.
	Problems []error
}

// SCSICapacity is a disk's size.
type SCSICapacity struct {
	Blocks            uint64 // logical blocks
	Bytes             uint64
	LogicalBlockSize  uint32
	PhysicalBlockSize uint32 // 0 when it equals the logical block size
}

// SCSIProvisioning is how the logical unit is provisioned.
type SCSIProvisioning struct {
	Type uint8 // PROVISIONING TYPE: 0 full, 1 resource, 2 thin
	// LBPME (provisioning management enabled) and LBPRZ (unmapped blocks
	// read zero) as smartctl reports them: LBPME is -1 unless the device
	// reports protection or a physical block larger than the logical one
	// (smartctl reads it from READ CAPACITY(16) only then; this package
	// takes the kernel's copy in sysfs), LBPRZ comes from the VPD page.
	LBPME, LBPRZ int
}

// Name is smartctl's wording of the provisioning type.
func (p *SCSIProvisioning) Name() string {
	switch p.Type {
	case 0:
		if p.LBPME <= 0 {
			return "fully provisioned"
		}
		return "not reported"
	case 1:
		return "resource provisioned"
	case 2:
		return "thin provisioned"
	}
	return "reserved"
}

// HasLogPage reports whether the Supported Log Pages page lists the page.
func (d *SCSIData) HasLogPage(code uint8) bool {
	for _, p := range d.LogPages {
		if p == code {
			return true
		}
	}
	return false
}

func (d *SCSIData) status() Status {
	switch {
	case d.Exceptions == nil:
		return StatusUnknown
	case d.Exceptions.FailurePredicted(), d.Exceptions.Warning():
		return StatusFailed
	}
	return StatusPassed
}

// keepsHealthData reports whether anything health is judged by was read.
func (d *SCSIData) keepsHealthData() bool {
	return d.Exceptions != nil || d.Temperature != nil || d.StartStop != nil || d.ReadErrors != nil ||
		d.WriteErrors != nil || d.VerifyErrors != nil || d.NonMediumErrors != nil || d.SelfTests != nil ||
		d.PercentageUsed != nil || d.BackgroundScan != nil || d.GrownDefects != nil
}

// TemperatureC is the current temperature: the Temperature page's, else
// the one the Informational Exceptions page carries.
func (d *SCSIData) TemperatureC() (int, bool) {
	if d.Temperature != nil && d.Temperature.Current != nil {
		return *d.Temperature.Current, true
	}
	if d.Temperature == nil && d.Exceptions != nil && d.Exceptions.Temperature != nil {
		return *d.Exceptions.Temperature, true
	}
	return 0, false
}

// PowerOnMinutes is the accumulated power-on time of the Background Scan
// Results page.
func (d *SCSIData) PowerOnMinutes() (uint32, bool) {
	if d.BackgroundScan != nil {
		return d.BackgroundScan.PowerOnMinutes, true
	}
	return 0, false
}

// Uncorrected is the sum of the read, write and verify pages' total
// uncorrected errors, and whether any page reported one.
func (d *SCSIData) Uncorrected() (uint64, bool) {
	var n uint64
	var any bool
	for _, c := range []*ErrorCounters{d.ReadErrors, d.WriteErrors, d.VerifyErrors} {
		if v, ok := c.Get(TotalUncorrected); ok {
			n += v
			any = true
		}
	}
	return n, any
}
