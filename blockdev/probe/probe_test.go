package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func probeBytes(t *testing.T, b []byte, opts ...Option) *Result {
	t.Helper()
	r, err := ReaderAt(context.Background(), bytes.NewReader(b), int64(len(b)), opts...)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	return r
}

var (
	gptLinuxType = []byte{0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4}
	gptDisk      = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
)

func TestSyntheticImages(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		img  []byte
		want Result
	}{
		{"ext2", synthExt(2*mib, 0, 0x2, 0x1, "e2"), Result{Type: "ext2", Usage: UsageFilesystem, Version: "1.0", UUID: testUUIDString, Label: "e2"}},
		{"ext3", synthExt(2*mib, extCompatHasJournal, 0x2, 0x1, "e3"), Result{Type: "ext3", Usage: UsageFilesystem, Version: "1.0", UUID: testUUIDString, Label: "e3"}},
		{"ext4", synthExt(2*mib, extCompatHasJournal, 0x2|0x40, 0x1, "e4"), Result{Type: "ext4", Usage: UsageFilesystem, Version: "1.0", UUID: testUUIDString, Label: "e4"}},
		{"jbd", synthExt(2*mib, 0, extIncompatJournalDev, 0, ""), Result{Type: "jbd", Usage: UsageOther, Version: "1.0", UUID: testUUIDString}},
		{"xfs", synthXFS(2*mib, "x"), Result{Type: "xfs", Usage: UsageFilesystem, UUID: testUUIDString, Label: "x"}},
		{"btrfs", synthBtrfs(2*mib, "b"), Result{Type: "btrfs", Usage: UsageFilesystem, UUID: testUUIDString, UUIDSub: "01234567-89ab-cdef-1234-56789abcdef0", Label: "b"}},
		{"swap", synthSwap(2*mib, "sw"), Result{Type: "swap", Usage: UsageOther, Version: "1", UUID: testUUIDString, Label: "sw"}},
		{"lvm", synthLVM(2 * mib), Result{Type: "LVM2_member", Usage: UsageRaid, Version: "LVM2 001", UUID: "abcdef-ghij-klmn-opqr-stuv-wxyz-ABCDEF"}},
		{"luks1", synthLUKS(2*mib, 1, ""), Result{Type: "crypto_LUKS", Usage: UsageCrypto, Version: "1", UUID: testUUIDString}},
		{"luks2", synthLUKS(2*mib, 2, "lx"), Result{Type: "crypto_LUKS", Usage: UsageCrypto, Version: "2", UUID: testUUIDString, Label: "lx"}},
		{"squashfs", synthSquashfs(2 * mib), Result{Type: "squashfs", Usage: UsageFilesystem, Version: "4.0"}},
		{"iso", synthISO(2*mib, "CDLABEL", ""), Result{Type: "iso9660", Usage: UsageFilesystem, UUID: "2026-11-25-19-16-00-00", Label: "CDLABEL"}},
		{"iso joliet", synthISO(2*mib, "CDLABEL", "Joliet Name"), Result{Type: "iso9660", Usage: UsageFilesystem, Version: "Joliet Extension", UUID: "2026-11-25-19-16-00-00", Label: "Joliet Name"}},
		{"iso joliet same", synthISO(2*mib, "CDLABEL", "CDLABEL"), Result{Type: "iso9660", Usage: UsageFilesystem, Version: "Joliet Extension", UUID: "2026-11-25-19-16-00-00", Label: "CDLABEL"}},
		// blkid 2.38 takes LABEL from the root directory only; the boot
		// sector's copy is its LABEL_FATBOOT, which we do not carry.
		{"fat16 boot label only", synthFAT16(8*mib, "BOOTLBL", ""), Result{Type: "vfat", Usage: UsageFilesystem, Version: "FAT16", UUID: "2F77-0DD2"}},
		{"fat16 root label wins", synthFAT16(8*mib, "BOOTLBL", "ROOTLBL"), Result{Type: "vfat", Usage: UsageFilesystem, Version: "FAT16", UUID: "2F77-0DD2", Label: "ROOTLBL"}},
		{"fat16 NO NAME", synthFAT16(8*mib, "NO NAME", ""), Result{Type: "vfat", Usage: UsageFilesystem, Version: "FAT16", UUID: "2F77-0DD2"}},
		{"dos", synthMBR(64*mib, 0xc9e40a27, []synthPart{{2048, 2048, 0x83, true}, {8192, 20000, 0x05, false}}, []synthPart{{10240, 1000, 0x82, false}, {12288, 1000, 0x0c, false}}), Result{PTType: "dos", PTUUID: "c9e40a27"}},
		{"gpt", synthGPT(8*mib, gptDisk, []synthGPTPart{{gptLinuxType, testUUID, 2048, 4095, "data", 0}}), Result{PTType: "gpt", PTUUID: "04030201-0605-0807-090a-0b0c0d0e0f10"}},
		{"empty", make([]byte, 2*mib), Result{}},
		{"tiny", make([]byte, 100), Result{}},
		{"zero size", nil, Result{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := probeBytes(t, tc.img)
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestDOSEntries(t *testing.T) {
	img := synthMBR(64<<20, 0xc9e40a27,
		[]synthPart{{2048, 2048, 0x83, true}, {0, 0, 0, false}, {8192, 20000, 0x05, false}},
		[]synthPart{{10240, 1000, 0x82, false}, {12288, 1000, 0x0c, false}})
	tab, err := ReadTable(context.Background(), bytes.NewReader(img), int64(len(img)), 512)
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{Type: "dos", ID: "c9e40a27", Entries: []Entry{
		{Number: 1, Start: 2048, Size: 2048, Type: "0x83", UUID: "c9e40a27-01", Flags: 0x80},
		{Number: 3, Start: 8192, Size: 20000, Type: "0x5", UUID: "c9e40a27-03"},
		{Number: 5, Start: 10240, Size: 1000, Type: "0x82", UUID: "c9e40a27-05"},
		{Number: 6, Start: 12288, Size: 1000, Type: "0xc", UUID: "c9e40a27-06"},
	}}
	if diff := cmp.Diff(want, tab); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestDOSExtendedLoop(t *testing.T) {
	// An EBR that links to itself must end the walk, not spin.
	img := synthMBR(8<<20, 1, []synthPart{{2048, 8000, 0x05, false}}, []synthPart{{2049, 100, 0x83, false}})
	n := img[2048*512+462:]
	n[4] = 0x05
	copy(n[8:], []byte{0, 0, 0, 0})
	copy(n[12:], []byte{100, 0, 0, 0})
	tab, err := ReadTable(context.Background(), bytes.NewReader(img), int64(len(img)), 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Entries) != 2 {
		t.Fatalf("entries = %+v", tab.Entries)
	}
}

func TestGPTBackupAndPMBR(t *testing.T) {
	img := synthGPT(8<<20, gptDisk, []synthGPTPart{{gptLinuxType, testUUID, 2048, 4095, "data", 1 << 60}})
	// Corrupt the primary header: blkid falls back to the backup at the last LBA.
	img[512+40]++
	tab, err := ReadTable(context.Background(), bytes.NewReader(img), int64(len(img)), 512)
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{Type: "gpt", ID: "04030201-0605-0807-090a-0b0c0d0e0f10", Entries: []Entry{{
		Number: 1, Start: 2048, Size: 2048, Type: "0fc63daf-8483-4772-8e79-3d69d8477de4",
		UUID: "78563412-bc9a-f0de-0123-456789abcdef", Name: "data", Flags: 1 << 60,
	}}}
	if diff := cmp.Diff(want, tab); diff != "" {
		t.Errorf("backup: (-want +got)\n%s", diff)
	}
	// Both headers bad: only the protective MBR is left.
	img[len(img)-512+40]++
	if got := probeBytes(t, img); got.PTType != "PMBR" {
		t.Errorf("PTType = %q, want PMBR", got.PTType)
	}
}

func TestAmbiguous(t *testing.T) {
	img := synthBtrfs(2<<20, "b")
	copy(img, synthXFS(512, "x"))
	got := probeBytes(t, img)
	if got.Type != "" || !slices.Equal(got.Ambiguous, []string{"xfs", "btrfs"}) {
		t.Errorf("got %+v, want ambiguous xfs, btrfs", got)
	}
	// iso9660 tolerates company only when everything found is tolerant;
	// with an intolerant filesystem beside it, the result is ambiguous.
	img = synthISO(2<<20, "CD", "")
	copy(img[0x10000:], synthBtrfs(0x11000, "b")[0x10000:])
	if got := probeBytes(t, img); len(got.Ambiguous) != 2 {
		t.Errorf("iso+btrfs: got %+v", got)
	}
	// A container ends the search: LUKS over stale ext4 is LUKS.
	img = synthExt(2<<20, extCompatHasJournal, 0x42, 1, "old")
	copy(img, synthLUKS(512, 1, ""))
	if got := probeBytes(t, img); got.Type != "crypto_LUKS" || got.Ambiguous != nil {
		t.Errorf("luks over ext4: got %+v", got)
	}
	// On a floppy-sized device the first match wins.
	img = synthBtrfs(0x11000, "b")
	copy(img, synthXFS(512, "x"))
	if got := probeBytes(t, img); got.Type != "xfs" {
		t.Errorf("tiny: got %+v", got)
	}
}

// TestLVMAndPartitionTable: blkid's wiper rule. A dos table under an LVM2
// label replaces it; a GPT is reported beside it; both as blkid says.
func TestLVMAndPartitionTable(t *testing.T) {
	dos := synthMBR(2<<20, 7, []synthPart{{2048, 100, 0x83, false}}, nil)
	copy(dos[512:1024], synthLVM(1024)[512:])
	if got := probeBytes(t, dos); got.Type != "" || got.PTType != "dos" {
		t.Errorf("dos under LVM2: got %+v, want the dos table alone", got)
	}
	compareWithBlkid(t, writeImage(t, "lvm-dos.img", dos))
	gpt := synthGPT(8<<20, gptDisk, []synthGPTPart{{gptLinuxType, testUUID, 2048, 4095, "data", 0}})
	// The LVM label in sector 2 or 3 leaves the GPT header in sector 1.
	lbl := synthLVM(2048)[512:1024]
	binary.LittleEndian.PutUint64(lbl[8:], 2)
	crc := ^crc32.Update(^uint32(0xf597a6cf), crc32.IEEETable, lbl[20:512])
	binary.LittleEndian.PutUint32(lbl[16:], crc)
	copy(gpt[1024:1536], lbl)
	if got := probeBytes(t, gpt); got.Type != "LVM2_member" || got.PTType != "gpt" {
		t.Errorf("gpt beside LVM2: got %+v, want both", got)
	}
	compareWithBlkid(t, writeImage(t, "lvm-gpt.img", gpt))
}

func TestCorruptNotDetected(t *testing.T) {
	xfs := synthXFS(2<<20, "x")
	xfs[127] = 101 // imax_pct above 100
	lvm := synthLVM(2 << 20)
	lvm[512+40]++ // breaks the label CRC
	swap := synthSwap(2<<20, "s")
	copy(swap[1028:], []byte{0, 0, 0, 0}) // last page unset
	sq := synthSquashfs(2 << 20)
	sq[0] = 'x' // no squashfs magic of either version
	fat := synthFAT16(8<<20, "L", "")
	fat[0x15] = 0x12 // impossible media byte
	for name, img := range map[string][]byte{"xfs": xfs, "lvm": lvm, "swap": swap, "squashfs": sq, "fat": fat} {
		// A broken FAT boot sector still ends in 0x55AA and so reads as an
		// empty dos table, as in blkid; what matters is no filesystem.
		if got := probeBytes(t, img); got.Type != "" || got.Ambiguous != nil {
			t.Errorf("%s: got %+v, want no filesystem", name, got)
		}
	}
}

type failingReader struct{ failAt int64 }

var errDisk = errors.New("disk on fire")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.failAt {
		return 0, errDisk
	}
	return len(p), nil
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	_, err := ReaderAt(ctx, failingReader{0}, 1<<20)
	var re *ReadError
	if !errors.Is(err, ErrRead) || !errors.Is(err, errDisk) || !errors.As(err, &re) || re.Off != 0 {
		t.Errorf("head read failure: %v", err)
	}
	// A failure beyond the head, while following a GPT, is reported too.
	img := synthGPT(8<<20, gptDisk, nil)
	img[512+40]++
	_, err = ReaderAt(ctx, readerFailingAfter{bytes.NewReader(img), int64(len(img)) - 512}, int64(len(img)))
	if !errors.Is(err, ErrRead) {
		t.Errorf("backup GPT read failure: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ReaderAt(cctx, bytes.NewReader(img), int64(len(img))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, o := range []Option{WithParent("", "8:0", 0, 1), WithParent("/dev/sda", "8:0", 0, 0), WithParentTable(nil, "8:0", 0, 0), WithSectorSize(1000)} {
		if _, err := ReaderAt(ctx, bytes.NewReader(img), 10, o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("option: %v", err)
		}
	}
	if _, err := ReaderAt(ctx, nil, 10); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := Path(ctx, "/nonexistent/device"); err == nil {
		t.Error("missing path: no error")
	}
	if _, err := TablePath(ctx, "/nonexistent/device"); err == nil {
		t.Error("missing path: no error")
	}
	// A parent that cannot be opened is an error, not a silent omission.
	if _, err := ReaderAt(ctx, bytes.NewReader(img), int64(len(img)), WithParent("/nonexistent/disk", "8:0", 2048, 10)); err == nil {
		t.Error("missing parent: no error")
	}
}

func TestParentTable(t *testing.T) {
	disk := synthMBR(32<<20, 0xabcd, []synthPart{{2048, 4096, 0x83, false}, {8192, 20000, 0x05, false}}, []synthPart{{10240, 1000, 0x82, false}})
	tab, err := ReadTable(context.Background(), bytes.NewReader(disk), int64(len(disk)), 0)
	if err != nil {
		t.Fatal(err)
	}
	part := disk[10240*512 : 11240*512]
	got := probeBytes(t, part, WithParentTable(tab, "7:0", 10240, 1000))
	want := &Result{HasPartEntry: true, PartEntryScheme: "dos", PartEntryUUID: "0000abcd-05", PartEntryType: "0x82",
		PartEntryNumber: 5, PartEntryOffset: 10240, PartEntrySize: 1000, PartEntryDisk: "7:0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// The kernel shows an extended partition as 2 sectors: matched by start.
	ext := probeBytes(t, disk[8192*512:8194*512], WithParentTable(tab, "7:0", 8192, 2))
	if ext.PartEntryNumber != 2 || ext.PartEntrySize != 20000 || ext.PTType != "dos" {
		t.Errorf("extended: %+v", ext)
	}
	// No entry at that start: no PART_ENTRY values, and no error.
	if r := probeBytes(t, part, WithParentTable(tab, "7:0", 3, 1000)); r.HasPartEntry {
		t.Errorf("unmatched: %+v", r)
	}
	if r := probeBytes(t, part, WithParentTable(nil, "7:0", 10240, 1000)); r.HasPartEntry {
		t.Errorf("nil table: %+v", r)
	}
}

type readerFailingAfter struct {
	r     io.ReaderAt
	limit int64
}

func (f readerFailingAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

// TestReadBudget proves a hostile extended-partition chain cannot make the
// probe read the whole device: the number of reads stays bounded.
func TestReadBudget(t *testing.T) {
	img := make([]byte, 64<<20)
	logical := []synthPart{}
	for i := 0; i < 200; i++ {
		logical = append(logical, synthPart{uint64(2050 + i*200), 100, 0x83, false})
	}
	copy(img, synthMBR(len(img), 9, []synthPart{{2048, 60000, 0x05, false}}, logical))
	cr := &countingReader{r: bytes.NewReader(img)}
	if _, err := ReaderAt(context.Background(), cr, int64(len(img))); err != nil {
		t.Fatal(err)
	}
	// The head, the tail window, and the budget.
	if cr.n > maxExtraReads+2 {
		t.Errorf("%d reads, budget %d", cr.n, maxExtraReads+2)
	}
}

type countingReader struct {
	r io.ReaderAt
	n int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.n++
	return c.r.ReadAt(p, off)
}

// TestReadCounts documents how many reads a probe issues. Any device pays a
// fixed cost that depends on its size alone, the places blkid reads too
// (it makes about three times as many reads on the same images): on a
// whole disk of 8 MiB, the head, the tail window (md, firmware RAID, DRBD,
// the GPT backup, nilfs2's backup), Promise's 8 copies beyond the tail and
// LUKS2's 6 secondary-header offsets beyond the head (128 KiB to 4 MiB):
// 16. Small reads take whole 4 KiB blocks and are remembered, so the VMFS
// headers at 1 and 2 MiB and the UFS superblock at 256 KiB come from the
// LUKS2 reads' blocks. A partition skips the firmware RAID probers and
// Promise with them; from 10 MiB on, a device whose head does not settle
// it pays one more read for the xfs external log scan. Each format then
// adds one read per structure that lives elsewhere (the dos case's EBR at
// 4 MiB shares LUKS2's block, and its first sector settles the log scan).
func TestReadCounts(t *testing.T) {
	count := func(img []byte, opts ...Option) int {
		cr := &countingReader{r: bytes.NewReader(img)}
		if _, err := ReaderAt(context.Background(), cr, int64(len(img)), opts...); err != nil {
			t.Fatal(err)
		}
		return cr.n
	}
	const disk = 8 << 20
	base := count(make([]byte, disk))
	if base != 16 {
		t.Errorf("zeroed %d-byte disk: %d reads, want 16", disk, base)
	}
	part := count(make([]byte, disk), WithParentTable(nil, "8:0", 2048, disk/512))
	if part != base-8 {
		t.Errorf("zeroed partition: %d reads, want %d (no Promise copies)", part, base-8)
	}
	gptBackup := synthGPT(disk, gptDisk, nil)
	gptBackup[512+40]++
	for _, tc := range []struct {
		name  string
		img   []byte
		extra int
	}{
		{"ext4", synthExt(disk, extCompatHasJournal, 0x42, 1, "e"), 0},
		{"btrfs", synthBtrfs(disk, "b"), 0},
		{"gpt", synthGPT(disk, gptDisk, nil), 0},
		{"gpt from backup", gptBackup, 0}, // the backup is in the tail window
		{"dos with 2 logicals", synthMBR(32<<20, 1, []synthPart{{8192, 20000, 0x05, false}}, []synthPart{{10240, 100, 0x83, false}, {12288, 100, 0x83, false}}), 1},
		{"fat16", synthFAT16(disk, "B", "R"), 1}, // the root directory ends past the head
	} {
		want := base + tc.extra
		if len(tc.img) != disk {
			want = count(make([]byte, len(tc.img))) + tc.extra
		}
		if n := count(tc.img); n != want {
			t.Errorf("%s: %d reads, want %d", tc.name, n, want)
		}
	}
}

type shortReader struct{ n int }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(s.n) {
		return 0, io.EOF
	}
	k := copy(p, make([]byte, s.n-int(off)))
	return k, io.EOF
}

// TestPooledHeadNoStaleData probes a filesystem, then a device that returns
// fewer bytes than its size claims: the recycled buffer must not let the
// first device's superblock show through.
func TestPooledHeadNoStaleData(t *testing.T) {
	for i := 0; i < 4; i++ {
		if r := probeBytes(t, synthExt(1<<20, extCompatHasJournal, 0x42, 1, "e")); r.Type != "ext4" {
			t.Fatalf("ext4: %+v", r)
		}
		r, err := ReaderAt(context.Background(), shortReader{100}, 1<<20)
		if err != nil || !r.Empty() {
			t.Fatalf("short device: %+v %v", r, err)
		}
	}
}
