package blockdev_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// TestDevNumbersMatchSysfs: on this machine, every number /proc/diskstats
// gives for a name is the dev attribute of /sys/class/block/<name>, disks
// and partitions alike. Devices attached or removed by other tests between
// the two reads are skipped (their dev no longer exists).
func TestDevNumbersMatchSysfs(t *testing.T) {
	nums := blockdev.DevNumbers("/proc/diskstats")
	if nums == nil {
		t.Fatal("/proc/diskstats unreadable")
	}
	checked := 0
	for name, m := range nums {
		v, err := sysfs.ReadAttr(filepath.Join("/sys/class/block", name, "dev"))
		if err != nil {
			continue
		}
		want, err := blockdev.ParseMajMin(v)
		if err != nil {
			t.Fatalf("%s: dev %q: %v", name, v, err)
		}
		again := blockdev.DevNumbers("/proc/diskstats")
		if want != m && again[name] == m {
			t.Errorf("%s: diskstats says %v, sysfs %v", name, m, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no device checked")
	}
}

// TestDevNumbersBadInput: lines that are not "major minor name ..." are
// skipped, not guessed; an unreadable file gives nil (every dev attribute
// is then read).
func TestDevNumbersBadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "diskstats")
	in := "   8       0 sda 1 2 3\n" +
		"x 1 sdb 0\n" +
		"8 99999999999 sdc 0\n" +
		"8 16\n" +
		"\n" +
		"\t259\t0\tnvme0n1 5\n" +
		"7 0 loop0"
	if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	got := blockdev.DevNumbers(p)
	want := map[string]blockdev.MajMin{"sda": {Major: 8}, "nvme0n1": {Major: 259}, "loop0": {Major: 7}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	if blockdev.DevNumbers(filepath.Join(dir, "missing")) != nil {
		t.Error("a missing file must give nil")
	}
}

// FuzzDevNumbers: any content gives a map or nil, never a panic, and every
// name it maps is a whole field of the input.
func FuzzDevNumbers(f *testing.F) {
	f.Add([]byte("   8       0 sda 1 2 3\n 259 1 nvme0n1p1 0\n"))
	f.Add([]byte("7 0 loop0"))
	f.Add([]byte("\n\n\t\t\n"))
	f.Add([]byte("8 0 s\x00da\n1 2 \xff\xfe\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "diskstats")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for name := range blockdev.DevNumbers(p) {
			if name == "" || strings.ContainsAny(name, " \t\n") || !strings.Contains(string(data), name) {
				t.Fatalf("name %q from %q", name, data)
			}
		}
	})
}
