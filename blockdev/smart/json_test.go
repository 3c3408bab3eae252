package smart

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
)

// Our JSON for the TOSHIBA capture read back with the same decoder the
// smartctl fixtures use: the shared keys hold the same things.
func TestJSONReadsLikeSmartctl(t *testing.T) {
	want, err := loadSmartctl("testdata/TOSHIBA_THNSNH128GBST.json")
	if err != nil {
		t.Fatal(err)
	}
	r := readBlob(t, "TOSHIBA_THNSNH128GBST.bin")
	b, err := MarshalSmartctlJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var got smartctlOutput
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ModelName != want.ModelName || got.UserCapacity.Bytes != want.UserCapacity.Bytes ||
		got.RotationRate == nil || *got.RotationRate != *want.RotationRate {
		t.Errorf("identity: %q %d %v", got.ModelName, got.UserCapacity.Bytes, got.RotationRate)
	}
	g, w := got.ATASmartAttributes.Table, want.ATASmartAttributes.Table
	if len(g) != len(w) {
		t.Fatalf("%d attributes, smartctl %d", len(g), len(w))
	}
	for i := range g {
		if g[i].ID != w[i].ID || g[i].Name != w[i].Name || g[i].Thresh != w[i].Thresh ||
			g[i].Flags != w[i].Flags || g[i].WhenFailed != w[i].WhenFailed {
			t.Errorf("attribute %d: ours %+v, smartctl %+v", g[i].ID, g[i], w[i])
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	pot := m["power_on_time"].(map[string]any)["hours"].(float64)
	temp := m["temperature"].(map[string]any)["current"].(float64)
	passed := m["smart_status"].(map[string]any)["passed"].(bool)
	if pot != 37383 || temp != 34 || !passed {
		t.Errorf("power_on_time %v temperature %v passed %v", pot, temp, passed)
	}
	for _, k := range []string{"serial_number", "firmware_version", "ata_smart_data", "smart_support", "logical_block_size"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	if _, err := MarshalSmartctlJSON(&Report{}); !errors.Is(err, ErrNoData) {
		t.Errorf("empty report: %v", err)
	}
}

// smartctl 7.3's nvme_smart_health_information_log keys.
var smartctlNVMeKeys = []string{
	"available_spare", "available_spare_threshold", "controller_busy_time", "critical_comp_time",
	"critical_warning", "data_units_read", "data_units_written", "host_reads", "host_writes",
	"media_errors", "num_err_log_entries", "percentage_used", "power_cycles", "power_on_hours",
	"temperature", "temperature_sensors", "unsafe_shutdowns", "warning_temp_time",
}

func TestJSONNVMe(t *testing.T) {
	h, _ := ParseNVMeHealth(healthPage())
	id, _ := ParseNVMeIdentify(identifyPage())
	r := &Report{Device: "/dev/nvme0n1", Protocol: ProtocolNVMe, NVMe: &NVMeData{Identity: id, Health: h, ErrorLog: []NVMeErrorEntry{}}}
	b, err := MarshalSmartctlJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var log map[string]json.RawMessage
	if err := json.Unmarshal(m["nvme_smart_health_information_log"], &log); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range log {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, " ") != strings.Join(smartctlNVMeKeys, " ") {
		t.Errorf("health log keys\n got %v\nwant %v", keys, smartctlNVMeKeys)
	}
	// 128-bit counters are exact JSON numbers, not floats or strings.
	if string(log["data_units_written"]) != "18446744073709551621" || string(log["temperature"]) != "37" ||
		strings.Join(strings.Fields(string(log["temperature_sensors"])), "") != "[27,47]" {
		t.Errorf("values %s %s %s", log["data_units_written"], log["temperature"], log["temperature_sensors"])
	}
	for _, k := range []string{"model_name", "serial_number", "firmware_version", "nvme_ieee_oui_identifier", "nvme_version", "smart_status", "nvme_error_information_log"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if !bytes.Contains(m["smart_status"], []byte(`"passed": false`)) {
		t.Errorf("smart_status %s", m["smart_status"])
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, readBlob(t, "WDC_WD20EARS-00MVWB0.bin")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Device Model:     WDC WD20EARS-00MVWB0",
		"User Capacity:    2,000,398,934,016 bytes [2.00 TB]",
		"test result: FAILED",
		"  5 Reallocated_Sector_Ct   0x0033   118   118   140    Pre-fail  Always   FAILING_NOW 655",
		"Health verdict: failing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	h, _ := ParseNVMeHealth(healthPage())
	id, _ := ParseNVMeIdentify(identifyPage())
	buf.Reset()
	if err := WriteText(&buf, &Report{NVMe: &NVMeData{Identity: id, Health: h}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Model Number:                       QEMU NVMe Ctrl", "Temperature:                        37 Celsius",
		"Data Units Read:                    1,000 [512 MB]", "Percentage Used:                    104%"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("NVMe text lacks %q:\n%s", want, buf.String())
		}
	}
	if err := WriteText(&buf, nil); !errors.Is(err, ErrNoData) {
		t.Errorf("nil report: %v", err)
	}
}
