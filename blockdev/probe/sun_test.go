package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type sunTestPart struct {
	cyl, size  uint32
	tag, flags uint16
}

// synthSunLabel writes a Sun label with nhead*nsect sectors per cylinder;
// vtoc false leaves the VTOC all zero, as old Linux tools did.
func synthSunLabel(size int, nhead, nsect uint16, vtoc bool, parts []sunTestPart) []byte {
	b := make([]byte, size)
	copy(b, "Linux cyl 1 alt 0 hd 255 sec 63")
	if vtoc {
		be.PutUint32(b[sunVTOCVersion:], 1)
		be.PutUint16(b[sunVTOCNParts:], sunMaxParts)
		be.PutUint32(b[sunVTOCSanity:], sunVTOCMagic)
	}
	be.PutUint16(b[sunNHead:], nhead)
	be.PutUint16(b[sunNSect:], nsect)
	for i, p := range parts {
		be.PutUint32(b[sunPartsOff+i*8:], p.cyl)
		be.PutUint32(b[sunPartsOff+i*8+4:], p.size)
		if vtoc {
			be.PutUint16(b[sunVTOCInfos+i*4:], p.tag)
			be.PutUint16(b[sunVTOCInfos+i*4+2:], p.flags)
		}
	}
	copy(b[sunMagicOff:], sunMagic)
	sunFixSum(b)
	return b
}

func sunFixSum(b []byte) {
	be.PutUint16(b[510:], 0)
	var x uint16
	for i := 0; i < 510; i += 2 {
		x ^= be.Uint16(b[i:])
	}
	be.PutUint16(b[510:], x)
}

func TestSun(t *testing.T) {
	// 16 heads * 63 sectors = 1008 sectors per cylinder.
	img := synthSunLabel(8<<20, 16, 63, true, []sunTestPart{
		{0, 2016, 0x83, 0}, {2, 1008, 0x82, 0x01}, {0, 16128, sunTagWholeDisk, 0}, {0, 0, 0x83, 0}, {3, 500, 0, 0x10},
	})
	want := &Table{Type: "sun", Entries: []Entry{
		{Number: 1, Start: 0, Size: 2016, Type: "0x83"},
		{Number: 2, Start: 2016, Size: 1008, Type: "0x82", Flags: 1},
		{Number: 5, Start: 3024, Size: 500, Type: "0x0", Flags: 0x10},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// No VTOC: tags are unknown (so no slot is the whole disk), all eight
	// slots are read.
	old := synthSunLabel(8<<20, 16, 63, false, []sunTestPart{{0, 2016, 0x83, 0}, 7: {4, 100, 0, 0}})
	want = &Table{Type: "sun", Entries: []Entry{
		{Number: 1, Start: 0, Size: 2016, Type: "0x0"},
		{Number: 8, Start: 4032, Size: 100, Type: "0x0"},
	}}
	if diff := cmp.Diff(want, ptTable(t, old, 512)); diff != "" {
		t.Errorf("no vtoc: (-want +got)\n%s", diff)
	}
	// A VTOC that says fewer partitions limits the slots read.
	few := synthSunLabel(8<<20, 1, 1, true, []sunTestPart{{1, 1, 0x83, 0}, {2, 1, 0x83, 0}, {3, 1, 0x83, 0}})
	be.PutUint16(few[sunVTOCNParts:], 2)
	sunFixSum(few)
	if got := ptTable(t, few, 512); len(got.Entries) != 2 {
		t.Errorf("nparts 2: %+v", got.Entries)
	}
	// A damaged VTOC (bad sanity) is not used, but nparts is then 8 and
	// the tags are ignored.
	insane := synthSunLabel(8<<20, 1, 1, true, []sunTestPart{{1, 1, sunTagWholeDisk, 3}})
	be.PutUint32(insane[sunVTOCSanity:], 1)
	sunFixSum(insane)
	want = &Table{Type: "sun", Entries: []Entry{{Number: 1, Start: 1, Size: 1, Type: "0x0"}}}
	if diff := cmp.Diff(want, ptTable(t, insane, 512)); diff != "" {
		t.Errorf("insane vtoc: (-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "sun" {
		t.Errorf("probe: %+v", r)
	}
}

func TestSunNegative(t *testing.T) {
	good := synthSunLabel(1<<20, 16, 63, true, []sunTestPart{{0, 2016, 0x83, 0}})
	bad := append([]byte(nil), good...)
	bad[sunPartsOff]++
	for name, img := range map[string][]byte{"checksum": bad, "short": good[:1023]} {
		if got := ptTable(t, img, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func FuzzSun(f *testing.F) {
	ptFuzz(f, synthSunLabel(1024, 16, 63, true, []sunTestPart{{0, 2016, 0x83, 0}, {2, 1008, 0x82, 1}}))
}
