package superblock

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// btrfsCases are the single-device mkfs.btrfs variants: node and sector
// sizes, mixed block groups, features on and off, labels, every checksum
// type, and a device too small for the 64 MiB mirror.
var btrfsCases = []struct {
	name string
	size int64
	args []string
}{
	{"default", 300 << 20, nil},
	{"n4096-s4096", 300 << 20, []string{"-n", "4096", "-s", "4096"}},
	{"n65536", 300 << 20, []string{"-n", "65536", "-L", "big nodes"}},
	{"mixed", 300 << 20, []string{"-M", "-L", "mixed"}},
	{"old-features", 300 << 20, []string{"-O", "^no-holes,^skinny-metadata,^extref", "-R", "^free-space-tree"}},
	{"raid56-raid1c34", 300 << 20, []string{"-O", "raid56,raid1c34"}},
	{"csum-crc32c", 300 << 20, []string{"--csum", "crc32c"}},
	{"csum-xxhash", 300 << 20, []string{"--csum", "xxhash", "-L", "xx"}},
	{"csum-sha256", 300 << 20, []string{"--csum", "sha256"}},
	{"csum-blake2", 300 << 20, []string{"--csum", "blake2", "-n", "65536"}},
	{"small-no-mirror", 60 << 20, []string{"-M"}},
	{"label-255", 300 << 20, []string{"-L", strings.Repeat("l", 255)}},
}

// TestBtrfsAgainstTools makes each variant on a loop device and compares
// every field dump-super prints, the sys_chunk_array item by item, the
// feature names, and blkid -p's identity.
func TestBtrfsAgainstTools(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "blkid")
	for _, c := range btrfsCases {
		t.Run(c.name, func(t *testing.T) {
			dev := testenv.Loop(t, c.size)
			btrfsMkfs(t, append(c.args, dev)...)
			x := btrfsReadDev(t, dev)
			btrfsCompareDump(t, x, btrfsDumpSuper(t, dev))
			btrfsCompareBlkid(t, x, xfsBlkid(t, dev))
			wantCopies := 2
			if c.size < 64<<20+4096 {
				wantCopies = 1
			}
			if len(x.Copies) != 1 || x.Copy != 0 || x.PrimaryErr != nil {
				t.Errorf("copies %+v, used %d, primary err %v; want the primary alone", x.Copies, x.Copy, x.PrimaryErr)
			}
			copies := btrfsCopiesDev(t, dev)
			if len(copies) != wantCopies {
				t.Errorf("ReadBtrfsCopies: %+v, want %d", copies, wantCopies)
			}
			for _, cp := range copies {
				if cp.Err != nil || cp.Generation != x.Generation {
					t.Errorf("copy at %d: generation %d, %v", cp.Offset, cp.Generation, cp.Err)
				}
			}
			if s := x.Super(); s.State != StateClean {
				t.Errorf("fresh filesystem: State %s", s.State)
			}
		})
	}
}

// TestBtrfsRAID1Devices reads each member of a two-device raid1 filesystem:
// same fsid, own devid and dev uuid, as dump-super shows per device.
func TestBtrfsRAID1Devices(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "blkid")
	d1, d2 := testenv.Loop(t, 300<<20), testenv.Loop(t, 400<<20)
	btrfsMkfs(t, "-d", "raid1", "-m", "raid1", "-L", "pair", d1, d2)
	var fsid string
	ids := map[uint64]bool{}
	for _, dev := range []string{d1, d2} {
		x := btrfsReadDev(t, dev)
		btrfsCompareDump(t, x, btrfsDumpSuper(t, dev))
		btrfsCompareBlkid(t, x, xfsBlkid(t, dev))
		s := x.Super()
		if s.NumDevices != 2 || len(s.Devices) != 1 || s.Devices[0].ID != s.DevID {
			t.Errorf("%s: %+v", dev, s)
		}
		if fsid != "" && fsid != x.FSID {
			t.Errorf("fsid %s vs %s", x.FSID, fsid)
		}
		fsid = x.FSID
		ids[x.DevItem.DevID] = true
		// The system chunk is mirrored on both devices.
		if len(x.SysChunks) != 1 || len(x.SysChunks[0].Stripes) != 2 || x.SysChunks[0].TypeName() != "SYSTEM|RAID1" {
			t.Errorf("sys chunks %+v", x.SysChunks)
		}
	}
	if !ids[1] || !ids[2] {
		t.Errorf("devids %v, want 1 and 2", ids)
	}
}

// TestBtrfsMetadataUUID: btrfstune -m gives the filesystem a new fsid and
// keeps the old one as metadata_uuid (incompat metadata_uuid); blkid's UUID
// is the new fsid and the dev_item's fsid the metadata uuid.
func TestBtrfsMetadataUUID(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "btrfstune", "blkid")
	dev := testenv.Loop(t, 300<<20)
	btrfsMkfs(t, dev)
	before := btrfsReadDev(t, dev)
	testenv.Run(t, "btrfstune", "-m", dev)
	x := btrfsReadDev(t, dev)
	btrfsCompareDump(t, x, btrfsDumpSuper(t, dev))
	btrfsCompareBlkid(t, x, xfsBlkid(t, dev))
	if x.MetadataUUID != before.FSID || x.FSID == before.FSID || x.DevItem.FSID != x.MetadataUUID ||
		!slices.Contains(x.Features(), "metadata_uuid") {
		t.Errorf("after btrfstune -m: fsid %s metadata_uuid %s dev fsid %s (was %s), features %v",
			x.FSID, x.MetadataUUID, x.DevItem.FSID, before.FSID, x.Features())
	}
}

func btrfsCopiesDev(t testing.TB, dev string) []BtrfsCopy {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Seek(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadBtrfsCopies(f, size)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func btrfsMkfs(t testing.TB, args ...string) {
	t.Helper()
	if out, err := testenv.RunErr("mkfs.btrfs", append([]string{"-q", "-f"}, args...)...); err != nil {
		t.Fatalf("mkfs.btrfs %v: %v %s", args, err, out)
	}
}

func btrfsReadDev(t testing.TB, dev string) *Btrfs {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Seek(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ReadBtrfs(f, size)
	if err != nil {
		t.Fatalf("ReadBtrfs %s: %v", dev, err)
	}
	return x
}

// btrfsDump is dump-super's output: "key\t\tvalue" fields, the flag names
// listed in parentheses under a flags field, and the sys_chunk_array
// items as text.
type btrfsDump struct {
	fields map[string]string
	names  map[string][]string // compat_ro_flags, incompat_flags -> names
	chunks []string
}

// btrfsDumpSuper runs dump-super -f on dev (extra args before the device).
func btrfsDumpSuper(t testing.TB, dev string, extra ...string) btrfsDump {
	t.Helper()
	out := testenv.Run(t, "btrfs", append(append([]string{"inspect-internal", "dump-super", "-f"}, extra...), dev)...)
	return btrfsParseDump(out)
}

func btrfsParseDump(out []byte) btrfsDump {
	d := btrfsDump{fields: map[string]string{}, names: map[string][]string{}}
	last := ""
	inChunks := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "sys_chunk_array"):
			inChunks = true
		case strings.HasPrefix(line, "backup_roots"):
			inChunks = false
		case inChunks:
			d.chunks = append(d.chunks, strings.TrimSpace(line))
		case strings.HasPrefix(line, "\t\t\t"):
			for _, n := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune("\t ()|", r) }) {
				d.names[last] = append(d.names[last], strings.ToLower(n))
			}
		default:
			k, v, ok := strings.Cut(line, "\t")
			if ok {
				last = strings.TrimSpace(k)
				d.fields[last] = strings.TrimSpace(v)
			}
		}
	}
	return d
}

func btrfsCompareDump(t *testing.T, x *Btrfs, d btrfsDump) {
	t.Helper()
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	h := func(n uint64) string { return fmt.Sprintf("%#x", n) }
	di := x.DevItem
	want := map[string]string{
		"csum_type":             fmt.Sprintf("%d (%s)", x.CsumType, x.CsumName),
		"csum_size":             strconv.Itoa(len(x.Csum)),
		"csum":                  "0x" + hex.EncodeToString(x.Csum) + " [match]",
		"bytenr":                u(x.Bytenr),
		"flags":                 h(x.Flags),
		"magic":                 "_BHRfS_M [match]",
		"fsid":                  x.FSID,
		"metadata_uuid":         x.MetadataUUID,
		"label":                 x.Label,
		"generation":            u(x.Generation),
		"root":                  u(x.Root),
		"sys_array_size":        u(uint64(x.SysArraySize)),
		"chunk_root_generation": u(x.ChunkRootGeneration),
		"root_level":            u(uint64(x.RootLevel)),
		"chunk_root":            u(x.ChunkRoot),
		"chunk_root_level":      u(uint64(x.ChunkRootLevel)),
		"log_root":              u(x.LogRoot),
		"log_root_level":        u(uint64(x.LogRootLevel)),
		"total_bytes":           u(x.TotalBytes),
		"bytes_used":            u(x.BytesUsed),
		"sectorsize":            u(uint64(x.Sectorsize)),
		"nodesize":              u(uint64(x.Nodesize)),
		"stripesize":            u(uint64(x.Stripesize)),
		"root_dir":              u(x.RootDir),
		"num_devices":           u(x.NumDevices),
		"compat_flags":          h(x.CompatFlags),
		"compat_ro_flags":       h(x.CompatROFlags),
		"incompat_flags":        h(x.IncompatFlags),
		"cache_generation":      u(x.CacheGeneration),
		"uuid_tree_generation":  u(x.UUIDTreeGeneration),
		"dev_item.uuid":         di.UUID,
		"dev_item.fsid":         di.FSID + " [match]",
		"dev_item.type":         u(di.Type),
		"dev_item.total_bytes":  u(di.TotalBytes),
		"dev_item.bytes_used":   u(di.BytesUsed),
		"dev_item.io_align":     u(uint64(di.IOAlign)),
		"dev_item.io_width":     u(uint64(di.IOWidth)),
		"dev_item.sector_size":  u(uint64(di.SectorSize)),
		"dev_item.devid":        u(di.DevID),
		"dev_item.dev_group":    u(uint64(di.DevGroup)),
		"dev_item.seek_speed":   u(uint64(di.SeekSpeed)),
		"dev_item.bandwidth":    u(uint64(di.Bandwidth)),
		"dev_item.generation":   u(di.Generation),
	}
	for k, w := range want {
		if got, ok := d.fields[k]; !ok || got != w {
			t.Errorf("%s: ours %q, dump-super %q (present %v)", k, w, got, ok)
		}
	}
	var names []string
	names = append(names, d.names["compat_ro_flags"]...)
	names = append(names, d.names["incompat_flags"]...)
	if got := x.Features(); !slices.Equal(got, names) {
		t.Errorf("features: ours %v, dump-super %v", got, names)
	}
	if got, want := btrfsChunkText(x.SysChunks), d.chunks; !slices.Equal(got, want) {
		t.Errorf("sys_chunk_array:\nours\n%s\ndump-super\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// btrfsChunkText prints our chunks as dump-super's sys_chunk_array lines
// (trimmed), so the two compare line by line.
func btrfsChunkText(cs []BtrfsChunk) []string {
	var out []string
	for i, c := range cs {
		out = append(out,
			fmt.Sprintf("item %d key (FIRST_CHUNK_TREE CHUNK_ITEM %d)", i, c.Logical),
			fmt.Sprintf("length %d owner %d stripe_len %d type %s", c.Length, c.Owner, c.StripeLen, c.TypeName()),
			fmt.Sprintf("io_align %d io_width %d sector_size %d", c.IOAlign, c.IOWidth, c.SectorSize),
			fmt.Sprintf("num_stripes %d sub_stripes %d", len(c.Stripes), c.SubStripes))
		for j, s := range c.Stripes {
			out = append(out,
				fmt.Sprintf("stripe %d devid %d offset %d", j, s.DevID, s.Offset),
				"dev_uuid "+s.DevUUID)
		}
	}
	return out
}

func btrfsCompareBlkid(t *testing.T, x *Btrfs, m map[string]string) {
	t.Helper()
	s := x.Super()
	if m["TYPE"] != "btrfs" || m["UUID"] != s.UUID || m["LABEL"] != s.Label || m["UUID_SUB"] != s.Devices[0].UUID {
		t.Errorf("blkid %v; ours %s %q sub %s", m, s.UUID, s.Label, s.Devices[0].UUID)
	}
	if m["BLOCK_SIZE"] != strconv.FormatInt(s.BlockSize, 10) {
		t.Errorf("blkid BLOCK_SIZE=%s, our sectorsize %d", m["BLOCK_SIZE"], s.BlockSize)
	}
	if v, ok := m["VERSION"]; ok {
		t.Errorf("blkid now reports VERSION=%s for btrfs", v)
	}
}

// TestBtrfsBadPrimary damages the primary's checksum on a 300 MiB
// device: dump-super -a must show the primary bad and the 64 MiB copy
// good; we then report the mirror, with PrimaryErr and State not_clean;
// and the kernel, which reads only the primary, refuses to mount.
func TestBtrfsBadPrimary(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "mount")
	img := filepath.Join(t.TempDir(), "bad.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 300<<20); err != nil {
		t.Fatal(err)
	}
	btrfsMkfs(t, img)
	csum := testenv.ReadFileAt(t, img, 64<<10, 4)
	for i := range csum {
		csum[i] ^= 0xff
	}
	testenv.PatchFile(t, img, 64<<10, csum)

	out := string(testenv.Run(t, "btrfs", "inspect-internal", "dump-super", "-f", "-a", img))
	parts := strings.Split(out, "superblock: bytenr=")
	if len(parts) != 3 || !strings.Contains(parts[1], "[DON'T MATCH]") || !strings.Contains(parts[2], "csum_type") ||
		strings.Contains(parts[2], "[DON'T MATCH]") {
		t.Fatalf("dump-super -a does not show a bad primary and a good mirror:\n%s", out)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := ReadBtrfs(f, 300<<20)
	if err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if x.Copy != 1 || x.Offset != 64<<20 || !errors.As(x.PrimaryErr, &ce) || ce.Field != "csum" {
		t.Errorf("used copy %d at %d, primary err %v; want the 64 MiB mirror and a csum error", x.Copy, x.Offset, x.PrimaryErr)
	}
	if s := x.Super(); s.State != StateNotClean {
		t.Errorf("State %s, want not_clean", s.State)
	}
	if len(x.Copies) != 2 || x.Copies[0].Err == nil || x.Copies[1].Err != nil || x.Copies[1].Generation != x.Generation {
		t.Errorf("copies %+v", x.Copies)
	}
	btrfsCompareDump(t, x, btrfsParseDump([]byte("superblock: bytenr="+parts[2])))

	dev := testenv.LoopFile(t, img)
	mnt := t.TempDir()
	if _, err := testenv.RunErr("mount", "-t", "btrfs", dev, mnt); err == nil {
		testenv.RunErr("umount", mnt)
		t.Errorf("the kernel mounted a btrfs with a bad primary superblock; the doc says it does not")
	}

	// Damage the mirror too: no valid copy, the primary's error.
	testenv.PatchFile(t, img, 64<<20, csum)
	if _, err := ReadBtrfs(f, 300<<20); !errors.As(err, &ce) || ce.Field != "csum" {
		t.Errorf("both copies bad: %v, want the primary's csum error", err)
	}
}

// TestBtrfsLogRoot fsyncs a file with the transaction commit held off, and
// reads the backing file while mounted: the superblock then has a log
// tree, so State is needs_recovery, which dump-super confirms.
func TestBtrfsLogRoot(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "mount", "umount", "xfs_io")
	img := filepath.Join(t.TempDir(), "log.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 300<<20); err != nil {
		t.Fatal(err)
	}
	btrfsMkfs(t, img)
	dev := testenv.LoopFile(t, img)
	mnt := t.TempDir()
	testenv.Run(t, "mount", "-o", "commit=300", dev, mnt)
	t.Cleanup(func() { testenv.RunErr("umount", mnt) })
	// One commit first, so the fsync below goes to the log tree and not
	// to a full commit of a brand new filesystem.
	testenv.Run(t, "btrfs", "filesystem", "sync", mnt)
	file := filepath.Join(mnt, "f")
	testenv.Run(t, "xfs_io", "-f", "-c", "pwrite 0 64k", "-c", "fsync", file)
	testenv.Run(t, "xfs_io", "-c", "pwrite 64k 64k", "-c", "fsync", file)

	copyImg := filepath.Join(t.TempDir(), "copy.img")
	testenv.Run(t, "cp", "--sparse=always", img, copyImg)
	d := btrfsDumpSuper(t, copyImg)
	if d.fields["log_root"] == "0" {
		t.Skipf("the kernel committed instead of logging (log_root 0); cannot make a log tree here")
	}
	x := btrfsReadDev(t, copyImg)
	btrfsCompareDump(t, x, d)
	if x.LogRoot == 0 || x.Super().State != StateNeedsRecovery {
		t.Errorf("log_root %d, State %s; want needs_recovery", x.LogRoot, x.Super().State)
	}
}

// TestBtrfsDamaged: damaged seeds give the right typed errors.
func TestBtrfsDamaged(t *testing.T) {
	img := btrfsSeedImage(t, "crc32c.bin")
	for _, c := range []struct {
		name, field string
		off         int
		b           []byte
		fix         bool // recompute the crc32c so the check behind it is reached
	}{
		{"magic", "", 64, []byte("_BHRfS_X"), false},
		{"csum", "csum", 0, []byte{0xde, 0xad}, false},
		{"csum_type", "csum_type", 196, []byte{9, 0}, false},
		{"bytenr", "bytenr", 48, []byte{1}, true},
		{"sectorsize", "sectorsize", 144, []byte{0, 0x30, 0, 0}, true},
		{"nodesize", "nodesize", 148, []byte{0, 0x08, 0, 0}, true},
		{"num_devices", "num_devices", 136, []byte{0}, true},
		{"sys_array_size", "sys_array_size", 160, []byte{0x01, 0x09, 0, 0}, true},
		{"sys_chunk_key", "sys_chunk_array", btrfsSysArrOff + 8, []byte{1}, true},
		{"sys_chunk_stripes", "sys_chunk_array", btrfsSysArrOff + 17 + 44, []byte{0xff, 0xff}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), img...)
			copy(b[64<<10+c.off:], c.b)
			if c.fix {
				btrfsFixCRC(b[64<<10:])
			}
			_, err := ReadBtrfs(bytes.NewReader(b), int64(len(b)))
			if c.field == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("err %v, want ErrNotFound", err)
				}
				return
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Field != c.field || ce.Type != "btrfs" {
				t.Errorf("err %v, want a *CorruptError on %s", err, c.field)
			}
		})
	}
	if _, err := ReadBtrfs(bytes.NewReader(img[:64<<10]), 64<<10); !errors.Is(err, ErrNotFound) {
		t.Errorf("device shorter than the primary: %v", err)
	}
}

func btrfsFixCRC(sb []byte) {
	c, _, _ := btrfsChecksum(btrfsCsumCRC32C, sb[btrfsCsumSize:btrfsSuperSize])
	copy(sb, c)
}
