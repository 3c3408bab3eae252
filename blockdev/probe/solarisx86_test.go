package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type solarisTestSlice struct {
	tag, flag   uint16
	start, size uint32
}

// synthSolaris returns the first KiB of a Solaris x86 partition, its VTOC
// in sector 1 declaring nparts slices.
func synthSolaris(nparts uint16, slices []solarisTestSlice) []byte {
	b := make([]byte, 1024)
	v := b[512:]
	copy(v[12:], solarisMagic)
	le.PutUint32(v[solarisVersionOff:], 1)
	le.PutUint16(v[28:], 512)
	le.PutUint16(v[solarisNPartsOff:], nparts)
	for i, s := range slices {
		e := v[solarisSlicesOff+i*12:]
		le.PutUint16(e[0:], s.tag)
		le.PutUint16(e[2:], s.flag)
		le.PutUint32(e[4:], s.start)
		le.PutUint32(e[8:], s.size)
	}
	return b
}

var solarisTestSlices = []solarisTestSlice{
	{2, 0, 0, 4000},
	{3, 1, 4000, 1000},
	{solarisTagWhole, 0, 0, 10000},
	{4, 0x10, 5000, 0},    // empty
	{8, 0, 9000, 2000},    // past the partition's end
	{7, 0x10, 5000, 5000}, // the last slice declared: blkid does not read it
}

func TestSolaris(t *testing.T) {
	img := ptDOSWith(16<<20, 0x82, 4096, 10000, synthSolaris(6, solarisTestSlices))
	want := &Table{Type: "dos", ID: "1234abcd", Entries: []Entry{
		{Number: 1, Start: 4096, Size: 10000, Type: "0x82", UUID: "1234abcd-01"},
		{Number: 5, Start: 4096, Size: 4000, Type: "0x2", Scheme: "solaris"},
		{Number: 6, Start: 8096, Size: 1000, Type: "0x3", Flags: 1, Scheme: "solaris"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// Probed alone (a partition device), it is named and relative to 0.
	part := make([]byte, 10000*512)
	copy(part, synthSolaris(7, solarisTestSlices))
	got := ptTable(t, part, 512)
	wantAlone := []Entry{
		{Number: 1, Start: 0, Size: 4000, Type: "0x2"},
		{Number: 2, Start: 4000, Size: 1000, Type: "0x3", Flags: 1},
		{Number: 3, Start: 9000, Size: 2000, Type: "0x8"},
		{Number: 4, Start: 5000, Size: 5000, Type: "0x7", Flags: 0x10},
	}
	if got == nil || got.Type != "solaris" {
		t.Fatalf("alone: %+v", got)
	}
	if diff := cmp.Diff(wantAlone, got.Entries); diff != "" {
		t.Errorf("alone: (-want +got)\n%s", diff)
	}
	// Only version 1.
	v2 := synthSolaris(6, solarisTestSlices)
	le.PutUint32(v2[512+solarisVersionOff:], 2)
	copy(part, v2)
	if got := ptTable(t, part, 512); got != nil {
		t.Errorf("version 2: %+v", got)
	}
}

func FuzzSolarisX86(f *testing.F) {
	ptFuzz(f, synthSolaris(6, solarisTestSlices), ptDOSWith(4096, 0x82, 2, 100, synthSolaris(4, []solarisTestSlice{{2, 0, 0, 50}, {3, 0, 50, 50}})))
}
