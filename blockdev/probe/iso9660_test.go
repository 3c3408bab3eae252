package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// isoVD is one 2048-byte volume descriptor of a hand-built image; fields
// left nil stay zero (a PVD's label is then 32 NULs).
type isoVD struct {
	typ               byte
	id                string // "CD001" unless set
	esc               string
	label             []byte // the 32-byte volume identifier field
	created, modified []byte // 17-byte dates, PVD only
}

func isoASCII(s string) []byte {
	b := bytes.Repeat([]byte(" "), 32)
	copy(b, s)
	return b
}

// isoUCS2 is s in UTF-16BE padded with spaces to 32 bytes, as Joliet
// writers record it; raw 16-bit units can be given with units.
func isoUCS2(s string) []byte {
	return isoUnits(utf16.Encode([]rune(s)))
}

func isoUnits(u []uint16) []byte {
	b := make([]byte, 32)
	for i := 0; i < 16; i++ {
		c := uint16(' ')
		if i < len(u) {
			c = u[i]
		}
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func isoImage(size int, vds ...isoVD) []byte {
	b := make([]byte, size)
	for i, vd := range vds {
		d := b[isoPVDOff+i*isoSectorSize:]
		d[0] = vd.typ
		id := vd.id
		if id == "" {
			id = "CD001"
		}
		copy(d[1:6], id)
		d[6] = 1
		copy(d[40:72], vd.label)
		copy(d[88:], vd.esc)
		copy(d[813:830], vd.created)
		copy(d[830:847], vd.modified)
	}
	return b
}

var (
	isoCreated  = []byte("2009092410344000\x00")
	isoModified = []byte("2009092410345500\x00")
	isoUnset    = []byte("0000000000000000\x00")
)

func isoPVD(lbl string) isoVD {
	return isoVD{typ: isoVDPrimary, label: isoASCII(lbl), created: isoCreated, modified: isoModified}
}

func isoJoliet(label []byte) isoVD {
	return isoVD{typ: isoVDSupplementary, esc: "%/E", label: label}
}

var isoEnd = isoVD{typ: isoVDEnd}

func TestISO9660Synthetic(t *testing.T) {
	const size = 1 << 20
	pvdWith := func(lbl string, f func(*isoVD)) isoVD {
		v := isoPVD(lbl)
		f(&v)
		return v
	}
	const uuid = "2009-09-24-10-34-55-00"
	cases := []struct {
		name                 string
		img                  []byte
		label, uuid, version string
	}{
		{"pvd", isoImage(size, isoPVD("IsoVolumeName"), isoEnd), "IsoVolumeName", uuid, ""},
		{"pvd label nul", isoImage(size, pvdWith("", func(v *isoVD) { v.label = []byte("AB\x00CD") }), isoEnd), "AB", uuid, ""},
		{"no label", isoImage(size, isoPVD(""), isoEnd), "", uuid, ""},
		{"modified unset", isoImage(size, pvdWith("L", func(v *isoVD) { v.modified = isoUnset }), isoEnd), "L", "2009-09-24-10-34-40-00", ""},
		// A non-zero time zone makes an all-'0' date a set one.
		{"zero date with offset", isoImage(size, pvdWith("L", func(v *isoVD) { v.modified = []byte("0000000000000000\x01") }), isoEnd), "L", "0000-00-00-00-00-00-00", ""},
		// NUL bytes are not '0': the date counts as set, blkid prints
		// nothing for it and does not fall back to the creation date.
		{"nul date", isoImage(size, pvdWith("L", func(v *isoVD) { v.modified = make([]byte, 17) }), isoEnd), "L", "", ""},
		{"part nul date", isoImage(size, pvdWith("L", func(v *isoVD) { v.modified = []byte("2009\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00") }), isoEnd), "L", "2009-", ""},
		{"both unset", isoImage(size, pvdWith("L", func(v *isoVD) { v.modified, v.created = isoUnset, isoUnset }), isoEnd), "L", "", ""},
		// The Joliet label (16 characters) is completed from the PVD's
		// (32), '_' in the PVD standing for what ASCII cannot hold.
		{"joliet merge", isoImage(size, isoPVD("NA_VE AND VERY LOOOOOOOONG_LABEL"), isoJoliet(isoUCS2("Naïve and very l")), isoEnd), "Naïve and very lOOOOOOOONG_LABEL", uuid, "Joliet Extension"},
		{"joliet same", isoImage(size, isoPVD("SAME"), isoJoliet(isoUCS2("SAME")), isoEnd), "SAME", uuid, "Joliet Extension"},
		// A lower-case PVD letter is kept; an upper-case one takes
		// Joliet's spelling.
		{"joliet case", isoImage(size, isoPVD("abCD"), isoJoliet(isoUCS2("ABcd")), isoEnd), "abcd", uuid, "Joliet Extension"},
		{"joliet underscore", isoImage(size, isoPVD("ABC"), isoJoliet(isoUCS2("A_C")), isoEnd), "ABC", uuid, "Joliet Extension"},
		{"joliet differs", isoImage(size, isoPVD("CDLABEL"), isoJoliet(isoUCS2("Joliet Name")), isoEnd), "Joliet Name", uuid, "Joliet Extension"},
		{"joliet blank", isoImage(size, isoPVD("CDLABEL"), isoJoliet(isoUCS2("")), isoEnd), "", uuid, "Joliet Extension"},
		{"joliet surrogate", isoImage(size, isoPVD("_X"), isoJoliet(isoUCS2("😀X")), isoEnd), "😀X", uuid, "Joliet Extension"},
		{"joliet nul", isoImage(size, isoPVD("ABCD"), isoJoliet(isoUnits([]uint16{'A', 'B', 0, 0})), isoEnd), "AB", uuid, "Joliet Extension"},
		{"joliet lone surrogate", isoImage(size, isoPVD("ZZ"), isoJoliet(isoUnits([]uint16{0xd800, 'A'})), isoEnd), "\xed\xa0\x80A", uuid, "Joliet Extension"},
		{"svd not joliet", isoImage(size, isoPVD("PVD"), isoVD{typ: isoVDSupplementary, esc: "%/X", label: isoUCS2("Other")}, isoEnd), "PVD", uuid, ""},
		{"second svd joliet", isoImage(size, isoPVD("PVD"), isoVD{typ: isoVDSupplementary, label: isoUCS2("Other")}, isoJoliet(isoUCS2("Jol")), isoEnd), "Jol", uuid, "Joliet Extension"},
		{"joliet before pvd", isoImage(size, isoJoliet(isoUCS2("J")), isoPVD("P"), isoEnd), "J", uuid, "Joliet Extension"},
		{"boot record first", isoImage(size, isoVD{typ: isoVDBoot}, isoPVD("AfterBoot"), isoEnd), "AfterBoot", uuid, ""},
		{"first pvd wins", isoImage(size, isoPVD("One"), isoPVD("Two"), isoEnd), "One", uuid, ""},
		// Only the type byte matters after the first descriptor.
		{"ids not checked", isoImage(size, isoPVD("P"), isoVD{typ: isoVDBoot, id: "BEA01"}, isoVD{typ: isoVDSupplementary, id: "XXXXX", esc: "%/@", label: isoUCS2("P")}, isoEnd), "P", uuid, "Joliet Extension"},
		{"joliet past end", isoImage(size, isoPVD("P"), isoEnd, isoJoliet(isoUCS2("J"))), "P", uuid, ""},
		// A multi-session disc without a session hint: the first session.
		{"first session", func() []byte {
			b := isoImage(size, isoPVD("first session"), isoEnd)
			copy(b[(174+16)*isoSectorSize:], isoImage(0x9000, isoPVD("second session"), isoEnd)[isoPVDOff:])
			return b
		}(), "first session", uuid, ""},
		{"high sierra", func() []byte {
			b := make([]byte, size)
			b[0x8008] = 1
			copy(b[0x8009:], "CDROM")
			copy(b[0x8030:0x8050], isoASCII("HSFS LABEL"))
			return b
		}(), "HSFS LABEL", "", "High Sierra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := isoProbeBytes(t, tc.img)
			if got == nil {
				t.Fatal("not detected")
			}
			if got.label != tc.label || got.uuid != tc.uuid || got.version != tc.version || !got.tolerant {
				t.Errorf("got label %q uuid %q version %q tolerant %v, want %q %q %q", got.label, got.uuid, got.version, got.tolerant, tc.label, tc.uuid, tc.version)
			}
			isoAlsoBlkid(t, tc.img)
		})
	}
}

func TestISO9660NotDetected(t *testing.T) {
	cases := map[string][]byte{
		"no magic":        isoImage(1<<20, isoVD{typ: isoVDPrimary, id: "CD002"}),
		"end before pvd":  isoImage(1<<20, isoVD{typ: isoVDBoot}, isoEnd, isoPVD("late")),
		"only svd":        isoImage(1<<20, isoJoliet(isoUCS2("J")), isoEnd),
		"empty":           make([]byte, 1<<20),
		"magic block cut": isoImage(1<<20, isoPVD("x"), isoEnd)[:isoPVDOff+1023],
		"pvd cut":         isoImage(1<<20, isoVD{typ: isoVDBoot}, isoPVD("x"), isoEnd)[:isoPVDOff+isoSectorSize+isoVDLen-1],
		"high sierra cut": append(make([]byte, 0x8009), "CDROM"...),
		"pvd beyond 16":   isoImage(1<<20, append(isoRepeat(isoVD{typ: 3}, 16), isoPVD("x"))...),
	}
	for name, img := range cases {
		t.Run(name, func(t *testing.T) {
			if got := isoProbeBytes(t, img); got != nil {
				t.Errorf("detected: %+v", got)
			}
			isoAlsoBlkid(t, img)
		})
	}
}

// TestISO9660Truncated: a device that ends inside the descriptor set
// still reports what was read before the end.
func TestISO9660Truncated(t *testing.T) {
	img := isoImage(1<<20, isoPVD("P"), isoJoliet(isoUCS2("J")), isoEnd)[:isoPVDOff+isoSectorSize+isoVDLen-1]
	got := isoProbeBytes(t, img)
	if got == nil || got.label != "P" || got.version != "" {
		t.Errorf("got %+v", got)
	}
	isoAlsoBlkid(t, img)
}

func isoRepeat(v isoVD, n int) []isoVD {
	out := make([]isoVD, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func isoProbeBytes(t *testing.T, img []byte) *sb {
	t.Helper()
	s, err := newSource(context.Background(), bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	got, err := probeISO9660(s)
	if err != nil {
		t.Fatal(err)
	}
	if s.extra != 0 {
		t.Errorf("%d reads beyond the head", s.extra)
	}
	return got
}

// isoAlsoBlkid checks blkid's answer on the same bytes when blkid is
// installed (the probe as a whole: udf is probed too and finds nothing).
func isoAlsoBlkid(t *testing.T, img []byte) {
	t.Helper()
	if _, err := exec.LookPath("blkid"); err == nil {
		compareWithBlkid(t, writeImage(t, "iso.img", img))
	}
}

// TestISO9660DifferentialTools makes ISO images with genisoimage and
// xorriso: plain, Joliet with labels longer than Joliet holds and in
// Unicode, a UDF bridge (udf to blkid), and a two-session image.
func TestISO9660DifferentialTools(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, tool, typ string
		args            func(img string) []string
	}{
		{"plain", "genisoimage", "iso9660", func(i string) []string { return []string{"-quiet", "-o", i, "-V", "PLAIN LABEL", src} }},
		{"joliet-long", "genisoimage", "iso9660", func(i string) []string {
			return []string{"-quiet", "-J", "-o", i, "-V", "MyJolietLabelIsLongerThan16", src}
		}},
		{"joliet-utf8", "genisoimage", "iso9660", func(i string) []string {
			return []string{"-quiet", "-J", "-input-charset", "utf-8", "-o", i, "-V", "Ünïcödé lab", src}
		}},
		{"joliet-nolabel", "genisoimage", "iso9660", func(i string) []string { return []string{"-quiet", "-J", "-o", i, src} }},
		{"udf-bridge", "genisoimage", "udf", func(i string) []string {
			return []string{"-quiet", "-J", "-R", "-udf", "-input-charset", "utf-8", "-o", i, "-V", "日本語 bridge", src}
		}},
		{"xorriso-joliet", "xorriso", "iso9660", func(i string) []string {
			return []string{"-outdev", i, "-joliet", "on", "-volid", "xorriso lower case vol", "-map", src, "/", "-commit"}
		}},
		{"xorriso-emoji", "xorriso", "iso9660", func(i string) []string {
			return []string{"-as", "mkisofs", "-J", "-V", "😀 emoji vol", "-o", i, src}
		}},
		// Hybrid images for USB sticks: a partition table beside the
		// filesystem, and blkid reports both.
		{"xorriso-mbr", "xorriso", "iso9660", func(i string) []string {
			return []string{"-as", "mkisofs", "-J", "-V", "HYBRID", "-partition_offset", "16",
				"-append_partition", "2", "0xef", filepath.Join(src, "a.txt"), "-o", i, src}
		}},
		{"xorriso-gpt", "xorriso", "iso9660", func(i string) []string {
			return []string{"-as", "mkisofs", "-J", "-V", "HYGPT", "-appended_part_as_gpt",
				"-append_partition", "2", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", filepath.Join(src, "a.txt"), "-o", i, src}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireTool(t, tc.tool)
			img := filepath.Join(t.TempDir(), "cd.iso")
			testenv.Run(t, tc.tool, tc.args(img)...)
			if r := compareWithBlkid(t, img); r.Type != tc.typ {
				t.Errorf("got %+v", r)
			}
		})
	}
	t.Run("two-sessions", func(t *testing.T) {
		testenv.RequireTool(t, "xorriso")
		img := filepath.Join(t.TempDir(), "ms.iso")
		testenv.Run(t, "xorriso", "-dev", img, "-volid", "first session", "-map", src, "/", "-commit")
		testenv.Run(t, "xorriso", "-dev", img, "-volid", "second session", "-map", src, "/again", "-commit")
		// xorriso rewrites the descriptors at 32 KiB of an image file to
		// describe the newest session, and that is what blkid reads.
		if r := compareWithBlkid(t, img); r.Label != "second session" {
			t.Errorf("got %+v", r)
		}
	})
}

// TestISO9660Session: with a session offset the descriptors are read from
// that session (as blkid does with a session_offset hint), which costs one
// read per descriptor outside the head; a misaligned offset or one past the
// end finds nothing.
func TestISO9660Session(t *testing.T) {
	const second = 174 * isoSectorSize
	img := isoImage(1<<20, isoPVD("first"), isoEnd)
	copy(img[second:], isoImage(0xa000, isoPVD("SECOND"), isoJoliet(isoUCS2("second")), isoEnd))
	for _, tc := range []struct {
		off   uint64
		label string
		reads int
	}{
		{0, "first", 0},
		{second, "second", 2}, // the magic's sector with the PVD, then the SVD's 4 KiB block with the terminator
		{second + 512, "", 1},
		{1 << 20, "", 0},
		{1<<63 - 1, "", 0},
	} {
		s, err := newSource(context.Background(), bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := isoProbeSession(s, tc.off)
		if err != nil {
			t.Fatal(err)
		}
		lbl := ""
		if got != nil {
			lbl = got.label
		}
		if lbl != tc.label || (got == nil) != (tc.label == "") || s.extra != tc.reads {
			t.Errorf("offset %d: got %+v after %d reads, want label %q after %d", tc.off, got, s.extra, tc.label, tc.reads)
		}
		s.release()
	}
}
