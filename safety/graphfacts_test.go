package safety

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// TestGraphFactsOnSampleMachine runs the discovery half of preflight on the
// fake machine of blockdevtest.Sample (no root needed): root on LVM on md
// RAID over two disks, /boot/efi, swap on LVM, LUKS, a USB stick.
func TestGraphFactsOnSampleMachine(t *testing.T) {
	dir := t.TempDir()
	tree := blockdevtest.Sample(dir)
	if err := tree.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		t.Fatal(err)
	}
	facts := func(name string, opts ...CheckOption) *Facts {
		t.Helper()
		c, err := newCheckConfig(OpFormat, opts)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := g.ByName(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		f := &Facts{Path: d.Path, Exists: true, IsBlock: true}
		graphFacts(f, g, d, c)
		return f
	}
	has := func(list []string, sub string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
	}
	sda := facts("sda")
	mounts := factMounts(sda)
	for _, want := range []string{"/dev/sda1 /boot/efi", "/dev/mapper/vg0-root /", "/dev/mapper/vg0-swap [SWAP]"} {
		if !slices.Contains(mounts, want) {
			t.Errorf("sda mounts %v lack %q", mounts, want)
		}
	}
	if !has(sda.Protected, "/ is mounted from") || !has(sda.Protected, "/boot/efi is mounted from /dev/sda1") {
		t.Errorf("sda protected %v", sda.Protected)
	}
	if !has(sda.Holders, "md0") || !has(sda.Holders, "vg0-root") || !has(sda.MDMember, "md0") {
		t.Errorf("sda holders %v md %v", sda.Holders, sda.MDMember)
	}
	if !slices.Equal(sda.Partitions, []string{"/dev/sda1", "/dev/sda2"}) {
		t.Errorf("sda partitions %v", sda.Partitions)
	}
	// The partition next to the one under / is not protected by itself...
	if p := facts("nvme0n1p1"); len(p.Protected) != 0 || !has(p.Holders, "vg1-data") {
		t.Errorf("nvme0n1p1 %+v", p)
	}
	// ...the LUKS partition carries /home, mounted through dm-2.
	if p := facts("nvme0n1p2"); !slices.Contains(factMounts(p), "/dev/mapper/luks-home /home") {
		t.Errorf("nvme0n1p2 mounts %v", factMounts(p))
	}
	// A spare disk is clean, until the caller protects it (or a partition of it).
	if v := facts("vda"); len(v.Protected)+len(v.Mounts)+len(v.Holders) != 0 || v.Size != 16<<30 {
		t.Errorf("vda %+v", v)
	}
	if v := facts("vda", WithProtected("/dev/vda")); !has(v.Protected, "protected by the caller: /dev/vda") {
		t.Errorf("vda protected %v", v.Protected)
	}
	if u := facts("sdc", WithProtected("/dev/sdc1")); !has(u.Protected, "/dev/sdc1") || len(u.Mounts) != 1 {
		t.Errorf("sdc %+v", u)
	}
	if u := facts("sdc1", WithProtected("/dev/sdc")); !has(u.Protected, "/dev/sdc") {
		t.Errorf("sdc1 under a protected disk: %v", u.Protected)
	}
	// The whole decision for sda: everything that applies, at once.
	r, _ := Evaluate(context.Background(), sda, OpPartition)
	for _, c := range []Code{CodeMounted, CodeSwapActive, CodeHasHolders, CodeProtected, CodeMDMember, CodeNotEmpty} {
		if !r.Has(c) {
			t.Errorf("sda report lacks %s: %v", c, r.Codes())
		}
	}
}
