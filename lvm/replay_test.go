package lvm

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// fixtureTool replays testdata/fullreport (recorded by the differential
// test on loop devices) with a Tool configured as the recording was.
func fixtureTool(t testing.TB) (*Tool, *command.Replayer, []string) {
	t.Helper()
	fs, err := command.LoadFixtures("testdata/fullreport")
	if err != nil {
		t.Fatal(err)
	}
	var devs []string
	var sysdir string
	for _, f := range fs {
		for i, a := range f.Args {
			if a == "--devices" && devs == nil {
				devs = strings.Split(f.Args[i+1], ",")
			}
		}
		for _, e := range f.Env {
			if v, ok := strings.CutPrefix(e, "LVM_SYSTEM_DIR="); ok {
				sysdir = v
			}
		}
	}
	rp, err := command.NewReplayer(fs...)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTool(rp, WithSystemDir(sysdir), WithDevices(devs...), WithoutDeviceMapper())
	if err != nil {
		t.Fatal(err)
	}
	return tl, rp, devs
}

// Without root or lvm: the recorded fullreport and pvs+vgs+lvs give the
// same Report, and the pure-Go reader on the recorded PV heads gives it too.
func TestReplayInventory(t *testing.T) {
	tl, rp, devs := fixtureTool(t)
	ctx := context.Background()
	full, err := tl.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sep, err := tl.InventorySeparately(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.Verify(); err != nil {
		t.Fatal(err)
	}
	want := flatten(full)
	if n, f := compareRows(t, "pvs+vgs+lvs", flatten(sep), want); n != 0 || f == 0 {
		t.Fatalf("%d mismatches in %d fields", n, f)
	}
	disk := diskFromHeads(t, devs, full)
	n, f := compareRows(t, "disk", flatten(disk), want)
	if n != 0 || f < 150 {
		t.Fatalf("%d mismatches in %d fields", n, f)
	}
	v := full.VG(labVG1)
	if v == nil || v.Seqno < 4 || len(v.PVs) != 2 || len(v.LVs) != 3 || strings.Join(v.Tags, ",") != "t1,x.y" {
		t.Fatalf("VG %s: %+v", labVG1, v)
	}
	str := v.LV("str")
	if str == nil || str.Segments[0].Type != "striped" || len(str.Segments[0].Areas) != 2 || str.Tags[0] != "foo" {
		t.Fatalf("str: %+v", str)
	}
	if full.LV(labVG1, "my-lv_1.x+y").DMPath != "/dev/mapper/vg+a_b.c--d-my--lv_1.x+y" {
		t.Fatalf("dm path %q", full.LV(labVG1, "my-lv_1.x+y").DMPath)
	}
	if full.ByDevNum(-1, -1) != nil {
		t.Fatal("an inactive LV joined on -1:-1")
	}
}

// diskFromHeads runs the on-disk reader's assembly over the recorded PV
// heads, giving each the device name, number and size lvm reported.
func diskFromHeads(t testing.TB, devs []string, ref *Report) *Report {
	t.Helper()
	byName := map[string]*PV{}
	for _, p := range ref.PVs {
		byName[p.Name] = p
	}
	var scanned []scannedPV
	for i, d := range devs {
		img := pvHead(t, i)
		p := byName[d]
		s := scannedPV{dev: pvDevice{path: d, major: p.Major, minor: p.Minor, size: p.DevSize}}
		if err := readPV(bytes.NewReader(img), &s); err != nil {
			t.Fatalf("pv%d: %v", i, err)
		}
		scanned = append(scanned, s)
	}
	r, err := assemble(scanned)
	if err != nil {
		t.Fatal(err)
	}
	applyDMState(r, nil)
	return r
}

func pvHead(t testing.TB, i int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pv", fmt.Sprintf("pv%d.img.gz", i)))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
