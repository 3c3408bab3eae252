package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestDifferentialText compares what lsblk prints with ours, byte for byte,
// in every output mode (tree, list, raw, pairs, JSON layout), for column
// sets without the known differences of fakeTreeDifferences. The one known
// difference left, [SWAP] that lsblk cannot see in a sysroot, is taken out
// of our side (MOUNTPOINTS is last or alone in tables, so widths agree).
func TestDifferentialText(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	t.Setenv("LC_ALL", "C") // testenv.Run runs lsblk so; ours must draw the same ASCII tree
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	for _, cols := range [][]string{
		nil,
		{"-o", "NAME,SIZE,DISC-MAX,ROTA,MODEL"},
		{"-o", "KNAME,HCTL,RA,LOG-SEC,SCHED,RQ-SIZE,START,PKNAME"},
		{"-a", "-o", "NAME,KNAME,PATH,MAJ:MIN,RO,RM,HOTPLUG,TYPE,VENDOR,ALIGNMENT,MIN-IO,OPT-IO,PHY-SEC,DISC-ZERO,ZONED"},
		{"-b", "-n", "-o", "NAME,SIZE,MOUNTPOINTS"},
		{"-d"},
		{"-l"},
		{"-lp", "-o", "NAME,KNAME,PKNAME,MAJ:MIN,TYPE"},
		{"-e", "8,11"},
		{"-a", "-e", "7"},
		{"-r", "-o", "NAME,MODEL,MOUNTPOINTS,PKNAME,MAJ:MIN"},
		{"-rn"},
		{"-P", "-o", "NAME,MODEL,MOUNTPOINTS,MAJ:MIN,SIZE"},
		{"-J", "-o", "NAME,MAJ:MIN,SIZE,RO,TYPE,MOUNTPOINTS"},
		{"-J", "-l", "-b", "-o", "NAME,PKNAME,SIZE,RM"},
		{"-J", "-p", "-o", "NAME,KNAME,PKNAME"},
	} {
		args := append([]string{"--sysroot", dir}, cols...)
		want := string(testenv.Run(t, "lsblk", args...))
		var out, errb bytes.Buffer
		if rc := run(context.Background(), args, &out, &errb); rc != 0 {
			t.Fatalf("%v: exit %d: %s", args, rc, errb.String())
		}
		got := out.String()
		if slices.Contains(cols, "-J") {
			got = strings.ReplaceAll(got, `"[SWAP]"`, "null")
		}
		got = strings.ReplaceAll(got, "[SWAP]", "")
		if got != want {
			t.Errorf("lsblk %s:\n--- lsblk\n%s--- ours\n%s", strings.Join(cols, " "), want, got)
		}
	}
}

// TestHumanSize checks size formatting against lsblk itself, on disks of
// awkward sizes (sysfs counts 512-byte sectors, so sizes are multiples of 512).
func TestHumanSize(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	sizes := []uint64{0, 512, 1536, 1<<20 - 512, 1<<20 + 1<<20/10, 1<<30 - 512, 1536 << 20, 1000204886016,
		123456789 * 512, 2199023255040, 3 << 40, 5<<50 + 512}
	tr := blockdevtest.New(t.TempDir())
	for i, sz := range sizes {
		tr.AddDisk(blockdevtest.Disk{Name: fmt.Sprintf("vd%c", 'a'+i), Major: 254, Minor: uint32(16 * i), Size: sz})
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(testenv.Run(t, "lsblk", "--sysroot", tr.Dir, "-n", "-o", "SIZE")))
	if len(lines) != len(sizes) {
		t.Fatalf("lsblk listed %d sizes: %v", len(lines), lines)
	}
	for i, sz := range sizes {
		if got := humanSize(sz); got != lines[i] {
			t.Errorf("humanSize(%d) = %q, lsblk says %q", sz, got, lines[i])
		}
	}
}

func TestArgs(t *testing.T) {
	o, err := parseArgs([]string{"-Jbo", "name,size", "--sysroot=/x", "-a", "/dev/sda"})
	if err != nil || !o.json || !o.bytes || !o.all || o.sysroot != "/x" || len(o.columns) != 2 || o.devices[0] != "/dev/sda" {
		t.Fatalf("%+v, %v", o, err)
	}
	if o, err := parseArgs([]string{"-o", "+TRAN"}); err != nil || len(o.columns) != len(defaultColumns)+1 {
		t.Fatalf("-o +TRAN: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-x"}, {"--nope"}, {"-o"}, {"-o", "NOPE"}, {"--sysroot"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var out, errb bytes.Buffer
	if rc := run(context.Background(), []string{"--sysroot", t.TempDir()}, &out, &errb); rc == 0 {
		t.Error("an empty root is not a machine")
	}
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	if rc := run(context.Background(), []string{"--sysroot", dir, "/dev/nope"}, &out, &errb); rc == 0 {
		t.Error("an unknown device was accepted")
	}
}

func TestTreeGlyphs(t *testing.T) {
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	for locale, want := range map[string]string{"C.UTF-8": "└─sda2", "en_US.utf8": "└─sda2", "C": "`-sda2", "POSIX": "`-sda2"} {
		t.Setenv("LC_ALL", locale)
		var out, errb bytes.Buffer
		if rc := run(context.Background(), []string{"--sysroot", dir, "-o", "NAME"}, &out, &errb); rc != 0 {
			t.Fatal(errb.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("LC_ALL=%s: no %q in\n%s", locale, want, out.String())
		}
	}
}
