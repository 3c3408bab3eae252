package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const fixture = "../../blockdev/smart/testdata/TOSHIBA_THNSNH128GBST.bin"

func TestReplayText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--replay", fixture}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"Device Model:     TOSHIBA THNSNH128GBST", "194 Temperature_Celsius", "Health verdict: healthy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReplayJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--replay", fixture, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var m struct {
		ModelName    string `json:"model_name"`
		UserCapacity struct {
			Bytes uint64 `json:"bytes"`
		} `json:"user_capacity"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.ModelName != "TOSHIBA THNSNH128GBST" || m.UserCapacity.Bytes != 128035676160 {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestReplayNVMePage(t *testing.T) {
	p := make([]byte, 512)
	p[1], p[2] = 0x36, 0x01 // 310 K
	f := filepath.Join(t.TempDir(), "health.bin")
	if err := os.WriteFile(f, p, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--json", "--replay", f}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"nvme_smart_health_information_log"`) || !strings.Contains(out.String(), `"temperature": 37`) {
		t.Errorf("%s", out.String())
	}
}

func TestUsageAndErrors(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"a", "b"}, {"--replay", "x", "dev"}, {"--bogus"}, {"--test", "bogus", "dev"}, {"--test", "short"}, {"-d", "megaraid", "dev"}} {
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"--replay", "/nonexistent"}, &out, &errb); code != 1 {
		t.Errorf("missing replay file: exit %d", code)
	}
}

func TestLoopDeviceHasNoSMART(t *testing.T) {
	dev := testenv.Loop(t, 1<<20)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{dev}, &out, &errb); code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"--test", "short", dev}, &out, &errb); code != 3 {
		t.Fatalf("self-test on a loop device: exit %d, want 3: %s", code, errb.String())
	}
}

// A loop device forced to each protocol is still no drive: the kernel
// refuses every passthrough ioctl on it, which is "not supported", exit 3.
func TestLoopDeviceForcedProtocols(t *testing.T) {
	dev := testenv.Loop(t, 1<<20)
	for _, d := range []string{"sat", "scsi", "nvme"} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"--json", "-d", d, dev}, &out, &errb)
		if code != 3 {
			t.Errorf("-d %s: exit %d: %s", d, code, errb.String())
		}
		t.Logf("-d %s: exit %d: %s", d, code, strings.TrimSpace(errb.String()))
	}
}
