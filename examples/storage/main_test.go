package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInventoryRunsAndSaysWhatItCouldNotRead(t *testing.T) {
	var out, errw bytes.Buffer
	if rc := run(context.Background(), []string{"inventory"}, &out, &errw); rc != exitOK {
		t.Fatalf("inventory: exit %d: %s", rc, errw.String())
	}
	if out.Len() == 0 {
		t.Fatal("inventory printed nothing")
	}
	out.Reset()
	if rc := run(context.Background(), []string{"inventory", "--json"}, &out, &errw); rc != exitOK {
		t.Fatalf("inventory --json: exit %d: %s", rc, errw.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v["devices"] == nil {
		t.Fatalf("inventory --json: %v %.200s", err, out.String())
	}
}

func TestUsageAndRefusal(t *testing.T) {
	var out, errw bytes.Buffer
	for _, args := range [][]string{nil, {"nope"}, {"plan"}, {"inventory", "extra"}} {
		if rc := run(context.Background(), args, &out, &errw); rc != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, rc, exitUsage)
		}
	}
	spec := filepath.Join(t.TempDir(), "spec.json")
	os.WriteFile(spec, []byte(`{"disks":[{"id":"x","serial":"NO-SUCH-DISK","partitions":[{"number":1}]}],
	  "filesystems":[{"device":"/dev/no-such-device","type":"ext4"}]}`), 0o644)
	errw.Reset()
	if rc := run(context.Background(), []string{"plan", "-f", spec}, &out, &errw); rc != exitRefused {
		t.Fatalf("plan of an impossible spec: exit %d: %s", rc, errw.String())
	}
	if !strings.Contains(errw.String(), "(2 reasons)") {
		t.Fatalf("refusal output %q", errw.String())
	}
}
