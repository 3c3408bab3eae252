package smart

import "testing"

// A reading that cannot be judged must not come out healthy: with neither
// SMART RETURN STATUS nor the thresholds, no attribute can fail and the
// drive's own verdict is missing, so "healthy" would be a guess. smartctl
// falls back to the attribute check when RETURN STATUS is unavailable and
// reports no verdict when that is missing too.
func TestHealthUnknownWhenDataMissing(t *testing.T) {
	full := readBlob(t, "TOSHIBA_THNSNH128GBST.bin")
	if a := Health(full, nil); a.Verdict != VerdictHealthy {
		t.Fatalf("complete reading: %v %+v", a.Verdict, a.Reasons)
	}

	// Status unknown, thresholds present: the attribute check still judges.
	d := NewATAData(full.ATA.Identity, full.ATA.Values, full.ATA.Thresholds, StatusUnknown)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictHealthy {
		t.Errorf("status unknown, thresholds read: %v %+v", a.Verdict, a.Reasons)
	}
	// Status passed, thresholds missing: the drive's own verdict stands.
	d = NewATAData(full.ATA.Identity, full.ATA.Values, nil, StatusPassed)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictHealthy {
		t.Errorf("status passed, no thresholds: %v %+v", a.Verdict, a.Reasons)
	}
	// Neither: unknown.
	d = NewATAData(full.ATA.Identity, full.ATA.Values, nil, StatusUnknown)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictUnknown {
		t.Errorf("status unknown, no thresholds: %v %+v", a.Verdict, a.Reasons)
	}
	// No attribute values at all and no status: unknown.
	d = NewATAData(full.ATA.Identity, nil, nil, StatusUnknown)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictUnknown {
		t.Errorf("identity only: %v %+v", a.Verdict, a.Reasons)
	}
	// A finding still raises an unknown verdict: SMART RETURN STATUS
	// missing but pending sectors present is a warning, not unknown.
	wdc := readBlob(t, "WDC_WD20EARS-00MVWB0.bin")
	d = NewATAData(wdc.ATA.Identity, wdc.ATA.Values, nil, StatusUnknown)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictWarning {
		t.Errorf("pending sectors without status or thresholds: %v %+v", a.Verdict, a.Reasons)
	}

	// NVMe without its health page: unknown, not healthy.
	if a := Health(&Report{NVMe: &NVMeData{Identity: &NVMeIdentity{Serial: "S"}}}, nil); a.Verdict != VerdictUnknown {
		t.Errorf("NVMe without health log: %v %+v", a.Verdict, a.Reasons)
	}
}
