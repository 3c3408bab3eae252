package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type macTestEntry struct {
	name, typ    string
	start, count uint32
}

// synthMacMap writes a driver descriptor for bs-byte blocks and one map
// entry per block from block 1, each counting len(entries).
func synthMacMap(size, bs int, entries []macTestEntry) []byte {
	b := make([]byte, size)
	copy(b, macMagic)
	be.PutUint16(b[2:], uint16(bs))
	be.PutUint32(b[4:], uint32(size/bs))
	for i, e := range entries {
		p := b[(i+1)*bs:]
		copy(p, "PM")
		be.PutUint32(p[4:], uint32(len(entries)))
		be.PutUint32(p[8:], e.start)
		be.PutUint32(p[12:], e.count)
		copy(p[16:48], e.name)
		copy(p[48:80], e.typ)
	}
	return b
}

var macTestMap = []macTestEntry{
	{"Apple", "Apple_partition_map", 1, 63},
	{"Macintosh HD  ", "Apple_HFS", 64, 10000},
	{"", "", 10064, 100},
	{"linux\x00junk", "Apple_UNIX_SVR2", 10164, 2000},
}

func TestMac(t *testing.T) {
	img := synthMacMap(8<<20, 512, macTestMap)
	want := &Table{Type: "mac", Entries: []Entry{
		{Number: 1, Start: 1, Size: 63, Type: "Apple_partition_map", Name: "Apple"},
		{Number: 2, Start: 64, Size: 10000, Type: "Apple_HFS", Name: "Macintosh HD"},
		{Number: 3, Start: 10064, Size: 100, Type: "0x0"},
		{Number: 4, Start: 10164, Size: 2000, Type: "Apple_UNIX_SVR2", Name: "linux"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "mac" {
		t.Errorf("probe: %+v", r)
	}
	// 2048-byte blocks: offsets in 512-byte sectors, whatever the
	// device's logical sector size.
	cd := synthMacMap(8<<20, 2048, macTestMap[:2])
	for _, ssz := range []int{512, 4096} {
		got := ptTable(t, cd, ssz)
		if got == nil || len(got.Entries) != 2 || got.Entries[1].Start != 256 || got.Entries[1].Size != 40000 {
			t.Errorf("2048-byte blocks, %d-byte sectors: %+v", ssz, got)
		}
	}
	// The old "TS" signature is a map entry too.
	ts := synthMacMap(1<<20, 512, macTestMap[:1])
	copy(ts[512:], "TS")
	if got := ptTable(t, ts, 512); got == nil || got.Type != "mac" {
		t.Errorf("TS: %+v", got)
	}
}

// TestMacBrokenMap: blkid -p names the map on its first entry; its list
// takes the map only when every entry is signed and readable.
func TestMacBrokenMap(t *testing.T) {
	img := synthMacMap(8<<20, 512, macTestMap)
	copy(img[3*512:], "XX")
	want := &Table{Type: "mac"}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("unsigned entry: (-want +got)\n%s", diff)
	}
	// A map count past the device end: the same.
	img = synthMacMap(8<<20, 512, macTestMap)
	be.PutUint32(img[512+4:], 1<<20)
	if got := ptTable(t, img, 512); got == nil || got.Type != "mac" || got.Entries != nil {
		t.Errorf("map count past the end: %+v", got)
	}
	// Map entries past the head are read in one go (and counted).
	big := make([]macTestEntry, 200)
	for i := range big {
		big[i] = macTestEntry{"p", "Apple_Free", uint32(1000 + i), 1}
	}
	img = synthMacMap(8<<20, 512, big)
	if got := ptTable(t, img, 512); len(got.Entries) != 200 || got.Entries[199].Start != 1199 {
		t.Errorf("200 entries: %d", len(got.Entries))
	}
	// More than 256 counted: 256 read.
	huge := make([]macTestEntry, 300)
	for i := range huge {
		huge[i] = macTestEntry{"p", "t", uint32(i), 1}
	}
	if got := ptTable(t, synthMacMap(8<<20, 512, huge), 512); len(got.Entries) != 256 {
		t.Errorf("300 entries: %d listed", len(got.Entries))
	}
}

func TestMacNegative(t *testing.T) {
	good := synthMacMap(1<<20, 512, macTestMap[:1])
	small := append([]byte(nil), good...)
	be.PutUint16(small[2:], 135) // too small for a map entry
	unsigned := append([]byte(nil), good...)
	copy(unsigned[512:], "PX")
	for name, img := range map[string][]byte{"block size": small, "unsigned": unsigned, "short": good[:1000]} {
		if got := ptTable(t, img, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func FuzzMac(f *testing.F) {
	ptFuzz(f, synthMacMap(8192, 512, macTestMap), synthMacMap(8192, 2048, macTestMap[:3]))
}
