package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const conf = `devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { notify_dbus = 0 }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
`

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "4K": 4096, "16M": 16 << 20, "2g": 2 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1.5G", "99999999999T"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if c := run(context.Background(), nil, &out, &errb); c != exitUsage {
		t.Fatalf("exit %d", c)
	}
}

// TestCommandsOnLoops runs the commands on loop devices (metadata only,
// private LVM_SYSTEM_DIR): a dry run changes nothing, --apply does, a
// refusal exits 3, and `report` equals lvm's own fullreport on the vg, pv
// and lv tables.
func TestCommandsOnLoops(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup")
	sys := t.TempDir()
	if err := os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d1, d2 := testenv.Loop(t, 64<<20), testenv.Loop(t, 64<<20)
	g := []string{"--journal", t.TempDir(), "--devices", d1 + "," + d2, "--system-dir", sys, "--no-dm"}
	cmd := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if c := run(context.Background(), append(append([]string(nil), g...), args...), &out, &errb); c != want {
			t.Fatalf("%v: exit %d, want %d: %s %s", args, c, want, out.String(), errb.String())
		}
		return out.String()
	}
	if out := cmd(0, "pvcreate", d1); !strings.Contains(out, "dry run") {
		t.Fatalf("no dry run: %s", out)
	}
	if r := cmd(0, "report"); strings.Contains(r, "lvm2") {
		t.Fatalf("the dry run made a PV: %s", r)
	}
	cmd(0, "--apply", "pvcreate", d1)
	cmd(0, "--apply", "pvcreate", d2)
	cmd(exitRefused, "--apply", "pvcreate", d1) // not blank any more
	cmd(0, "--apply", "vgcreate", "vg_ex", d1, d2)
	cmd(0, "--apply", "lvcreate", "vg_ex", "a", "16M")
	cmd(0, "--apply", "lvcreate", "vg_ex", "s", "16M", "--type", "striped", "--stripes", "2")
	cmd(0, "--apply", "lvresize", "vg_ex", "a", "24M")
	cmd(exitRefused, "--apply", "lvresize", "vg_ex", "a", "8M") // inactive: the filesystem cannot be checked
	// A classic snapshot needs device-mapper (lvm activates it to create
	// it): only its dry run here; the VM tier makes real ones.
	cmd(0, "snapshot", "vg_ex", "a", "snap", "8M")

	got := parse(t, cmd(0, "report"))
	c := exec.Command("lvm", "fullreport", "--devices", d1+","+d2, "--driverloaded", "n", "--reportformat", "json", "--units", "b", "--nosuffix",
		"--config", `log{report_command_log=0}`)
	c.Env = append(os.Environ(), "LVM_SYSTEM_DIR="+sys, "LVM_SUPPRESS_FD_WARNINGS=1")
	b, _ := c.Output() // exits 5 without device-mapper, with the rows
	want := parse(t, string(b))
	// lvm's fullreport prints every column (cache_*, lv_uuid, ...); ours
	// the default columns of vgs, pvs and lvs. Compare on ours: each of
	// our values must be lvm's.
	for i, el := range want {
		delete(el, "pvseg")
		delete(el, "seg")
		for tbl, rows := range el {
			for r, row := range rows {
				if i >= len(got) || r >= len(got[i][tbl]) {
					continue
				}
				for k := range row {
					if _, ok := got[i][tbl][r][k]; !ok {
						delete(row, k)
					}
				}
			}
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("report differs from lvm fullreport (-lvm +ours):\n%s", d)
	}
	cmd(0, "--apply", "remove", "lv", "vg_ex", "s")
	cmd(0, "--apply", "remove", "vg", "vg_ex")
	cmd(0, "--apply", "remove", "pv", d1)
	cmd(0, "--apply", "remove", "pv", d2)
}

func parse(t *testing.T, s string) []map[string][]map[string]string {
	t.Helper()
	var r struct {
		Report []map[string][]map[string]string `json:"report"`
	}
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return r.Report
}
