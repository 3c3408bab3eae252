package superblock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

type extCase struct {
	name  string
	size  int64
	args  []string
	label string
}

var extCases = []extCase{
	{"ext2-1k", 16 << 20, []string{"-t", "ext2", "-b", "1024"}, "two"},
	{"ext3-2k", 32 << 20, []string{"-t", "ext3", "-b", "2048"}, "three"},
	{"ext4-4k", 64 << 20, []string{"-t", "ext4", "-b", "4096"}, "a\x01b\xc3\xa9\xff$ x"},
	{"ext4-64k", 256 << 20, []string{"-t", "ext4", "-b", "65536"}, "big"},
	{"ext4-bigalloc", 256 << 20, []string{"-t", "ext4", "-O", "bigalloc", "-C", "65536"}, ""},
	{"ext4-nojournal", 32 << 20, []string{"-t", "ext4", "-O", "^has_journal"}, ""},
	{"ext4-no64bit-nocsum", 64 << 20, []string{"-t", "ext4", "-O", "^64bit,^metadata_csum"}, "old"},
	{"ext4-64bit-csum-quota", 64 << 20, []string{"-t", "ext4", "-O", "64bit,metadata_csum,quota,project,orphan_file,inline_data"}, ""},
	{"ext4-1k-meta_bg", 64 << 20, []string{"-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode", "-E", "root_owner=0:0"}, "m"},
	{"ext4-rev0", 16 << 20, []string{"-t", "ext2", "-r", "0"}, ""},
}

func TestExtAgainstDumpe2fs(t *testing.T) {
	testenv.RequireTool(t, "mke2fs", "dumpe2fs", "blkid")
	t.Setenv("TZ", "UTC")
	for _, c := range extCases {
		t.Run(c.name, func(t *testing.T) {
			img := extImage(t, "fs.img", c.size)
			args := append([]string{"-q", "-F"}, c.args...)
			if c.label != "" {
				args = append(args, "-L", c.label)
			}
			testenv.Run(t, "mke2fs", append(args, img)...)
			extCompare(t, img)
		})
	}
}

// TestExtLoop4K makes ext4 on a loop device with 4 KiB logical sectors and
// reads it through the device node, as Inspect does.
func TestExtLoop4K(t *testing.T) {
	testenv.RequireTool(t, "mke2fs", "dumpe2fs", "blkid")
	t.Setenv("TZ", "UTC")
	dev := testenv.LoopSector(t, 64<<20, 4096)
	testenv.Run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-L", "sect4k", dev)
	extCompare(t, dev)
}

func TestExtStates(t *testing.T) {
	testenv.RequireTool(t, "mke2fs", "dumpe2fs", "debugfs")
	t.Setenv("TZ", "UTC")
	for _, c := range []struct {
		name string
		cmds []string
		want State
	}{
		{"clean", nil, StateClean},
		{"error-bit", []string{"ssv state 3"}, StateErrors},
		{"error-count", []string{"ssv error_count 3"}, StateErrors},
		{"needs_recovery", []string{"feature needs_recovery"}, StateNeedsRecovery},
		{"not-clean", []string{"ssv state 0"}, StateNotClean},
		{"odd-features", []string{"feature read-only", "feature FEATURE_C7", "feature FEATURE_R7", "feature FEATURE_I31"}, StateClean},
		{"orphans", []string{"ssv state 5"}, StateClean},
		{"ext4dev", []string{"ssv flags 5"}, StateClean}, // test_fs: blkid says ext4dev
	} {
		t.Run(c.name, func(t *testing.T) {
			img := extImage(t, "fs.img", 16<<20)
			testenv.Run(t, "mke2fs", "-q", "-F", "-t", "ext4", img)
			for _, cmd := range c.cmds {
				testenv.Run(t, "debugfs", "-w", "-R", cmd, img)
			}
			e := extCompare(t, img)
			if got := e.Super().State; got != c.want {
				t.Errorf("state %s, want %s (bits %#x, errors %d)", got, c.want, e.StateBits, e.ErrorCount)
			}
		})
	}
}

// TestExtJournalDevice: an external journal (mke2fs -O journal_dev) is
// blkid's "jbd", not a filesystem.
func TestExtJournalDevice(t *testing.T) {
	testenv.RequireTool(t, "mke2fs", "blkid")
	img := extImage(t, "jdev.img", 16<<20)
	testenv.Run(t, "mke2fs", "-q", "-F", "-O", "journal_dev", img)
	if got := extBlkid(t, img)["TYPE"]; got != "jbd" {
		t.Fatalf("blkid says %q, the test expects jbd", got)
	}
	f, size := extOpen(t, img)
	if _, err := ReadExt(f, size); !errors.Is(err, ErrExtJournal) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v, want ErrExtJournal matching ErrNotFound", err)
	}
}

func TestExtDamaged(t *testing.T) {
	testenv.RequireTool(t, "mke2fs")
	img := extImage(t, "fs.img", 8<<20)
	testenv.Run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-O", "metadata_csum", img)
	good := testenv.ReadFileAt(t, img, 0, 4096)
	for _, c := range []struct {
		name  string
		patch func(b []byte) []byte
		want  error
	}{
		{"magic", func(b []byte) []byte { b[1024+0x38] ^= 1; return b }, ErrNotFound},
		{"log-block-size", func(b []byte) []byte { extLE.PutUint32(b[1024+0x18:], 9); return extResum(b) }, ErrCorrupt},
		{"checksum", func(b []byte) []byte { b[1024+0x10]++; return b }, ErrCorrupt},
		{"blocks-per-group", func(b []byte) []byte { extLE.PutUint32(b[1024+0x20:], 0); return extResum(b) }, ErrCorrupt},
		{"truncated", func(b []byte) []byte { return b[:1500] }, ErrNotFound},
		{"journal-dev", func(b []byte) []byte {
			f := extLE.Uint32(b[1024+0x60:])
			extLE.PutUint32(b[1024+0x60:], f|extIncompatJournal)
			return extResum(b)
		}, ErrExtJournal},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.patch(append([]byte(nil), good...))
			_, err := ReadExt(extBytes(b), int64(len(b)))
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			var ce *CorruptError
			if c.want == ErrCorrupt && !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *CorruptError", err)
			}
		})
	}
}

type extBytes []byte

func (b extBytes) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, fmt.Errorf("EOF at %d: %w", off, extErrEOF)
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, extErrEOF
	}
	return n, nil
}

func extResum(b []byte) []byte {
	extLE.PutUint32(b[1024+0x3FC:], extSuperCsum(b[1024:2048]))
	return b
}

// extCompare reads path with ReadExt and checks every field against
// dumpe2fs -h and blkid -p; it returns what it read.
func extCompare(t *testing.T, path string) *Ext {
	t.Helper()
	f, size := extOpen(t, path)
	e, err := ReadExt(f, size)
	if err != nil {
		t.Fatal(err)
	}
	d := extKeyValues(testenv.Run(t, "dumpe2fs", "-h", path))
	num := func(key string, got uint64) {
		t.Helper()
		v, ok := d[key]
		if !ok {
			if got != 0 {
				t.Errorf("%s: dumpe2fs prints nothing, we read %d", key, got)
			}
			return
		}
		want, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		if err != nil || uint64(want) != got {
			t.Errorf("%s: dumpe2fs %q, we read %d", key, v, got)
		}
	}
	str := func(key, got, none string) {
		t.Helper()
		want, ok := d[key]
		if !ok || want == none {
			want = ""
		}
		if got != want {
			t.Errorf("%s: dumpe2fs %q, we read %q", key, want, got)
		}
	}
	num("Inode count", e.InodeCount)
	num("Block count", e.BlockCount)
	num("Reserved block count", e.ReservedBlocks)
	num("Free blocks", e.FreeBlocks)
	num("Free inodes", e.FreeInodes)
	num("First block", uint64(e.FirstDataBlock))
	num("Block size", uint64(e.BlockSize))
	if extHasFeatureName(e.Features, "bigalloc") {
		num("Cluster size", uint64(e.ClusterSize))
	} else {
		num("Fragment size", uint64(e.ClusterSize))
	}
	num("Blocks per group", uint64(e.BlocksPerGroup))
	num("Inodes per group", uint64(e.InodesPerGroup))
	if e.Revision > 0 { // dumpe2fs prints no inode size for revision 0 (always 128)
		num("Inode size", uint64(e.InodeSize))
	}
	num("Reserved GDT blocks", uint64(e.ReservedGDT))
	num("Mount count", uint64(e.MountCount))
	if v := d["Maximum mount count"]; v != strconv.Itoa(int(e.MaxMountCount)) {
		t.Errorf("max mount count: dumpe2fs %q, we read %d", v, e.MaxMountCount)
	}
	num("Filesystem revision #", uint64(e.Revision))
	num("Journal inode", uint64(e.JournalInode))
	num("FS Error count", uint64(e.ErrorCount))
	str("Filesystem UUID", e.UUID, "")
	str("Filesystem volume name", e.Label, "<none>")
	str("Last mounted on", e.LastMountedOn, "<not available>")
	str("Journal UUID", e.JournalUUID, "")
	str("Directory Hash Seed", e.HashSeed, "")
	str("Filesystem features", strings.Join(e.Features, " "), "(none)")
	if extHasFeatureName(e.Features, "metadata_csum") {
		str("Checksum", fmt.Sprintf("0x%08x", e.Checksum), "")
	}
	str("Errors behavior", [...]string{"Unknown (continue)", "Continue", "Remount read-only", "Panic"}[min(int(e.Errors), 3)], "")
	state := "clean"
	if e.StateBits&extStateValid == 0 {
		state = "not clean"
	}
	if e.StateBits&extStateError != 0 {
		state += " with errors"
	}
	str("Filesystem state", state, "")
	if v := d["Last checked"]; v != e.LastCheck.Format(time.ANSIC) {
		t.Errorf("last checked: dumpe2fs %q, we read %s", v, e.LastCheck.Format(time.ANSIC))
	}

	s := e.Super()
	bl := extBlkid(t, path)
	for k, got := range map[string]string{"TYPE": s.Type, "UUID": s.UUID, "LABEL": extCatV(s.Label), "VERSION": s.Version} {
		if bl[k] != got {
			t.Errorf("blkid %s %q, we say %q", k, bl[k], got)
		}
	}
	if s.SizeBytes != int64(e.BlockCount)*e.BlockSize || s.FreeBytes != int64(e.FreeBlocks)*e.BlockSize {
		t.Errorf("super sizes %d/%d", s.SizeBytes, s.FreeBytes)
	}
	return e
}

func extHasFeatureName(fs []string, name string) bool {
	for _, f := range fs {
		if f == name {
			return true
		}
	}
	return false
}
