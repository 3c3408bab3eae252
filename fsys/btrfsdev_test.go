package fsys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// toolMinDevSize is `btrfs inspect-internal min-dev-size --id N MNT`.
func toolMinDevSize(t *testing.T, dir string, devid uint64) int64 {
	t.Helper()
	out := strings.TrimSpace(string(testenv.Run(t, "btrfs", "inspect-internal", "min-dev-size", "--id", strconv.FormatUint(devid, 10), dir)))
	f := strings.Fields(out)
	if len(f) < 2 || f[1] != "bytes" {
		t.Fatalf("min-dev-size printed %q", out)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var showDevRe = regexp.MustCompile(`devid\s+(\d+)\s+size\s+(\d+)\s+used\s+(\d+)\s+path\s+(\S+)`)

// toolDevices is `btrfs filesystem show --raw MNT`: devid -> "size used path".
func toolDevices(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	m := map[uint64]string{}
	for _, g := range showDevRe.FindAllStringSubmatch(string(testenv.Run(t, "btrfs", "filesystem", "show", "--raw", dir)), -1) {
		id, _ := strconv.ParseUint(g[1], 10, 64)
		m[id] = g[2] + " " + g[3] + " " + g[4]
	}
	return m
}

func checkMinDevSize(t *testing.T, dir, when string, devids ...uint64) {
	t.Helper()
	for _, id := range devids {
		ours, err := btrfsMinDevSize(context.Background(), dir, id)
		if err != nil {
			t.Fatalf("%s: devid %d: %v", when, id, err)
		}
		theirs := toolMinDevSize(t, dir, id)
		if ours != theirs {
			t.Errorf("%s: devid %d: ours %d, btrfs inspect-internal min-dev-size %d", when, id, ours, theirs)
		} else {
			t.Logf("%s: devid %d: min-dev-size %d (agrees)", when, id, ours)
		}
	}
}

func checkDevices(t *testing.T, dir string) {
	t.Helper()
	devs, err := btrfsDevices(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := toolDevices(t, dir)
	if len(devs) != len(want) {
		t.Fatalf("ours %d devices, btrfs filesystem show %d", len(devs), len(want))
	}
	for _, d := range devs {
		got := fmt.Sprintf("%d %d %s", d.TotalBytes, d.UsedBytes, d.Path)
		if got != want[d.Devid] {
			t.Errorf("devid %d: ours %q, btrfs filesystem show %q", d.Devid, got, want[d.Devid])
		}
		if len(d.UUID) != 36 {
			t.Errorf("devid %d: uuid %q", d.Devid, d.UUID)
		}
	}
}

// fill writes n files of size bytes and removes every other one, leaving
// holes between the chunks that stay allocated.
func fill(t *testing.T, dir string, n int, size int64) {
	t.Helper()
	for i := 0; i < n; i++ {
		olWriteFile(t, dir, fmt.Sprintf("f%d", i), size)
	}
	for i := 0; i < n; i += 2 {
		if err := os.Remove(filepath.Join(dir, fmt.Sprintf("f%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Run(t, "btrfs", "filesystem", "sync", dir)
}

func TestBtrfsMinDevSizeSingle(t *testing.T) {
	dev := olMkfs(t, 2<<30, "mkfs.btrfs", "-f", "-q")
	dir := olMount(t, dev, Btrfs)
	checkMinDevSize(t, dir, "empty", 1)
	checkDevices(t, dir)
	fill(t, dir, 10, 32<<20)
	checkMinDevSize(t, dir, "with data", 1)
	checkDevices(t, dir)
	testenv.Run(t, "btrfs", "balance", "start", "--full-balance", dir)
	checkMinDevSize(t, dir, "after balance", 1)
	// Shrinking to exactly the computed minimum must work: it is the
	// smallest size our refusal lets through.
	min, err := btrfsMinDevSize(context.Background(), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := btrfsResizeDevice(context.Background(), dir, 1, min); err != nil {
		t.Fatalf("shrink to min %d: %v", min, err)
	}
	checkMinDevSize(t, dir, "after shrink to min", 1)
	checkDevices(t, dir)
}

func TestBtrfsMultiDevice(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
	dev1, dev2 := testenv.Loop(t, 1<<30), testenv.Loop(t, 1536<<20)
	testenv.Run(t, "mkfs.btrfs", "-f", "-q", "-d", "single", "-m", "raid1", dev1, dev2)
	t.Cleanup(func() { _, _ = testenv.RunErr("btrfs", "device", "scan", "--forget", dev1, dev2) })
	dir := t.TempDir()
	if err := unix.Mount(dev1, dir, "btrfs", 0, "device="+dev2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { olUnmount(t, dir) })
	checkDevices(t, dir)
	// mountinfo names dev1 only; dev2 is mounted all the same, and a check
	// of it is refused.
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{dev1, dev2} {
		info, err := m.Inspect(context.Background(), dev)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Mountpoints) != 1 || info.Mountpoints[0] != dir {
			t.Errorf("Inspect(%s).Mountpoints = %v, want [%s]", dev, info.Mountpoints, dir)
		}
		if _, err := m.Check(context.Background(), dev, CheckOptions{}); !errors.Is(err, ErrMounted) {
			t.Errorf("Check(%s) of a mounted member: %v, want ErrMounted", dev, err)
		}
	}
	checkMinDevSize(t, dir, "empty, two devices", 1, 2)
	fill(t, dir, 12, 32<<20)
	checkMinDevSize(t, dir, "with data, two devices", 1, 2)
	checkDevices(t, dir)
	testenv.Run(t, "btrfs", "balance", "start", "--full-balance", dir)
	checkMinDevSize(t, dir, "after balance, two devices", 1, 2)

	// onlineResize cannot choose a device; btrfsResizeDevice can.
	var re *RefusedError
	if err := onlineResize(context.Background(), dir, Btrfs, 1<<30); !errors.As(err, &re) || re.Code != "btrfs_multi_device" {
		t.Errorf("multi-device onlineResize: %v", err)
	}
	min2, err := btrfsMinDevSize(context.Background(), dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := btrfsResizeDevice(context.Background(), dir, 2, min2); err != nil {
		t.Fatalf("shrink devid 2 to %d: %v", min2, err)
	}
	if err := btrfsResizeDevice(context.Background(), dir, 1, 900<<20); err != nil {
		t.Fatalf("shrink devid 1: %v", err)
	}
	checkDevices(t, dir)
	if err := btrfsResizeDevice(context.Background(), dir, 2, 0); err != nil {
		t.Fatalf("devid 2 to max: %v", err)
	}
	devs, err := btrfsDevices(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Devid == 2 && d.TotalBytes != 1536<<20 || d.Devid == 1 && d.TotalBytes != 900<<20 {
			t.Errorf("devid %d: %d bytes", d.Devid, d.TotalBytes)
		}
	}
}

// minDevSize on made-up layouts, each worked by hand from the tool's rules.
func TestMinDevSizeAlgorithm(t *testing.T) {
	const m = 1 << 20
	for _, c := range []struct {
		name string
		ext  []devExtent
		want uint64
	}{
		{"none", nil, 1 * m},
		{"packed", []devExtent{{1 * m, 9*m - 1}, {9 * m, 17*m - 1}}, 17 * m},
		// 1 + 8 + 8 = 17 MiB, but the second ends at 41 MiB; the 8 MiB hole
		// at [9, 33) takes it (no mirror there): 17 + 8 scratch + 32.
		{"one hole", []devExtent{{1 * m, 9*m - 1}, {33 * m, 41*m - 1}}, 17*m + 8*m + 32*m},
		// The hole [9, 13) is too small for the 8 MiB extent: the minimum is
		// its end; nothing moved, so no scratch.
		{"hole too small", []devExtent{{1 * m, 9*m - 1}, {13 * m, 21*m - 1}}, 21 * m},
		// Sum 77 MiB. The last extent moves to [61, 69) of the hole
		// [61, 100), over the 64 MiB superblock mirror: +8. The next moves
		// to [69, 77): no mirror. Then 8 scratch + 32.
		{"mirror in hole", []devExtent{{1 * m, 61*m - 1}, {100 * m, 108*m - 1}, {300 * m, 308*m - 1}}, 85*m + 8*m + 32*m},
	} {
		if got := minDevSize(c.ext); got != c.want {
			t.Errorf("%s: %d MiB + %d, want %d MiB + %d", c.name, got/m, got%m, c.want/m, c.want%m)
		}
	}
}

// Unmounted and unscanned (no udev ran `btrfs device scan`), a two-device
// btrfs still mounts for the tools that need it mounted: the temporary
// mount finds the other member by its superblock and names it. So its
// minimum size reads, and a resize of one member resizes that member
// (its devid) and no other.
func TestBtrfsMultiDeviceUnmounted(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
	dev1, dev2 := testenv.Loop(t, 1<<30), testenv.Loop(t, 1<<30)
	testenv.Run(t, "mkfs.btrfs", "-f", "-q", "-d", "single", "-m", "raid1", dev1, dev2)
	forget := func() { _, _ = testenv.RunErr("btrfs", "device", "scan", "--forget", dev1, dev2) }
	forget()
	t.Cleanup(forget)
	m, _ := newTestManager(t)
	members, err := m.btrfsMembers(dev1)
	if err != nil || len(members) != 1 || members[0] != dev2 {
		t.Fatalf("members of %s: %v %v, want [%s]", dev1, members, err, dev2)
	}
	min, err := m.MinSize(context.Background(), dev1)
	if err != nil || min <= 0 {
		t.Fatalf("MinSize of an unscanned member: %d %v", min, err)
	}
	forget()
	if _, err := m.Resize(context.Background(), dev1, 900<<20, nil); err != nil {
		t.Fatalf("offline resize of one member of a two-device btrfs: %v", err)
	}
	forget()
	err = m.WithTempMount(context.Background(), dev2, Btrfs, true, func(dir string) error {
		devs, err := btrfsDevices(context.Background(), dir)
		if err != nil {
			return err
		}
		for _, d := range devs {
			want := int64(1 << 30)
			if d.Path == dev1 {
				want = 900 << 20
			}
			if d.TotalBytes != want {
				t.Errorf("devid %d (%s): %d bytes, want %d", d.Devid, d.Path, d.TotalBytes, want)
			}
		}
		if len(devs) != 2 {
			t.Errorf("devices %+v", devs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
