package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// udfSynth describes a UDF volume laid out as mkudffs does: the VRS at
// 32 KiB, an anchor at block 256 (or anchorBlk), the main VDS at block
// udfSynthVDS (PVD, IUVD, LVD, TD) and an LVID at block udfSynthLVID.
type udfSynth struct {
	size, bs  int
	vrs       []string
	anchorBlk int
	label     []byte // CS0 d-string contents, after the compression id
	labelCID  byte
	volset    []byte
	volsetCID byte
	lvdRev    uint16
	readRev   uint16
	writeRev  uint16
	vds, lvid int // blocks; 0 means udfSynthVDS, udfSynthLVID
}

const (
	udfSynthVDS  = 24
	udfSynthLVID = 300
)

func udfSynthDefault(bs int) udfSynth {
	return udfSynth{
		size: 2 << 20, bs: bs, vrs: []string{"BEA01", "NSR02", "TEA01"}, anchorBlk: 256,
		label: []byte("Label"), labelCID: 8, volset: []byte("5906e052003d522aLinuxUDF"), volsetCID: 8,
		lvdRev: 0x0201, readRev: 0x0201, writeRev: 0x0201,
	}
}

// udfCS0 returns s as the characters of a CS0 d-string: one byte each when
// every rune fits, else UTF-16BE.
func udfCS0(s string) ([]byte, byte) {
	latin := true
	for _, r := range s {
		if r > 0xff {
			latin = false
		}
	}
	if latin {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b, 8
	}
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return b, 16
}

func udfPutDString(f []byte, cid byte, c []byte) {
	f[0] = cid
	copy(f[1:len(f)-1], c)
	f[len(f)-1] = byte(1 + len(c))
}

func udfPutCS0Charset(f []byte) {
	f[0] = 0
	copy(f[1:], "OSTA Compressed Unicode")
}

func (u udfSynth) blk(b []byte, n int) []byte { return b[n*u.bs : n*u.bs+u.bs] }

func udfPutTag(d []byte, id uint16, loc int) {
	binary.LittleEndian.PutUint16(d[0:], id)
	binary.LittleEndian.PutUint16(d[2:], 2)
	binary.LittleEndian.PutUint32(d[12:], uint32(loc))
}

func (u udfSynth) build() []byte {
	b := make([]byte, u.size)
	vds, lvidBlk := udfSynthVDS, udfSynthLVID
	if u.vds != 0 {
		vds, lvidBlk = u.vds, u.lvid
	}
	step := u.bs
	if step < 2048 {
		step = 2048
	}
	for i, id := range u.vrs {
		copy(b[udfVRSOff+i*step+1:], id)
		b[udfVRSOff+i*step+6] = 1
	}
	if u.anchorBlk != 0 {
		a := u.blk(b, u.anchorBlk)
		udfPutTag(a, udfTagAVDP, u.anchorBlk)
		binary.LittleEndian.PutUint32(a[16:], uint32(16*u.bs))
		binary.LittleEndian.PutUint32(a[20:], uint32(vds))
	}
	pvd := u.blk(b, vds)
	udfPutTag(pvd, udfTagPVD, vds)
	udfPutDString(pvd[24:56], u.labelCID, u.label)
	udfPutDString(pvd[72:200], u.volsetCID, u.volset)
	udfPutCS0Charset(pvd[200:264])
	copy(pvd[345:], "*Linux mkudffs")

	iuvd := u.blk(b, vds+1)
	udfPutTag(iuvd, udfTagIUVD, vds+1)
	copy(iuvd[21:], "*UDF LV Info")
	udfPutCS0Charset(iuvd[52:116])
	udfPutDString(iuvd[244:280], 8, []byte("Owner"))

	lvd := u.blk(b, vds+2)
	udfPutTag(lvd, udfTagLVD, vds+2)
	udfPutCS0Charset(lvd[20:84])
	udfPutDString(lvd[84:212], u.labelCID, u.label)
	binary.LittleEndian.PutUint32(lvd[212:], uint32(u.bs))
	copy(lvd[217:], "*OSTA UDF Compliant")
	binary.LittleEndian.PutUint16(lvd[240:], u.lvdRev)
	binary.LittleEndian.PutUint32(lvd[268:], 1)
	binary.LittleEndian.PutUint32(lvd[432:], uint32(u.bs))
	binary.LittleEndian.PutUint32(lvd[436:], uint32(lvidBlk))

	udfPutTag(u.blk(b, vds+3), udfTagTD, vds+3)

	lvid := u.blk(b, lvidBlk)
	udfPutTag(lvid, udfTagLVID, lvidBlk)
	binary.LittleEndian.PutUint32(lvid[72:], 1)  // one partition
	binary.LittleEndian.PutUint32(lvid[76:], 46) // implementation use length
	binary.LittleEndian.PutUint16(lvid[88+40:], u.readRev)
	binary.LittleEndian.PutUint16(lvid[88+42:], u.writeRev)
	return b
}

// udfAlsoBlkid compares blkid's answer on img with ours when blkid is
// installed, so each hand-built case checks our reading of blkid's rules
// and not only our own expectations.
func udfAlsoBlkid(t *testing.T, img []byte) {
	t.Helper()
	if _, err := exec.LookPath("blkid"); err == nil {
		compareWithBlkid(t, writeImage(t, "udf.img", img))
	}
}

func udfProbeBytes(t *testing.T, b []byte) (*sb, *source) {
	t.Helper()
	s, err := newSource(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	got, err := probeUDF(s)
	if err != nil {
		t.Fatalf("probeUDF: %v", err)
	}
	return got, s
}

func TestUDFSynthetic(t *testing.T) {
	mk := func(bs int, f func(*udfSynth)) []byte {
		u := udfSynthDefault(bs)
		if f != nil {
			f(&u)
		}
		return u.build()
	}
	cs0 := func(u *udfSynth, label, volset string) {
		u.label, u.labelCID = udfCS0(label)
		u.volset, u.volsetCID = udfCS0(volset)
	}
	cases := []struct {
		name                 string
		img                  []byte
		label, uuid, version string
		reads                int // reads beyond the head
	}{
		// Block 256 of 512 bytes is past the head: the anchor, then the
		// LVID, whose implementation use comes from the same read.
		{"512", mk(512, nil), "Label", "5906e052003d522a", "2.01", 2},
		{"1024", mk(1024, nil), "Label", "5906e052003d522a", "2.01", 3},
		// Anchors tried at 128K and 256K for 512-byte blocks, 512K for
		// 1024 (256K is remembered) and found at 512K for 2048; the VDS
		// at block 24 is in the head, the LVID is not.
		{"2048", mk(2048, nil), "Label", "5906e052003d522a", "2.01", 4},
		// VSDs a block apart: the 2048-byte scan finds no NSR, so 4096 is
		// the only size whose anchor is read; the VDS is past the head.
		{"4096", mk(4096, func(u *udfSynth) {
			cs0(u, "Untitled UDF Volume", "691EED13 (Mac OS X newfs_udf) UDF Volume Set")
			u.lvdRev, u.readRev, u.writeRev = 0x0260, 0x0250, 0x0250
		}), "Untitled UDF Volume", "691eed1320284d61", "2.60", 5},
		{"utf16 emoji, upper hex", mk(2048, func(u *udfSynth) { cs0(u, "😀", "3B4A858DC4B57A72") }), "😀", "3b4a858dc4b57a72", "2.01", 4},
		{"latin1 label", mk(512, func(u *udfSynth) { u.label = []byte{0xc3, 0xbf} }), "Ã¿", "5906e052003d522a", "2.01", 2},
		{"8 hex only", mk(512, func(u *udfSynth) { u.volset = []byte("20c624ac") }), "Label", "20c624ac00000000", "2.01", 2},
		{"short volset", mk(512, func(u *udfSynth) { u.volset = []byte("20c624a") }), "Label", "", "2.01", 2},
		{"non-hex start", mk(512, func(u *udfSynth) { u.volset = []byte("xyz12345LinuxUDF") }), "Label", "78797a3132333435", "2.01", 2},
		// Eight two-byte characters fill the 16 bytes blkid keeps.
		{"utf16 volset", mk(512, func(u *udfSynth) { cs0(u, "Label", "éééééééé€") }), "Label", "c3a9c3a9c3a9c3a9", "2.01", 2},
		{"trailing space", mk(512, func(u *udfSynth) { u.label = []byte("Lbl   ") }), "Lbl", "5906e052003d522a", "2.01", 2},
		{"nul inside", mk(512, func(u *udfSynth) { u.label = []byte("ab\x00cd") }), "ab", "5906e052003d522a", "2.01", 2},
		{"lone surrogate", mk(512, func(u *udfSynth) { u.label, u.labelCID = []byte{0xd8, 0x00, 0x00, 'A'}, 16 }), "\xed\xa0\x80A", "5906e052003d522a", "2.01", 2},
		{"odd utf16 byte", mk(512, func(u *udfSynth) { u.label, u.labelCID = []byte{0, 'A', 0}, 16 }), "A", "5906e052003d522a", "2.01", 2},
		{"unknown cid", mk(512, func(u *udfSynth) { u.labelCID, u.volsetCID = 254, 254 }), "", "", "2.01", 2},
		{"lvid raises", mk(512, func(u *udfSynth) { u.lvdRev, u.readRev, u.writeRev = 0x0150, 0x0102, 0x0250 }), "Label", "5906e052003d522a", "2.50", 2},
		{"lvd only", mk(512, func(u *udfSynth) { u.readRev, u.writeRev = 0, 0 }), "Label", "5906e052003d522a", "2.01", 2},
		{"no revision", mk(512, func(u *udfSynth) { u.lvdRev, u.readRev, u.writeRev = 0, 0, 0 }), "Label", "5906e052003d522a", "", 2},
		{"anchor at 512", mk(512, func(u *udfSynth) { u.anchorBlk = 512 }), "Label", "5906e052003d522a", "2.01", 3},
		{"nsr after tea", mk(512, func(u *udfSynth) { u.vrs = []string{"BEA01", "TEA01", "NSR03"} }), "Label", "5906e052003d522a", "2.01", 2},
		{"iso bridge", mk(2048, func(u *udfSynth) { u.vrs = []string{"CD001", "CD001", "BEA01", "NSR02", "TEA01"} }), "Label", "5906e052003d522a", "2.01", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, s := udfProbeBytes(t, tc.img)
			if got == nil {
				t.Fatal("not detected")
			}
			if got.label != tc.label || got.uuid != tc.uuid || got.version != tc.version || !got.tolerant {
				t.Errorf("got label %q uuid %q version %q tolerant %v, want %q %q %q", got.label, got.uuid, got.version, got.tolerant, tc.label, tc.uuid, tc.version)
			}
			if s.extra != tc.reads {
				t.Errorf("%d reads beyond the head, want %d", s.extra, tc.reads)
			}
			udfAlsoBlkid(t, tc.img)
		})
	}
}

// TestUDFNotDetected: damaged or incomplete volumes give nil, never an error.
func TestUDFNotDetected(t *testing.T) {
	mk := func(f func(u *udfSynth, b []byte) []byte) []byte {
		u := udfSynthDefault(512)
		return f(&u, u.build())
	}
	cases := map[string][]byte{
		"no magic": mk(func(u *udfSynth, b []byte) []byte { b[udfVRSOff+1] = 0; return b }),
		"no nsr": mk(func(u *udfSynth, b []byte) []byte {
			u.vrs = []string{"BEA01", "TEA01"}
			return u.build()
		}),
		"foreign vsd before nsr": mk(func(u *udfSynth, b []byte) []byte {
			u.vrs = []string{"BEA01", "XXXXX", "NSR02"}
			return u.build()
		}),
		"no anchor": mk(func(u *udfSynth, b []byte) []byte { u.anchorBlk = 0; return u.build() }),
		"anchor location wrong": mk(func(u *udfSynth, b []byte) []byte {
			binary.LittleEndian.PutUint32(b[256*512+12:], 257)
			return b
		}),
		"anchor tag wrong": mk(func(u *udfSynth, b []byte) []byte { b[256*512] = 3; return b }),
		// blkid gives up when a descriptor it wants lies past the end.
		"anchor past end": mk(func(u *udfSynth, b []byte) []byte { return b[:200*512] }),
		"lvid past end":   mk(func(u *udfSynth, b []byte) []byte { return b[:udfSynthLVID*512+100] }),
		"too small":       mk(func(u *udfSynth, b []byte) []byte { return b[:udfVRSOff+1000] }),
		"empty":           make([]byte, 1<<20),
	}
	for name, img := range cases {
		t.Run(name, func(t *testing.T) {
			if got, _ := udfProbeBytes(t, img); got != nil {
				t.Errorf("detected: %+v", got)
			}
			udfAlsoBlkid(t, img)
		})
	}
}

// TestUDFSequenceRules: what ends the descriptor sequence and what makes a
// descriptor's strings untrusted.
func TestUDFSequenceRules(t *testing.T) {
	u := udfSynthDefault(512)
	base := u.build()
	lvd := (udfSynthVDS + 2) * 512
	cases := []struct {
		name         string
		edit         func(b []byte)
		label, uuid  string
		version      string
		wantDetected bool
	}{
		{"td before lvd", func(b []byte) { udfPutTag(b[(udfSynthVDS+1)*512:], udfTagTD, udfSynthVDS+1) }, "", "5906e052003d522a", "", true},
		{"location mismatch", func(b []byte) { binary.LittleEndian.PutUint32(b[lvd+12:], 99) }, "", "5906e052003d522a", "", true},
		{"zero tag ends", func(b []byte) { clear(b[(udfSynthVDS+1)*512 : (udfSynthVDS+2)*512]) }, "", "5906e052003d522a", "", true},
		{"lvd charset not cs0", func(b []byte) { b[lvd+20+1] = 'X' }, "", "5906e052003d522a", "2.01", true},
		// strncmp over the whole field: a longer name is not CS0.
		{"charset longer", func(b []byte) { b[lvd+20+24] = 'X' }, "", "5906e052003d522a", "2.01", true},
		{"pvd charset not cs0", func(b []byte) { b[udfSynthVDS*512+200] = 1 }, "Label", "", "2.01", true},
		{"domain not osta", func(b []byte) {
			b[lvd+217] = '#'
			binary.LittleEndian.PutUint16(b[udfSynthLVID*512+128:], 0)
			binary.LittleEndian.PutUint16(b[udfSynthLVID*512+130:], 0)
		}, "Label", "5906e052003d522a", "", true},
		{"no partition maps, no lvid", func(b []byte) {
			binary.LittleEndian.PutUint32(b[lvd+268:], 0)
			binary.LittleEndian.PutUint16(b[lvd+240:], 0x0150)
		}, "Label", "5906e052003d522a", "1.50", true},
		{"lvid extent too short", func(b []byte) {
			binary.LittleEndian.PutUint32(b[lvd+432:], 439)
			binary.LittleEndian.PutUint16(b[lvd+240:], 0x0102)
		}, "Label", "5906e052003d522a", "1.02", true},
		{"lvid wrong tag", func(b []byte) {
			b[udfSynthLVID*512] = 1
			binary.LittleEndian.PutUint16(b[lvd+240:], 0x0102)
		}, "Label", "5906e052003d522a", "1.02", true},
		{"lvid iu too short", func(b []byte) {
			binary.LittleEndian.PutUint32(b[udfSynthLVID*512+76:], 45)
			binary.LittleEndian.PutUint16(b[lvd+240:], 0x0102)
		}, "Label", "5906e052003d522a", "1.02", true},
		// The LVID's implementation use offset wraps in 32 bits, as in
		// blkid: 0x20000000 partitions put it back at offset 80.
		{"lvid partitions wrap", func(b []byte) {
			binary.LittleEndian.PutUint32(b[udfSynthLVID*512+72:], 0x20000000)
			binary.LittleEndian.PutUint16(b[udfSynthLVID*512+80+40:], 0x0250)
		}, "Label", "5906e052003d522a", "2.50", true},
		{"lvid iu past end", func(b []byte) {
			binary.LittleEndian.PutUint32(b[udfSynthLVID*512+72:], 0x1000000)
		}, "", "", "", false},
		{"clen too long", func(b []byte) {
			f := b[lvd+84 : lvd+212]
			for i := 1; i < 127; i++ {
				f[i] = 'A'
			}
			f[127] = 0xff
		}, string(bytes.Repeat([]byte("A"), 126)), "5906e052003d522a", "2.01", true},
		{"clen zero", func(b []byte) { b[lvd+84+127] = 0 }, "", "5906e052003d522a", "2.01", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tc.edit(b)
			udfAlsoBlkid(t, b)
			got, _ := udfProbeBytes(t, b)
			if got == nil {
				if tc.wantDetected {
					t.Fatal("not detected")
				}
				return
			}
			if !tc.wantDetected {
				t.Fatalf("detected: %+v", got)
			}
			if got.label != tc.label || got.uuid != tc.uuid || got.version != tc.version {
				t.Errorf("got label %q uuid %q version %q, want %q %q %q", got.label, got.uuid, got.version, tc.label, tc.uuid, tc.version)
			}
		})
	}
}

// TestUDFReadBudget: a sequence of valid-looking descriptors that never ends
// stops at the read budget instead of walking the device.
func TestUDFReadBudget(t *testing.T) {
	u := udfSynthDefault(512)
	u.size = 4 << 20
	b := u.build()
	a := b[256*512:]
	// Past the anchor at block 512: reads take whole 4 KiB blocks, eight
	// descriptors each, so the sequence must be long enough to outlast
	// the budget at that rate too.
	binary.LittleEndian.PutUint32(a[16:], 4000*512)
	binary.LittleEndian.PutUint32(a[20:], 600)
	for blk := 600; blk < 4600; blk++ {
		udfPutTag(b[blk*512:], udfTagPVD, blk)
	}
	s, err := newSource(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if got, err := probeUDF(s); err != errBudget || got != nil {
		t.Errorf("got %+v, %v; want errBudget", got, err)
	}
	if s.extra != maxExtraReads {
		t.Errorf("%d reads", s.extra)
	}
}

func TestUDFEncodeUTF8(t *testing.T) {
	for _, tc := range []struct {
		enc  udfEncoding
		in   []byte
		dest int
		want string
	}{
		{udfEncLatin1, []byte("abc"), 10, "abc"},
		{udfEncLatin1, []byte{0xe9, 'x'}, 10, "éx"},
		{udfEncLatin1, []byte("abcdef"), 4, "abc"},              // room for 3 and the NUL
		{udfEncLatin1, []byte{'a', 0xe9}, 3, "a"},               // é needs two bytes, only one left
		{udfEncUTF16BE, []byte{0xd8, 0x3d, 0xde, 0x00}, 5, "😀"}, // pair
		{udfEncUTF16BE, []byte{0xd8, 0x3d, 0xde, 0x00}, 4, ""},  // pair does not fit
		{udfEncUTF16BE, []byte{0xdc, 0x00}, 10, "\xed\xb0\x80"}, // lone low half
		{udfEncUTF16BE, []byte{0xd8, 0x3d, 0x00, 'A'}, 10, "\xed\xa0\xbdA"},
		{udfEncUTF16BE, []byte{0, 'a', 0, 0, 0, 'b'}, 10, "a"},
		{udfEncNone, []byte("abc"), 10, ""},
	} {
		if got := string(udfEncodeUTF8(tc.enc, tc.in, tc.dest)); got != tc.want {
			t.Errorf("%v %x/%d: %q, want %q", tc.enc, tc.in, tc.dest, got, tc.want)
		}
	}
}

// TestUDFHybrid: an ISO 9660 + UDF bridge disc is udf, as in blkid: udf is
// probed first and both are tolerant.
func TestUDFHybrid(t *testing.T) {
	u := udfSynthDefault(2048)
	u.vrs = []string{"CD001", "CD001", "BEA01", "NSR02", "TEA01"}
	b := u.build()
	iso := synthISO(0x9800, "ISOLABEL", "")
	copy(b[0x8000:0x8800], iso[0x8000:0x8800])
	b[0x8800] = 0xff // the ISO set terminator, then the UDF VRS
	r, err := ReaderAt(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "udf" || r.Label != "Label" || len(r.Ambiguous) != 0 {
		t.Errorf("got %+v", r)
	}
}

// TestUDFDifferentialSynthetic runs blkid on the hand-built volumes, which
// proves the builder and our reading of blkid's rules on cases no corpus
// image covers.
func TestUDFDifferentialSynthetic(t *testing.T) {
	if _, err := exec.LookPath("blkid"); err != nil {
		t.Skip("blkid not installed")
	}
	imgs := map[string]udfSynth{}
	for _, bs := range []int{512, 1024, 2048, 4096} {
		imgs["bs"+itoa(uint32(bs))] = udfSynthDefault(bs)
	}
	u := udfSynthDefault(4096)
	u.label, u.labelCID = udfCS0("Ünïcödé 😀 label  ")
	u.volset, u.volsetCID = udfCS0("69EED13 (Mac OS X)")
	u.lvdRev, u.readRev, u.writeRev = 0x0260, 0x0250, 0x0250
	imgs["unicode"] = u
	u = udfSynthDefault(512)
	u.volset = []byte("20c624ac")
	u.anchorBlk = 512
	imgs["anchor512"] = u
	u = udfSynthDefault(1024)
	u.vrs = []string{"BEA01", "TEA01", "BOOT2", "NSR03"}
	u.label, u.labelCID = []byte{0xd8, 0x00, 0x00, 'A', 0x00}, 16
	imgs["lone-surrogate"] = u
	u = udfSynthDefault(2048)
	u.labelCID, u.volsetCID = 254, 254
	imgs["unknown-cid"] = u
	for name, u := range imgs {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", u.build()))
		})
	}
}

// FuzzUDF fuzzes the Volume Recognition Sequence (the anchors and the
// sequence they lead to are zeros here, so most inputs end at the anchor);
// FuzzUDFDescriptors fuzzes what the anchor leads to.
func FuzzUDF(f *testing.F) {
	seed := func(vrs ...string) []byte {
		u := udfSynthDefault(2048)
		u.vrs = vrs
		return region(u.build(), udfVRSOff, 0x3000)
	}
	fuzzProbers(f, udfVRSOff, [][]byte{
		seed("BEA01", "NSR02", "TEA01"),
		seed("CD001", "CD001", "BEA01", "NSR03", "TEA01"),
		seed("BEA01", "TEA01", "BOOT2", "CDW02", "NSR02"),
	}, probeUDF)
}

// FuzzUDFDescriptors fuzzes the anchor at block 256 of a 512-byte-block
// volume with a valid VRS, and the VDS and LVID laid right after it, so
// every descriptor blkid decodes comes from the fuzzer.
func FuzzUDFDescriptors(f *testing.F) {
	u := udfSynthDefault(512)
	u.size, u.vds, u.lvid = 300<<10, 257, 261
	base := u.build()
	f.Add(region(base, 256*512, 6*512))
	u.label, u.labelCID = udfCS0("😀 ü")
	f.Add(region(u.build(), 256*512, 6*512))
	f.Fuzz(func(t *testing.T, data []byte) {
		img := bytes.Clone(base)
		copy(img[256*512:], data)
		s, err := newSource(context.Background(), bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		if _, err := probeUDF(s); err != nil && err != errBudget {
			t.Fatalf("in-memory UDF: %v", err)
		}
	})
}

// TestUDFSectorSizeOrder: blkid tries the device's sector size first. On a
// 4096-byte-sector device the VSDs of a small ISO 9660 bridge image read
// 4096 bytes apart land on its NSR02, the anchor for 4096-byte blocks lies
// past the end, and blkid gives up on UDF (the device is then iso9660);
// with 512-byte sectors the 2048-byte blocks are found.
func TestUDFSectorSizeOrder(t *testing.T) {
	u := udfSynthDefault(2048)
	u.size = 800 << 10
	u.vrs = []string{"CD001", "CD001", "CD001", "BEA01", "NSR02", "TEA01"}
	u.vds, u.lvid = 40, 60
	b := u.build()
	for _, tc := range []struct {
		ssz   uint64
		found bool
	}{{512, true}, {2048, true}, {4096, false}} {
		s, err := newSource(context.Background(), bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := udfProbe(s, tc.ssz, 0)
		s.release()
		if err != nil || (got != nil) != tc.found {
			t.Errorf("sector size %d: got %+v, %v; want found %v", tc.ssz, got, err, tc.found)
		}
	}
}

// udfBridge is an ISO 9660 + UDF bridge image as genisoimage -udf lays it
// out: PVD, Joliet SVD and terminator at sectors 16-18, then BEA01, NSR02
// and TEA01, with 2048-byte UDF blocks.
func udfBridge(size int) []byte {
	u := udfSynthDefault(2048)
	u.size, u.vds, u.lvid = size, 40, 60
	u.vrs = []string{"CD001", "CD001", "CD001", "BEA01", "NSR02", "TEA01"}
	b := u.build()
	iso := isoImage(0xa000, isoPVD("BRIDGE"), isoJoliet(isoUCS2("Bridge")), isoEnd)
	copy(b[isoPVDOff:isoPVDOff+3*isoSectorSize], iso[isoPVDOff:])
	return b
}

// TestUDFLoop4K probes volumes on a loop device with 4096-byte sectors,
// where blkid tries 4096-byte blocks first (see udfSectorSize).
func TestUDFLoop4K(t *testing.T) {
	testenv.RequireRoot(t)
	cases := []struct {
		name, typ string
		img       []byte
	}{
		// The 4096-byte anchors at 1 MiB and 2 MiB: past the end, or (on a
		// device just 2 MiB long) the second one is, and blkid stops.
		{"small bridge", "iso9660", udfBridge(800 << 10)},
		{"2 MiB bridge", "iso9660", udfBridge(2 << 20)},
		// Both read and neither an anchor: the 2048-byte blocks are tried.
		{"large bridge", "udf", udfBridge(4 << 20)},
		{"512", "udf", udfSynthDefault(512).build()},
		{"2048", "udf", udfSynthDefault(2048).build()},
		{"4096", "udf", udfSynthDefault(4096).build()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dev := testenv.LoopSector(t, int64(len(tc.img)), 4096)
			f, err := os.OpenFile(dev, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt(tc.img, 0)
			if err == nil {
				err = f.Sync()
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if r := compareWithBlkid(t, dev); r.Type != tc.typ {
				t.Errorf("type %q, want %q", r.Type, tc.typ)
			}
		})
	}
}

// TestUDFDifferentialMkudffs makes UDF volumes with mkudffs (udftools)
// for every block size, several revisions and media types, CS0 labels in
// both compressions, and volume set identifiers that exercise each of
// blkid's UUID rules, and compares our answer with blkid's.
func TestUDFDifferentialMkudffs(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name string
		size int64
		args []string // --utf8 must come first
	}{
		{"bs512-unicode", 16 * mib, []string{"--utf8", "--blocksize=512", "--label=Ünïcödé 😀 label"}},
		{"bs1024", 16 * mib, []string{"--blocksize=1024", "--label=plain"}},
		{"bs2048-cjk", 16 * mib, []string{"--utf8", "--blocksize=2048", "--lvid=日本語ラベル", "--vid=vid"}},
		{"bs4096", 32 * mib, []string{"--blocksize=4096", "--label=Label4096"}},
		{"rev1.50-uuid", 16 * mib, []string{"--blocksize=512", "--udfrev=1.50", "--uuid=abcdef0123456789"}},
		{"rev1.02-nonhex", 16 * mib, []string{"--blocksize=2048", "--udfrev=1.02", "--fullvsid=zz not hex at all"}},
		{"bdr-rev2.60", 16 * mib, []string{"--media-type=bdr", "--udfrev=2.60", "--blocksize=2048"}},
		{"cdr-vat", 16 * mib, []string{"--media-type=cdr", "--vat", "--label=vat"}},
		{"cdr-vat-closed", 16 * mib, []string{"--media-type=cdr", "--vat", "--closed", "--label=vatc"}},
		{"dvdrw", 16 * mib, []string{"--media-type=dvdrw", "--label=dvdrw"}},
		{"latin1", 16 * mib, []string{"--u8", "--label=caf\xe9"}},
		{"hex8", 16 * mib, []string{"--fullvsid=0123abcdXYZ45678"}},
		{"hex7", 16 * mib, []string{"--fullvsid=0123abcXYZ45678a"}},
		{"short-vsid", 16 * mib, []string{"--fullvsid=0123ab"}},
		{"spaces", 16 * mib, []string{"--label=   lead and trail   "}},
		{"small", 400 << 10, []string{"--blocksize=512", "--label=small"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireTool(t, "mkudffs")
			img := sparseImage(t, "udf.img", tc.size)
			testenv.Run(t, "mkudffs", append(tc.args, img)...)
			if r := compareWithBlkid(t, img); r.Type != "udf" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// udfSessionProbe answers for the session at off as the probe would with a
// session_offset hint: udf first, then iso9660 (both tolerant, so the
// first found is reported).
func udfSessionProbe(t *testing.T, path string, off uint64) map[string]string {
	t.Helper()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSource(context.Background(), bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	got, typ := (*sb)(nil), ""
	if got, err = udfProbe(s, 512, off); got != nil {
		typ = "udf"
	} else if err == nil {
		if got, err = isoProbeSession(s, off); got != nil {
			typ = "iso9660"
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if got == nil {
		return m
	}
	m["TYPE"], m["USAGE"] = typ, UsageFilesystem
	for k, v := range map[string]string{"LABEL": got.label, "UUID": got.uuid, "VERSION": got.version} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// udfBlkidSession is blkid -p with a session_offset hint, the compared keys.
func udfBlkidSession(t *testing.T, path string, off uint64) map[string]string {
	t.Helper()
	out, err := testenv.RunErr("blkid", "-d", "-p", "-o", "export", "--hint", "session_offset="+strconv.FormatUint(off, 10), path)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) { // 2: nothing found
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && (k == "TYPE" || k == "USAGE" || k == "LABEL" || k == "UUID" || k == "VERSION") {
			m[k] = unescapeExport(v)
		}
	}
	return m
}

// TestUDFSessions probes each session of util-linux's multi-session images
// (their names give the sessions' first 2048-byte sectors) and compares
// with blkid given the same session_offset hint, as blkid sets it for an
// optical drive holding such a disc; a misaligned hint finds nothing.
func TestUDFSessions(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	dir := filepath.Dir(testenv.BlkidCorpus(t)[0])
	for _, tc := range []struct {
		img      string
		sessions []uint64
	}{
		{"udf-multi-0-320-640-mkudffs.img", []uint64{0, 320, 640}},
		{"udf-multi-0-417-834-genisoimage.img", []uint64{0, 417, 834}},
		{"iso-multi-0-174-348-genisoimage.img", []uint64{0, 174, 348}},
	} {
		path := filepath.Join(dir, tc.img)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("corpus image missing: %v", err)
		}
		offs := []uint64{1024, 174*2048 + 512}
		for _, sec := range tc.sessions {
			offs = append(offs, sec*2048)
		}
		for _, off := range offs {
			t.Run(tc.img+"@"+strconv.FormatUint(off, 10), func(t *testing.T) {
				want := udfBlkidSession(t, path, off)
				if diff := cmp.Diff(want, udfSessionProbe(t, path, off)); diff != "" {
					t.Errorf("(-blkid +ours)\n%s", diff)
				}
			})
		}
	}
}
