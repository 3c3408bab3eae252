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
// refusal exits 3, and `report` equals lvm's own fullreport on all five
// tables (vg, pv, lv, pvseg, seg) of a layout with two VGs over three PVs
// and an orphan PV, a linear LV of two segments on two PVs, a striped LV,
// and names with '+', '_', '.' and '-': every value we print is lvm's, no
// row is missing or extra, 0 mismatches.
func TestCommandsOnLoops(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup")
	sys := t.TempDir()
	if err := os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d1, d2, d3, d4 := testenv.Loop(t, 64<<20), testenv.Loop(t, 64<<20), testenv.Loop(t, 32<<20), testenv.Loop(t, 32<<20)
	devs := strings.Join([]string{d1, d2, d3, d4}, ",")
	g := []string{"--journal", t.TempDir(), "--devices", devs, "--system-dir", sys, "--no-dm"}
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
	for _, d := range []string{d1, d2, d3, d4} {
		cmd(0, "--apply", "pvcreate", d)
	}
	cmd(exitRefused, "--apply", "pvcreate", d1) // not blank any more
	const vg, vg2 = "vg+a_b.c-d", "v.g_2-x+"
	cmd(0, "--apply", "vgcreate", vg, d1, d2)
	cmd(0, "--apply", "vgcreate", vg2, d3)
	cmd(0, "--apply", "lvcreate", vg, "l+v_1.x-y", "16M", "--pvs", d1)
	cmd(0, "--apply", "lvcreate", vg, "s_t.r-1", "16M", "--type", "striped", "--stripes", "2")
	// Extended after the striped LV took the next extents: a second segment.
	cmd(0, "--apply", "lvresize", vg, "l+v_1.x-y", "24M")
	cmd(0, "--apply", "lvcreate", vg, "on.d2", "8M", "--pvs", d2)
	cmd(0, "--apply", "lvcreate", vg2, "a-b", "12M")
	cmd(exitRefused, "--apply", "lvresize", vg, "l+v_1.x-y", "8M") // inactive: the filesystem cannot be checked
	// A classic snapshot needs device-mapper (lvm activates it to create
	// it): only its dry run here; the VM tier makes real ones.
	cmd(0, "snapshot", vg, "l+v_1.x-y", "snap", "8M")

	got := parse(t, cmd(0, "report"))
	c := exec.Command("lvm", "fullreport", "--devices", devs, "--driverloaded", "n", "--reportformat", "json", "--units", "b", "--nosuffix",
		"--config", `log{report_command_log=0}`)
	c.Env = append(os.Environ(), "LVM_SYSTEM_DIR="+sys, "LVM_SUPPRESS_FD_WARNINGS=1")
	b, _ := c.Output() // exits 5 without device-mapper, with the rows
	want := parse(t, string(b))
	// lvm's fullreport prints every column (cache_*, lv_uuid, vdo_*...);
	// ours a subset. Compare on ours: each of our values must be lvm's,
	// and the elements, tables and rows must be the same.
	fields, rows := 0, map[string]int{}
	for i, el := range want {
		for tbl, rs := range el {
			rows[tbl] += len(rs)
			for r, row := range rs {
				if i >= len(got) || r >= len(got[i][tbl]) {
					continue
				}
				for k := range row {
					if _, ok := got[i][tbl][r][k]; !ok {
						delete(row, k)
					} else {
						fields++
					}
				}
			}
		}
	}
	for _, tbl := range []string{"vg", "pv", "lv", "pvseg", "seg"} {
		if rows[tbl] == 0 {
			t.Fatalf("lvm's fullreport has no %s rows: the layout does not exercise that table", tbl)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("report differs from lvm fullreport (-lvm +ours):\n%s", d)
	}
	t.Logf("report = lvm fullreport: %d elements, rows %v, %d fields compared, 0 mismatches", len(want), rows, fields)
	cmd(0, "--apply", "remove", "lv", vg, "s_t.r-1")
	cmd(0, "--apply", "remove", "vg", vg)
	cmd(0, "--apply", "remove", "vg", vg2)
	for _, d := range []string{d1, d2, d3, d4} {
		cmd(0, "--apply", "remove", "pv", d)
	}
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
