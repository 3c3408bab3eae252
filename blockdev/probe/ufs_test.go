package probe

import (
	"encoding/binary"
	"testing"
)

// synthUFS lays a UFS superblock at kb KiB in byte order o.
func synthUFS(size int, kb int64, magic uint32, o binary.ByteOrder, id0, id1 uint32, volname string) []byte {
	b := make([]byte, size)
	ufsPut(b, kb, magic, o, id0, id1, volname)
	return b
}

func ufsPut(b []byte, kb int64, magic uint32, o binary.ByteOrder, id0, id1 uint32, volname string) {
	sb := b[kb<<10:]
	o.PutUint32(sb[8:], 16) // fs_sblkno
	o.PutUint32(sb[48:], 8192)
	o.PutUint32(sb[52:], 1024)
	o.PutUint32(sb[144:], id0)
	o.PutUint32(sb[148:], id1)
	copy(sb[680:712], volname)
	o.PutUint32(sb[ufsMagicOff:], magic)
}

func TestUFS(t *testing.T) {
	const size = 1 << 20
	ufs := func(ver, uuid, lbl string) *Result {
		return &Result{Type: "ufs", Usage: UsageFilesystem, Version: ver, UUID: uuid, Label: lbl}
	}
	const id0, id1 = 0x4b0e640a, 0xec56ac70
	const uuid = "4b0e640aec56ac70"
	first := synthUFS(size, 0, 0x00011954, le, 1, 2, "")
	ufsPut(first, 64, ufs2Magic, le, id0, id1, "second")
	cases := []imageCase{
		{"ufs2 at 64 KiB", synthUFS(size, 64, ufs2Magic, le, id0, id1, "ufs2 label  "), ufs("2", uuid, "ufs2 label")},
		{"ufs2 big endian", synthUFS(size, 64, ufs2Magic, be, id0, id1, "be"), ufs("2", uuid, "be")},
		{"ufs2 full-width label", synthUFS(size, 64, ufs2Magic, le, id0, id1, "0123456789abcdef0123456789abcdef"), ufs("2", uuid, "0123456789abcdef0123456789abcdef")},
		// UFS1 keeps mount-point bytes where UFS2 has its volume name
		{"ufs1 at 8 KiB", synthUFS(size, 8, 0x00011954, le, id0, id1, "/mnt"), ufs("1", uuid, "")},
		{"ufs1 big endian", synthUFS(size, 8, 0x00011954, be, id0, id1, ""), ufs("1", uuid, "")},
		{"fea magic", synthUFS(size, 8, 0x00195612, le, id0, id1, ""), ufs("1", uuid, "")},
		{"long file name magic", synthUFS(size, 8, 0x00095014, be, id0, id1, ""), ufs("1", uuid, "")},
		{"security magic", synthUFS(size, 8, 0x00612195, le, id0, id1, ""), ufs("1", uuid, "")},
		{"4 GB magic", synthUFS(size, 8, 0x05231994, be, id0, id1, ""), ufs("1", uuid, "")},
		{"zero id", synthUFS(size, 8, 0x00011954, le, 0, 0, ""), ufs("1", "", "")},
		{"half an id", synthUFS(size, 8, 0x00011954, be, 0, 7, ""), ufs("1", "0000000000000007", "")},
		{"at 0", synthUFS(size, 0, 0x00011954, le, id0, id1, ""), ufs("1", uuid, "")},
		{"at 256 KiB", synthUFS(size, 256, ufs2Magic, be, id0, id1, "far"), ufs("2", uuid, "far")},
		{"first place wins", first, ufs("1", "0000000100000002", "")},
		{"smallest device at 0", synthUFS(ufsSBSize, 0, 0x00011954, le, id0, id1, ""), ufs("1", uuid, "")},
		{"superblock cut at 0", synthUFS(ufsSBSize-1, 0, 0x00011954, le, id0, id1, ""), nil},
		{"smallest device at 256 KiB", synthUFS(256<<10+ufsSBSize, 256, 0x00011954, le, id0, id1, ""), ufs("1", uuid, "")},
		{"superblock cut at 256 KiB", synthUFS(256<<10+ufsSBSize-1, 256, 0x00011954, le, id0, id1, ""), nil},
		{"no magic", synthUFS(size, 8, 0x00011955, le, id0, id1, ""), nil},
	}
	checkImages(t, cases)
}

// TestUFSReads: the read at 256 KiB is the only one outside the head, and
// only a device with no magic earlier pays for it.
func TestUFSReads(t *testing.T) {
	for _, tc := range []struct {
		kb    int64
		extra int
	}{{8, 0}, {64, 0}, {256, 1}} {
		img := synthUFS(4<<20, tc.kb, ufs2Magic, le, 1, 2, "")
		s := fuzzSource(t, img, 0, int64(len(img)))
		r, err := probeUFS(s)
		if r == nil || err != nil {
			t.Fatalf("at %d KiB: %+v, %v", tc.kb, r, err)
		}
		if s.extra != tc.extra {
			t.Errorf("at %d KiB: %d extra reads, want %d", tc.kb, s.extra, tc.extra)
		}
	}
}

func FuzzUFS(f *testing.F) {
	fuzzProbers(f, 8<<10, [][]byte{
		region(synthUFS(16<<10, 8, 0x00011954, le, 1, 2, ""), 8<<10, ufsSBSize),
		region(synthUFS(16<<10, 8, ufs2Magic, be, 1, 2, "l"), 8<<10, ufsSBSize),
	}, probeUFS)
}
