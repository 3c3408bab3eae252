package fsioctl

import (
	"encoding/binary"
	"errors"
	"testing"
)

func header(objectid, offset uint64, typ, n uint32) []byte {
	b := make([]byte, SizeofBtrfsSearchHeader)
	binary.NativeEndian.PutUint64(b[8:], objectid)
	binary.NativeEndian.PutUint64(b[16:], offset)
	binary.NativeEndian.PutUint32(b[24:], typ)
	binary.NativeEndian.PutUint32(b[28:], n)
	return b
}

func devExtent(length uint64) []byte {
	b := make([]byte, SizeofBtrfsDevExtent)
	binary.LittleEndian.PutUint64(b[24:], length)
	return b
}

func TestBtrfsSearchItems(t *testing.T) {
	var buf []byte
	buf = append(buf, header(1, 1<<20, BtrfsDevExtentKey, SizeofBtrfsDevExtent)...)
	buf = append(buf, devExtent(8<<20)...)
	buf = append(buf, header(1, 9<<20, BtrfsDevExtentKey, SizeofBtrfsDevExtent)...)
	buf = append(buf, devExtent(256<<20)...)
	var got []uint64
	err := BtrfsSearchItems(buf, 2, func(h BtrfsSearchHeader, item []byte) {
		n, ok := BtrfsDevExtentLength(item)
		if !ok || h.ObjectID != 1 || h.Type != BtrfsDevExtentKey {
			t.Errorf("bad item %+v", h)
		}
		got = append(got, h.Offset, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{1 << 20, 8 << 20, 9 << 20, 256 << 20}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("got %v want %v", got, want)
	}
	// One item more than the buffer holds, and an item that runs past it.
	if err := BtrfsSearchItems(buf, 3, func(BtrfsSearchHeader, []byte) {}); !errors.Is(err, ErrShortItem) {
		t.Errorf("3 items in a 2-item buffer: %v", err)
	}
	if err := BtrfsSearchItems(buf[:SizeofBtrfsSearchHeader+10], 1, func(BtrfsSearchHeader, []byte) {}); !errors.Is(err, ErrShortItem) {
		t.Errorf("truncated item: %v", err)
	}
	if _, ok := BtrfsDevExtentLength(make([]byte, 31)); ok {
		t.Error("31-byte dev extent accepted")
	}
}

func FuzzBtrfsSearchItems(f *testing.F) {
	seed := append(header(1, 1<<20, BtrfsDevExtentKey, SizeofBtrfsDevExtent), devExtent(1<<30)...)
	f.Add(seed, uint32(1))
	f.Add(seed, uint32(2))
	f.Add(seed[:40], uint32(1))
	f.Add([]byte{}, uint32(0))
	f.Fuzz(func(t *testing.T, buf []byte, n uint32) {
		if n > 1<<16 {
			n = 1 << 16
		}
		total := 0
		err := BtrfsSearchItems(buf, n, func(h BtrfsSearchHeader, item []byte) {
			total += SizeofBtrfsSearchHeader + len(item)
			BtrfsDevExtentLength(item)
		})
		if total > len(buf) {
			t.Fatalf("items cover %d bytes of a %d-byte buffer", total, len(buf))
		}
		if err != nil && !errors.Is(err, ErrShortItem) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
