package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// emptyTree is the sample system with empty devices of every kind lsblk -A
// leaves out: a card reader without a medium (a SATA one: the USB preset has one bus), a CD drive without a disc, an
// empty partition, a dm device of size zero on a disk that is not empty, and
// the sample's detached loop device.
func emptyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tr := blockdevtest.Sample(dir)
	tr.SATA("sdd", 7, 48, 0, "Card Reader", "CR0001", false)
	tr.CDROM("sr1", 3, 1, 0)
	tr.AddPartition("vda", "vda1", 254, 1, 1, 2048, 0)
	tr.AddPartition("vda", "vda2", 254, 2, 2, 4096, 1<<20)
	tr.DM(4, "empty-target", "", 0, "vda2")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDifferentialNoEmpty compares -A/--noempty with lsblk 2.38's on a tree
// with empty devices, alone and with -a (which lists every other device).
func TestDifferentialNoEmpty(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	dir := emptyTree(t)
	cases := []struct {
		flags []string
		empty bool // the empty devices are listed
	}{
		{[]string{"-J", "-b", "-A"}, false},
		{[]string{"-JbA"}, false},
		{[]string{"-J", "-b", "--noempty"}, false},
		// lsblk 2.38: -a disables every filter, -A included, in either order.
		{[]string{"-J", "-b", "--noempty", "-a"}, true},
		{[]string{"-J", "-b", "-a", "-A"}, true},
	}
	for _, c := range cases {
		flags := c.flags
		t.Run(strings.Join(flags, ""), func(t *testing.T) {
			args := append(append([]string{"--sysroot", dir}, flags...), "-o", sharedColumns)
			theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
			our := decode(t, "ours", ours(t, args...))
			n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, fakeTreeDifferences, "")
			t.Logf("%d known differences, all lsblk's", n)
			for _, e := range []string{"sdd", "sr1", "vda1", "dm-4", "loop200"} {
				if listed := strings.Contains(allNames(our.BlockDevices), " "+e+" "); listed != c.empty {
					t.Errorf("%s is empty: listed %v, want %v", e, listed, c.empty)
				}
			}
			if !strings.Contains(allNames(our.BlockDevices), " vda2 ") {
				t.Error("vda2 is not empty and is missing")
			}
		})
	}
}

// allNames is every kname of a JSON tree, space-separated and padded.
func allNames(l []map[string]any) string {
	s := " "
	for _, m := range l {
		s += m["kname"].(string) + " " + strings.TrimPrefix(allNames(kids(m)), " ")
	}
	return s
}

// TestUnreadableMountTable: lsblk 2.38 prints no mountpoints and says
// nothing when it cannot read the mount table, so a mounted device looks
// free. We list the devices too, with the same exit status, but say on
// stderr that the mountpoints are unknown.
func TestUnreadableMountTable(t *testing.T) {
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	mi := filepath.Join(dir, "proc/self/mountinfo")
	if err := os.Remove(mi); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(mi, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if rc := run(context.Background(), []string{"--sysroot", dir, "-o", "NAME,MOUNTPOINTS"}, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	if !strings.Contains(out.String(), "sda1") {
		t.Errorf("devices not listed:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "mount table unreadable") {
		t.Errorf("stderr %q: the failed read must be reported", errb.String())
	}
}
