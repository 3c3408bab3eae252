package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type unixwareTestSlice struct {
	tag, flags  uint16
	start, size uint32
}

// synthUnixware returns the first 30 KiB of a UnixWare partition: the
// label in sector 29 and the magic also where blkid 2.38 looks for it.
func synthUnixware(slices []unixwareTestSlice) []byte {
	b := make([]byte, 30<<10)
	l := b[unixwareSector*512:]
	copy(l[4:], unixwareMagic) // d_magic, where the kernel looks
	le.PutUint32(l[unixwareVTOCOff:], unixwareVTOCMagic)
	for i, s := range slices {
		e := l[unixwareSlicesOff+i*unixwareSliceBytes:]
		le.PutUint16(e[0:], s.tag)
		le.PutUint16(e[2:], s.flags)
		le.PutUint32(e[4:], s.start)
		le.PutUint32(e[8:], s.size)
	}
	copy(b[(unixwareKBOff+unixwareSBOff>>10)<<10+unixwareSBOff&0x3ff:], unixwareMagic)
	return b
}

var unixwareTestSlices = []unixwareTestSlice{
	{unixwareTagWhole, unixwareFlagValid, 4096, 20000}, // slice 0, never read
	{2, unixwareFlagValid, 4096, 5000},
	{3, unixwareFlagValid, 9096, 1000},
	{4, 0x201, 10096, 100}, // not exactly the valid flag
	{unixwareTagWhole, unixwareFlagValid, 4096, 20000},
	{unixwareTagUnused, unixwareFlagValid, 1, 1},
	{4, unixwareFlagValid, 100, 100}, // outside the dos partition
	{0x0b, unixwareFlagValid, 20000, 4096},
}

func TestUnixware(t *testing.T) {
	img := ptDOSWith(16<<20, dosTypeUnixware, 4096, 20000, synthUnixware(unixwareTestSlices))
	want := &Table{Type: "dos", ID: "1234abcd", Entries: []Entry{
		{Number: 1, Start: 4096, Size: 20000, Type: "0x63", UUID: "1234abcd-01"},
		{Number: 5, Start: 4096, Size: 5000, Type: "0x2", Flags: 0x200, Scheme: "unixware"},
		{Number: 6, Start: 9096, Size: 1000, Type: "0x3", Flags: 0x200, Scheme: "unixware"},
		{Number: 7, Start: 20000, Size: 4096, Type: "0xb", Flags: 0x200, Scheme: "unixware"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// On the whole disk (or a partition probed alone) blkid -p names it.
	whole := make([]byte, 16<<20)
	copy(whole, synthUnixware(unixwareTestSlices))
	got := ptTable(t, whole, 512)
	if got == nil || got.Type != "unixware" || len(got.Entries) != 4 || got.Entries[3].Number != 4 || got.Entries[0].Scheme != "" {
		t.Errorf("whole disk: %+v", got)
	}
	if r := probeBytes(t, whole); r.PTType != "unixware" {
		t.Errorf("probe: %+v", r)
	}
	// blkid's own magic place matters, not d_magic alone.
	kernelOnly := append([]byte(nil), whole...)
	copy(kernelOnly[(unixwareKBOff+unixwareSBOff>>10)<<10+unixwareSBOff&0x3ff:], "\x00\x00\x00\x00")
	// No floppies.
	for name, b := range map[string][]byte{"magic at d_magic only": kernelOnly, "floppy": whole[:1440*1024]} {
		if got := ptTable(t, b, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
	// A dos partition of floppy size holds none either.
	small := ptDOSWith(16<<20, dosTypeUnixware, 4096, 2880, synthUnixware(unixwareTestSlices))
	if got := ptTable(t, small, 512); len(got.Entries) != 1 {
		t.Errorf("floppy-sized partition: %+v", got.Entries)
	}
}

func FuzzUnixware(f *testing.F) {
	whole := synthUnixware(unixwareTestSlices)
	nested := ptDOSWith(40<<10, dosTypeUnixware, 8, 3000, whole)
	ptFuzz(f, whole, nested)
}
