package probe

import (
	"context"
	"hash/crc32"
	"os"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// nilfs2SB describes one superblock copy for synthNilfs2.
type nilfs2SB struct {
	cno     uint64 // last checkpoint number
	devSize uint64 // 0: the image size
	bytes   uint16 // 0: 280, what mkfs.nilfs2 writes
	lbl     string
	badSum  bool
}

// synthNilfs2 writes a primary superblock (when p is set) and a backup
// (when bk is set), each with its CRC as the kernel computes it.
func synthNilfs2(size int, p, bk *nilfs2SB) []byte {
	b := make([]byte, size)
	if p != nil {
		nilfs2Put(b, nilfs2SBOff, size, p)
	}
	if bk != nil {
		nilfs2Put(b, int(nilfs2BackupOff(int64(size))), size, bk)
	}
	return b
}

func nilfs2Put(img []byte, off, size int, d *nilfs2SB) {
	sb := img[off : off+nilfs2SBSize]
	le.PutUint32(sb[0:], 2)
	le.PutUint16(sb[6:], nilfs2Magic)
	n := d.bytes
	if n == 0 {
		n = 280
	}
	le.PutUint16(sb[8:], n)
	le.PutUint32(sb[12:], 0x5eed1234)
	le.PutUint32(sb[20:], 2)
	dev := d.devSize
	if dev == 0 {
		dev = uint64(size)
	}
	le.PutUint64(sb[32:], dev)
	le.PutUint64(sb[56:], d.cno)
	copy(sb[152:], testUUID)
	copy(sb[168:248], d.lbl)
	// crc32_le seeded with s_crc_seed over the first s_bytes bytes, the
	// sum field read as zero
	crc := ^crc32.Update(^uint32(0x5eed1234), crc32.IEEETable, sb[:16])
	crc = ^crc32.Update(^crc, crc32.IEEETable, make([]byte, 4))
	if int(n) <= nilfs2SBSize && n >= 20 {
		crc = ^crc32.Update(^crc, crc32.IEEETable, sb[20:n])
	}
	if d.badSum {
		crc++
	}
	le.PutUint32(sb[16:], crc)
}

func TestNilfs2(t *testing.T) {
	const size = 2 << 20
	nilfs := func(lbl string) *Result {
		return &Result{Type: "nilfs2", Usage: UsageFilesystem, Version: "2", UUID: testUUIDString, Label: lbl}
	}
	cases := []imageCase{
		{"primary only", synthNilfs2(size, &nilfs2SB{cno: 1, lbl: "primary"}, nil), nilfs("primary")},
		{"both, backup older", synthNilfs2(size, &nilfs2SB{cno: 3, lbl: "primary"}, &nilfs2SB{cno: 2, lbl: "backup"}), nilfs("backup")},
		{"both, backup newer", synthNilfs2(size, &nilfs2SB{cno: 2, lbl: "primary"}, &nilfs2SB{cno: 3, lbl: "backup"}), nilfs("primary")},
		{"both, same checkpoint", synthNilfs2(size, &nilfs2SB{cno: 3, lbl: "primary"}, &nilfs2SB{cno: 3, lbl: "backup"}), nilfs("primary")},
		{"backup only", synthNilfs2(size, nil, &nilfs2SB{cno: 1, lbl: "backup"}), nilfs("backup")},
		{"primary with a bad sum", synthNilfs2(size, &nilfs2SB{cno: 1, lbl: "primary", badSum: true}, &nilfs2SB{cno: 9, lbl: "backup"}), nilfs("backup")},
		{"both with bad sums", synthNilfs2(size, &nilfs2SB{cno: 1, badSum: true}, &nilfs2SB{cno: 1, badSum: true}), nil},
		// an image file is no whole disk to blkid: its backup is trusted
		// whatever device size it records
		{"backup of another size on an image", synthNilfs2(size, nil, &nilfs2SB{cno: 1, devSize: size * 2, lbl: "backup"}), nilfs("backup")},
		{"sum over the header only", synthNilfs2(size, &nilfs2SB{cno: 1, bytes: 20, lbl: "short"}, nil), nilfs("short")},
		{"sum shorter than its header", synthNilfs2(size, &nilfs2SB{cno: 1, bytes: 19, lbl: "x"}, nil), nil},
		{"sum over the whole superblock", synthNilfs2(size, &nilfs2SB{cno: 1, bytes: 1024, lbl: "whole"}, nil), nilfs("whole")},
		{"sum longer than the superblock", synthNilfs2(size, &nilfs2SB{cno: 1, bytes: 1025, lbl: "x"}, nil), nil},
		{"full-width label", synthNilfs2(size, &nilfs2SB{cno: 1, lbl: "0123456789012345678901234567890123456789012345678901234567890123456789012345678 "}, nil),
			nilfs("0123456789012345678901234567890123456789012345678901234567890123456789012345678")},
		{"odd size", synthNilfs2(size+300, nil, &nilfs2SB{cno: 1, lbl: "odd"}), nilfs("odd")},
		{"smallest device", synthNilfs2(1<<20, nil, &nilfs2SB{cno: 1, lbl: "small"}), nilfs("small")},
		{"under 1 MiB", synthNilfs2(1<<20-512, &nilfs2SB{cno: 1, lbl: "small"}, nil), nil},
		{"no magic", synthNilfs2(size, nil, nil), nil},
	}
	checkImages(t, cases)
}

// TestNilfs2WholeDisk: on a whole disk blkid trusts a backup only when it
// records the disk's size; on a partition or an image file it does not
// look. The loop device is a whole disk, the image file and a partition
// are not.
func TestNilfs2WholeDisk(t *testing.T) {
	const size = 2 << 20
	stale := synthNilfs2(size, nil, &nilfs2SB{cno: 1, devSize: size * 2, lbl: "stale"})
	behind := synthNilfs2(size, &nilfs2SB{cno: 5, lbl: "primary"}, &nilfs2SB{cno: 1, devSize: size * 2, lbl: "stale"})
	want := &Result{Type: "nilfs2", Usage: UsageFilesystem, Version: "2", UUID: testUUIDString, Label: "stale"}
	part := probeBytes(t, stale, WithParentTable(nil, "7:0", 2048, size/512))
	if diff := cmp.Diff(want, part); diff != "" {
		t.Errorf("partition: (-want +got)\n%s", diff)
	}
	img := writeImage(t, "nilfs2-stale.img", stale)
	if r, err := Path(context.Background(), img); err != nil || r.Type != "nilfs2" {
		t.Errorf("image file: %+v, %v", r, err)
	}

	testenv.RequireRoot(t)
	dev := testenv.LoopFileReadOnly(t, img)
	if r := compareWithBlkid(t, dev); r.Type != "" {
		t.Errorf("stale backup on a whole disk: %+v", r)
	}
	dev = testenv.LoopFileReadOnly(t, writeImage(t, "nilfs2-behind.img", behind))
	if r := compareWithBlkid(t, dev); r.Label != "primary" {
		t.Errorf("stale backup beside a good primary: %+v", r)
	}
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := newSource(context.Background(), f, size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if !nilfs2WholeDisk(s) {
		t.Errorf("%s is not a whole disk", dev)
	}
}

func FuzzNilfs2(f *testing.F) {
	fuzzProbers(f, nilfs2SBOff, [][]byte{
		region(synthNilfs2(1<<20, &nilfs2SB{cno: 1, lbl: "n"}, nil), nilfs2SBOff, nilfs2SBSize),
	}, probeNilfs2)
}
