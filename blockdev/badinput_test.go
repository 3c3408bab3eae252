package blockdev_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

func hasAttrErr(d *blockdev.Device, attr string, target error) bool {
	for _, e := range d.Errs {
		var ae *blockdev.AttrError
		if errors.As(e, &ae) && ae.Attr == attr && errors.Is(e, blockdev.ErrAttribute) && (target == nil || errors.Is(e, target)) {
			return true
		}
	}
	return false
}

// TestBadInput bends one attribute at a time; the device must still be
// listed, with that attribute absent and (unless simply missing) an error.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		bend  func(tr *blockdevtest.Tree, sys string)
		check func(t *testing.T, d *blockdev.Device)
	}{
		{"missing size", func(tr *blockdevtest.Tree, sys string) { tr.Remove("vdb", "size") },
			func(t *testing.T, d *blockdev.Device) {
				if d.Size != nil || len(d.Errs) != 0 {
					t.Errorf("size %v errs %v: a missing attribute is absent, not an error", d.Size, d.Errs)
				}
			}},
		{"empty size", func(tr *blockdevtest.Tree, sys string) { tr.Set("vdb", "size", "") },
			func(t *testing.T, d *blockdev.Device) {
				if d.Size != nil || !hasAttrErr(d, "size", blockdev.ErrSyntax) {
					t.Errorf("size %v errs %v", d.Size, d.Errs)
				}
			}},
		{"garbage rotational", func(tr *blockdevtest.Tree, sys string) { tr.Set("vdb", "queue/rotational", "\x00\xffyes") },
			func(t *testing.T, d *blockdev.Device) {
				if d.Rotational != nil || !hasAttrErr(d, "queue/rotational", blockdev.ErrSyntax) {
					t.Errorf("rota %v errs %v", d.Rotational, d.Errs)
				}
			}},
		{"huge model", func(tr *blockdevtest.Tree, sys string) {
			tr.WriteFile(sys+"/device/model", strings.Repeat("M", 1<<20))
		}, func(t *testing.T, d *blockdev.Device) {
			if d.Model != "" || !hasAttrErr(d, "device/model", sysfs.ErrAttrTooLarge) {
				t.Errorf("model %q errs %v", d.Model, d.Errs)
			}
		}},
		{"unreadable ro (a directory)", func(tr *blockdevtest.Tree, sys string) {
			tr.Remove("vdb", "ro")
			tr.WriteFile(sys+"/ro/x", "")
		}, func(t *testing.T, d *blockdev.Device) {
			if d.ReadOnly != nil || !hasAttrErr(d, "ro", syscall.EISDIR) {
				t.Errorf("ro %v errs %v", d.ReadOnly, d.Errs)
			}
		}},
		{"symlink loop", func(tr *blockdevtest.Tree, sys string) {
			tr.Remove("vdb", "removable")
			tr.Symlink("removable", sys+"/removable")
		}, func(t *testing.T, d *blockdev.Device) {
			if d.Removable != nil || !hasAttrErr(d, "removable", syscall.ELOOP) {
				t.Errorf("rm %v errs %v", d.Removable, d.Errs)
			}
		}},
		{"garbage dev", func(tr *blockdevtest.Tree, sys string) { tr.Set("vdb", "dev", "not-a-number") },
			func(t *testing.T, d *blockdev.Device) {
				if d.MajMin.Major != 0 || !hasAttrErr(d, "dev", blockdev.ErrSyntax) {
					t.Errorf("majmin %v errs %v: an unkeyed device gets 0:N", d.MajMin, d.Errs)
				}
			}},
		{"duplicate device number", func(tr *blockdevtest.Tree, sys string) { tr.Set("vdb", "dev", "254:0") },
			func(t *testing.T, d *blockdev.Device) {
				if d.MajMin.Major != 0 || !hasAttrErr(d, "dev", blockdev.ErrSyntax) {
					t.Errorf("majmin %v errs %v: a duplicate number is reported and rekeyed", d.MajMin, d.Errs)
				}
			}},
		{"size overflowing bytes", func(tr *blockdevtest.Tree, sys string) { tr.Set("vdb", "size", "18446744073709551615") },
			func(t *testing.T, d *blockdev.Device) {
				if d.Size != nil || !hasAttrErr(d, "size", blockdev.ErrSyntax) {
					t.Errorf("size %v errs %v", d.Size, d.Errs)
				}
			}},
		{"holder pointing nowhere", func(tr *blockdevtest.Tree, sys string) {
			tr.Symlink("../../../../../virtual/block/dm-99", sys+"/holders/dm-99")
		}, func(t *testing.T, d *blockdev.Device) {
			if d.Size == nil || *d.Size != 1<<30 {
				t.Errorf("size %v", d.Size)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := blockdevtest.New(t.TempDir())
			tr.Virtio("vda", 0, 0, 1<<30)
			sys := tr.Virtio("vdb", 1, 16, 1<<30)
			c.bend(tr, sys)
			if err := tr.Err(); err != nil {
				t.Fatal(err)
			}
			g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
			if err != nil {
				t.Fatal(err)
			}
			if g.Len() != 2 {
				t.Fatalf("%d devices, want both listed", g.Len())
			}
			d, ok := g.ByName("vdb")
			if !ok {
				t.Fatal("vdb not listed")
			}
			c.check(t, d)
			if vda, _ := g.ByName("vda"); len(vda.Errs) != 0 {
				t.Errorf("the healthy neighbour got errors: %v", vda.Errs)
			}
		})
	}
}

func TestHolderCycleAndOddNames(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.DM(0, "a", "LVM-a", 1<<20)
	tr.DM(1, "b", "LVM-b", 1<<20)
	tr.Hold("dm-0", "dm-1").Hold("dm-1", "dm-0") // impossible in a kernel
	tr.AddDisk(blockdevtest.Disk{Name: "odd name ü", Major: 240, Minor: 0, Size: 4096})
	tr.Mount("odd name ü", "/mnt/odd name", "ext4")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 3 || len(g.All()) != 3 {
		t.Fatalf("Len %d All %d, want 3 (every device listed once despite the cycle)", g.Len(), len(g.All()))
	}
	a, _ := g.ByName("dm-0")
	b, _ := g.ByName("dm-1")
	if len(g.Descendants(a))+len(g.Descendants(b)) != 1 {
		t.Errorf("one edge of the cycle must be refused: %v %v", knames(g.Descendants(a)), knames(g.Descendants(b)))
	}
	if len(a.Errs)+len(b.Errs) != 1 {
		t.Errorf("the refused edge must be reported: %v %v", a.Errs, b.Errs)
	}
	odd, ok := g.ByName("odd name ü")
	if !ok || odd.Path != "/dev/odd name ü" || len(odd.MountPoints()) != 1 || odd.MountPoints()[0] != "/mnt/odd name" {
		t.Errorf("odd name: %+v", odd)
	}
}

func TestBrokenBlockLink(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.Symlink("../devices/nowhere/block/ghost", "/sys/block/ghost")
	tr.Symlink("loopy", "/sys/block/loopy")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ghost", "loopy"} {
		d, ok := g.ByName(n)
		if !ok {
			t.Fatalf("%s not listed", n)
		}
		if d.MajMin.Major != 0 || d.Size != nil {
			t.Errorf("%s: %v %v", n, d.MajMin, d.Size)
		}
		if n == "loopy" && !hasAttrErr(d, ".", syscall.ELOOP) {
			t.Errorf("loopy: errs %v", d.Errs)
		}
	}
	if vda, _ := g.ByName("vda"); vda.Size == nil || len(vda.Errs) != 0 {
		t.Errorf("vda: %+v", vda)
	}
}
