package smart

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func reasonCodes(a Assessment) []ReasonCode {
	var out []ReasonCode
	for _, r := range a.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func TestSCSIHealth(t *testing.T) {
	ie := func(asc, ascq uint8) *InformationalExceptions {
		b := []byte{0x2f, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x02, asc, ascq}
		x, err := ParseInformationalExceptionsPage(b)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	reading := func(mod func(d *SCSIData)) *Report {
		d := seagateReading(t)
		mod(d)
		d.Status = d.status()
		return &Report{Protocol: ProtocolSCSI, SCSI: d}
	}
	for _, c := range []struct {
		name    string
		mod     func(d *SCSIData)
		status  Status
		verdict Verdict
		want    []ReasonCode
	}{
		{"healthy", func(d *SCSIData) {}, StatusPassed, VerdictHealthy, nil},
		{"failure predicted", func(d *SCSIData) { d.Exceptions = ie(0x5d, 0x10) }, StatusFailed, VerdictFailing,
			[]ReasonCode{ReasonFailurePredicted}},
		// A warning makes smartctl report smart_status.passed false too;
		// the drive is not dying, so the verdict is a warning.
		{"temperature warning", func(d *SCSIData) { d.Exceptions = ie(0x0b, 0x01) }, StatusFailed, VerdictWarning,
			[]ReasonCode{ReasonSCSIWarning}},
		// Without the Informational Exceptions page nothing says the drive
		// is well: unknown, however clean the counters look.
		{"no IE page", func(d *SCSIData) { d.Exceptions = nil }, StatusUnknown, VerdictUnknown,
			[]ReasonCode{ReasonNotJudged}},
		{"no IE page, uncorrected errors", func(d *SCSIData) {
			d.Exceptions = nil
			d.ReadErrors.Values[TotalUncorrected] = 3
		}, StatusUnknown, VerdictWarning, []ReasonCode{ReasonNotJudged, ReasonUncorrectedErrors}},
		{"latest self-test failed", func(d *SCSIData) {
			l, _ := ParseSCSISelfTestPage(pageSelfTestFailed)
			d.SelfTests = l
		}, StatusPassed, VerdictFailing, []ReasonCode{ReasonSelfTestFailed}},
		{"at trip temperature", func(d *SCSIData) { d.Temperature.Current = ptr(60) }, StatusPassed, VerdictWarning,
			[]ReasonCode{ReasonAtTripTemperature}},
	} {
		r := reading(c.mod)
		a := Health(r, nil)
		if r.Status() != c.status || a.Verdict != c.verdict || strings.Join(rc(reasonCodes(a)), ",") != strings.Join(rc(c.want), ",") {
			t.Errorf("%s: status %v verdict %v reasons %v; want %v %v %v", c.name, r.Status(), a.Verdict, reasonCodes(a), c.status, c.verdict, c.want)
		}
	}

	// Growth against an earlier reading of the same drive.
	prev := reading(func(d *SCSIData) {})
	cur := reading(func(d *SCSIData) {
		d.GrownDefects = ptr[uint64](4)
		d.WriteErrors.Values[TotalUncorrected], d.WriteErrors.Has[TotalUncorrected] = 2, true
	})
	a := Health(cur, prev)
	if a.Verdict != VerdictWarning || strings.Join(rc(reasonCodes(a)), ",") != "uncorrected-errors,uncorrected-errors-growing,grown-defects-growing" {
		t.Errorf("growth: %v %v", a.Verdict, reasonCodes(a))
	}
	other := reading(func(d *SCSIData) { d.Serial = "OTHER" })
	if a := Health(cur, other); a.Reasons[0].Code != ReasonDifferentDrive {
		t.Errorf("another drive's reading used: %v", reasonCodes(a))
	}
}

func rc(c []ReasonCode) []string {
	out := make([]string, len(c))
	for i, x := range c {
		out[i] = string(x)
	}
	return out
}

// A failing drive's JSON carries smartctl's smart_status.scsi block.
func TestSCSIFailingJSON(t *testing.T) {
	d := seagateReading(t)
	d.Exceptions = &InformationalExceptions{ASC: 0x5d, ASCQ: 0x00}
	d.Status = d.status()
	b, err := MarshalSmartctlJSON(&Report{Device: "/dev/sdb", SCSI: d})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Device      jDevice      `json:"device"`
		SmartStatus jSmartStatus `json:"smart_status"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := jSCSIStatus{ASC: 0x5d, ASCQ: 0, IEString: "FAILURE PREDICTION THRESHOLD EXCEEDED"}
	if m.SmartStatus.Passed || m.SmartStatus.SCSI == nil || *m.SmartStatus.SCSI != want ||
		m.Device.Type != "scsi" || m.Device.Protocol != "SCSI" {
		t.Errorf("%+v %+v", m.SmartStatus, m.Device)
	}
}

func TestSCSIText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, &Report{SCSI: seagateReading(t)}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Vendor:               SEAGATE",
		"User Capacity:        600,127,266,816 bytes [600 GB]",
		"Rotation Rate:        15000 rpm",
		"Form Factor:          2.5 inches",
		"Logical Unit id:      0x5000c50accaccacc",
		"Transport protocol:   SAS (SPL-4)",
		"SMART support is:     Enabled",
		"SMART Health Status: OK",
		"Current Drive Temperature:     29 C",
		"Drive Trip Temperature:        60 C",
		"Accumulated power on time, hours:minutes 4665:46",
		"Manufactured in week 50 of year 2019",
		"Accumulated start-stop cycles:  1090",
		"Elements in grown defect list: 0",
		"read:   170693715        0         0  170693715          0         88.818           0",
		// smartctl's columns: "#%2d  " code (16) "  " result (25) " %3u" "   %5d" "%18s" sense.
		"# 1  Reserved(7)       Completed                  64       3                 - [-   -    -]",
		"Long (extended) Self-test duration: 3360 seconds [56.0 minutes]",
		"Health verdict: healthy",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

// A SCSI disk with no SMART keeps what it told in the error, and the
// error renders as smartctl's JSON for such a disk.
func TestUnsupportedErrorReport(t *testing.T) {
	q, _ := ParseSCSIInquiry(inqQEMU)
	c := &Classification{Class: ClassSCSI, Bus: "scsi", Inquiry: q}
	err := error(&UnsupportedError{Device: "/dev/sda", Class: c, Reason: "it has no Informational Exceptions Control mode page (1Ch) and refuses LOG SENSE",
		Partial: &SCSIData{Inquiry: q, Serial: "EOSSCSI0001", Capacity: &SCSICapacity{Blocks: 131072, Bytes: 67108864, LogicalBlockSize: 512}},
		Err:     &CommandError{Device: "sda", Op: "LOG SENSE 00h", kind: ErrNotSupported, Err: errors.New("check condition")}})
	var ue *UnsupportedError
	if !errors.Is(err, ErrNotSupported) || errors.Is(err, ErrDevice) || !errors.As(err, &ue) {
		t.Fatalf("%v", err)
	}
	b, err := MarshalSmartctlJSON(ue.Report())
	if err != nil {
		t.Fatal(err)
	}
	m := decodeNumbers(t, b)
	flat := map[string]any{}
	flatten("", m, flat)
	for k, v := range map[string]string{
		"device.type": "scsi", "device.protocol": "SCSI", "scsi_model_name": "QEMU QEMU HARDDISK",
		"smart_support.available": "false", "serial_number": "EOSSCSI0001", "user_capacity.bytes": "67108864",
		"scsi_version": "SPC-3", "device_type.name": "disk",
	} {
		if got, ok := flat[k]; !ok || jsonString(got) != v {
			t.Errorf("%s = %v, want %s", k, got, v)
		}
	}
	for _, k := range []string{"smart_status.passed", "temperature.current", "smart_support.enabled"} {
		if _, ok := flat[k]; ok {
			t.Errorf("%s printed for a disk without SMART", k)
		}
	}
	// An unknown USB bridge: no device type, as smartctl prints none.
	ub := &UnsupportedError{Device: "/dev/sdb", Class: &Classification{Class: ClassUSBBridge, USB: lookupUSBBridge(0x46f4, 1, 0)}, Reason: "unknown USB bridge [0x46f4:0x0001 (0x000)]"}
	b, err = MarshalSmartctlJSON(ub.Report())
	if err != nil || bytes.Contains(b, []byte(`"type"`)) || bytes.Contains(b, []byte(`"protocol"`)) || !bytes.Contains(b, []byte(`"/dev/sdb"`)) {
		t.Errorf("USB bridge JSON %s %v", b, err)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}
