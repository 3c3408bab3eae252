package probe

import (
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// swapPaged is synthSwap for a page size other than 4 KiB: the signature
// ends the first page.
func swapPaged(size, page int, magic, lbl string) []byte {
	b := synthSwap(size, lbl)
	copy(b[0xff6:], make([]byte, 10))
	copy(b[page-10:], magic)
	return b
}

func swapProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	r, err := probeSwap(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probeSwap: %v", err)
	}
	return r
}

func TestSwapPageSizes(t *testing.T) {
	for _, page := range []int{4096, 8192, 16384, 32768, 65536} {
		r := swapProbe(t, swapPaged(1<<20, page, "SWAPSPACE2", "lab"))
		if r == nil || r.version != "1" || r.label != "lab" || r.uuid != uuidString(testUUID) {
			t.Errorf("page %d: got %+v", page, r)
		}
		r = swapProbe(t, swapPaged(1<<20, page, "SWAP-SPACE", "lab"))
		if r == nil || *r != (sb{version: "0"}) {
			t.Errorf("v0 page %d: got %+v", page, r)
		}
	}
	// Not at other offsets, and not past the device's end.
	if r := swapProbe(t, swapPaged(1<<20, 2048, "SWAPSPACE2", "")); r != nil {
		t.Errorf("2 KiB page: got %+v", r)
	}
	if r := swapProbe(t, swapPaged(1<<20, 65536, "SWAPSPACE2", "")[:65535]); r != nil {
		t.Errorf("cut signature: got %+v", r)
	}
	// The smallest page wins when two signatures are present.
	b := swapPaged(1<<20, 8192, "SWAPSPACE2", "x")
	copy(b[0xff6:], "SWAP-SPACE")
	if r := swapProbe(t, b); r == nil || r.version != "0" {
		t.Errorf("two signatures: got %+v", r)
	}
}

func TestSwapHeader(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		edit func(b []byte)
		want *sb
	}{
		{"big-endian version", func(b []byte) { binary.BigEndian.PutUint32(b[1024:], 1) }, &sb{version: "1", label: "lab", uuid: uuidString(testUUID)}},
		{"version 2", func(b []byte) { le.PutUint32(b[1024:], 2) }, nil},
		{"no last page", func(b []byte) { le.PutUint32(b[1028:], 0) }, nil},
		// Garbage in the padding: blkid trusts neither UUID nor label.
		{"padding 32", func(b []byte) { le.PutUint32(b[1024+44+32*4:], 1) }, &sb{version: "1"}},
		{"padding 33", func(b []byte) { le.PutUint32(b[1024+44+33*4:], 1) }, &sb{version: "1"}},
		{"padding 31 ignored", func(b []byte) { le.PutUint32(b[1024+44+31*4:], 1) }, &sb{version: "1", label: "lab", uuid: uuidString(testUUID)}},
		{"no label", func(b []byte) { copy(b[1024+28:], make([]byte, 16)) }, &sb{version: "1", uuid: uuidString(testUUID)}},
		{"label from a NUL", func(b []byte) { b[1024+28] = 0 }, &sb{version: "1", uuid: uuidString(testUUID)}},
		{"full label", func(b []byte) { copy(b[1024+28:], "0123456789abcdef") }, &sb{version: "1", label: "0123456789abcdef", uuid: uuidString(testUUID)}},
		{"trailing blanks", func(b []byte) { copy(b[1024+28:], "ab   ") }, &sb{version: "1", label: "ab", uuid: uuidString(testUUID)}},
		{"no uuid", func(b []byte) { copy(b[1024+12:], make([]byte, 16)) }, &sb{version: "1", label: "lab"}},
		{"TuxOnIce", func(b []byte) { copy(b, tuxOnIceMagic) }, nil},
	} {
		b := synthSwap(1<<20, "lab")
		tc.edit(b)
		r := swapProbe(t, b)
		if (r == nil) != (tc.want == nil) || (r != nil && *r != *tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, r, tc.want)
		}
	}
}

func TestSwapAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	imgs := map[string][]byte{
		"v0-64k":     swapPaged(1<<20, 65536, "SWAP-SPACE", ""),
		"v1-16k":     swapPaged(1<<20, 16384, "SWAPSPACE2", "sixteen"),
		"padding":    func() []byte { b := synthSwap(1<<20, "p"); b[1024+44+33*4] = 1; return b }(),
		"be-version": func() []byte { b := synthSwap(1<<20, "be"); binary.BigEndian.PutUint32(b[1024:], 1); return b }(),
		"lastpage0":  func() []byte { b := synthSwap(1<<20, "z"); binary.LittleEndian.PutUint32(b[1028:], 0); return b }(),
	}
	for name, b := range imgs {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", b))
		})
	}
}

// TestSwapMkswap makes swap areas of every page size mkswap accepts.
func TestSwapMkswap(t *testing.T) {
	testenv.RequireTool(t, "mkswap", "blkid")
	for _, page := range []int{4096, 8192, 16384, 65536} {
		t.Run(strconv.Itoa(page), func(t *testing.T) {
			img := sparseImage(t, "swap.img", 16<<20)
			testenv.Run(t, "mkswap", "-p", strconv.Itoa(page), "-L", "pg"+strconv.Itoa(page), img)
			if r := compareWithBlkid(t, img); r.Type != "swap" || r.Label == "" {
				t.Errorf("got %+v", r)
			}
		})
	}
}
