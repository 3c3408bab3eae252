package probe

import (
	"encoding/binary"
	"os/exec"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// ntfsSynthOpts shapes a synthetic NTFS volume: 512-byte sectors, 8 sectors
// per cluster, 1 KiB MFT records (stored as -10), the MFT at cluster mft.
type ntfsSynthOpts struct {
	spc        byte // sectors per cluster as stored; 0 means 8
	mftCluster uint64
	serial     uint64
	name       []uint16 // the volume name attribute's UTF-16 units; nil: no attribute
}

func ntfsSynth(size int, o ntfsSynthOpts) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	b[0], b[1], b[2] = 0xeb, 0x52, 0x90
	copy(b[3:], ntfsMagic)
	le.PutUint16(b[0x0b:], 512)
	spc := o.spc
	if spc == 0 {
		spc = 8
	}
	b[0x0d] = spc
	clusterBytes := int(spc) * 512
	if spc >= 240 {
		clusterBytes = 512 << (256 - int(spc))
	}
	b[0x15] = 0xf8
	le.PutUint64(b[0x28:], uint64(size/512-1))
	le.PutUint64(b[0x30:], o.mftCluster)
	le.PutUint64(b[0x38:], 2)
	b[0x40] = 0xf6 // 2^10-byte records
	b[0x44] = 1
	le.PutUint64(b[0x48:], o.serial)
	b[0x1fe], b[0x1ff] = 0x55, 0xaa

	mft := int(o.mftCluster) * clusterBytes
	copy(b[mft:], "FILE")
	rec := b[mft+3*1024 : mft+4*1024]
	copy(rec, "FILE")
	le.PutUint16(rec[0x14:], 0x38)
	le.PutUint32(rec[0x1c:], 1024)
	a := rec[0x38:]
	// $STANDARD_INFORMATION first, so the walk has to step over it.
	le.PutUint32(a[0:], 0x10)
	le.PutUint32(a[4:], 0x60)
	a = a[0x60:]
	if o.name != nil {
		val := make([]byte, 2*len(o.name))
		for i, u := range o.name {
			le.PutUint16(val[2*i:], u)
		}
		alen := (0x18 + len(val) + 7) &^ 7
		le.PutUint32(a[0:], ntfsAttrVolumeName)
		le.PutUint32(a[4:], uint32(alen))
		le.PutUint32(a[16:], uint32(len(val)))
		le.PutUint16(a[20:], 0x18)
		copy(a[0x18:], val)
		a = a[alen:]
	}
	le.PutUint32(a[0:], ntfsAttrEnd)
	return b
}

func ntfsProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	s := fuzzSourceExact(t, b)
	r, err := probeNTFS(s)
	if err != nil {
		t.Fatalf("probeNTFS: %v", err)
	}
	return r
}

// fuzzSourceExact is a source over exactly b.
func fuzzSourceExact(t *testing.T, b []byte) *source {
	t.Helper()
	return fuzzSource(t, b, 0, int64(len(b)))
}

func TestNTFSSynthetic(t *testing.T) {
	const mib = 1 << 20
	name := utf16.Encode([]rune("Новый том"))
	r := ntfsProbe(t, ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4, serial: 0x09cbb6de30c87310, name: name}))
	if r == nil || r.label != "Новый том" || r.uuid != "09CBB6DE30C87310" || r.version != "" {
		t.Fatalf("got %+v", r)
	}

	// Trailing blanks go, a NUL ends the name, and blkid's converter keeps
	// a lone surrogate as its own three bytes while joining a pair.
	for _, tc := range []struct {
		units []uint16
		want  string
	}{
		{utf16.Encode([]rune("vol  \t")), "vol"},
		{[]uint16{'a', 0, 'b'}, "a"},
		{[]uint16{'x', 0xd83d, 0xde00}, "x\U0001F600"},
		{[]uint16{'x', 0xd800, 'y'}, "x\xed\xa0\x80y"},
		{[]uint16{0xdc00}, "\xed\xb0\x80"},
		{[]uint16{0xd800}, "\xed\xa0\x80"},
		{[]uint16{}, ""},
	} {
		r := ntfsProbe(t, ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4, serial: 1, name: tc.units}))
		if r == nil || r.label != tc.want || r.uuid != "0000000000000001" {
			t.Errorf("name %x: got %+v, want label %q", tc.units, r, tc.want)
		}
	}

	// No volume name, no serial: NTFS all the same.
	if r := ntfsProbe(t, ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4})); r == nil || r.label != "" || r.uuid != "" {
		t.Errorf("bare volume: got %+v", r)
	}

	// The MFT past the head buffer costs two reads and still gives the name.
	b := ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 100, serial: 7, name: utf16.Encode([]rune("far"))})
	if r := ntfsProbe(t, b); r == nil || r.label != "far" {
		t.Errorf("far MFT: got %+v", r)
	}
}

func TestNTFSRejects(t *testing.T) {
	const mib = 1 << 20
	good := func() []byte {
		return ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4, serial: 5, name: utf16.Encode([]rune("n"))})
	}
	if ntfsProbe(t, good()) == nil {
		t.Fatal("baseline not detected")
	}
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		edit func(b []byte)
	}{
		{"magic", func(b []byte) { b[3] = 'M' }},
		{"sector size 128", func(b []byte) { le.PutUint16(b[0x0b:], 128) }},
		{"sector size 8192", func(b []byte) { le.PutUint16(b[0x0b:], 8192) }},
		{"sectors per cluster 3", func(b []byte) { b[0x0d] = 3 }},
		{"sectors per cluster 0", func(b []byte) { b[0x0d] = 0 }},
		{"exponent 239", func(b []byte) { b[0x0d] = 239 }},
		{"cluster over 2 MiB", func(b []byte) { b[0x0d] = 243 }}, // 8192 sectors
		{"reserved sectors", func(b []byte) { b[0x0e] = 1 }},
		{"fats", func(b []byte) { b[0x10] = 2 }},
		{"root entries", func(b []byte) { b[0x11] = 1 }},
		{"sectors", func(b []byte) { b[0x13] = 1 }},
		{"sectors per fat", func(b []byte) { b[0x16] = 1 }},
		{"large sectors", func(b []byte) { b[0x20] = 1 }},
		{"clusters per record 3", func(b []byte) { b[0x40] = 3 }},
		{"clusters per record 0", func(b []byte) { b[0x40] = 0 }},
		{"clusters per record 128", func(b []byte) { b[0x40] = 0x80 }},
		{"record exponent 0xe0", func(b []byte) { b[0x40] = 0xe0 }},
		{"MFT past the volume", func(b []byte) { le.PutUint64(b[0x30:], 1<<40) }},
		{"mirror past the volume", func(b []byte) { le.PutUint64(b[0x38:], 1<<40) }},
		{"record 0 magic", func(b []byte) { b[4*4096] = 'B' }},
		{"record 3 magic", func(b []byte) { b[4*4096+3*1024] = 'B' }},
		// 2^31-byte records: far past the device.
		{"huge records", func(b []byte) { b[0x40] = 0xe1 }},
	} {
		b := good()
		tc.edit(b)
		if r := ntfsProbe(t, b); r != nil {
			t.Errorf("%s: got %+v, want nothing", tc.name, r)
		}
	}

	// Large clusters as an exponent are fine up to 2 MiB (4096 sectors of
	// 512 bytes); the MFT location counts in those clusters.
	b := ntfsSynth(6*mib, ntfsSynthOpts{spc: 244, mftCluster: 1, name: utf16.Encode([]rune("big"))})
	if r := ntfsProbe(t, b); r == nil || r.label != "big" {
		t.Errorf("2 MiB clusters: got %+v", r)
	}
	// The MFT at cluster 0 would be the boot sector itself.
	b = good()
	le.PutUint64(b[0x30:], 0)
	if r := ntfsProbe(t, b); r != nil {
		t.Errorf("MFT at cluster 0: got %+v", r)
	}

	// A device that ends inside $Volume's record.
	if r := ntfsProbe(t, good()[:4*4096+3*1024+100]); r != nil {
		t.Errorf("truncated: got %+v", r)
	}
	// A value running past the record leaves the volume unnamed.
	b = good()
	a := b[4*4096+3*1024+0x38+0x60:]
	le.PutUint32(a[16:], 4000)
	if r := ntfsProbe(t, b); r == nil || r.label != "" {
		t.Errorf("oversized value: got %+v", r)
	}
	// A zero-length attribute ends the walk.
	b = good()
	le.PutUint32(b[4*4096+3*1024+0x38+4:], 0)
	if r := ntfsProbe(t, b); r == nil || r.label != "" {
		t.Errorf("zero-length attribute: got %+v", r)
	}
	// Attributes past the allocated size are not read.
	b = good()
	le.PutUint32(b[4*4096+3*1024+0x1c:], 0x40)
	if r := ntfsProbe(t, b); r == nil || r.label != "" {
		t.Errorf("allocated size: got %+v", r)
	}
}

// TestNTFSAgainstBlkid checks the synthetic volumes against blkid itself.
func TestNTFSAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	const mib = 1 << 20
	for name, b := range map[string][]byte{
		"cyrillic":  ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4, serial: 0x09cbb6de30c87310, name: utf16.Encode([]rune("Новый том"))}),
		"surrogate": ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 4, serial: 1, name: []uint16{'x', 0xd800, 'y', 0xd83d, 0xde00}}),
		"far-mft":   ntfsSynth(4*mib, ntfsSynthOpts{mftCluster: 100, name: utf16.Encode([]rune("far"))}),
	} {
		t.Run(name, func(t *testing.T) {
			if r := compareWithBlkid(t, writeImage(t, name+".img", b)); r.Type != "ntfs" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// TestNTFSMkfs formats images with ntfs-3g's mkntfs: labels outside ASCII,
// 4 KiB sectors, 64 KiB and 2 MiB clusters.
func TestNTFSMkfs(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ntfs", "blkid")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"default", []string{"-L", "Données ☃"}},
		{"nolabel", nil},
		{"sector4k", []string{"-s", "4096", "-L", "s4k"}},
		{"cluster64k", []string{"-c", "65536", "-L", "c64k"}},
		{"cluster2m", []string{"-c", "2097152", "-L", "c2m"}},
		{"record4k", []string{"-s", "4096", "-c", "4096", "-L", "rec"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := sparseImage(t, tc.name+".img", 64<<20)
			args := append([]string{"-Q", "-F"}, tc.args...)
			out, err := exec.Command(testenv.RequireTool(t, "mkfs.ntfs")[0], append(args, img)...).CombinedOutput()
			if err != nil {
				t.Skipf("mkfs.ntfs %v: %v\n%s", tc.args, err, out)
			}
			if r := compareWithBlkid(t, img); r.Type != "ntfs" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func FuzzNTFS(f *testing.F) {
	b := ntfsSynth(1<<20, ntfsSynthOpts{mftCluster: 1, serial: 3, name: utf16.Encode([]rune("fz"))})
	fuzzProbers(f, 0, [][]byte{region(b, 0, 4096+4*1024)}, probeNTFS)
}
