package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type sgiTestPart struct{ start, size, typ uint32 }

// synthSGI writes an SGI volume header with the given partitions (slot i
// holds parts[i]; a zero size leaves the slot empty) and a valid checksum.
func synthSGI(size int, parts []sgiTestPart) []byte {
	b := make([]byte, size)
	copy(b, sgiMagic)
	copy(b[8:], "sashARCS")
	for i, p := range parts {
		e := b[sgiPartsOff+i*sgiPartSize:]
		be.PutUint32(e[0:], p.size)
		be.PutUint32(e[4:], p.start)
		be.PutUint32(e[8:], p.typ)
	}
	sgiFixSum(b)
	return b
}

// sgiFixSum sets the checksum word so that the label's words sum to zero.
func sgiFixSum(b []byte) {
	be.PutUint32(b[504:], 0)
	var sum uint32
	for i := 0; i < 512; i += 4 {
		sum += be.Uint32(b[i:])
	}
	be.PutUint32(b[504:], -sum)
}

func TestSGI(t *testing.T) {
	img := synthSGI(4<<20, []sgiTestPart{
		{63, 4000, 0x83}, {0, 0, 0}, {4063, 2000, 0x82},
		8: {0, 4096, 0}, 10: {0, 8192, 6},
	})
	got := ptTable(t, img, 512)
	want := &Table{Type: "sgi", Entries: []Entry{
		{Number: 1, Start: 63, Size: 4000, Type: "0x83"},
		{Number: 3, Start: 4063, Size: 2000, Type: "0x82"},
		{Number: 9, Start: 0, Size: 4096, Type: "0x0"},
		{Number: 11, Start: 0, Size: 8192, Type: "0x6"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "sgi" || r.PTUUID != "" {
		t.Errorf("probe: %+v", r)
	}
	// A 32-bit type is printed whole.
	big := synthSGI(1<<20, []sgiTestPart{{1, 2, 0xdeadbeef}})
	if got := ptTable(t, big, 512); got.Entries[0].Type != "0xdeadbeef" {
		t.Errorf("type %+v", got.Entries)
	}
}

func TestSGINegative(t *testing.T) {
	good := synthSGI(1<<20, []sgiTestPart{{63, 4000, 0x83}})
	bad := append([]byte(nil), good...)
	bad[sgiPartsOff+3]++ // checksum no longer matches
	for name, img := range map[string][]byte{
		"checksum": bad,
		"no magic": append(make([]byte, 4), good[4:]...),
		"short":    good[:1000], // blkid reads the whole KiB holding the magic
	} {
		if got := ptTable(t, img, 512); got != nil {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func FuzzSGI(f *testing.F) {
	ptFuzz(f, synthSGI(1024, []sgiTestPart{{63, 4000, 0x83}, {4063, 2000, 0x82}}))
}
