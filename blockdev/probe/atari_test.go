package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type atariTestPart struct {
	flags       byte
	id          string
	start, size uint32
}

func atariPut(e []byte, p atariTestPart) {
	e[0] = p.flags
	copy(e[1:4], p.id)
	be.PutUint32(e[4:], p.start)
	be.PutUint32(e[8:], p.size)
}

// synthAtari writes an Atari root sector for a disk of size bytes (its
// hd_size), with four primary entries and, when icd is set, ICD entries.
func synthAtari(size int, parts [4]atariTestPart, icd []atariTestPart) []byte {
	b := make([]byte, size)
	be.PutUint32(b[atariHDSizeOff:], uint32(size/512))
	for i, p := range parts {
		atariPut(b[atariPartsOff+i*atariEntrySize:], p)
	}
	for i, p := range icd {
		atariPut(b[atariICDOff+i*atariEntrySize:], p)
	}
	return b
}

// atariXGMChain writes extended root sectors: the first at sector first,
// each holding one data partition (relative to itself) and a link to the
// next one (relative to the first).
func atariXGMChain(b []byte, first uint32, links []uint32, data []atariTestPart) {
	for i, d := range data {
		at := first
		if i > 0 {
			at = first + links[i-1]
		}
		xrs := b[at*512:]
		atariPut(xrs[atariPartsOff:], d)
		if i+1 < len(data) {
			atariPut(xrs[atariPartsOff+atariEntrySize:], atariTestPart{1, "XGM", links[i], 10})
		}
	}
}

func TestAtari(t *testing.T) {
	const size = 8 << 20 // 16384 sectors
	img := synthAtari(size, [4]atariTestPart{
		{0x81, "GEM", 2, 1000}, {0, "BGM", 1002, 10}, {1, "LNX", 2000, 3000}, {1, "X\x00Z", 6000, 100},
	}, nil)
	want := &Table{Type: "atari", Entries: []Entry{
		{Number: 1, Start: 2, Size: 1000, Type: "GEM"},
		{Number: 3, Start: 2000, Size: 3000, Type: "LNX"},
		{Number: 4, Start: 6000, Size: 100, Type: "X"}, // the id ends at its NUL
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "atari" {
		t.Errorf("probe: %+v", r)
	}
	// Atari tables exist for 512-byte sectors only.
	if got := ptTable(t, img, 4096); got != nil {
		t.Errorf("4096-byte sectors: %+v", got)
	}
}

func TestAtariXGM(t *testing.T) {
	const size = 8 << 20
	img := synthAtari(size, [4]atariTestPart{{1, "GEM", 2, 9}, {1, "XGM", 100, 5000}, {1, "RAW", 8000, 10}}, nil)
	atariXGMChain(img, 100, []uint32{1000, 2000}, []atariTestPart{{1, "LNX", 1, 500}, {1, "SWP", 1, 600}, {1, "RAW", 1, 700}})
	want := &Table{Type: "atari", Entries: []Entry{
		{Number: 1, Start: 2, Size: 9, Type: "GEM"},
		// The XGM entry uses no number; its chain's partitions do.
		{Number: 2, Start: 101, Size: 500, Type: "LNX"},
		{Number: 3, Start: 1101, Size: 600, Type: "SWP"},
		{Number: 4, Start: 2101, Size: 700, Type: "RAW"},
		{Number: 5, Start: 8000, Size: 10, Type: "RAW"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// A link that is not XGM ends the chain, keeping what was listed.
	be.PutUint32(img[1100*512+atariPartsOff+atariEntrySize:], 0x01424144) // active, "BAD"
	if got := ptTable(t, img, 512); len(got.Entries) != 4 || got.Entries[3].Start != 8000 {
		t.Errorf("broken chain: %+v", got.Entries)
	}
	// A chain that loops on itself ends at the first start seen twice.
	loop := synthAtari(size, [4]atariTestPart{{1, "XGM", 100, 5000}}, nil)
	atariXGMChain(loop, 100, []uint32{0}, []atariTestPart{{1, "LNX", 1, 500}, {1, "LNX", 1, 500}})
	if got := ptTable(t, loop, 512); len(got.Entries) != 1 {
		t.Errorf("loop: %+v", got.Entries)
	}
}

func TestAtariICD(t *testing.T) {
	const size = 8 << 20
	img := synthAtari(size, [4]atariTestPart{{1, "GEM", 2, 100}},
		[]atariTestPart{{1, "BGM", 200, 100}, {1, "FOO", 300, 100}, {0, "LNX", 400, 100}, {1, "SWP", 2, 50}, {1, "RAW", 500, 100}})
	want := &Table{Type: "atari", Entries: []Entry{
		{Number: 1, Start: 2, Size: 100, Type: "GEM"},
		// Primary slots 2-4 are empty; ICD slots 5-12 follow. An unknown
		// id or an inactive slot uses its number, and so does a start
		// already listed.
		{Number: 5, Start: 200, Size: 100, Type: "BGM"},
		{Number: 9, Start: 500, Size: 100, Type: "RAW"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// ICD entries are not read when the first one has no common id.
	img2 := synthAtari(size, [4]atariTestPart{{1, "GEM", 2, 100}}, []atariTestPart{{1, "ABC", 200, 100}, {1, "RAW", 300, 100}})
	if got := ptTable(t, img2, 512); len(got.Entries) != 1 {
		t.Errorf("no ICD: %+v", got.Entries)
	}
}

func TestAtariNegative(t *testing.T) {
	const size = 8 << 20
	mk := func(hd uint32, p atariTestPart, bsl [2]uint32) []byte {
		b := synthAtari(size, [4]atariTestPart{p}, nil)
		be.PutUint32(b[atariHDSizeOff:], hd)
		be.PutUint32(b[atariBSLOff:], bsl[0])
		be.PutUint32(b[atariBSLOff+4:], bsl[1])
		return b
	}
	ok := atariTestPart{1, "GEM", 2, 100}
	for name, img := range map[string][]byte{
		"hd_size too large":   mk(16385, ok, [2]uint32{}),
		"hd_size 1":           mk(1, ok, [2]uint32{}),
		"inactive":            mk(16384, atariTestPart{0x80, "GEM", 2, 100}, [2]uint32{}),
		"id not alnum":        mk(16384, atariTestPart{1, "GE-", 2, 100}, [2]uint32{}),
		"start 0":             mk(16384, atariTestPart{1, "GEM", 0, 100}, [2]uint32{}),
		"past hd_size":        mk(100, atariTestPart{1, "GEM", 2, 99}, [2]uint32{}),
		"end wraps":           mk(16384, atariTestPart{1, "GEM", 0xffffff00, 0x200}, [2]uint32{}),
		"bad sector list bad": mk(16384, ok, [2]uint32{0, 5}),
		"short":               synthAtari(size, [4]atariTestPart{ok}, nil)[:511],
	} {
		if got := ptTable(t, img, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
	// Latin-1 letters are alphanumeric to the kernel, and so to blkid.
	if got := ptTable(t, mk(16384, atariTestPart{1, "\xc0\xe9Z", 2, 100}, [2]uint32{5, 5}), 512); got == nil {
		t.Error("Latin-1 id not accepted")
	}
	if got := ptTable(t, mk(16384, atariTestPart{1, "\xd7AB", 2, 100}, [2]uint32{}), 512); got != nil {
		t.Error("multiplication sign accepted as a letter")
	}
}

func FuzzAtari(f *testing.F) {
	img := synthAtari(8192, [4]atariTestPart{{1, "GEM", 1, 1}, {1, "XGM", 4, 10}}, []atariTestPart{{1, "RAW", 2, 1}})
	atariXGMChain(img, 4, []uint32{5}, []atariTestPart{{1, "LNX", 1, 2}, {1, "SWP", 1, 2}})
	ptFuzz(f, img, synthAtari(4096, [4]atariTestPart{{1, "GEM", 2, 6}}, []atariTestPart{{1, "BGM", 3, 1}}))
}
