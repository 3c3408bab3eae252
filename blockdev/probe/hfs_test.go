package probe

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// hfsTestID is a Finder-info volume id; its UUID, worked out from Apple's
// MD5 namespace by hand (python's hashlib), is hfsTestUUID.
var hfsTestID = []byte{1, 2, 3, 4, 5, 6, 7, 8}

const hfsTestUUID = "6095e009-5132-3fc5-87c2-d5a01745283e"

// hfsPlusSynthVolume writes an HFS+ volume header at base+1024 (4 KiB
// blocks) whose catalog file starts at block 10 (2 blocks) and continues at
// block 20; its header node says the first leaf is node 1 of 4 KiB nodes.
// The leaf holds one record, the root folder's, named name.
func hfsPlusSynthVolume(b []byte, base int, sig string, name string) {
	be := binary.BigEndian
	vh := b[base+1024:]
	copy(vh, sig)
	be.PutUint16(vh[2:], 4)
	be.PutUint32(vh[40:], 4096)
	be.PutUint32(vh[44:], uint32((len(b)-base)/4096))
	copy(vh[104:], hfsTestID)
	ext := vh[288:]
	be.PutUint32(ext[0:], 10)
	be.PutUint32(ext[4:], 2)
	be.PutUint32(ext[8:], 20)
	be.PutUint32(ext[12:], 2)

	hdr := b[base+10*4096:]
	hdr[8] = 1 // header node
	be.PutUint16(hdr[10:], 3)
	be.PutUint16(hdr[14:], 1)    // depth
	be.PutUint32(hdr[16:], 1)    // root node
	be.PutUint32(hdr[20:], 3)    // leaf records
	be.PutUint32(hdr[24:], 1)    // first leaf node
	be.PutUint32(hdr[28:], 1)    // last leaf node
	be.PutUint16(hdr[32:], 4096) // node size

	leaf := b[base+11*4096:]
	leaf[8] = hfsNodeLeaf
	leaf[9] = 1
	be.PutUint16(leaf[10:], 1)
	u := utf16.Encode([]rune(name))
	key := leaf[14:]
	be.PutUint16(key[0:], uint16(6+2*len(u)))
	be.PutUint32(key[2:], hfsRootParentID)
	be.PutUint16(key[6:], uint16(len(u)))
	for i, c := range u {
		be.PutUint16(key[8+2*i:], c)
	}
}

func hfsPlusSynth(size int, sig, name string) []byte {
	b := make([]byte, size)
	hfsPlusSynthVolume(b, 0, sig, name)
	return b
}

// hfsMDB writes an HFS master directory block at 1 KiB.
func hfsMDB(b []byte, blockSize uint32, firstBlock uint16, lbl string, embedSig string, embedStart uint16) {
	be := binary.BigEndian
	m := b[1024:]
	copy(m, "BD")
	be.PutUint32(m[20:], blockSize)
	be.PutUint16(m[28:], firstBlock)
	m[36] = byte(len(lbl))
	copy(m[37:], lbl)
	copy(m[116:], hfsTestID)
	copy(m[124:], embedSig)
	be.PutUint16(m[126:], embedStart)
	be.PutUint16(m[128:], 100)
}

// hfsWrapped is an HFS wrapper (512-byte allocation blocks from sector 4)
// around an HFS+ volume starting at allocation block 60: byte 4*512 +
// 60*512 = 32 KiB.
func hfsWrapped(size int, name string) []byte {
	b := make([]byte, size)
	hfsMDB(b, 512, 4, "Wrapper", "H+", 60)
	hfsPlusSynthVolume(b, 4*512+60*512, "H+", name)
	return b
}

func hfsProbe(t *testing.T, fn func(*source) (*sb, error), b []byte) *sb {
	t.Helper()
	r, err := fn(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	return r
}

func TestHFSPlusSynthetic(t *testing.T) {
	const mib = 1 << 20
	for _, sig := range []string{"H+", "HX"} {
		r := hfsProbe(t, probeHFSPlus, hfsPlusSynth(4*mib, sig, "Macintosh HD"))
		if r == nil || r.label != "Macintosh HD" || r.uuid != hfsTestUUID || r.version != "" || r.tolerant {
			t.Errorf("%s: got %+v", sig, r)
		}
		if r := hfsProbe(t, probeHFS, hfsPlusSynth(4*mib, sig, "x")); r != nil {
			t.Errorf("%s taken for HFS: %+v", sig, r)
		}
	}
	r := hfsProbe(t, probeHFSPlus, hfsWrapped(4*mib, "Inside"))
	if r == nil || r.label != "Inside" || r.uuid != hfsTestUUID {
		t.Errorf("wrapped: got %+v", r)
	}
	if r := hfsProbe(t, probeHFS, hfsWrapped(4*mib, "Inside")); r != nil {
		t.Errorf("wrapper taken for HFS: %+v", r)
	}

	// The first leaf lies in the catalog's second extent: node 3 of 4 KiB
	// is block 3 of the file, the second block of the extent at 20.
	b := hfsPlusSynth(4*mib, "H+", "")
	binary.BigEndian.PutUint32(b[10*4096+24:], 3)
	copy(b[21*4096:22*4096], b[11*4096:12*4096])
	key := b[21*4096+14:]
	binary.BigEndian.PutUint16(key[6:], 4)
	copy(key[8:], []byte{0, 'f', 0, 'a', 0, 'r', 0xd8, 0x00}) // a lone high surrogate at the end
	if r := hfsProbe(t, probeHFSPlus, b); r == nil || r.label != "far\xed\xa0\x80" {
		t.Errorf("second extent: got %+v", r)
	}

	// Inconsistent catalogs: HFS+ all the same, with no label.
	be := binary.BigEndian
	for _, tc := range []struct {
		name string
		edit func(b []byte)
	}{
		{"small nodes", func(b []byte) { be.PutUint16(b[10*4096+32:], 512) }},
		{"no leaf records", func(b []byte) { be.PutUint32(b[10*4096+20:], 0) }},
		{"leaf past the extents", func(b []byte) { be.PutUint32(b[10*4096+24:], 9) }},
		{"empty first extent", func(b []byte) { be.PutUint32(b[1024+288+4:], 0) }},
		{"not a leaf", func(b []byte) { b[11*4096+8] = 0 }},
		{"no records", func(b []byte) { be.PutUint16(b[11*4096+10:], 0) }},
		{"not the root folder", func(b []byte) { be.PutUint32(b[11*4096+16:], 2) }},
		{"name too long", func(b []byte) { be.PutUint16(b[11*4096+20:], 256) }},
		{"catalog past the end", func(b []byte) { be.PutUint32(b[1024+288:], 1<<30) }},
	} {
		b := hfsPlusSynth(4*mib, "H+", "name")
		tc.edit(b)
		if r := hfsProbe(t, probeHFSPlus, b); r == nil || r.label != "" || r.uuid != hfsTestUUID {
			t.Errorf("%s: got %+v", tc.name, r)
		}
	}
	// No Finder id: no UUID.
	b = hfsPlusSynth(4*mib, "H+", "n")
	copy(b[1024+104:], make([]byte, 8))
	if r := hfsProbe(t, probeHFSPlus, b); r == nil || r.uuid != "" || r.label != "n" {
		t.Errorf("no id: got %+v", r)
	}
}

func TestHFSPlusRejects(t *testing.T) {
	const mib = 1 << 20
	b := hfsPlusSynth(4*mib, "H+", "n")
	binary.BigEndian.PutUint32(b[1024+40:], 256)
	if r := hfsProbe(t, probeHFSPlus, b); r != nil {
		t.Errorf("256-byte blocks: got %+v", r)
	}
	b = hfsPlusSynth(4*mib, "H+", "n")
	copy(b[1024:], "H-")
	if r := hfsProbe(t, probeHFSPlus, b); r != nil {
		t.Errorf("signature: got %+v", r)
	}
	// A wrapper whose embedded volume is missing or past the end.
	b = hfsWrapped(4*mib, "x")
	copy(b[4*512+60*512+1024:], "XX")
	if r := hfsProbe(t, probeHFSPlus, b); r != nil {
		t.Errorf("wrapper without volume: got %+v", r)
	}
	b = hfsWrapped(4*mib, "x")
	binary.BigEndian.PutUint16(b[1024+126:], 0xffff)
	binary.BigEndian.PutUint32(b[1024+20:], 0x10000)
	if r := hfsProbe(t, probeHFSPlus, b); r != nil {
		t.Errorf("embedded past the end: got %+v", r)
	}
	if r := hfsProbe(t, probeHFSPlus, hfsPlusSynth(4*mib, "H+", "n")[:1100]); r != nil {
		t.Errorf("truncated: got %+v", r)
	}
}

func TestHFSSynthetic(t *testing.T) {
	const mib = 1 << 20
	b := make([]byte, 4*mib)
	hfsMDB(b, 4096, 16, "BBB", "", 0)
	r := hfsProbe(t, probeHFS, b)
	if r == nil || r.label != "BBB" || r.uuid != hfsTestUUID || !r.tolerant {
		t.Fatalf("got %+v", r)
	}
	if r := hfsProbe(t, probeHFSPlus, b); r != nil {
		t.Errorf("plain HFS taken for HFS+: %+v", r)
	}
	// The name is Mac Roman bytes passed through, cut at 27 and at a NUL,
	// trailing blanks trimmed.
	for _, tc := range []struct {
		raw  []byte
		n    byte
		want string
	}{
		{[]byte("Caf\x8e  "), 6, "Caf\x8e"},
		{bytes.Repeat([]byte("a"), 27), 40, string(bytes.Repeat([]byte("a"), 27))},
		{[]byte("ab\x00cd"), 5, "ab"},
		{[]byte("abc"), 0, ""},
	} {
		b := make([]byte, 4*mib)
		hfsMDB(b, 512, 16, "", "", 0)
		copy(b[1024+37:], tc.raw)
		b[1024+36] = tc.n
		if r := hfsProbe(t, probeHFS, b); r == nil || r.label != tc.want {
			t.Errorf("name %q/%d: got %+v, want %q", tc.raw, tc.n, r, tc.want)
		}
	}
	for _, bs := range []uint32{0, 1000, 256} {
		b := make([]byte, 4*mib)
		hfsMDB(b, bs, 16, "x", "", 0)
		if r := hfsProbe(t, probeHFS, b); r != nil {
			t.Errorf("block size %d: got %+v", bs, r)
		}
	}
	b = make([]byte, 4*mib)
	hfsMDB(b, 512, 16, "x", "HX", 0)
	if r := hfsProbe(t, probeHFS, b); r != nil {
		t.Errorf("HX wrapper: got %+v", r)
	}
}

// TestHFSAgainstBlkid runs blkid on the synthetic volumes, including an
// HFS+ inside an HFS wrapper (no installed tool makes one), and an HFS
// volume that also carries an ISO 9660 descriptor: both are tolerant in
// blkid, so the result is not ambiguous.
func TestHFSAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	const mib = 1 << 20
	plain := make([]byte, 4*mib)
	hfsMDB(plain, 4096, 16, "Caf\x8e", "", 0)
	far := hfsPlusSynth(4*mib, "H+", "")
	binary.BigEndian.PutUint32(far[10*4096+24:], 3)
	copy(far[21*4096:22*4096], far[11*4096:12*4096])
	hybrid := synthISO(4*mib, "CDLABEL", "")
	hfsMDB(hybrid, 512, 16, "Mac side", "", 0)
	for name, b := range map[string][]byte{
		"hfsplus":  hfsPlusSynth(4*mib, "H+", "Macintosh HD"),
		"hfsx":     hfsPlusSynth(4*mib, "HX", "Ünïcode ☃"),
		"wrapped":  hfsWrapped(4*mib, "Inside"),
		"far-leaf": far,
		"hfs":      plain,
		"hfs+iso":  hybrid,
	} {
		t.Run(name, func(t *testing.T) {
			if r := compareWithBlkid(t, writeImage(t, name+".img", b)); r.Type == "" {
				t.Errorf("nothing found: %+v", r)
			}
		})
	}
}

// TestHFSMkfs formats classic HFS with hfsutils' hformat.
func TestHFSMkfs(t *testing.T) {
	testenv.RequireTool(t, "hformat", "blkid")
	for _, lbl := range []string{"BBB", "Long Volume Name 27 chars!!"} {
		img := sparseImage(t, "hfs.img", 8<<20)
		testenv.Run(t, "hformat", "-l", lbl, img)
		if r := compareWithBlkid(t, img); r.Type != "hfs" {
			t.Errorf("got %+v", r)
		}
	}
}

func FuzzHFS(f *testing.F) {
	plus := hfsPlusSynth(1<<20, "H+", "fz")
	plain := make([]byte, 4096)
	hfsMDB(plain, 512, 16, "fz", "", 0)
	wrapped := hfsWrapped(1<<20, "w")
	fuzzProbers(f, 0, [][]byte{region(plus, 0, 12*4096), region(plain, 0, 2048), region(wrapped, 0, 0x8000+12*4096)}, probeHFSPlus, probeHFS)
}
