package smart

import (
	"encoding/binary"
	"testing"
)

func codes(a Assessment) map[ReasonCode]Reason {
	m := map[ReasonCode]Reason{}
	for _, r := range a.Reasons {
		if _, ok := m[r.Code]; !ok {
			m[r.Code] = r
		}
	}
	return m
}

func TestHealthFromCaptures(t *testing.T) {
	if a := Health(readBlob(t, "TOSHIBA_THNSNH128GBST.bin"), nil); a.Verdict != VerdictHealthy || len(a.Reasons) != 0 {
		t.Errorf("Toshiba: %v %+v", a.Verdict, a.Reasons)
	}
	// WDC: status bad, 5 (pre-fail) at 118 <= 140, 65529 pending, 46 uncorrectable.
	a := Health(readBlob(t, "WDC_WD20EARS-00MVWB0.bin"), nil)
	c := codes(a)
	if a.Verdict != VerdictFailing || c[ReasonStatusFailed].Verdict != VerdictFailing ||
		c[ReasonAttrFailingNow].Attribute != 5 || c[ReasonPendingSectors].Current != 65529 ||
		c[ReasonUncorrectable].Current != 46 {
		t.Errorf("WDC: %v %+v", a.Verdict, a.Reasons)
	}
	// Maxtor: 5 failed in the past only; pending 0x6bf; one uncorrectable;
	// self-test execution status byte 0x7X: the last test hit a read failure.
	a = Health(readBlob(t, "Maxtor_6Y120P0.bin"), nil)
	c = codes(a)
	if a.Verdict != VerdictFailing || c[ReasonAttrFailedPast].Verdict != VerdictWarning || c[ReasonAttrFailedPast].Attribute != 5 ||
		c[ReasonPendingSectors].Current != 0x6bf || c[ReasonUncorrectable].Current != 1 || c[ReasonSelfTestFailed].Current != 7 {
		t.Errorf("Maxtor: %v %+v", a.Verdict, a.Reasons)
	}
	if a := Health(nil, nil); a.Verdict != VerdictUnknown {
		t.Errorf("nil report: %v", a.Verdict)
	}
}

func TestHealthGrowth(t *testing.T) {
	prev := readBlob(t, "TOSHIBA_THNSNH128GBST.bin")
	cur := readBlob(t, "TOSHIBA_THNSNH128GBST.bin")
	for i := range cur.ATA.Attributes {
		if cur.ATA.Attributes[i].ID == 5 {
			cur.ATA.Attributes[i].RawValue = 3
		}
	}
	a := Health(cur, prev)
	r, ok := codes(a)[ReasonReallocatedGrowing]
	if a.Verdict != VerdictWarning || !ok || r.Previous != 0 || r.Current != 3 {
		t.Errorf("growth: %v %+v", a.Verdict, a.Reasons)
	}
	other := readBlob(t, "Maxtor_6Y120P0.bin")
	a = Health(cur, other)
	if _, ok := codes(a)[ReasonDifferentDrive]; !ok {
		t.Errorf("another drive's reading used: %+v", a.Reasons)
	}
	if _, ok := codes(a)[ReasonReallocatedGrowing]; ok {
		t.Error("growth judged against another drive")
	}
}

func TestHealthNVMe(t *testing.T) {
	h, _ := ParseNVMeHealth(healthPage())
	a := Health(&Report{NVMe: &NVMeData{Health: h}}, nil)
	c := codes(a)
	if a.Verdict != VerdictFailing || c[ReasonWornOut].Current != 104 || c[ReasonMediaErrors].Current != 2 {
		t.Errorf("%v %+v", a.Verdict, a.Reasons)
	}
	n := 0
	for _, r := range a.Reasons {
		if r.Code == ReasonCriticalWarning {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d critical warning reasons, want 2", n)
	}
	// Temperature alone is a warning; growth of media errors is its own reason.
	p := healthPage()
	p[0], p[3], p[5] = WarnTemperature, 50, 3
	h2, _ := ParseNVMeHealth(p)
	binary.LittleEndian.PutUint64(p[160:], 5)
	h3, _ := ParseNVMeHealth(p)
	a = Health(&Report{NVMe: &NVMeData{Health: h3}}, &Report{NVMe: &NVMeData{Health: h2}})
	c = codes(a)
	if a.Verdict != VerdictWarning || c[ReasonMediaErrorsGrowing].Previous != 2 || c[ReasonMediaErrorsGrowing].Current != 5 {
		t.Errorf("%v %+v", a.Verdict, a.Reasons)
	}
}
