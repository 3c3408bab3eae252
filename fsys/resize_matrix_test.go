package fsys

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// newTestManager is a Manager with a journal in a temporary state directory.
func newTestManager(t *testing.T, opts ...Option) (*Manager, *safety.Journal) {
	t.Helper()
	j, err := safety.OpenJournal(context.Background(), append(RollForward(), safety.WithStateDir(t.TempDir()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	m, err := New(append([]Option{WithJournal(j)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, j
}

// deviceHash hashes the first n bytes of dev: a refused resize must leave
// them exactly as they were.
func deviceHash(t *testing.T, dev string, n int64) [32]byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, n)); err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

type resizeStep struct {
	size    int64
	mounted bool
	refuse  string // the RefusedError code expected, "" for a resize that must work
}

// toolCheck runs the type's own checker on the unmounted device and fails
// the test unless it is clean.
func toolCheck(t *testing.T, typ Type, dev, when string) {
	t.Helper()
	var out []byte
	var err error
	switch {
	case typ.IsExt():
		out, err = testenv.RunErr("e2fsck", "-fn", dev)
	case typ == XFS:
		out, err = testenv.RunErr("xfs_repair", "-n", dev)
	case typ == Btrfs:
		out, err = testenv.RunErr("btrfs", "check", "--readonly", dev)
	default:
		return
	}
	if err != nil {
		t.Fatalf("%s: %s's check is not clean: %v\n%s", when, typ, err, out)
	}
}

func TestResizeMatrix(t *testing.T) {
	testenv.RequireRoot(t)
	const M = 1 << 20
	cases := []struct {
		typ   Type
		mkfs  []string
		tools []string
		steps []resizeStep
	}{
		{Ext4, []string{"mkfs.ext4", "-q", "-F", "DEV", "300M"}, []string{"mkfs.ext4", "e2fsck", "resize2fs"}, []resizeStep{
			{size: 400 * M},
			{size: 200 * M},
			{size: 350 * M},
			{size: 160 * M},
			{size: 150 * M, mounted: true, refuse: "online_shrink_not_supported"},
			{size: 4 * M, refuse: "below_min_size"},
			{size: 2000 * M, refuse: "exceeds_device"},
		}},
		{XFS, []string{"mkfs.xfs", "-q", "-f", "-d", "size=300m", "DEV"}, []string{"mkfs.xfs", "xfs_repair"}, []resizeStep{
			{size: 400 * M},
			{size: 500 * M, mounted: true},
			{size: 600 * M, mounted: true},
			{size: 450 * M, mounted: true, refuse: "shrink_not_supported"},
			{size: 450 * M, refuse: "shrink_not_supported"},
			{size: 700 * M},
		}},
		{Btrfs, []string{"mkfs.btrfs", "-q", "-f", "-b", "300M", "DEV"}, []string{"mkfs.btrfs", "btrfs"}, []resizeStep{
			{size: 400 * M, mounted: true},
			{size: 280 * M, mounted: true},
			{size: 350 * M},
			{size: 260 * M},
			{size: 500 * M, mounted: true},
			{size: 250 * M, mounted: true, refuse: "below_min_size"},
			{size: 8 * M, refuse: "below_min_size"},
		}},
		{VFAT, []string{"mkfs.fat", "DEV", "307200"}, []string{"mkfs.fat"}, []resizeStep{
			{size: 400 * M, refuse: "grow_not_supported"},
			{size: 200 * M, refuse: "shrink_not_supported"},
		}},
		{Swap, []string{"mkswap", "DEV", "307200"}, []string{"mkswap"}, []resizeStep{
			{size: 400 * M, refuse: "not_resizable"},
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.typ), func(t *testing.T) {
			testenv.RequireTool(t, tc.tools...)
			dev := testenv.Loop(t, 1<<30)
			args := append([]string(nil), tc.mkfs[1:]...)
			for i, a := range args {
				if a == "DEV" {
					args[i] = dev
				}
			}
			testenv.Run(t, tc.mkfs[0], args...)
			m, _ := newTestManager(t)
			ctx := context.Background()
			var data dataSet
			if tc.typ != Swap && tc.typ != VFAT { // the host kernel has no vfat driver
				dir, umount := mountAt(t, dev)
				data = writeData(t, dir, 12, 3*M+12345, 7)
				umount()
			}
			for i, s := range tc.steps {
				var umount func()
				var dir string
				if s.mounted {
					dir, umount = mountAt(t, dev)
				}
				before, err := m.Inspect(ctx, dev)
				if err != nil {
					t.Fatal(err)
				}
				var hash [32]byte
				if s.refuse != "" && !s.mounted {
					hash = deviceHash(t, dev, before.SizeBytes)
				}
				t.Logf("step %d mounted %v: inspect says %v", i, s.mounted, before.Mountpoints)
				_, err = m.Resize(ctx, dev, s.size, nil)
				when := strings.Join([]string{string(tc.typ), "step", string(rune('0' + i))}, " ")
				if s.refuse != "" {
					var re *RefusedError
					if !errors.As(err, &re) || re.Code != s.refuse {
						t.Fatalf("%s: resize to %d: %v, want refused %s", when, s.size, err, s.refuse)
					}
					after, err := m.Inspect(ctx, dev)
					if err != nil {
						t.Fatal(err)
					}
					if after.SizeBytes != before.SizeBytes || after.UUID != before.UUID {
						t.Fatalf("%s: a refused resize changed the filesystem: %d -> %d", when, before.SizeBytes, after.SizeBytes)
					}
					if !s.mounted && deviceHash(t, dev, before.SizeBytes) != hash {
						t.Fatalf("%s: a refused resize wrote to the device", when)
					}
				} else if err != nil {
					t.Fatalf("%s: resize %d -> %d: %v", when, before.SizeBytes, s.size, err)
				}
				if s.mounted {
					data.verify(t, dir, when)
					umount()
				}
				if tc.typ == Swap || tc.typ == VFAT {
					continue
				}
				after, err := m.Inspect(ctx, dev)
				if err != nil {
					t.Fatal(err)
				}
				if s.refuse == "" && after.SizeBytes != s.size/after.BlockSize*after.BlockSize {
					t.Errorf("%s: size %d after resizing to %d", when, after.SizeBytes, s.size)
				}
				toolCheck(t, tc.typ, dev, when)
				dir, umount = mountAt(t, dev)
				data.verify(t, dir, when)
				umount()
			}
		})
	}
}

// On this machine the kernel refuses ext4 online grow for want of
// CAP_SYS_RESOURCE (TESTBED.md): the refusal comes back typed, naming it,
// and the filesystem is as it was. With the capability (the VM tier) the
// grow works.
func TestResizeExt4OnlineGrowPermission(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck")
	dev := testenv.Loop(t, 512<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev, "200M")
	m, j := newTestManager(t)
	dir, umount := mountAt(t, dev)
	defer umount()
	data := writeData(t, dir, 4, 1<<20, 3)
	_, err := m.Resize(context.Background(), dev, 300<<20, nil)
	if hasCapSysResource(t) {
		if err != nil {
			t.Fatalf("online grow with CAP_SYS_RESOURCE: %v", err)
		}
		return
	}
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Capability != "CAP_SYS_RESOURCE" || pe.Have || !errors.Is(err, ErrPermission) {
		t.Fatalf("online grow without CAP_SYS_RESOURCE: %v, want a *PermissionError naming it", err)
	}
	data.verify(t, dir, "after the refused grow")
	info, err := m.Inspect(context.Background(), dev)
	if err != nil || info.SizeBytes != 200<<20 {
		t.Fatalf("after the refused grow: %v, %+v", err, info)
	}
	// The journal says it ended with nothing changed.
	es := j.Entries()
	if len(es) == 0 || es[len(es)-1].Outcome.State() != "old" {
		t.Fatalf("journal: %+v", es)
	}
}

func hasCapSysResource(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var x uint64
			for _, c := range strings.TrimSpace(v) {
				x = x<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
			}
			return x&(1<<24) != 0
		}
	}
	return false
}

// A resize to a size that is not a whole number of block groups ends a
// little short of it (resize2fs drops the short last group); that is a
// resize done, journaled with the size reached, not a failure.
func TestResizeToPartialGroup(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "resize2fs")
	dev := testenv.Loop(t, 512<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", "-b", "1024", dev, "300M")
	m, j := newTestManager(t)
	ctx := context.Background()
	asked := int64(131093) << 10
	if _, err := m.Resize(ctx, dev, asked, nil); err != nil {
		t.Fatalf("shrink to %d: %v", asked, err)
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if info.SizeBytes > asked || asked-info.SizeBytes > 256<<20 {
		t.Fatalf("size %d after asking %d", info.SizeBytes, asked)
	}
	es := j.Entries()
	if last := es[len(es)-1]; last.Outcome != safety.OutcomeDone || last.LastStep() != "verified" {
		t.Fatalf("journal: %+v", last)
	}
	toolCheck(t, Ext4, dev, "after the partial-group shrink")
}
