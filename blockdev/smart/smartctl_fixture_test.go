package smart

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// smartctlOutput is the part of `smartctl -j` this package's tests read.
type smartctlOutput struct {
	JSONFormatVersion []int `json:"json_format_version"`
	Smartctl          struct {
		ExitStatus int `json:"exit_status"`
	} `json:"smartctl"`
	Device struct {
		Protocol string `json:"protocol"`
	} `json:"device"`
	ModelName          string `json:"model_name"`
	RotationRate       *int   `json:"rotation_rate"`
	InSmartctlDatabase bool   `json:"in_smartctl_database"`
	Trim               *struct {
		Supported     bool  `json:"supported"`
		Deterministic *bool `json:"deterministic"`
		Zeroed        *bool `json:"zeroed"`
	} `json:"trim"`
	ATASmartData *struct {
		OfflineDataCollection struct {
			Status struct {
				Value  uint8  `json:"value"`
				String string `json:"string"`
				Passed *bool  `json:"passed"`
			} `json:"status"`
		} `json:"offline_data_collection"`
		SelfTest struct {
			Status struct {
				Value  uint8  `json:"value"`
				String string `json:"string"`
				Passed *bool  `json:"passed"`
			} `json:"status"`
		} `json:"self_test"`
	} `json:"ata_smart_data"`
	UserCapacity struct {
		Bytes uint64 `json:"bytes"`
	} `json:"user_capacity"`
	ATASmartAttributes struct {
		Table []struct {
			ID         uint8  `json:"id"`
			Name       string `json:"name"`
			Value      uint8  `json:"value"`
			Worst      uint8  `json:"worst"`
			Thresh     uint8  `json:"thresh"`
			WhenFailed string `json:"when_failed"`
			Flags      struct {
				Value  uint16 `json:"value"`
				String string `json:"string"`
			} `json:"flags"`
			Raw struct {
				Value  uint64 `json:"value"`
				String string `json:"string"`
			} `json:"raw"`
		} `json:"table"`
	} `json:"ata_smart_attributes"`
}

var errSmartctlOutput = errors.New("unusable smartctl output")

// loadSmartctl reads a smartctl -j file and refuses what a careful consumer
// must refuse: empty or malformed JSON, a json_format_version other than 1,
// and an exit status with bit 0-2 set (command line, open or command
// failure: the data is absent or partial). Bits 3-7 report findings about a
// healthy read (e.g. 32: attributes failed in the past) and are kept.
func loadSmartctl(path string) (*smartctlOutput, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errSmartctlOutput)
	}
	var o smartctlOutput
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%w: %v", errSmartctlOutput, err)
	}
	if len(o.JSONFormatVersion) == 0 || o.JSONFormatVersion[0] != 1 {
		return nil, fmt.Errorf("%w: json_format_version %v", errSmartctlOutput, o.JSONFormatVersion)
	}
	if o.Smartctl.ExitStatus&0x7 != 0 {
		return nil, fmt.Errorf("%w: exit status %d", errSmartctlOutput, o.Smartctl.ExitStatus)
	}
	return &o, nil
}

func TestBrokenSmartctlFixtures(t *testing.T) {
	for name, ok := range map[string]bool{
		"01_old_ver.json": false, "02_exit_err.json": false, "03_exit_err_32.json": true,
		"04_malformed.json": false, "05_empty.json": false,
	} {
		_, err := loadSmartctl(filepath.Join("testdata", name))
		if ok != (err == nil) || (err != nil && !errors.Is(err, errSmartctlOutput)) {
			t.Errorf("%s: err = %v, want usable=%v", name, err, ok)
		}
	}
}

// Differential against smartctl itself: for every ATA attribute smartctl
// printed from a real drive, our naming, flag string, raw formatting and
// WHEN_FAILED rule must give the same text from the same bytes. Drives that
// are in smartctl's drive database get vendor names and formats we do not
// carry; for them only the flag string and WHEN_FAILED are compared.
func TestAgainstSmartctlJSON(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.json")
	compared := 0
	for _, p := range names {
		o, err := loadSmartctl(p)
		if err != nil || len(o.ATASmartAttributes.Table) == 0 {
			continue
		}
		rpm := uint16(0)
		if o.RotationRate != nil {
			rpm = uint16(*o.RotationRate)
		}
		// smartctl writes rotation_rate 0 both for "not reported" and for
		// a solid state device (word 217 = 1); a drive that reports TRIM
		// is the latter in every fixture we have.
		if rpm == 0 && o.Trim != nil && o.Trim.Supported {
			rpm = 1
		}
		for _, a := range o.ATASmartAttributes.Table {
			var raw [6]byte
			for i := range raw {
				raw[i] = byte(a.Raw.Value >> (8 * i))
			}
			if got := AttrFlags(a.Flags.Value).String(); got != a.Flags.String {
				t.Errorf("%s: attr %d flags %q, smartctl %q", p, a.ID, got, a.Flags.String)
			}
			wf := whenFailed(Attribute{Value: a.Value, Worst: a.Worst, Threshold: a.Thresh, HasThreshold: true})
			if string(wf) != a.WhenFailed {
				t.Errorf("%s: attr %d when_failed %q, smartctl %q", p, a.ID, wf, a.WhenFailed)
			}
			compared++
			if o.InSmartctlDatabase {
				continue
			}
			if got := AttributeName(a.ID, rpm); got != a.Name {
				t.Errorf("%s: attr %d name %q, smartctl %q", p, a.ID, got, a.Name)
			}
			if got := FormatRaw(a.ID, raw); got != a.Raw.String {
				t.Errorf("%s: attr %d raw %q, smartctl %q", p, a.ID, got, a.Raw.String)
			}
		}
	}
	if compared < 50 {
		t.Fatalf("compared only %d attributes", compared)
	}
	t.Logf("compared %d attributes with smartctl", compared)
}

// smartctl's wording of the status bytes, from the value it printed beside it.
func TestStatusStringsAgainstSmartctlJSON(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.json")
	n := 0
	for _, p := range names {
		o, err := loadSmartctl(p)
		if err != nil || o.ATASmartData == nil {
			continue
		}
		off := o.ATASmartData.OfflineDataCollection.Status
		s, passed := offlineStatus(off.Value)
		if s != off.String || (passed == nil) != (off.Passed == nil) || (passed != nil && *passed != *off.Passed) {
			t.Errorf("%s: offline status %#x: %q %v, smartctl %q %v", p, off.Value, s, passed, off.String, off.Passed)
		}
		st := o.ATASmartData.SelfTest.Status
		j := selfTestStatusJSON(st.Value)
		if s := selfTestExecString(st.Value >> 4); s != st.String || (j.Passed == nil) != (st.Passed == nil) {
			t.Errorf("%s: self-test status %#x: %q, smartctl %q", p, st.Value, s, st.String)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d fixtures with ata_smart_data", n)
	}
}

// The .bin and .json of TOSHIBA THNSNH128GBST are the same model read at
// different times: ids, flags and thresholds agree; values and raw counters
// need not.
func TestToshibaBlobMatchesSmartctl(t *testing.T) {
	o, err := loadSmartctl("testdata/TOSHIBA_THNSNH128GBST.json")
	if err != nil {
		t.Fatal(err)
	}
	d := readBlob(t, "TOSHIBA_THNSNH128GBST.bin").ATA
	if d.Identity.Model != o.ModelName || d.Identity.Capacity() != o.UserCapacity.Bytes {
		t.Errorf("identity %q %d, smartctl %q %d", d.Identity.Model, d.Identity.Capacity(), o.ModelName, o.UserCapacity.Bytes)
	}
	if o.Trim == nil || d.Identity.TrimSupported != o.Trim.Supported || d.Identity.TrimDeterministic != *o.Trim.Deterministic ||
		d.Identity.TrimZeroed != *o.Trim.Zeroed {
		t.Errorf("trim %v %v %v, smartctl %+v", d.Identity.TrimSupported, d.Identity.TrimDeterministic, d.Identity.TrimZeroed, o.Trim)
	}
	if len(d.Attributes) != len(o.ATASmartAttributes.Table) {
		t.Fatalf("%d attributes, smartctl %d", len(d.Attributes), len(o.ATASmartAttributes.Table))
	}
	for i, a := range d.Attributes {
		s := o.ATASmartAttributes.Table[i]
		if a.ID != s.ID || uint16(a.Flags) != s.Flags.Value || a.Threshold != s.Thresh || a.Name != s.Name {
			t.Errorf("slot %d: ours id %d flags %#x thresh %d %q; smartctl id %d flags %#x thresh %d %q",
				i, a.ID, uint16(a.Flags), a.Threshold, a.Name, s.ID, s.Flags.Value, s.Thresh, s.Name)
		}
	}
}
