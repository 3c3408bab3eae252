package blockdev_test

import (
	"context"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// TestOpensPerDevice counts the files and directories Discover opens for the
// default attribute set (udev off, probing off), per kind of device. doc.go
// documents these numbers; change both together.
func TestOpensPerDevice(t *testing.T) {
	base := func() *blockdevtest.Tree { return blockdevtest.New(t.TempDir()) }
	count := func(t *testing.T, tr *blockdevtest.Tree) int {
		t.Helper()
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
		_, n, err := blockdev.DiscoverOpens(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithUdev(false))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	empty := count(t, base())
	for _, c := range []struct {
		name  string
		build func(tr *blockdevtest.Tree)
		want  int
	}{
		{"sata disk", func(tr *blockdevtest.Tree) { tr.SATA("sda", 0, 0, 1<<30, "M", "", true) }, 30},
		{"partition", func(tr *blockdevtest.Tree) {
			tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
			tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
		}, 30 + 8},
		{"usb disk", func(tr *blockdevtest.Tree) { tr.USB("sdb", 1, 16, 1<<30, "V", "M") }, 28},
		{"cdrom", func(tr *blockdevtest.Tree) { tr.CDROM("sr0", 2, 0, 1<<20) }, 29},
		{"nvme disk", func(tr *blockdevtest.Tree) { tr.NVMe(0, 0, 1<<30, "M", "S") }, 27},
		{"virtio disk", func(tr *blockdevtest.Tree) { tr.Virtio("vda", 0, 0, 1<<30) }, 25},
		{"loop", func(tr *blockdevtest.Tree) { tr.Loop(0, 1<<20, "/img") }, 24},
		{"dm", func(tr *blockdevtest.Tree) { tr.DM(0, "vg-lv", "LVM-x", 1<<20) }, 25},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := base()
			c.build(tr)
			got := count(t, tr) - empty
			t.Logf("%s: %d opens", c.name, got)
			if got != c.want {
				t.Errorf("%s: %d opens, documented %d", c.name, got, c.want)
			}
		})
	}
}

// TestOpensCore: with WithAttributes(0) only the core is read.
func TestOpensCore(t *testing.T) {
	count := func(tr *blockdevtest.Tree) int {
		t.Helper()
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
		g, n, err := blockdev.DiscoverOpens(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithUdev(false), blockdev.WithAttributes(0))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range g.All() {
			if d.Rotational != nil || d.Model != "" || d.Hotplug != nil || d.Alignment != nil {
				t.Errorf("%s: an optional group was read", d.KName)
			}
		}
		return n
	}
	empty := count(blockdevtest.New(t.TempDir()))
	tr := blockdevtest.New(t.TempDir())
	tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
	if got := count(tr) - empty; got != 9+6 {
		t.Errorf("core opens for a SATA disk and a partition: %d, documented 9+6", got)
	}
	if _, err := blockdev.Discover(context.Background(), blockdev.WithAttributes(1<<10)); err == nil {
		t.Error("unknown attribute group accepted")
	}
}
