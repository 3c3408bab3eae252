package safety

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"golang.org/x/sys/unix"
)

// fakeDiskRoot builds a root whose sysfs knows a disk 240:0 ("fakedisk",
// diskseq 999, serial FAKE-SERIAL) with a partition 240:1, and whose /dev
// holds the disk's node as a plain file. It returns the root and two real
// block nodes for 240:0 and 240:1 (major 240 is for local use: no driver
// answers it, and the live sysfs does not know it).
func fakeDiskRoot(t *testing.T) (root, disk, part string) {
	t.Helper()
	testenv.RequireRoot(t)
	root = t.TempDir()
	dd := filepath.Join(root, "sys", "devices", "virtual", "block", "fakedisk")
	for name, v := range map[string]string{
		"diskseq":             "999\n",
		"device/serial":       "FAKE-SERIAL\n",
		"fakedisk1/partition": "1\n",
		"dev":                 "240:0\n",
		"fakedisk1/dev":       "240:1\n",
	} {
		p := filepath.Join(dd, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := filepath.Join(root, "sys", "dev", "block")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	for mm, target := range map[string]string{"240:0": dd, "240:1": filepath.Join(dd, "fakedisk1")} {
		if err := os.Symlink(target, filepath.Join(links, mm)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "dev", "fakedisk"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := t.TempDir()
	disk, part = filepath.Join(nodes, "disk"), filepath.Join(nodes, "part")
	for p, minor := range map[string]uint32{disk: 0, part: 1} {
		if err := unix.Mknod(p, unix.S_IFBLK|0o600, int(unix.Mkdev(240, minor))); err != nil {
			t.Fatal(err)
		}
	}
	return root, disk, part
}

// IdentityOf and LockDevice take the root seam (DESIGN.md principle 1);
// they used to read the live /sys and /dev whatever the caller's root.
func TestIdentityAndLockUseTheRoot(t *testing.T) {
	ctx := context.Background()
	root, _, part := fakeDiskRoot(t)
	id, err := IdentityOf(ctx, part, WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if id.Major != 240 || id.Minor != 1 || id.DiskSeq != 999 || id.Serial != "FAKE-SERIAL" {
		t.Fatalf("identity %+v", id)
	}
	// The live sysfs has no 240:1: the identity is incomplete, an error.
	if id, err := IdentityOf(ctx, part); err == nil || id.Major != 240 {
		t.Fatalf("live identity of an unknown device: %+v %v", id, err)
	}
	if _, err := IdentityOf(ctx, part, WithRoot("/nonexistent-root")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad root: %v", err)
	}

	l, err := LockDevice(ctx, part, false, WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if want := filepath.Join(root, "dev", "fakedisk"); l.Whole != want {
		t.Fatalf("whole disk %s, want %s", l.Whole, want)
	}
	// The flock is really on the root's disk node.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := LockDevice(short, part, false, WithRoot(root)); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock: %v", err)
	}
}

// An identity attribute that exists but cannot be read leaves the identity
// without a strong key: an error, never a quietly weaker identity.
func TestIdentityUnreadableAttributeIsError(t *testing.T) {
	root, disk, _ := fakeDiskRoot(t)
	seq := filepath.Join(root, "sys", "devices", "virtual", "block", "fakedisk", "diskseq")
	if err := os.Remove(seq); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(seq, 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := IdentityOf(context.Background(), disk, WithRoot(root))
	if err == nil || id.Major != 240 || id.Serial != "FAKE-SERIAL" {
		t.Fatalf("identity %+v, err %v", id, err)
	}
}

// Recovery identifies and locks through the journal's root (WithSysRoot):
// the same disk is rolled back, a different one (new diskseq) refused.
func TestRecoverThroughSysRoot(t *testing.T) {
	ctx := context.Background()
	root, _, part := fakeDiskRoot(t)
	img, _, old := target(t, 32768)
	open := func(path string, flag int) (Device, error) { return openDevice(img, flag) }
	dir := t.TempDir()
	opts := []Option{WithStateDir(dir), WithSysRoot(root), WithDeviceOpener(open)}

	interrupt := func() string {
		t.Helper()
		j, err := OpenJournal(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		id, err := IdentityOf(ctx, part, WithRoot(root))
		if err != nil {
			t.Fatal(err)
		}
		m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges})
		if err != nil {
			t.Fatal(err)
		}
		if err := applyRange(img, testRanges[0]); err != nil {
			t.Fatal(err)
		}
		return m.ID() // no outcome: a crash
	}
	recoverAll := func() []Recovered {
		t.Helper()
		j, err := OpenJournal(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		rs, err := j.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}

	interrupt()
	rs := recoverAll()
	if len(rs) != 1 || rs[0].Outcome != OutcomeRolledBack {
		t.Fatalf("recovered %+v", rs)
	}
	if got := mustRead(t, img); string(got) != string(old) {
		t.Fatal("target not restored")
	}

	interrupt()
	seq := filepath.Join(root, "sys", "devices", "virtual", "block", "fakedisk", "diskseq")
	if err := os.WriteFile(seq, []byte("1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs = recoverAll()
	if len(rs) != 1 || rs[0].Outcome != "" || !errors.Is(rs[0].Err, ErrIdentityMismatch) {
		t.Fatalf("recovered %+v", rs)
	}
	if got := mustRead(t, img); string(got) == string(old) {
		t.Fatal("a different disk was written by recovery")
	}
}
