package fsys

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestCheckCmd(t *testing.T) {
	cases := []struct {
		t        Type
		mode     CheckMode
		override bool
		want     string
	}{
		{Ext4, CheckReadOnly, false, "e2fsck -f -n -C 3 /dev/x"},
		{Ext3, CheckPreen, false, "e2fsck -f -p -C 3 /dev/x"},
		{Ext2, CheckRepair, true, "e2fsck -f -y -C 3 /dev/x"},
		{XFS, CheckReadOnly, true, "xfs_repair -n /dev/x"},
		{XFS, CheckRepair, false, "xfs_repair -e /dev/x"},
		{XFS, CheckRepair, true, "xfs_repair -e -L /dev/x"},
		{Btrfs, CheckReadOnly, false, "btrfs check --readonly /dev/x"},
		{Btrfs, CheckRepair, true, "btrfs check --repair --force /dev/x"},
		{VFAT, CheckReadOnly, false, "fsck.fat -n /dev/x"},
		{VFAT, CheckPreen, false, "fsck.fat -a /dev/x"},
		{VFAT, CheckRepair, false, "fsck.fat -a /dev/x"},
	}
	for _, c := range cases {
		cmd, err := checkCmd("/dev/x", c.t, c.mode, c.override)
		if err != nil || cmd.String() != c.want {
			t.Errorf("checkCmd(%s, %v, %v) = %q, %v; want %q", c.t, c.mode, c.override, cmd.String(), err, c.want)
		}
	}
	var re *RefusedError
	if _, err := checkCmd("/dev/x", Btrfs, CheckRepair, false); !errors.As(err, &re) || re.Code != "repair_needs_override" {
		t.Errorf("btrfs repair without override: %v", err)
	}
	for _, c := range []struct {
		t    Type
		mode CheckMode
	}{{XFS, CheckPreen}, {Btrfs, CheckPreen}, {Swap, CheckReadOnly}} {
		if _, err := checkCmd("/dev/x", c.t, c.mode, false); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s %v: %v, want ErrNotSupported", c.t, c.mode, err)
		}
	}
	if _, err := checkCmd("/dev/x", Ext4, CheckMode(7), false); !errors.Is(err, ErrInvalid) {
		t.Errorf("mode 7: %v", err)
	}
}

func TestParseE2fsckProgress(t *testing.T) {
	cases := []struct {
		line string
		want CheckProgress
		ok   bool
	}{
		{"1 0 4 /dev/loop3", CheckProgress{Pass: 1, Current: 0, Max: 4}, true},
		{"1 2 4 /dev/loop3", CheckProgress{Pass: 1, Current: 2, Max: 4, Percent: 35}, true},
		{"3 1 1 /dev/loop3", CheckProgress{Pass: 3, Current: 1, Max: 1, Percent: 92}, true},
		{"5 8 8 disk.img", CheckProgress{Pass: 5, Current: 8, Max: 8, Percent: 100}, true},
		{"6 0 1 x", CheckProgress{}, false},
		{"1 5 4 x", CheckProgress{}, false},
		{"Pass 1: Checking inodes", CheckProgress{}, false},
		{"1 2", CheckProgress{}, false},
		{"", CheckProgress{}, false},
	}
	for _, c := range cases {
		got, ok := parseE2fsckProgress(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseE2fsckProgress(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestParsePhases(t *testing.T) {
	if p, ok := parseXFSRepairPhase("Phase 3 - for each AG..."); !ok || p.Pass != 3 || p.Max != 7 {
		t.Errorf("xfs phase 3: %+v %v", p, ok)
	}
	for _, l := range []string{"Phase 8 - x", "Phase x", "        - agno = 0", "Phase"} {
		if _, ok := parseXFSRepairPhase(l); ok {
			t.Errorf("xfs %q parsed", l)
		}
	}
	if p, ok := parseBtrfsCheckStep("[2/7] checking extents"); !ok || p.Pass != 2 || p.Max != 7 {
		t.Errorf("btrfs [2/7]: %+v %v", p, ok)
	}
	for _, l := range []string{"[8/7] x", "[0/7] x", "[a/7]", "[1/7", "no error found"} {
		if _, ok := parseBtrfsCheckStep(l); ok {
			t.Errorf("btrfs %q parsed", l)
		}
	}
}

func FuzzParseE2fsckProgress(f *testing.F) {
	for _, s := range []string{"1 0 4 /dev/loop3", "5 8 8 disk.img", "2 18446744073709551615 18446744073709551615 x", "-1 0 0", "1 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, ok := parseE2fsckProgress(line)
		if ok && (p.Percent < 0 || p.Percent > 100.0001 || p.Current > p.Max || p.Pass < 1 || p.Pass > 5) {
			t.Fatalf("%q: %+v", line, p)
		}
		for _, fn := range []func(string) (CheckProgress, bool){parseXFSRepairPhase, parseBtrfsCheckStep} {
			if p, ok := fn(line); ok && (p.Percent < 0 || p.Percent > 100 || p.Current > p.Max) {
				t.Fatalf("%q: %+v", line, p)
			}
		}
	})
}

// checkStep is one step of a check scenario: damage (only when running
// for real), then a check that must reach want.
type checkStep struct {
	damage   func(t *testing.T, dev string)
	mode     CheckMode
	override bool
	want     Verdict
	quiet    bool // the tool stops before its first progress line
}

type checkScenario struct {
	name  string
	typ   Type
	tools []string
	size  int64
	setup func(t *testing.T, dev string)
	steps []checkStep
}

func writeFiles(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), []byte(strings.Repeat(fmt.Sprint(i), 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkScenarios() []checkScenario {
	return []checkScenario{
		{
			name: "ext4-check", typ: Ext4, tools: []string{"mkfs.ext4", "e2fsck", "debugfs"}, size: 64 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 20)
				umount(t, dir)
			},
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictClean},
				{damage: func(t *testing.T, dev string) { testenv.Run(t, "debugfs", "-w", "-R", "clri <12>", dev) },
					mode: CheckReadOnly, want: VerdictErrorsLeft},
				{mode: CheckPreen, want: VerdictFixed}, // e2fsck 1.47 preens an entry to a cleared inode
				{mode: CheckReadOnly, want: VerdictClean},
				{damage: func(t *testing.T, dev string) { testenv.Run(t, "debugfs", "-w", "-R", "clri <13>", dev) },
					mode: CheckRepair, want: VerdictFixed},
				{mode: CheckReadOnly, want: VerdictClean},
				// Two files claiming one block: past what -p may fix.
				{damage: shareExtBlock, mode: CheckPreen, want: VerdictErrorsLeft},
				{mode: CheckRepair, want: VerdictFixed},
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
		{
			name: "ext4-dirtylog", typ: Ext4, tools: []string{"mkfs.ext4", "e2fsck", "xfs_io"}, size: 64 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 50)
				testenv.Run(t, "sync")
				writeFiles(t, dir, 80)
				testenv.Run(t, "xfs_io", "-x", "-c", "shutdown -f", dir) // EXT4_IOC_SHUTDOWN
				umount(t, dir)
			},
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictDirtyLog}, // e2fsck -fn exits 0 here
				{mode: CheckPreen, want: VerdictFixed},       // -p replays the journal
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
		{
			name: "xfs-check", typ: XFS, tools: []string{"mkfs.xfs", "xfs_repair", "xfs_db"}, size: 300 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 20)
				umount(t, dir)
			},
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictClean},
				{damage: func(t *testing.T, dev string) {
					testenv.Run(t, "xfs_db", "-x", "-c", "sb 0", "-c", "write -d dblocks 1", "-c", "write -d agcount 0", dev)
				}, mode: CheckReadOnly, want: VerdictErrorsLeft},
				{mode: CheckRepair, want: VerdictFixed},
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
		{
			name: "xfs-dirtylog", typ: XFS, tools: []string{"mkfs.xfs", "xfs_repair", "xfs_io"}, size: 300 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 200)
				testenv.Run(t, "xfs_io", "-x", "-c", "shutdown -f", dir)
				umount(t, dir)
			},
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictDirtyLog},
				{mode: CheckRepair, want: VerdictDirtyLog},              // refuses to repair without -L
				{mode: CheckRepair, override: true, want: VerdictFixed}, // -L zeroes the log
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
		{
			name: "btrfs-check", typ: Btrfs, tools: []string{"mkfs.btrfs", "btrfs"}, size: 300 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.btrfs", "-q", "-f", "-m", "single", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 200)
				umount(t, dir)
			},
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictClean},
				{damage: corruptBtrfsFSTree, mode: CheckReadOnly, want: VerdictErrorsLeft},
				{mode: CheckRepair, override: true, want: VerdictFixed},
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
		{
			name: "btrfs-csum", typ: Btrfs, tools: []string{"mkfs.btrfs", "btrfs"}, size: 300 << 20,
			setup: func(t *testing.T, dev string) {
				testenv.Run(t, "mkfs.btrfs", "-q", "-f", "-m", "single", dev)
				dir := mountTemp(t, dev)
				writeFiles(t, dir, 200)
				umount(t, dir)
			},
			steps: []checkStep{
				{damage: overwriteBtrfsFSTree, mode: CheckReadOnly, want: VerdictErrorsLeft, quiet: true},
			},
		},
		{
			name: "vfat-check", typ: VFAT, tools: []string{"mkfs.fat", "fsck.fat"}, size: 64 << 20,
			setup: func(t *testing.T, dev string) { testenv.Run(t, "mkfs.fat", "-F", "16", dev) },
			steps: []checkStep{
				{mode: CheckReadOnly, want: VerdictClean},
				{damage: markFATClusterUsed, mode: CheckReadOnly, want: VerdictErrorsLeft},
				{mode: CheckPreen, want: VerdictFixed},
				{mode: CheckReadOnly, want: VerdictClean},
			},
		},
	}
}

// shareExtBlock points the single extent of inode 15 (f003) at inode
// 14's (f002) first block: i_block[5] is the first extent's ee_start_lo.
func shareExtBlock(t *testing.T, dev string) {
	b := strings.TrimSpace(string(testenv.Run(t, "debugfs", "-R", "bmap <14> 0", dev)))
	testenv.Run(t, "debugfs", "-w", "-R", "set_inode_field <15> block[5] "+b, dev)
}

// overwriteBtrfsFSTree overwrites the items of every fs tree block (owner
// 5) with junk, checksums left stale and no second copy (metadata single):
// btrfs check cannot even open the filesystem.
func overwriteBtrfsFSTree(t *testing.T, dev string) {
	super := testenv.ReadFileAt(t, dev, 64<<10, 4096)
	nodesize := int64(binary.LittleEndian.Uint32(super[148:]))
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	end, _ := f.Seek(0, 2)
	buf := make([]byte, nodesize)
	junk := bytes.Repeat([]byte{0x5a}, 512)
	for off := int64(1 << 20); off+nodesize <= end; off += nodesize {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(buf[32:48], super[32:48]) && binary.LittleEndian.Uint64(buf[88:]) == 5 {
			if _, err := f.WriteAt(junk, off+101); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// markFATClusterUsed marks cluster 5 end-of-chain in the first FAT only:
// a lost cluster, and the two FATs differ.
func markFATClusterUsed(t *testing.T, dev string) {
	boot := testenv.ReadFileAt(t, dev, 0, 512)
	bps := int64(binary.LittleEndian.Uint16(boot[11:]))
	reserved := int64(binary.LittleEndian.Uint16(boot[14:]))
	testenv.PatchFile(t, dev, reserved*bps+5*2, []byte{0xff, 0xff})
}

// corruptBtrfsFSTree finds the leaves of the default subvolume (owner 5,
// level 0) by their headers, sets the link count of inode 260's item in
// them to 7 and recomputes the leaf's crc32c: the tree reads fine but its
// content is wrong, which btrfs check reports as a link count error.
// (Setting every inode's, the directory's included, is past what
// btrfs check --repair 6.2 can fix: it ends with "errors found in fs
// roots" and exit 1.)
// (Stale copies left by copy-on-write are changed too; that is harmless.)
func corruptBtrfsFSTree(t *testing.T, dev string) {
	super := testenv.ReadFileAt(t, dev, 64<<10, 4096)
	var fsid [16]byte
	copy(fsid[:], super[32:48])
	nodesize := int64(binary.LittleEndian.Uint32(super[148:]))
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	end, _ := f.Seek(0, 2)
	buf := make([]byte, nodesize)
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	n := 0
	for off := int64(1 << 20); off+nodesize <= end; off += nodesize {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		if [16]byte(buf[32:48]) != fsid || binary.LittleEndian.Uint64(buf[88:]) != 5 || buf[100] != 0 {
			continue
		}
		items := int(binary.LittleEndian.Uint32(buf[96:]))
		changed := false
		for i := 0; i < items && 101+25*(i+1) <= len(buf); i++ {
			it := buf[101+25*i:]
			if it[8] != 1 || binary.LittleEndian.Uint64(it) != 260 { // BTRFS_INODE_ITEM_KEY of file f003
				continue
			}
			at := 101 + int(binary.LittleEndian.Uint32(it[17:]))
			if at+44 > len(buf) {
				continue
			}
			binary.LittleEndian.PutUint32(buf[at+40:], 7) // nlink
			changed = true
		}
		if !changed {
			continue
		}
		binary.LittleEndian.PutUint32(buf[0:], crc32.Checksum(buf[32:], castagnoli))
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no fs tree leaf found")
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	t.Logf("changed inode 260's link count in %d fs tree leaves", n)
}

func runCheckScenario(t *testing.T, m *Manager, dev string, sc checkScenario, real bool) {
	ctx := context.Background()
	for i, s := range sc.steps {
		if real && s.damage != nil {
			s.damage(t, dev)
		}
		var events []CheckProgress
		r, err := m.check(ctx, dev, sc.typ, s.mode, s.override, func(p CheckProgress) { events = append(events, p) })
		if err != nil {
			t.Fatalf("step %d (%v): %v", i, s.mode, err)
		}
		if r.Verdict != s.want {
			t.Fatalf("step %d: %s %v = %s (exit %d), want %s\n%s", i, r.Tool, r.Args, r.Verdict, r.ExitCode, s.want, r.Output)
		}
		if sc.typ != VFAT && !s.quiet { // fsck.fat reports no progress
			if len(events) == 0 {
				t.Errorf("step %d: no progress", i)
			}
			for j := 1; j < len(events); j++ {
				if events[j].Percent < events[j-1].Percent {
					t.Errorf("step %d: progress went back: %+v after %+v", i, events[j], events[j-1])
				}
			}
		}
		t.Logf("step %d: %s %s: %s (exit %d, %d progress events)", i, r.Tool, strings.Join(r.Args, " "), r.Verdict, r.ExitCode, len(events))
	}
}

// TestCheckReal damages real filesystems on loop devices and checks the
// verdict of each step. With EOS_FSYS_RECORD=1 it records the fixtures
// TestCheckReplay serves.
func TestCheckReal(t *testing.T) {
	for _, sc := range checkScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			testenv.RequireTool(t, sc.tools...)
			dev := testenv.Loop(t, sc.size)
			sc.setup(t, dev)
			runCheckScenario(t, realManager(t, sc.name, dev), dev, sc, true)
		})
	}
}

// TestCheckReplay runs the same scenarios on the recorded fixtures: the
// verdicts and progress come from real output without root or tools.
func TestCheckReplay(t *testing.T) {
	for _, sc := range checkScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			m, dev := replayManager(t, sc.name)
			runCheckScenario(t, m, dev, sc, false)
		})
	}
}

func TestCheckToolMissing(t *testing.T) {
	r, _ := command.NewReplayer(command.Fixture{Tool: "xfs_repair", Args: []string{"-n", "/dev/x"}, Missing: true, Package: "xfsprogs"})
	m, _ := New(WithRunner(r))
	res, err := m.check(context.Background(), "/dev/x", XFS, CheckReadOnly, false, nil)
	if res != nil || !errors.Is(err, ErrNotSupported) {
		t.Errorf("missing xfs_repair: %v, %v", res, err)
	}
}

func TestCheckOperationalError(t *testing.T) {
	r, _ := command.NewReplayer(command.Fixture{Tool: "e2fsck", Args: []string{"-f", "-n", "-C", "3", "/dev/x"}, Code: 8,
		Stderr: command.Blob("e2fsck: No such file or directory while trying to open /dev/x\n")})
	m, _ := New(WithRunner(r))
	res, err := m.check(context.Background(), "/dev/x", Ext4, CheckReadOnly, false, nil)
	var xe *command.ExitError
	if res == nil || res.Verdict != VerdictFailed || res.ExitCode != 8 || !errors.As(err, &xe) {
		t.Errorf("e2fsck exit 8: %+v, %v", res, err)
	}
}

// TestCheckCancelReal cancels an e2fsck on its first progress report and
// shows its whole process group is gone.
func TestCheckCancelReal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck")
	dev := testenv.Loop(t, 8<<30)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", "-N", "2000000", "-E", "lazy_itable_init=1", dev)
	m := realManager(t, "", dev)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var first CheckProgress
	res, err := m.check(ctx, dev, Ext4, CheckReadOnly, false, func(p CheckProgress) {
		if first.Max == 0 {
			first = p
		}
		cancel()
	})
	var ce *command.CanceledError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled check: %+v, %v", res, err)
	}
	if res == nil || res.Verdict != VerdictCancelled {
		t.Fatalf("result %+v", res)
	}
	if first.Pass != 1 {
		t.Errorf("first progress %+v", first)
	}
	if left := processesNamed("e2fsck", dev); len(left) > 0 {
		t.Errorf("e2fsck still running: pids %v", left)
	}
	t.Logf("cancelled at %+v; process group %d killed", first, ce.PGID)
}

// processesNamed lists pids whose command line has both name and arg.
func processesNamed(name, arg string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, name) && strings.Contains(s, arg+"\x00") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestMountedAtReal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mkfs.btrfs")
	for _, typ := range []Type{Ext4, Btrfs} {
		t.Run(string(typ), func(t *testing.T) {
			dev := testenv.Loop(t, 300<<20)
			testenv.Run(t, "mkfs."+string(typ), map[Type]string{Ext4: "-F", Btrfs: "-f"}[typ], dev)
			if got, err := mountedAt(sysfs.Live, dev); err != nil || len(got) != 0 {
				t.Fatalf("before mount: %v, %v", got, err)
			}
			dir := mountTemp(t, dev)
			bind := t.TempDir()
			testenv.Run(t, "mount", "--bind", dir, bind)
			t.Cleanup(func() { testenv.RunErr("umount", bind) })
			got, err := mountedAt(sysfs.Live, dev)
			if err != nil || len(got) != 2 || got[0] != dir || got[1] != bind {
				t.Errorf("mountedAt = %v, %v; want [%s %s]", got, err, dir, bind)
			}
		})
	}
	if _, err := mountedAt(sysfs.Live, "/dev/null"); !errors.Is(err, ErrInvalid) {
		t.Errorf("/dev/null: %v", err)
	}
}

// TestMountedAtFakeRoot matches by device number in a fake tree: a mount
// by another name (a by-uuid link, here a second node), a btrfs mount with
// an anonymous 0:NN whose source is the device, and one that is neither.
func TestMountedAtFakeRoot(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	dir := t.TempDir()
	for _, d := range []string{"dev/disk/by-uuid", "proc/self"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []struct {
		path  string
		minor uint32
	}{{"dev/loop200", 200}, {"dev/disk/by-uuid/1234", 200}, {"dev/loop201", 201}} {
		if err := unix.Mknod(filepath.Join(dir, n.path), unix.S_IFBLK|0o600, int(unix.Mkdev(7, n.minor))); err != nil {
			t.Skipf("mknod: %v", err)
		}
	}
	mi := `22 1 7:200 / /mnt/a rw,relatime shared:1 - ext4 /dev/disk/by-uuid/1234 rw
23 1 0:55 / /mnt/b rw,relatime - btrfs /dev/loop200 rw,space_cache=v2
24 1 0:56 / /mnt/c rw,relatime - btrfs /dev/loop201 rw
25 1 7:201 / /mnt/d rw - ext4 /dev/loop201 rw
26 1 0:57 / /mnt/with\040space rw - tmpfs tmpfs rw
`
	if err := os.WriteFile(filepath.Join(dir, "proc/self/mountinfo"), []byte(mi), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := sysfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mountedAt(root, "/dev/loop200")
	if err != nil || strings.Join(got, ",") != "/mnt/a,/mnt/b" {
		t.Errorf("mountedAt(loop200) = %v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proc/self/mountinfo"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mountedAt(root, "/dev/loop200"); err == nil {
		t.Error("malformed mountinfo accepted")
	}
}
