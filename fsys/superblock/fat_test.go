package superblock

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

type fatCase struct {
	name    string
	size    int64
	args    []string
	version string
	files   int // files of 3000 bytes written with mcopy
}

var fatCases = []fatCase{
	{"fat12", 4 << 20, []string{"-F", "12", "-n", "TWELVE"}, "FAT12", 5},
	{"fat12-s4", 8 << 20, []string{"-F", "12", "-s", "4", "-i", "0000beef"}, "FAT12", 0},
	{"fat16", 64 << 20, []string{"-F", "16", "-n", "SIXTEEN", "-i", "deadbeef"}, "FAT16", 20},
	{"fat16-4k", 128 << 20, []string{"-F", "16", "-S", "4096", "-s", "1", "-n", "BIGSEC"}, "FAT16", 3},
	{"fat32", 64 << 20, []string{"-F", "32", "-n", "THIRTYTWO", "-i", "1234abcd"}, "FAT32", 40},
	{"fat32-4k", 400 << 20, []string{"-F", "32", "-S", "4096", "-s", "1", "-n", "A B$"}, "FAT32", 7},
	{"fat32-nolabel", 256 << 20, []string{"-F", "32", "-s", "2"}, "FAT32", 2},
}

func TestFATAgainstFsck(t *testing.T) {
	testenv.RequireTool(t, "mkfs.fat", "fsck.fat", "blkid", "mcopy")
	for _, c := range fatCases {
		t.Run(c.name, func(t *testing.T) {
			img := extImage(t, "fat.img", c.size)
			testenv.Run(t, "mkfs.fat", append(c.args, img)...)
			if c.files > 0 {
				src := filepath.Join(t.TempDir(), "f")
				if err := os.WriteFile(src, []byte(strings.Repeat("x", 3000)), 0o600); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < c.files; i++ {
					testenv.Run(t, "mcopy", "-i", img, src, "::/f"+strconv.Itoa(i))
				}
			}
			f := fatCompare(t, img)
			if f.Version != c.version {
				t.Errorf("version %s, want %s", f.Version, c.version)
			}
		})
	}
}

// TestFATFreeCounted makes FSInfo say "unknown" so the reader counts the
// FAT, and checks the count against fsck.fat.
func TestFATFreeCounted(t *testing.T) {
	testenv.RequireTool(t, "mkfs.fat", "fsck.fat", "blkid", "mcopy")
	img := extImage(t, "fat.img", 64<<20)
	testenv.Run(t, "mkfs.fat", "-F", "32", img)
	testenv.Run(t, "mcopy", "-i", img, "/etc/os-release", "::/a")
	testenv.PatchFile(t, img, 512+488, []byte{0xff, 0xff, 0xff, 0xff})
	if f := fatCompare(t, img); !f.FreeCounted {
		t.Error("FSInfo said unknown but the FAT was not counted")
	}
}

func TestFATDirty(t *testing.T) {
	testenv.RequireTool(t, "mkfs.fat", "fsck.fat")
	for _, c := range []struct {
		name, fatType string
		off           int64
		b             byte
	}{
		{"fat16-bootflag", "16", 37, 0x01},
		{"fat32-bootflag", "32", 65, 0x01},
		{"fat16-fat1-bit15", "16", -3, 0x7f}, // -3: byte 3 of the FAT, FAT[1]'s top byte
		{"fat32-fat1-bit27", "32", -7, 0xf7}, // -7: byte 7 of the FAT, FAT[1]'s top byte
	} {
		t.Run(c.name, func(t *testing.T) {
			img := extImage(t, "fat.img", 64<<20)
			testenv.Run(t, "mkfs.fat", "-F", c.fatType, img)
			off, b := c.off, []byte{c.b}
			if off < 0 { // inside the first FAT: clear the clean-shutdown bit
				rsvd := testenv.ReadFileAt(t, img, 14, 2)
				off = int64(extLE.Uint16(rsvd))*512 - off
				b[0] &= testenv.ReadFileAt(t, img, off, 1)[0]
			}
			testenv.PatchFile(t, img, off, b)
			fh, size := extOpen(t, img)
			f, err := ReadFAT(fh, size)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := testenv.RunErr("fsck.fat", "-n", img)
			if !strings.Contains(string(out), "Dirty bit is set") {
				t.Logf("fsck.fat says: %s", out)
			}
			if f.Super().State != StateNotClean {
				t.Errorf("state %s, want not_clean", f.Super().State)
			}
		})
	}
}

func TestFATDamaged(t *testing.T) {
	testenv.RequireTool(t, "mkfs.fat")
	img := extImage(t, "fat.img", 32<<20)
	testenv.Run(t, "mkfs.fat", "-F", "16", img)
	good := testenv.ReadFileAt(t, img, 0, 64<<10)
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"zero-spc", func(b []byte) []byte { b[13] = 0; return b }, ErrCorrupt},
		{"spc-3", func(b []byte) []byte { b[13] = 3; return b }, ErrCorrupt},
		{"sector-256", func(b []byte) []byte { b[11], b[12] = 0, 1; return b }, ErrCorrupt},
		{"no-fats", func(b []byte) []byte { b[16] = 0; return b }, ErrCorrupt},
		{"media", func(b []byte) []byte { b[21] = 0x12; return b }, ErrCorrupt},
		{"no-magic", func(b []byte) []byte { b[0] = 0; copy(b[0x36:], "XXXXXXXX"); b[510] = 0; return b }, ErrNotFound},
		{"truncated", func(b []byte) []byte { return b[:1024] }, ErrCorrupt},
		{"mbr-like", func(b []byte) []byte { // only 55AA and a jump left: not FAT
			copy(b[0x36:], "XXXXXXXX")
			b[21] = 0
			return b
		}, ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(append([]byte(nil), good...))
			size := int64(32 << 20) // the device claims its full size; reads past b fail
			if c.name == "truncated" {
				size = int64(len(b))
			}
			_, err := ReadFAT(extBytes(b), size)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

var fatFsckRes = map[string]*regexp.Regexp{
	"sector":   regexp.MustCompile(`(\d+) bytes per logical sector`),
	"cluster":  regexp.MustCompile(`(\d+) bytes per cluster`),
	"reserved": regexp.MustCompile(`(\d+) reserved sectors?`),
	"fats":     regexp.MustCompile(`(\d+) FATs, (\d+) bit entries`),
	"fatsecs":  regexp.MustCompile(`bytes per FAT \(= (\d+) sectors\)`),
	"clusters": regexp.MustCompile(`(\d+) data clusters`),
	"total":    regexp.MustCompile(`(\d+) sectors total`),
	"rootents": regexp.MustCompile(`(\d+) root directory entries`),
	"used":     regexp.MustCompile(`(\d+)/(\d+) clusters`),
}

func fatCompare(t *testing.T, img string) *FAT {
	t.Helper()
	fh, size := extOpen(t, img)
	f, err := ReadFAT(fh, size)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testenv.RunErr("fsck.fat", "-n", "-v", img)
	if err != nil {
		t.Fatalf("fsck.fat: %v\n%s", err, out)
	}
	get := func(k string, group int) uint64 {
		m := fatFsckRes[k].FindStringSubmatch(string(out))
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseUint(m[group], 10, 64)
		return v
	}
	bits := map[string]uint64{"FAT12": 12, "FAT16": 16, "FAT32": 32}[f.Version]
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"bytes per sector", uint64(f.BytesPerSector), get("sector", 1)},
		{"cluster size", uint64(f.ClusterSize), get("cluster", 1)},
		{"reserved", uint64(f.ReservedSectors), get("reserved", 1)},
		{"FATs", uint64(f.NumFATs), get("fats", 1)},
		{"entry bits", bits, get("fats", 2)},
		{"FAT sectors", uint64(f.FATSectors), get("fatsecs", 1)},
		{"clusters", uint64(f.Clusters), get("clusters", 1)},
		{"total sectors", f.TotalSectors, get("total", 1)},
		{"root entries", uint64(f.RootEntries), get("rootents", 1)},
		{"free clusters", uint64(f.FreeClusters), get("used", 2) - get("used", 1)},
	} {
		if c.got != c.want {
			t.Errorf("%s: fsck.fat %d, we read %d", c.what, c.want, c.got)
		}
	}
	s := f.Super()
	bl := extBlkid(t, img)
	for k, got := range map[string]string{"TYPE": s.Type, "UUID": s.UUID, "LABEL": extCatV(f.Label), "LABEL_FATBOOT": extCatV(f.BootLabel), "VERSION": s.Version} {
		if bl[k] != got {
			t.Errorf("blkid %s %q, we say %q", k, bl[k], got)
		}
	}
	if s.State != StateClean {
		t.Errorf("state %s on a fresh filesystem", s.State)
	}
	return f
}
