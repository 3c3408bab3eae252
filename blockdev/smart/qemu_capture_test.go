package smart

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// flatten turns decoded JSON into path -> leaf value.
func flatten(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	default:
		out[prefix] = v
	}
}

func flatJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	flatten("", v, m)
	return m
}

// The testdata/qemu_nvme_* pages were captured from QEMU's NVMe controller
// in the VM tier (nvme id-ctrl -b, id-ns -b, smart-log -b) right after
// smartctl -j -a read the same controller (local_time blanked). Decoded
// and rendered by us, every key we share with smartctl must hold the same
// value; only counters of the commands smartctl itself sent may differ.
func TestQEMUNVMeCaptureAgainstSmartctl(t *testing.T) {
	read := func(n string) []byte {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	id, err := ParseNVMeIdentify(read("qemu_nvme_id_ctrl.raw"))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := ParseNVMeNamespace(1, read("qemu_nvme_id_ns.raw"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseNVMeHealth(read("qemu_nvme_health.raw"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := MarshalSmartctlJSON(&Report{Device: "/dev/nvme0n1", Protocol: ProtocolNVMe,
		NVMe: &NVMeData{Identity: id, Namespace: ns, Health: h}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := flatJSON(t, ours), flatJSON(t, read("qemu_nvme_smartctl.json"))
	moving := map[string]bool{ // smartctl's own reads between the two captures
		"nvme_smart_health_information_log.host_reads":      true,
		"nvme_smart_health_information_log.data_units_read": true,
	}
	shared := 0
	for k, v := range a {
		w, ok := b[k]
		if !ok || moving[k] {
			continue
		}
		shared++
		if !reflect.DeepEqual(v, w) {
			t.Errorf("%s: ours %v, smartctl %v", k, v, w)
		}
	}
	if shared < 40 {
		t.Fatalf("only %d shared keys", shared)
	}
	t.Logf("%d shared keys equal", shared)
	if r, err := ParseReplay(read("qemu_nvme_health.raw")); err != nil || r.NVMe == nil || r.NVMe.Health.TemperatureC() != 50 {
		t.Fatalf("replay of the raw health page: %v", err)
	}
}
