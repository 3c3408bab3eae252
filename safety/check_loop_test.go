package safety

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const loopSize = 64 << 20

func check(t *testing.T, dev string, op Op, opts ...CheckOption) *Report {
	t.Helper()
	r, err := Check(context.Background(), dev, op, opts...)
	if err != nil {
		t.Fatalf("Check %s: %v", dev, err)
	}
	t.Logf("%s", r)
	return r
}

func wantCodes(t *testing.T, r *Report, must ...Code) {
	t.Helper()
	if r.Allowed {
		t.Fatalf("allowed, want refusal with %v", must)
	}
	for _, c := range must {
		if !r.Has(c) {
			t.Fatalf("codes %v lack %s", r.Codes(), c)
		}
	}
}

func evidence(r *Report, c Code) string {
	for _, x := range r.Reasons {
		if x.Code == c {
			return strings.Join(x.Evidence, "\n")
		}
	}
	return ""
}

func TestCheckLoopClean(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	for _, op := range []Op{OpFormat, OpPartition, OpResize, OpWipe} {
		r := check(t, dev, op)
		if !r.Allowed || len(r.Reasons) != 0 {
			t.Fatalf("%s on a zeroed device refused: %s", op, r)
		}
	}
	// blkid agrees there is nothing.
	if out, err := testenv.RunErr("blkid", "-p", "-o", "export", dev); err == nil && len(out) > 0 {
		t.Fatalf("blkid finds %q on the clean device", out)
	}
}

func TestCheckLoopMountedFilesystem(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mount")
	mnt := t.TempDir() // before Loop, so its removal runs after the unmount
	dev := testenv.Loop(t, loopSize)
	testenv.Run(t, "mkfs.ext4", "-q", dev)
	testenv.Run(t, "mount", dev, mnt)
	r := check(t, dev, OpFormat)
	wantCodes(t, r, CodeMounted, CodeInUse, CodeNotEmpty)
	if !strings.Contains(evidence(r, CodeMounted), mnt) {
		t.Fatalf("mounted evidence %q lacks %s", evidence(r, CodeMounted), mnt)
	}
	// Resize refuses it as mounted, but the filesystem is a note, not a refusal.
	r = check(t, dev, OpResize)
	if r.Has(CodeNotEmpty) || !r.Has(CodeMounted) {
		t.Fatalf("resize codes %v", r.Codes())
	}
	// LockDevice refuses the exclusive open.
	if _, err := LockDevice(context.Background(), dev, true); !errors.Is(err, ErrBusy) {
		t.Fatalf("LockDevice on a mounted device: %v", err)
	}
}

// partitioned writes a GPT with two partitions and tells the kernel about
// them (this kernel parses no tables: partx -a adds them with BLKPG).
func partitioned(t *testing.T, dev string) (string, string) {
	t.Helper()
	testenv.RequireTool(t, "sfdisk", "partx")
	cmd := exec.Command(mustTool(t, "sfdisk"), "-q", dev)
	cmd.Stdin = strings.NewReader("label: gpt\nsize=20MiB\nsize=20MiB\n")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v: %s", err, out)
	}
	testenv.Run(t, "partx", "-a", dev)
	return dev + "p1", dev + "p2"
}

func mustTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.RequireTool(t, name)[0]
}

func TestCheckLoopMountedPartition(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mount")
	mnt := t.TempDir()
	dev := testenv.Loop(t, loopSize)
	p1, p2 := partitioned(t, dev)
	testenv.Run(t, "mkfs.ext4", "-q", p1)
	testenv.Run(t, "mount", p1, mnt)
	r := check(t, dev, OpPartition)
	wantCodes(t, r, CodeMounted, CodeNotEmpty)
	if ev := evidence(r, CodeMounted); !strings.Contains(ev, p1) {
		t.Fatalf("mounted evidence %q does not name %s", ev, p1)
	}
	// lsblk, the oracle for mounts, sees exactly the mounts we report.
	if got, want := lsblkMounts(t, dev), factMounts(r.Facts); !slices.Equal(got, want) {
		t.Fatalf("lsblk mounts %v, preflight %v", got, want)
	}
	// The other partition is not mounted, but it is not empty either (it is
	// a fresh partition: allowed to format).
	r = check(t, p2, OpFormat)
	if !r.Allowed {
		t.Fatalf("unmounted empty partition refused: %s", r)
	}
	// Locking a partition flocks its whole disk.
	l, err := LockDevice(context.Background(), p2, true)
	if err != nil {
		t.Fatal(err)
	}
	if l.Whole != dev {
		t.Fatalf("whole disk of %s is %s, want %s", p2, l.Whole, dev)
	}
	l.Close()
}

func TestCheckLoopSwap(t *testing.T) {
	testenv.RequireTool(t, "mkswap", "swapon")
	dev := testenv.Loop(t, loopSize)
	testenv.Run(t, "mkswap", dev)
	testenv.Run(t, "swapon", dev)
	r := check(t, dev, OpWipe)
	wantCodes(t, r, CodeSwapActive, CodeInUse)
	if got := lsblkMounts(t, dev); !slices.Equal(got, []string{dev + " [SWAP]"}) || !slices.Equal(r.Facts.Swap, []string{dev}) {
		t.Fatalf("lsblk %v, preflight swap %v", got, r.Facts.Swap)
	}
}

func TestCheckLoopLVMPhysicalVolume(t *testing.T) {
	testenv.RequireTool(t, "pvcreate")
	dev := testenv.Loop(t, loopSize)
	testenv.Run(t, "pvcreate", "-q", "--config", "devices/use_devicesfile=0", dev)
	r := check(t, dev, OpFormat)
	wantCodes(t, r, CodeLVMMember, CodeNotEmpty)
	r = check(t, dev, OpWipe)
	wantCodes(t, r, CodeLVMMember)
}

// A PV on a partition makes its disk an LVM member too: the partitions are
// probed as well as the disk.
func TestCheckLoopLVMOnPartition(t *testing.T) {
	testenv.RequireTool(t, "pvcreate")
	dev := testenv.Loop(t, loopSize)
	p1, _ := partitioned(t, dev)
	testenv.Run(t, "pvcreate", "-q", "--config", "devices/use_devicesfile=0", p1)
	r := check(t, dev, OpWipe)
	wantCodes(t, r, CodeLVMMember)
	if !strings.Contains(evidence(r, CodeLVMMember), "partition "+p1) {
		t.Fatalf("evidence %q", evidence(r, CodeLVMMember))
	}
}

// An md superblock on a partition makes its disk an md member, as an LVM
// label there makes it an LVM member. The partitions' own scans used to be
// dropped, so a wipe of the disk was allowed.
func TestCheckLoopMDOnPartition(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	p1, _ := partitioned(t, dev)
	f, err := os.OpenFile(p1, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The md 1.2 superblock magic, 4 KiB into the member.
	if _, err := f.WriteAt([]byte{0xfc, 0x4e, 0x2b, 0xa9}, 4096); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r := check(t, dev, OpWipe)
	wantCodes(t, r, CodeMDMember)
	if !strings.Contains(evidence(r, CodeMDMember), "partition "+p1) {
		t.Fatalf("evidence %q", evidence(r, CodeMDMember))
	}
}

func TestCheckLoopHeldExclusive(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), holdChildEnv+"="+dev)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "held" {
		t.Fatalf("child: %q", line)
	}
	r := check(t, dev, OpFormat)
	if !slices.Equal(r.Codes(), []Code{CodeInUse}) {
		t.Fatalf("codes %v, want only in_use", r.Codes())
	}
}

func TestCheckLoopOnlyPartitionTable(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	for _, label := range []string{"gpt", "dos"} {
		t.Run(label, func(t *testing.T) { // one loop device at a time
			dev := testenv.Loop(t, loopSize)
			cmd := exec.Command(mustTool(t, "sfdisk"), "-q", dev)
			cmd.Stdin = strings.NewReader("label: " + label + "\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v: %s", err, out)
			}
			r := check(t, dev, OpFormat)
			if !slices.Equal(r.Codes(), []Code{CodeNotEmpty}) || !strings.Contains(evidence(r, CodeNotEmpty), "partition table "+label) {
				t.Fatalf("%v %q", r.Codes(), evidence(r, CodeNotEmpty))
			}
		})
	}
}

// TestCheckLoopBackupLocationOnly wipes the start of a GPT disk: only the
// backup header at the end is left. blkid -p reports nothing (it looks for
// a backup GPT only behind a valid protective MBR); preflight still refuses.
// Where we differ from blkid we are right on purpose: a table that
// `sgdisk -e` or `gdisk` would recover from its backup is not "empty".
func TestCheckLoopBackupLocationOnly(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	dev := testenv.Loop(t, loopSize)
	cmd := exec.Command(mustTool(t, "sfdisk"), "-q", dev)
	cmd.Stdin = strings.NewReader("label: gpt\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v: %s", err, out)
	}
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 1<<20), 0); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()
	out, _ := testenv.RunErr("blkid", "-p", "-o", "export", dev)
	r := check(t, dev, OpFormat)
	if !slices.Equal(r.Codes(), []Code{CodeNotEmpty}) || !strings.Contains(evidence(r, CodeNotEmpty), "GPT backup header") {
		t.Fatalf("%v %q", r.Codes(), evidence(r, CodeNotEmpty))
	}
	t.Logf("blkid -p on the same device: %q (empty means blkid misses the backup)", out)
}

// TestCheckLoopUnreadable builds a really unreadable block device: a loop
// device backed by a file on a squashfs whose compressed blocks are
// corrupt, so every read of it fails with EIO.
func TestCheckLoopUnreadable(t *testing.T) {
	testenv.RequireTool(t, "mksquashfs", "mount")
	src := t.TempDir()
	mnt := t.TempDir()
	payload := strings.Repeat("eos-storage unreadable test\n", 1<<17)
	if err := os.WriteFile(filepath.Join(src, "disk.img"), []byte(payload), 0o600); err != nil {
		t.Fatal(err)
	}
	sq := filepath.Join(t.TempDir(), "fs.sqsh")
	testenv.Run(t, "mksquashfs", src, sq, "-quiet", "-noappend", "-comp", "gzip")
	img, err := os.ReadFile(sq)
	if err != nil {
		t.Fatal(err)
	}
	for i := 200; i < len(img)-200 && i < 3000; i++ {
		img[i] ^= 0x5a
	}
	if err := os.WriteFile(sq, img, 0o600); err != nil {
		t.Fatal(err)
	}
	outer := testenv.LoopFile(t, sq)
	testenv.Run(t, "mount", "-t", "squashfs", "-o", "ro", outer, mnt)
	inner := testenv.LoopFile(t, filepath.Join(mnt, "disk.img"))
	r := check(t, inner, OpFormat)
	wantCodes(t, r, CodeUnreadable)
	if r.Has(CodeNotEmpty) {
		t.Logf("also not_empty: %s", evidence(r, CodeNotEmpty))
	}
	// The same through an injected reader, for machines without squashfs.
	dev := testenv.Loop(t, loopSize)
	r = check(t, dev, OpFormat, WithReader(func(string, int) (Device, error) { return failingDevice{}, nil }))
	if !slices.Equal(r.Codes(), []Code{CodeUnreadable}) {
		t.Fatalf("injected EIO: %v", r.Codes())
	}
}

type failingDevice struct{}

func (failingDevice) ReadAt([]byte, int64) (int, error)  { return 0, errEIO }
func (failingDevice) WriteAt([]byte, int64) (int, error) { return 0, errEIO }
func (failingDevice) Close() error                       { return nil }
func (failingDevice) Sync() error                        { return nil }

var errEIO = errors.New("input/output error (injected)")

func TestCheckLoopJournalLockdownAndOverride(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Loop(t, loopSize)
	dir := t.TempDir()
	j := openJ(t, dir)
	id, err := IdentityOf(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.LockDown(ctx, id, "operator distrusts this disk"); err != nil {
		t.Fatal(err)
	}
	r := check(t, dev, OpFormat, WithJournal(j))
	if !slices.Equal(r.Codes(), []Code{CodeLockedDown}) {
		t.Fatalf("%v", r.Codes())
	}
	if err := j.Clear(ctx, id, "disk replaced"); err != nil {
		t.Fatal(err)
	}
	// A table, overridden by name: allowed, and the override is journaled.
	cmd := exec.Command(mustTool(t, "sfdisk"), "-q", dev)
	cmd.Stdin = strings.NewReader("label: gpt\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v: %s", err, out)
	}
	r = check(t, dev, OpPartition, WithJournal(j), WithOverride(CodeNotEmpty, "replace the empty table", "test"))
	if !r.Allowed {
		t.Fatalf("override not applied: %s", r)
	}
	j.Close()
	data := mustRead(t, filepath.Join(dir, JournalFile))
	if !strings.Contains(string(data), "replace the empty table") {
		t.Fatal("override not journaled")
	}
}

func TestLockDeviceFlockConflict(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	l, err := LockDevice(context.Background(), dev, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// A second claimer (a separate open file description, as another
	// process would have) waits for the flock until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := LockDevice(ctx, dev, false); !errors.Is(err, ErrBusy) {
		t.Fatalf("second LockDevice: %v, want ErrBusy", err)
	}
	l.Close()
	l2, err := LockDevice(context.Background(), dev, true)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Close()
}

// hangingDevice blocks every read until release is closed, as a device
// whose I/O never completes.
type hangingDevice struct{ release chan struct{} }

func (h hangingDevice) ReadAt([]byte, int64) (int, error) {
	<-h.release
	return 0, errEIO
}
func (hangingDevice) WriteAt([]byte, int64) (int, error) { return 0, errEIO }
func (hangingDevice) Close() error                       { return nil }
func (hangingDevice) Sync() error                        { return nil }

func TestCheckHungDeviceIsUnreadable(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	release := make(chan struct{})
	r := check(t, dev, OpFormat, WithProbeTimeout(100*time.Millisecond),
		WithReader(func(string, int) (Device, error) { return hangingDevice{release}, nil }))
	close(release) // let the abandoned probe goroutine finish before goleak looks
	if !slices.Equal(r.Codes(), []Code{CodeUnreadable}) || !strings.Contains(evidence(r, CodeUnreadable), "did not answer") {
		t.Fatalf("%v %q", r.Codes(), evidence(r, CodeUnreadable))
	}
	// A cancelled caller gets its context error, not a report.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Check(ctx, dev, OpFormat); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Check: %v", err)
	}
}

// lsblkMounts lists "PATH MOUNTPOINT" for dev and everything on it, as lsblk sees it.
func lsblkMounts(t *testing.T, dev string) []string {
	t.Helper()
	out := testenv.Run(t, "lsblk", "-J", "-o", "PATH,MOUNTPOINTS", dev)
	type node struct {
		Path        string    `json:"path"`
		MountPoints []*string `json:"mountpoints"`
		Children    []node    `json:"children"`
	}
	var doc struct {
		BlockDevices []node `json:"blockdevices"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("lsblk json: %v", err)
	}
	var got []string
	var walk func(n node)
	walk = func(n node) {
		for _, m := range n.MountPoints {
			if m != nil {
				got = append(got, n.Path+" "+*m)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, n := range doc.BlockDevices {
		walk(n)
	}
	slices.Sort(got)
	return got
}

func factMounts(f *Facts) []string {
	var out []string
	for _, m := range f.Mounts {
		out = append(out, m.Device+" "+m.MountPoint)
	}
	for _, s := range f.Swap {
		out = append(out, s+" [SWAP]")
	}
	slices.Sort(out)
	return out
}

func TestCheckLoopPendingRecovery(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Loop(t, loopSize)
	dir := t.TempDir()
	id, err := IdentityOf(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	j := openJ(t, dir)
	if _, err := j.Begin(ctx, Intent{Op: "partition.write", Target: id, Ranges: testRanges}); err != nil {
		t.Fatal(err)
	}
	j.Close() // a crash: the mutation stays interrupted
	j = openJ(t, dir)
	r := check(t, dev, OpPartition, WithJournal(j))
	if !slices.Equal(r.Codes(), []Code{CodePendingRecovery}) {
		t.Fatalf("%v", r.Codes())
	}
	// A snapshot sees the same while the journal is held open.
	s, err := ReadJournal(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := check(t, dev, OpPartition, WithSnapshot(s)); !slices.Equal(r.Codes(), []Code{CodePendingRecovery}) {
		t.Fatalf("snapshot: %v", r.Codes())
	}
	if _, err := j.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if r := check(t, dev, OpPartition, WithJournal(j)); !r.Allowed {
		t.Fatalf("after recovery: %s", r)
	}
}
