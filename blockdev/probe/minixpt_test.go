package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMinixPT(t *testing.T) {
	// The subpartition table is a dos-style sector at the start of the
	// minix partition, with absolute offsets.
	sub := synthMBR(512, 0, []synthPart{{4100, 2000, dosTypeMinix, true}, {6100, 1000, 0x83, false}, {7000, 6000, dosTypeMinix, false}, {8000, 1000, dosTypeMinix, false}}, nil)
	img := ptDOSWith(16<<20, dosTypeMinix, 4096, 8192, sub)
	want := &Table{Type: "dos", ID: "1234abcd", Entries: []Entry{
		{Number: 1, Start: 4096, Size: 8192, Type: "0x81", UUID: "1234abcd-01"},
		{Number: 5, Start: 4100, Size: 2000, Type: "0x81", Flags: 0x80, Scheme: "minix"},
		// 0x83 is not a subpartition; 7000+6000 runs past the partition.
		{Number: 6, Start: 8000, Size: 1000, Type: "0x81", Scheme: "minix"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// Probed alone, the same sector is a dos table, not minix.
	part := make([]byte, 8192*512)
	copy(part, sub)
	if got := ptTable(t, part, 512); got == nil || got.Type != "dos" {
		t.Errorf("alone: %+v", got)
	}
	// Under another dos type, a minix-looking sector is not read.
	other := ptDOSWith(16<<20, 0x83, 4096, 8192, sub)
	if got := ptTable(t, other, 512); len(got.Entries) != 1 {
		t.Errorf("type 0x83: %+v", got.Entries)
	}
}

func FuzzMinixPT(f *testing.F) {
	sub := synthMBR(512, 0, []synthPart{{3, 20, dosTypeMinix, true}, {30, 10, dosTypeMinix, false}}, nil)
	ptFuzz(f, ptDOSWith(4096, dosTypeMinix, 2, 100, sub))
}
