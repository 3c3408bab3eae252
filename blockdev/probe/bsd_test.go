package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type bsdTestPart struct {
	offset, size uint32
	fstype       byte
}

// synthBSDLabel returns the first KiB of a disk or slice with a BSD
// disklabel at byte off (512, 64 or 128).
func synthBSDLabel(off int, parts []bsdTestPart) []byte {
	b := make([]byte, 1024)
	l := b[off:]
	copy(l, bsdMagic)
	copy(l[132:], bsdMagic)
	le.PutUint16(l[bsdNPartsOff:], uint16(len(parts)))
	for i, p := range parts {
		e := l[bsdPartsOff+i*bsdPartSize:]
		le.PutUint32(e[0:], p.size)
		le.PutUint32(e[4:], p.offset)
		e[12] = p.fstype
	}
	return b
}

func TestBSDInDOS(t *testing.T) {
	const mib = 1 << 20
	slice := []bsdTestPart{{4096, 1000, 7}, {5096, 500, 1}, {4096, 8192, 0}, {0, 100, 7}, {12000, 500, 7}}
	for _, tc := range []struct {
		typ    byte
		scheme string
	}{{0xa5, "freebsd"}, {0xa6, "openbsd"}, {0xa9, "netbsd"}} {
		img := ptDOSWith(16*mib, tc.typ, 4096, 8192, synthBSDLabel(512, slice))
		want := &Table{Type: "dos", ID: "1234abcd", Entries: []Entry{
			{Number: 1, Start: 4096, Size: 8192, Type: ptTypeHex(uint64(tc.typ)), UUID: "1234abcd-01"},
			{Number: 5, Start: 4096, Size: 1000, Type: "0x7", Scheme: tc.scheme},
			{Number: 6, Start: 5096, Size: 500, Type: "0x1", Scheme: tc.scheme},
			// unused 'c', and two outside the slice: not listed, no number
		}}
		if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.scheme, diff)
		}
		// blkid -p names the dos table only, on the disk and on the slice.
		if r := probeBytes(t, img); r.PTType != "dos" {
			t.Errorf("%s: disk %+v", tc.scheme, r)
		}
	}
}

// TestBSDFreeBSDRelative: FreeBSD 10 writes offsets relative to the slice,
// recognised by a 'c' partition at 0; other BSDs are never shifted.
func TestBSDFreeBSDRelative(t *testing.T) {
	const mib = 1 << 20
	label := synthBSDLabel(512, []bsdTestPart{{16, 1000, 7}, {1016, 2000, 1}, {0, 8192, 0}})
	img := ptDOSWith(16*mib, 0xa5, 4096, 8192, label)
	got := ptTable(t, img, 512)
	want := []Entry{
		{Number: 1, Start: 4096, Size: 8192, Type: "0xa5", UUID: "1234abcd-01"},
		{Number: 5, Start: 4112, Size: 1000, Type: "0x7", Scheme: "freebsd"},
		{Number: 6, Start: 5112, Size: 2000, Type: "0x1", Scheme: "freebsd"},
	}
	if diff := cmp.Diff(want, got.Entries); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// With a used 'c' spanning the slice (absolute, the old way), that
	// partition is the slice itself and is skipped.
	abs := ptDOSWith(16*mib, 0xa5, 4096, 8192, synthBSDLabel(512, []bsdTestPart{{4112, 1000, 7}, {4096, 8192, 7}, {4096, 8192, 7}}))
	if got := ptTable(t, abs, 512); len(got.Entries) != 2 || got.Entries[1].Start != 4112 {
		t.Errorf("absolute: %+v", got.Entries)
	}
	// NetBSD labels with the same layout stay relative, hence outside.
	nb := ptDOSWith(16*mib, 0xa9, 4096, 8192, label)
	if got := ptTable(t, nb, 512); len(got.Entries) != 1 {
		t.Errorf("netbsd: %+v", got.Entries)
	}
}

func TestBSDLocations(t *testing.T) {
	for _, off := range []int{512, 64, 128} {
		img := make([]byte, 4<<20)
		parts := make([]bsdTestPart, 16)
		parts[15] = bsdTestPart{100, 50, 7} // the last slot, past 512 bytes for off 128
		copy(img, synthBSDLabel(off, parts))
		want := &Table{Entries: []Entry{{Number: 1, Start: 100, Size: 50, Type: "0x7", Scheme: "bsd"}}}
		if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
			t.Errorf("label at %d: (-want +got)\n%s", off, diff)
		}
	}
	// More than 16 partitions declared: 16 are read.
	img := make([]byte, 4<<20)
	copy(img, synthBSDLabel(512, []bsdTestPart{{1, 1, 7}}))
	le.PutUint16(img[512+bsdNPartsOff:], 200)
	if got := ptTable(t, img, 512); len(got.Entries) != 1 {
		t.Errorf("npartitions 200: %+v", got)
	}
	// No magic, or a device too small for the KiB holding it: nothing.
	if got := ptTable(t, img[:1000], 512); got != nil {
		t.Errorf("short: %+v", got)
	}
	img[512]++
	if got := ptTable(t, img, 512); got != nil {
		t.Errorf("no magic: %+v", got)
	}
}

func FuzzBSD(f *testing.F) {
	whole := synthBSDLabel(512, []bsdTestPart{{16, 1000, 7}, {1016, 2000, 1}, {0, 8192, 0}})
	nested := ptDOSWith(4096, 0xa5, 2, 100, synthBSDLabel(64, []bsdTestPart{{2, 50, 7}, {52, 50, 7}, {0, 100, 0}}))
	ptFuzz(f, whole, nested)
}
