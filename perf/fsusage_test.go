package perf

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestParseMountinfo(t *testing.T) {
	u, ok := parseMountinfo(`36 35 254:1 / /mnt/my\040disk rw,noatime master:1 - ext4 /dev/vda1 rw,errors=remount-ro`)
	if !ok || u.Major != 254 || u.Minor != 1 || u.MountPoint != "/mnt/my disk" || u.FSType != "ext4" || u.Source != "/dev/vda1" {
		t.Fatalf("%+v %v", u, ok)
	}
	for _, bad := range []string{"", "1 2 3", "36 35 x:1 / /m rw - ext4 /dev/a rw x", "36 35 8:1 / /m rw a b c d"} {
		if _, ok := parseMountinfo(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

// Differential against df: the size of every block-device filesystem we
// report equals df's (both come from statfs; a mismatch is a unit bug).
func TestFilesystemCollectorMatchesDf(t *testing.T) {
	testenv.RequireTool(t, "df")
	var s Snapshot
	fc, err := NewFilesystemCollector("")
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Filesystems) == 0 {
		testenv.Skip(t, "no block-device filesystem mounted")
	}
	for _, fs := range s.Filesystems {
		out, err := testenv.RunErr("df", "-B1", "--output=size,itotal", fs.MountPoint)
		if err != nil {
			continue // unmounted by another test meanwhile
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		f := strings.Fields(lines[len(lines)-1])
		size, _ := strconv.ParseUint(f[0], 10, 64)
		if size != fs.SizeBytes {
			t.Errorf("%s: size %d, df %d", fs.MountPoint, fs.SizeBytes, size)
		}
		if fs.FreeBytes > fs.SizeBytes || fs.AvailBytes > fs.FreeBytes {
			t.Errorf("%s: inconsistent %+v", fs.MountPoint, fs)
		}
	}
}
