package probe

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

var f2fsTestUUID = []byte{0xf6, 0xae, 0xe5, 0xb9, 0x8c, 0xc2, 0x4d, 0xa7, 0x9f, 0x8d, 0xc9, 0x5a, 0xac, 0x90, 0xe1, 0x7d}

func f2fsSynth(size int, major, minor uint16, units []uint16) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	s := b[f2fsSBOff:]
	copy(s, f2fsMagic)
	le.PutUint16(s[4:], major)
	le.PutUint16(s[6:], minor)
	le.PutUint32(s[8:], 9)
	le.PutUint32(s[0x0c:], 3)
	le.PutUint32(s[0x10:], 12)
	copy(s[0x6c:], f2fsTestUUID)
	for i, u := range units {
		le.PutUint16(s[f2fsLabelOff+2*i:], u)
	}
	return b
}

func f2fsProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	r, err := probeF2FS(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probeF2FS: %v", err)
	}
	return r
}

func TestF2FSSynthetic(t *testing.T) {
	const mib = 1 << 20
	r := f2fsProbe(t, f2fsSynth(mib, 1, 1, utf16.Encode([]rune("test-f2fs"))))
	if r == nil || r.label != "test-f2fs" || r.uuid != "f6aee5b9-8cc2-4da7-9f8d-c95aac90e17d" || r.version != "1.1" {
		t.Fatalf("got %+v", r)
	}
	r = f2fsProbe(t, f2fsSynth(mib, 1, 16, utf16.Encode([]rune("Ωmega  "))))
	if r == nil || r.label != "Ωmega" || r.version != "1.16" {
		t.Errorf("got %+v", r)
	}
	// Version 1.0 had another layout: blkid reports the type alone.
	r = f2fsProbe(t, f2fsSynth(mib, 1, 0, utf16.Encode([]rune("old"))))
	if r == nil || *r != (sb{}) {
		t.Errorf("1.0: got %+v", r)
	}
	// A name whose first byte is zero (U+0100 in little endian) counts as
	// none, as in blkid.
	r = f2fsProbe(t, f2fsSynth(mib, 1, 1, utf16.Encode([]rune("Āb"))))
	if r == nil || r.label != "" {
		t.Errorf("zero first byte: got %+v", r)
	}
	b := f2fsSynth(mib, 1, 1, nil)
	copy(b[f2fsSBOff+0x6c:], make([]byte, 16))
	if r := f2fsProbe(t, b); r == nil || r.uuid != "" || r.label != "" {
		t.Errorf("no uuid: got %+v", r)
	}
	// A name filling all 512 units has no NUL to stop at.
	full := make([]uint16, 512)
	for i := range full {
		full[i] = 'z'
	}
	if r := f2fsProbe(t, f2fsSynth(mib, 1, 1, full)); r == nil || len(r.label) != 512 {
		t.Errorf("full name: got %d bytes", len(r.label))
	}
}

func TestF2FSRejects(t *testing.T) {
	b := f2fsSynth(1<<20, 1, 1, nil)
	b[f2fsSBOff] = 0
	if r := f2fsProbe(t, b); r != nil {
		t.Errorf("magic: got %+v", r)
	}
	// The device ends inside the superblock blkid reads.
	if r := f2fsProbe(t, f2fsSynth(1<<20, 1, 1, nil)[:f2fsSBOff+f2fsSBSize-1]); r != nil {
		t.Errorf("truncated: got %+v", r)
	}
}

func TestF2FSAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	for name, b := range map[string][]byte{
		"label":     f2fsSynth(1<<20, 1, 1, utf16.Encode([]rune("test-f2fs"))),
		"v10":       f2fsSynth(1<<20, 1, 0, utf16.Encode([]rune("old"))),
		"zerobyte":  f2fsSynth(1<<20, 1, 1, utf16.Encode([]rune("Āb"))),
		"surrogate": f2fsSynth(1<<20, 1, 15, []uint16{'a', 0xdfff, 'b'}),
	} {
		t.Run(name, func(t *testing.T) {
			if r := compareWithBlkid(t, writeImage(t, name+".img", b)); r.Type != "f2fs" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// TestF2FSMkfs formats with f2fs-tools: with a label outside ASCII, and
// without one.
func TestF2FSMkfs(t *testing.T) {
	testenv.RequireTool(t, "mkfs.f2fs", "blkid")
	for name, args := range map[string][]string{
		"label":   {"-q", "-f", "-l", "Ünïcode ☃"},
		"nolabel": {"-q", "-f"},
	} {
		t.Run(name, func(t *testing.T) {
			img := sparseImage(t, name+".img", 128<<20)
			testenv.Run(t, "mkfs.f2fs", append(args, img)...)
			if r := compareWithBlkid(t, img); r.Type != "f2fs" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func FuzzF2FS(f *testing.F) {
	b := f2fsSynth(8192, 1, 1, utf16.Encode([]rune("fz")))
	fuzzProbers(f, 0, [][]byte{region(b, 0, f2fsSBOff+f2fsSBSize)}, probeF2FS)
}
