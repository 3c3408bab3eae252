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

// maj:min and diskseq are per boot. Recovery after a power loss must find
// the same disk by its serial or WWN although both changed (it used to
// refuse every real disk after a reboot), and must refuse a target that
// only per-boot keys named (a loop device) once the machine rebooted.
func TestIdentityAcrossReboot(t *testing.T) {
	disk := Identity{Path: "/dev/nvme0n1", Major: 259, Minor: 0, DiskSeq: 5, Serial: "S1", BootID: "boot-a"}
	after := Identity{Path: "/dev/nvme0n1", Major: 259, Minor: 3, DiskSeq: 9, Serial: "S1", BootID: "boot-b"}
	if err := disk.Mismatch(after); err != nil {
		t.Fatalf("same disk after a reboot: %v", err)
	}
	other := after
	other.Serial = "S2"
	if err := disk.Mismatch(other); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("another disk after a reboot: %v", err)
	}
	// Within one boot a new diskseq is a new disk, whatever the serial says.
	same := after
	same.BootID = "boot-a"
	if err := disk.Mismatch(same); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("new diskseq in the same boot: %v", err)
	}
	wwn := Identity{Path: "/dev/sda", Major: 8, DiskSeq: 1, WWN: "naa.5000", BootID: "boot-a"}
	if err := wwn.Mismatch(Identity{Path: "/dev/sda", Major: 8, Minor: 16, DiskSeq: 4, WWN: "NAA.5000", BootID: "boot-b"}); err != nil {
		t.Fatalf("same WWN after a reboot: %v", err)
	}
	loop := Identity{Path: "/dev/loop0", Major: 7, DiskSeq: 12, BootID: "boot-a"}
	if err := loop.Mismatch(Identity{Path: "/dev/loop0", Major: 7, DiskSeq: 3, BootID: "boot-b"}); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("loop device after a reboot: %v", err)
	}
	// Identities without a boot id compare as before.
	if err := (Identity{Major: 7, DiskSeq: 12}).Mismatch(Identity{Major: 7, DiskSeq: 12}); err != nil {
		t.Fatal(err)
	}
}

// IdentityOf records the boot id of the root it reads.
func TestIdentityRecordsBootID(t *testing.T) {
	ctx := context.Background()
	want, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	path, _, _ := target(t, 4096)
	id, err := IdentityOf(ctx, path)
	if err != nil || id.BootID == "" || id.BootID+"\n" != string(want) {
		t.Fatalf("boot id %q, want %q (%v)", id.BootID, want, err)
	}
	root := t.TempDir()
	p := filepath.Join(root, "proc", "sys", "kernel", "random", "boot_id")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("fake-boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, err := IdentityOf(ctx, path, WithRoot(root)); err != nil || id.BootID != "fake-boot" {
		t.Fatalf("fake root boot id %q %v", id.BootID, err)
	}
}

// A journaled mutation of a disk with a serial, interrupted by a power
// loss, is recovered after the reboot: new boot id, new diskseq and minor.
func TestRecoverAfterReboot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img, _, old := target(t, 32768)
	open := func(string, int) (Device, error) { return openDevice(img, os.O_RDWR) }
	before := Identity{Path: "/dev/sdq", Major: 65, Minor: 0, DiskSeq: 7, Serial: "WD-1", BootID: "boot-a"}
	j, err := OpenJournal(ctx, WithStateDir(dir), WithDeviceOpener(open))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(ctx, Intent{Op: "test.write", Target: before, Ranges: testRanges}); err != nil {
		t.Fatal(err)
	}
	if err := applyRange(img, testRanges[1]); err != nil {
		t.Fatal(err)
	}
	j.Close()
	after := func(serial string) Identifier {
		return func(context.Context, string) (Identity, error) {
			return Identity{Path: "/dev/sdq", Major: 65, Minor: 16, DiskSeq: 2, Serial: serial, BootID: "boot-b"}, nil
		}
	}
	// Another disk has the name now: refused, nothing written.
	j2, err := OpenJournal(ctx, WithStateDir(dir), WithDeviceOpener(open), WithIdentifier(after("WD-2")))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := j2.Recover(ctx)
	j2.Close()
	if err != nil || len(rs) != 1 || !errors.Is(rs[0].Err, ErrIdentityMismatch) {
		t.Fatalf("%+v %v", rs, err)
	}
	// The same disk: rolled back.
	j3, err := OpenJournal(ctx, WithStateDir(dir), WithDeviceOpener(open), WithIdentifier(after("WD-1")))
	if err != nil {
		t.Fatal(err)
	}
	defer j3.Close()
	rs, err = j3.Recover(ctx)
	if err != nil || len(rs) != 1 || rs[0].Outcome != OutcomeRolledBack {
		t.Fatalf("%+v %v", rs, err)
	}
	if got := mustRead(t, img); string(got) != string(old) {
		t.Fatal("not restored")
	}
}
