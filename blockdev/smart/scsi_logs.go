package smart

import (
	"encoding/binary"
	"fmt"
)

// SCSI log page codes this package reads (SPC-4 7.3, SBC-3 6.4).
const (
	LogPageSupported        = 0x00
	LogPageWriteErrors      = 0x02
	LogPageReadErrors       = 0x03
	LogPageVerifyErrors     = 0x05
	LogPageNonMediumErrors  = 0x06
	LogPageTemperature      = 0x0d
	LogPageStartStop        = 0x0e
	LogPageSelfTest         = 0x10
	LogPageSolidStateMedia  = 0x11
	LogPageBackgroundScan   = 0x15
	LogPageInfoExceptions   = 0x2f
	logPageHeaderLen        = 4
	logParamHeaderLen       = 4
	maxLogPageLen           = 0xffff + logPageHeaderLen
	selfTestParamValueBytes = 16
)

// LogPage is one SCSI log page as LOG SENSE returns it (SPC-4 7.3.1): the
// page and subpage code and the parameters in the order the device sent
// them.
type LogPage struct {
	Code    uint8 // PAGE CODE, bits 5:0 of byte 0
	Subpage uint8 // SUBPAGE CODE (meaningful when SPF is set)
	SPF     bool  // subpage format
	DS      bool  // disable save
	Params  []LogParam
}

// LogParam is one log parameter: its code, its control byte (DU, TSD, ETC,
// TMC, FORMAT AND LINKING) and its value bytes, which alias the page.
type LogParam struct {
	Code    uint16
	Control uint8
	Value   []byte
}

// Uint64 is the value read as a big-endian binary counter. Counters may be
// of any length; one longer than 8 bytes keeps its low 8 bytes, as
// smartctl reads it. An empty value is 0.
func (p LogParam) Uint64() uint64 {
	v := p.Value
	if len(v) > 8 {
		v = v[len(v)-8:]
	}
	var n uint64
	for _, c := range v {
		n = n<<8 | uint64(c)
	}
	return n
}

// Param returns the first parameter with the given code.
func (p *LogPage) Param(code uint16) (LogParam, bool) {
	for _, x := range p.Params {
		if x.Code == code {
			return x, true
		}
	}
	return LogParam{}, false
}

// ParseLogPage decodes a log page's header and parameters. The PAGE
// LENGTH must fit in b (bytes after it are ignored) and every parameter
// must fit in the page: a page cut short is ErrMalformed, never a shorter
// list of parameters.
func ParseLogPage(b []byte) (*LogPage, error) {
	const what = "log page"
	if len(b) < logPageHeaderLen {
		return nil, malformed(what, "%d bytes, want at least %d", len(b), logPageHeaderLen)
	}
	p := &LogPage{Code: b[0] & 0x3f, SPF: b[0]&0x40 != 0, DS: b[0]&0x80 != 0, Subpage: b[1]}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if logPageHeaderLen+n > len(b) {
		return nil, malformed(logPageName(p.Code), "page length %d overruns the %d bytes returned", n, len(b)-logPageHeaderLen)
	}
	body := b[logPageHeaderLen : logPageHeaderLen+n]
	for off := 0; off < len(body); {
		if len(body)-off < logParamHeaderLen {
			return nil, malformed(logPageName(p.Code), "%d stray bytes after the last parameter", len(body)-off)
		}
		code := binary.BigEndian.Uint16(body[off:])
		l := int(body[off+3])
		start := off + logParamHeaderLen
		if start+l > len(body) {
			return nil, malformed(logPageName(p.Code), "parameter %04xh of %d bytes overruns the page", code, l)
		}
		p.Params = append(p.Params, LogParam{Code: code, Control: body[off+2], Value: body[start : start+l : start+l]})
		off = start + l
	}
	return p, nil
}

func logPageName(code uint8) string {
	switch code {
	case LogPageSupported:
		return "Supported Log Pages (00h)"
	case LogPageWriteErrors:
		return "Write Error Counter log page (02h)"
	case LogPageReadErrors:
		return "Read Error Counter log page (03h)"
	case LogPageVerifyErrors:
		return "Verify Error Counter log page (05h)"
	case LogPageNonMediumErrors:
		return "Non-Medium Error log page (06h)"
	case LogPageTemperature:
		return "Temperature log page (0Dh)"
	case LogPageStartStop:
		return "Start-Stop Cycle Counter log page (0Eh)"
	case LogPageSelfTest:
		return "Self-Test Results log page (10h)"
	case LogPageSolidStateMedia:
		return "Solid State Media log page (11h)"
	case LogPageBackgroundScan:
		return "Background Scan Results log page (15h)"
	case LogPageInfoExceptions:
		return "Informational Exceptions log page (2Fh)"
	}
	return fmt.Sprintf("log page %02Xh", code)
}

// parseLogPageCode decodes b and checks it is the page asked for.
func parseLogPageCode(b []byte, codes ...uint8) (*LogPage, error) {
	p, err := ParseLogPage(b)
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		if p.Code == c {
			return p, nil
		}
	}
	return nil, malformed(logPageName(codes[0]), "the device returned page %02Xh", p.Code)
}

// ParseSupportedLogPages decodes the Supported Log Pages page (00h): the
// page codes the device keeps, in its order.
func ParseSupportedLogPages(b []byte) ([]uint8, error) {
	if len(b) < logPageHeaderLen {
		return nil, malformed(logPageName(LogPageSupported), "%d bytes", len(b))
	}
	if b[0]&0x3f != LogPageSupported {
		return nil, malformed(logPageName(LogPageSupported), "the device returned page %02Xh", b[0]&0x3f)
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if logPageHeaderLen+n > len(b) {
		return nil, malformed(logPageName(LogPageSupported), "page length %d overruns the %d bytes returned", n, len(b)-logPageHeaderLen)
	}
	out := make([]uint8, 0, n)
	for _, c := range b[logPageHeaderLen : logPageHeaderLen+n] {
		out = append(out, c&0x3f)
	}
	return out, nil
}

// ErrorCounter names a parameter of the error counter pages (SPC-4
// 7.3.4.2, table 354); the value is its parameter code.
type ErrorCounter int

// Error counter parameters.
const (
	CorrectedWithoutDelay ErrorCounter = iota // errors corrected without substantial delay ("ECC fast")
	CorrectedWithDelay                        // errors corrected with possible delays ("ECC delayed")
	RereadsRewrites                           // total rewrites or rereads
	TotalCorrected                            // total errors corrected
	CorrectionInvocations                     // total times the correction algorithm ran
	BytesProcessed                            // total bytes processed
	TotalUncorrected                          // total uncorrected errors
	numErrorCounters
)

// ErrorCounters is a Write (02h), Read (03h) or Verify (05h) Error Counter
// log page. Values[k] holds parameter k when Has[k] is set; a counter the
// device leaves out is absent, not zero.
type ErrorCounters struct {
	Page   uint8
	Values [numErrorCounters]uint64
	Has    [numErrorCounters]bool
}

// Get returns one counter and whether the device reported it.
func (c *ErrorCounters) Get(k ErrorCounter) (uint64, bool) {
	if c == nil || k < 0 || k >= numErrorCounters {
		return 0, false
	}
	return c.Values[k], c.Has[k]
}

// ParseErrorCounterPage decodes an error counter page. Vendor parameters
// (8000h and up) are ignored.
func ParseErrorCounterPage(b []byte) (*ErrorCounters, error) {
	p, err := parseLogPageCode(b, LogPageReadErrors, LogPageWriteErrors, LogPageVerifyErrors)
	if err != nil {
		return nil, err
	}
	c := &ErrorCounters{Page: p.Code}
	for _, x := range p.Params {
		if x.Code < uint16(numErrorCounters) && !c.Has[x.Code] {
			c.Values[x.Code], c.Has[x.Code] = x.Uint64(), true
		}
	}
	return c, nil
}

// ParseNonMediumErrorPage decodes the Non-Medium Error page (06h): the
// count of recoverable events other than medium errors (parameter 0000h),
// and whether the page carries it.
func ParseNonMediumErrorPage(b []byte) (uint64, bool, error) {
	p, err := parseLogPageCode(b, LogPageNonMediumErrors)
	if err != nil {
		return 0, false, err
	}
	x, ok := p.Param(0)
	return x.Uint64(), ok, nil
}

// SCSITemperature is the Temperature log page (0Dh). A temperature the
// page lacks, or marks not available (FFh), is nil.
type SCSITemperature struct {
	Current   *int // parameter 0000h, degrees Celsius
	Reference *int // parameter 0001h: the maximum the device is rated for (smartctl's "drive trip")
}

// ParseTemperaturePage decodes the Temperature log page. Each parameter's
// value is a reserved byte followed by the temperature in degrees Celsius.
func ParseTemperaturePage(b []byte) (*SCSITemperature, error) {
	p, err := parseLogPageCode(b, LogPageTemperature)
	if err != nil {
		return nil, err
	}
	t := &SCSITemperature{}
	read := func(code uint16) *int {
		x, ok := p.Param(code)
		if !ok || len(x.Value) < 2 || x.Value[1] == 0xff {
			return nil
		}
		v := int(x.Value[1])
		return &v
	}
	t.Current, t.Reference = read(0), read(1)
	return t, nil
}

// StartStopCycles is the Start-Stop Cycle Counter log page (0Eh, SPC-4
// 7.3.22). Counters the page lacks, or reports as all FFh (not known), are
// nil; dates the page lacks are "".
type StartStopCycles struct {
	ManufactureYear, ManufactureWeek string  // parameter 0001h, ASCII digits
	AccountingYear, AccountingWeek   string  // parameter 0002h
	SpecifiedCycles                  *uint32 // 0003h: start-stop cycles the device is rated for
	AccumulatedCycles                *uint32 // 0004h
	SpecifiedLoadUnload              *uint32 // 0005h: load-unload cycles the device is rated for
	AccumulatedLoadUnload            *uint32 // 0006h
}

// ParseStartStopPage decodes the Start-Stop Cycle Counter log page.
func ParseStartStopPage(b []byte) (*StartStopCycles, error) {
	p, err := parseLogPageCode(b, LogPageStartStop)
	if err != nil {
		return nil, err
	}
	s := &StartStopCycles{}
	date := func(code uint16) (string, string) {
		// YEAR (4 ASCII digits) then WEEK (2 ASCII digits).
		x, ok := p.Param(code)
		if !ok || len(x.Value) != 6 {
			return "", ""
		}
		return idString(x.Value[:4]), idString(x.Value[4:6])
	}
	count := func(code uint16) *uint32 {
		x, ok := p.Param(code)
		if !ok || len(x.Value) < 4 {
			return nil
		}
		v := binary.BigEndian.Uint32(x.Value)
		if v == 0xffffffff {
			return nil
		}
		return &v
	}
	s.ManufactureYear, s.ManufactureWeek = date(1)
	s.AccountingYear, s.AccountingWeek = date(2)
	s.SpecifiedCycles, s.AccumulatedCycles = count(3), count(4)
	s.SpecifiedLoadUnload, s.AccumulatedLoadUnload = count(5), count(6)
	return s, nil
}

// InformationalExceptions is the Informational Exceptions log page (2Fh,
// SPC-4 7.3.8): the additional sense code of the device's current
// failure-prediction state. ASC 00h means none; 5Dh a failure prediction
// threshold exceeded; 0Bh a warning.
type InformationalExceptions struct {
	ASC, ASCQ uint8
	// Temperature is the most recent temperature reading in the page,
	// nil when it is absent or FFh.
	Temperature *int
	// TripTemperature is the vendor byte after it, which some drives (IBM
	// and Hitachi) fill with the trip temperature; smartctl reports it as
	// the drive trip when the drive has no Temperature page.
	TripTemperature *int
}

// ParseInformationalExceptionsPage decodes parameter 0000h of the page.
// A page without it, or with a parameter too short to hold the ASC and
// ASCQ, is ErrMalformed: the device has not said whether it predicts a
// failure.
func ParseInformationalExceptionsPage(b []byte) (*InformationalExceptions, error) {
	p, err := parseLogPageCode(b, LogPageInfoExceptions)
	if err != nil {
		return nil, err
	}
	x, ok := p.Param(0)
	if !ok {
		return nil, malformed(logPageName(p.Code), "no parameter 0000h")
	}
	if len(x.Value) < 2 {
		return nil, malformed(logPageName(p.Code), "parameter 0000h of %d bytes holds no ASC and ASCQ", len(x.Value))
	}
	ie := &InformationalExceptions{ASC: x.Value[0], ASCQ: x.Value[1]}
	temp := func(i int) *int {
		if len(x.Value) <= i || x.Value[i] == 0xff {
			return nil
		}
		v := int(x.Value[i])
		return &v
	}
	ie.Temperature, ie.TripTemperature = temp(2), temp(3)
	return ie, nil
}

// FailurePredicted reports ASC 5Dh: the device predicts its own failure.
func (ie *InformationalExceptions) FailurePredicted() bool { return ie.ASC == 0x5d }

// Warning reports ASC 0Bh: a warning condition such as over-temperature.
func (ie *InformationalExceptions) Warning() bool { return ie.ASC == 0x0b }

// String names the condition (SPC-4 Annex D), "" when there is none.
func (ie *InformationalExceptions) String() string { return ieString(ie.ASC, ie.ASCQ) }

var ieWarnings = map[uint8]string{
	0x00: "WARNING",
	0x01: "WARNING - SPECIFIED TEMPERATURE EXCEEDED",
	0x02: "WARNING - ENCLOSURE DEGRADED",
	0x03: "WARNING - BACKGROUND SELF-TEST FAILED",
	0x04: "WARNING - BACKGROUND PRE-SCAN DETECTED MEDIUM ERROR",
	0x05: "WARNING - BACKGROUND MEDIUM SCAN DETECTED MEDIUM ERROR",
	0x06: "WARNING - NON-VOLATILE CACHE NOW VOLATILE",
	0x07: "WARNING - DEGRADED POWER TO NON-VOLATILE CACHE",
	0x08: "WARNING - POWER LOSS EXPECTED",
	0x09: "WARNING - DEVICE STATISTICS NOTIFICATION ACTIVE",
	0x0a: "WARNING - HIGH CRITICAL TEMPERATURE LIMIT EXCEEDED",
	0x0b: "WARNING - LOW CRITICAL TEMPERATURE LIMIT EXCEEDED",
	0x0c: "WARNING - HIGH OPERATING TEMPERATURE LIMIT EXCEEDED",
	0x0d: "WARNING - LOW OPERATING TEMPERATURE LIMIT EXCEEDED",
	0x0e: "WARNING - HIGH CRITICAL HUMIDITY LIMIT EXCEEDED",
	0x0f: "WARNING - LOW CRITICAL HUMIDITY LIMIT EXCEEDED",
	0x10: "WARNING - HIGH OPERATING HUMIDITY LIMIT EXCEEDED",
	0x11: "WARNING - LOW OPERATING HUMIDITY LIMIT EXCEEDED",
	0x12: "WARNING - MICROCODE SECURITY AT RISK",
	0x13: "WARNING - MICROCODE DIGITAL SIGNATURE VALIDATION FAILURE",
	0x14: "WARNING - PHYSICAL ELEMENT STATUS CHANGE",
}

// ASCQs 10h-6Ch of ASC 5Dh: a component (high nibble) and a cause (low
// nibble), named "<COMPONENT> IMPENDING FAILURE <CAUSE>".
var ieComponents = map[uint8]string{
	1: "HARDWARE", 2: "CONTROLLER", 3: "DATA CHANNEL", 4: "SERVO", 5: "SPINDLE", 6: "FIRMWARE",
}

var ieCauses = []string{
	"GENERAL HARD DRIVE FAILURE", "DRIVE ERROR RATE TOO HIGH", "DATA ERROR RATE TOO HIGH",
	"SEEK ERROR RATE TOO HIGH", "TOO MANY BLOCK REASSIGNS", "ACCESS TIMES TOO HIGH",
	"START UNIT TIMES TOO HIGH", "CHANNEL PARAMETRICS", "CONTROLLER DETECTED",
	"THROUGHPUT PERFORMANCE", "SEEK TIME PERFORMANCE", "SPIN-UP RETRY COUNT",
	"DRIVE CALIBRATION RETRY COUNT", "POWER LOSS PROTECTION CIRCUIT",
}

func ieString(asc, ascq uint8) string {
	switch asc {
	case 0x0b:
		if s, ok := ieWarnings[ascq]; ok {
			return s
		}
		return fmt.Sprintf("WARNING (ASCQ %02Xh)", ascq)
	case 0x5d:
		switch ascq {
		case 0x00:
			return "FAILURE PREDICTION THRESHOLD EXCEEDED"
		case 0x01:
			return "MEDIA FAILURE PREDICTION THRESHOLD EXCEEDED"
		case 0x02:
			return "LOGICAL UNIT FAILURE PREDICTION THRESHOLD EXCEEDED"
		case 0x03:
			return "SPARE AREA EXHAUSTION PREDICTION THRESHOLD EXCEEDED"
		case 0x73:
			return "MEDIA IMPENDING FAILURE ENDURANCE LIMIT MET"
		case 0xff:
			return "FAILURE PREDICTION THRESHOLD EXCEEDED (FALSE)"
		}
		if c, ok := ieComponents[ascq>>4]; ok && int(ascq&0xf) < len(ieCauses) {
			return c + " IMPENDING FAILURE " + ieCauses[ascq&0xf]
		}
		return fmt.Sprintf("FAILURE PREDICTION THRESHOLD EXCEEDED (ASCQ %02Xh)", ascq)
	}
	return ""
}

// SCSISelfTest is one entry of the Self-Test Results log page (10h, SPC-4
// 7.3.19), newest first.
type SCSISelfTest struct {
	Number       uint16 // the parameter code, 1 for the newest
	Code         uint8  // SELF-TEST CODE: 1 background short, 2 background extended, 5 foreground short, 6 foreground extended
	Result       uint8  // SELF-TEST RESULTS: 0 completed, 1-2 aborted, 3-7 failed, Fh in progress
	Segment      uint8  // SELF-TEST NUMBER: the segment that failed, 0 when none
	PowerOnHours uint16 // ACCUMULATED POWER ON HOURS when it ran
	FirstFailure uint64 // ADDRESS OF FIRST FAILURE, all FFh when none
	SenseKey     uint8
	ASC, ASCQ    uint8
}

// Failed reports results 3-7: an error, or a segment that failed.
func (e SCSISelfTest) Failed() bool { return e.Result >= 3 && e.Result <= 7 }

// InProgress reports result Fh.
func (e SCSISelfTest) InProgress() bool { return e.Result == 0xf }

// HasFailureAddress reports whether FirstFailure names an address: the
// test did not pass cleanly and the field is not all FFh.
func (e SCSISelfTest) HasFailureAddress() bool {
	return e.FirstFailure != ^uint64(0) && e.Result > 0 && e.Result < 0xf
}

var scsiSelfTestCodes = [8]string{
	"Default", "Background short", "Background long", "Reserved(3)",
	"Abort background", "Foreground short", "Foreground long", "Reserved(7)",
}

var scsiSelfTestResults = [16]string{
	"Completed", "Aborted (by user command)", "Aborted (device reset ?)", "Unknown error, incomplete",
	"Completed, segment failed", "Failed in first segment", "Failed in second segment", "Failed in segment",
	"Reserved(8)", "Reserved(9)", "Reserved(10)", "Reserved(11)", "Reserved(12)", "Reserved(13)", "Reserved(14)",
	"Self test in progress ...",
}

// CodeName is smartctl's name for the SELF-TEST CODE.
func (e SCSISelfTest) CodeName() string { return scsiSelfTestCodes[e.Code&7] }

// ResultName is smartctl's name for the SELF-TEST RESULTS.
func (e SCSISelfTest) ResultName() string { return scsiSelfTestResults[e.Result&0xf] }

// SCSISelfTestLog is the decoded Self-Test Results log page.
type SCSISelfTestLog struct {
	Entries []SCSISelfTest
}

// ParseSCSISelfTestPage decodes the Self-Test Results log page. Entries
// end at the first one that records no test (zero code, result and hours),
// as the standard leaves unused entries zero.
func ParseSCSISelfTestPage(b []byte) (*SCSISelfTestLog, error) {
	p, err := parseLogPageCode(b, LogPageSelfTest)
	if err != nil {
		return nil, err
	}
	l := &SCSISelfTestLog{Entries: []SCSISelfTest{}}
	for _, x := range p.Params {
		if x.Code == 0 || x.Code > 20 {
			continue // 0001h-0014h are the twenty results; others are not defined
		}
		v := x.Value
		if len(v) < selfTestParamValueBytes {
			return nil, malformed(logPageName(p.Code), "result %d of %d bytes, want %d", x.Code, len(v), selfTestParamValueBytes)
		}
		e := SCSISelfTest{
			Number:       x.Code,
			Code:         v[0] >> 5,
			Result:       v[0] & 0xf,
			Segment:      v[1],
			PowerOnHours: binary.BigEndian.Uint16(v[2:]),
			FirstFailure: binary.BigEndian.Uint64(v[4:]),
			SenseKey:     v[12] & 0xf,
			ASC:          v[13],
			ASCQ:         v[14],
		}
		if e.PowerOnHours == 0 && v[0] == 0 {
			break
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// ParseSolidStateMediaPage decodes the Solid State Media log page (11h,
// SBC-3 6.4.x): the Percentage Used Endurance Indicator (parameter 0001h),
// and whether the page carries it.
func ParseSolidStateMediaPage(b []byte) (uint8, bool, error) {
	p, err := parseLogPageCode(b, LogPageSolidStateMedia)
	if err != nil {
		return 0, false, err
	}
	x, ok := p.Param(1)
	if !ok {
		return 0, false, nil
	}
	if len(x.Value) < 4 {
		return 0, false, malformed(logPageName(p.Code), "endurance parameter of %d bytes, want 4", len(x.Value))
	}
	return x.Value[3], true, nil
}

// BackgroundScan is the status parameter (0000h) of the Background Scan
// Results log page (15h, SBC-3 6.4.2).
type BackgroundScan struct {
	PowerOnMinutes       uint32 // ACCUMULATED POWER ON MINUTES
	Status               uint8  // BACKGROUND SCAN STATUS
	ScansPerformed       uint16
	Progress             uint16 // of a scan in progress, in 1/65536ths
	MediumScansPerformed uint16
}

var bmsStatus = []string{
	"no scans active", "scan is active", "pre-scan is active", "halted due to fatal error",
	"halted due to a vendor specific pattern of error", "halted due to medium formatted without P-List",
	"halted - vendor specific cause", "halted due to temperature out of range",
	"waiting until BMS interval timer expires",
}

// StatusName is smartctl's wording of the scan status ("" when reserved).
func (s *BackgroundScan) StatusName() string {
	if int(s.Status) < len(bmsStatus) {
		return bmsStatus[s.Status]
	}
	return ""
}

// ParseBackgroundScanPage decodes the status parameter of the page; a page
// without it is ErrMalformed.
func ParseBackgroundScanPage(b []byte) (*BackgroundScan, error) {
	p, err := parseLogPageCode(b, LogPageBackgroundScan)
	if err != nil {
		return nil, err
	}
	x, ok := p.Param(0)
	if !ok {
		return nil, malformed(logPageName(p.Code), "no status parameter")
	}
	if len(x.Value) < 12 {
		return nil, malformed(logPageName(p.Code), "status parameter of %d bytes, want 12", len(x.Value))
	}
	v := x.Value
	return &BackgroundScan{
		PowerOnMinutes:       binary.BigEndian.Uint32(v),
		Status:               v[5],
		ScansPerformed:       binary.BigEndian.Uint16(v[6:]),
		Progress:             binary.BigEndian.Uint16(v[8:]),
		MediumScansPerformed: binary.BigEndian.Uint16(v[10:]),
	}, nil
}

// DefectList is the header READ DEFECT DATA returns (SBC-3 5.14.2, 5.15.2).
type DefectList struct {
	Primary, Grown bool  // which lists the header says it describes
	Format         uint8 // DEFECT LIST FORMAT of the descriptors
	Length         uint32
	// Count is the number of descriptors, nil when the format is vendor
	// specific or reserved (its descriptor size is unknown).
	Count *uint64
}

// ParseDefectListHeader decodes the header of READ DEFECT DATA(12) (8
// bytes) or, with twelve false, (10) (4 bytes).
func ParseDefectListHeader(b []byte, twelve bool) (*DefectList, error) {
	const what = "READ DEFECT DATA"
	need := 4
	if twelve {
		need = 8
	}
	if len(b) < need {
		return nil, malformed(what, "header of %d bytes, want %d", len(b), need)
	}
	d := &DefectList{Primary: b[1]&0x10 != 0, Grown: b[1]&0x08 != 0, Format: b[1] & 0x7}
	if twelve {
		d.Length = binary.BigEndian.Uint32(b[4:])
	} else {
		d.Length = uint32(binary.BigEndian.Uint16(b[2:]))
	}
	var size uint64
	switch d.Format {
	case 0:
		size = 4
	case 1, 2, 3, 4, 5:
		size = 8
	}
	if size != 0 {
		n := uint64(d.Length) / size
		d.Count = &n
	}
	return d, nil
}
