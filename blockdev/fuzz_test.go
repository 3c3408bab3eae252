package blockdev_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// FuzzDiscoverAttribute writes arbitrary bytes into one attribute of a disk
// (or of its partition, its holder, mountinfo or swaps) and checks that
// Discover neither fails nor panics, and still lists every device.
func FuzzDiscoverAttribute(f *testing.F) {
	for _, s := range [][2]string{
		{"size", "18446744073709551615"}, {"size", "-1"}, {"dev", "8:0"}, {"dev", "259"}, {"queue/scheduler", "[]"},
		{"queue/scheduler", "[none"}, {"queue/rotational", "2"}, {"alignment_offset", "-4096"}, {"removable", ""},
		{"device/model", "\x00\x01"}, {"device/wwid", "naa."}, {"sda1/start", "x"}, {"sda1/partition", "0"},
		{"holders/x", "y"}, {"/proc/self/mountinfo", "1 0 8:1 / /\\ - x"}, {"/proc/swaps", "h\n/dev/sda1 partition"},
		{"dm/uuid", "-"}, {"md/level", ""}, {"loop/backing_file", strings.Repeat("a", 5000)},
		{"sda0/partition", "0"}, {"sdax/partition/y", ""}, {"xsda/partition", "1"},
		{"queue/chunk_sectors", "36028797018963968"}, {"queue/add_random", "x"}, {"device/state", "\n\n"},
		{"/dev/sda", "ID_PART_TABLE_TYPE=gpt\nID_PART_TABLE_UUID=\n=\n"}, {"/dev/sda1", "ID_PART_ENTRY_SCHEME=dos"},
		{"subsystem", "x"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	// One tree per fuzzing process (calls within a process are sequential);
	// each input changes one file and puts it back afterwards.
	var base, sys string
	f.Cleanup(func() {
		if base != "" {
			os.RemoveAll(base)
		}
	})
	f.Fuzz(func(t *testing.T, attr string, content []byte) {
		if attr == "" || strings.Contains(attr, "..") || strings.ContainsRune(attr, 0) || len(attr) > 64 {
			return
		}
		if base == "" {
			dir, err := os.MkdirTemp("", "fuzz-discover")
			if err != nil {
				t.Fatal(err)
			}
			tr := blockdevtest.New(dir)
			sys = tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
			tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
			tr.MD(0, "raid1", 1<<29, "sda1")
			if err := tr.Err(); err != nil {
				t.Fatal(err)
			}
			base = dir
		}
		p := filepath.Join(base, sys, attr)
		if strings.HasPrefix(attr, "/") {
			p = filepath.Join(base, attr)
		}
		if !strings.HasPrefix(p, base+"/") {
			return
		}
		// An input that creates a directory named after the disk with a
		// partition entry in it has made a partition, laid out as the
		// kernel lays one out: Discover is right to list it.
		want, newTop := 3, ""
		diskDir := filepath.Join(base, sys)
		fi, err := os.Lstat(p)
		switch {
		case err == nil && !fi.Mode().IsRegular():
			return // directories and links stay as the kernel made them
		case err == nil:
			old, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Fatal(rerr)
			}
			defer os.WriteFile(p, old, 0o644)
		default:
			// Remove afterwards the topmost directory this input creates.
			top := p
			for d := filepath.Dir(p); d != base; d = filepath.Dir(d) {
				if _, err := os.Lstat(d); err == nil {
					break
				}
				top = d
			}
			defer os.RemoveAll(top)
			newTop = top
		}
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil || os.WriteFile(p, content, 0o644) != nil {
			return
		}
		if name := filepath.Base(newTop); newTop != "" && filepath.Dir(newTop) == diskDir && strings.HasPrefix(name, "sda") && name != "sda" {
			if _, err := os.Lstat(filepath.Join(newTop, "partition")); err == nil {
				want = 4
			}
		}
		g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(base), blockdev.WithAttributes(blockdev.AttrAll))
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
		if g.Len() != want || len(g.All()) != want {
			t.Fatalf("%d devices listed, want %d", g.Len(), want)
		}
		for _, d := range g.All() {
			_ = d.MountPoints()
			_ = g.Descendants(d)
			_ = g.InUse(d)
		}
	})
}
