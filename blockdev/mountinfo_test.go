package blockdev_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

func TestParseMountInfoLine(t *testing.T) {
	mi, err := blockdev.ParseMountInfoLine(`36 35 98:0 /mnt1 /mnt/my\040disk rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue`)
	if err != nil {
		t.Fatal(err)
	}
	if mi.ID != 36 || mi.ParentID != 35 || mi.MajMin != (blockdev.MajMin{Major: 98}) || mi.Root != "/mnt1" ||
		mi.MountPoint != "/mnt/my disk" || mi.Options != "rw,noatime" || !slices.Equal(mi.Optional, []string{"master:1", "shared:7"}) ||
		mi.FSType != "ext3" || mi.Source != "/dev/root" || mi.SuperOptions != "rw,errors=continue" {
		t.Errorf("parsed %+v", mi)
	}
	// No optional fields, a backslash and a tab escaped, no super options.
	mi, err = blockdev.ParseMountInfoLine(`1 0 8:1 / /a\134b\011c rw - vfat /dev/sda1`)
	if err != nil || mi.MountPoint != "/a\\b\tc" || len(mi.Optional) != 0 || mi.SuperOptions != "" {
		t.Errorf("parsed %+v, %v", mi, err)
	}
	// A mountpoint that is itself "-" must not be taken for the separator.
	mi, err = blockdev.ParseMountInfoLine(`2 1 8:2 / /- rw shared:1 - ext4 /dev/sda2 rw`)
	if err != nil || mi.MountPoint != "/-" || mi.FSType != "ext4" {
		t.Errorf("parsed %+v, %v", mi, err)
	}
	for _, bad := range []string{"", "1 2 3", "x 0 8:1 / / rw - ext4 /dev/sda rw", "1 0 8:1 / / rw ext4 /dev/sda rw",
		"1 0 8-1 / / rw - ext4 /dev/sda rw", "1 0 8:1 / / rw -"} {
		if _, err := blockdev.ParseMountInfoLine(bad); !errors.Is(err, blockdev.ErrSyntax) {
			t.Errorf("ParseMountInfoLine(%q) err = %v", bad, err)
		}
	}
}

func FuzzParseMountInfoLine(f *testing.F) {
	for _, s := range []string{
		`36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw`,
		`1 0 8:1 / /a\040b rw - vfat /dev/sda1`,
		`1 0 8:1 / / rw -`, `- - - - - - -`, `\`, `1 0 8:1 / /x\0 rw - a b c`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		mi, err := blockdev.ParseMountInfoLine(line)
		if err != nil {
			if !errors.Is(err, blockdev.ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		if mi.FSType == "" && !strings.Contains(line, " - ") {
			t.Fatalf("accepted a line without separator: %q", line)
		}
	})
}

func TestParseUdevRecord(t *testing.T) {
	rec, err := blockdev.ParseUdevRecord([]byte("S:disk/by-id/ata-WDC_1\nS:disk/by-path/pci-0\nW:3\nI:123\nE:ID_SERIAL_SHORT=WD-1\nE:ID_FS_LABEL=a=b\nG:systemd\nQ:systemd\nV:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Properties["ID_SERIAL_SHORT"] != "WD-1" || rec.Properties["ID_FS_LABEL"] != "a=b" || len(rec.Links) != 2 || len(rec.Tags) != 2 {
		t.Errorf("parsed %+v", rec)
	}
	for _, bad := range []string{"garbage\n", "E:=x\n", "E:NOVALUE\n", "X\n"} {
		if _, err := blockdev.ParseUdevRecord([]byte(bad)); !errors.Is(err, blockdev.ErrSyntax) {
			t.Errorf("ParseUdevRecord(%q) err = %v", bad, err)
		}
	}
	if rec, err := blockdev.ParseUdevRecord(nil); err != nil || len(rec.Properties) != 0 {
		t.Errorf("empty record: %+v, %v", rec, err)
	}
}

func FuzzParseUdevRecord(f *testing.F) {
	f.Add([]byte("S:disk/by-id/x\nE:ID_SERIAL=abc\nG:systemd\n"))
	f.Add([]byte("E:A=\nE:B==\n\n"))
	f.Add([]byte("I:\x00\n"))
	f.Add([]byte(":\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := blockdev.ParseUdevRecord(data)
		if err != nil {
			if !errors.Is(err, blockdev.ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		for k := range rec.Properties {
			if k == "" {
				t.Fatal("empty property name accepted")
			}
		}
	})
}

// TestMountsAfterHugeLine: one line longer than any buffer a line scanner
// would use (here 2 MiB of junk) is skipped, and the mounts after it are
// still found. A bufio.Scanner with a 1 MiB limit used to stop there and
// lose every later mount, so a mounted device looked unused.
func TestMountsAfterHugeLine(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.WriteFile("/proc/self/mountinfo", "1 0 0:1 / / rw - rootfs rootfs rw\n"+
		strings.Repeat("x", 2<<20)+"\n\n"+
		"36 1 254:0 / /mnt rw,relatime - ext4 /dev/vda rw\n")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := g.ByName("vda")
	if !ok {
		t.Fatal("vda not found")
	}
	if mp := d.MountPoints(); len(mp) != 1 || mp[0] != "/mnt" {
		t.Errorf("vda mountpoints %v, want [/mnt]", mp)
	}
}
