package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type ultrixTestPart struct {
	blocks int32
	off    uint32
}

// synthUltrix writes the Ultrix table at the end of sector 31.
func synthUltrix(size int, parts []ultrixTestPart) []byte {
	b := make([]byte, size)
	l := b[ultrixSector*512+ultrixOff:]
	le.PutUint32(l[0:], ultrixMagic)
	le.PutUint32(l[4:], 1)
	for i, p := range parts {
		le.PutUint32(l[8+i*8:], uint32(p.blocks))
		le.PutUint32(l[12+i*8:], p.off)
	}
	return b
}

func TestUltrix(t *testing.T) {
	img := synthUltrix(4<<20, []ultrixTestPart{{32768, 0}, {0, 0}, {1000, 32768}, 7: {-1, 5}})
	want := &Table{Type: "ultrix", Entries: []Entry{
		{Number: 1, Start: 0, Size: 32768, Type: "0x0"},
		{Number: 3, Start: 32768, Size: 1000, Type: "0x0"},
		{Number: 8, Start: 5, Size: 1<<64 - 1, Type: "0x0"}, // a negative count, as blkid keeps it
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "ultrix" {
		t.Errorf("probe: %+v", r)
	}
	notValid := synthUltrix(4<<20, nil)
	le.PutUint32(notValid[ultrixSector*512+ultrixOff+4:], 2)
	for name, b := range map[string][]byte{"not valid": notValid, "short": img[:16383], "big endian": func() []byte {
		b := synthUltrix(4<<20, nil)
		be.PutUint32(b[ultrixSector*512+ultrixOff:], ultrixMagic)
		return b
	}()} {
		if got := ptTable(t, b, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func FuzzUltrix(f *testing.F) {
	ptFuzz(f, synthUltrix(16384, []ultrixTestPart{{32768, 0}, {1000, 32768}}))
}
