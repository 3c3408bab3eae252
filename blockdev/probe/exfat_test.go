package probe

import (
	"encoding/binary"
	"os/exec"
	"testing"
	"unicode/utf16"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// exfatSynth builds an exFAT volume of 512-byte blocks and 4 KiB clusters:
// the FAT at block 128, the cluster heap at block 256, the root directory
// at cluster 4 (byte 139264, past the head buffer). entries are the root
// directory's first entries, 32 bytes each, laid from its first cluster on
// and following the FAT chain given by chain (cluster -> next).
func exfatSynth(size int, serial uint32, entries [][]byte, chain map[uint32]uint32) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	b[0], b[1], b[2] = 0xeb, 0x76, 0x90
	copy(b[3:], exfatMagic)
	le.PutUint64(b[0x48:], uint64(size/512))
	le.PutUint32(b[0x50:], 128)
	le.PutUint32(b[0x54:], 64)
	le.PutUint32(b[0x58:], 256)
	le.PutUint32(b[0x5c:], uint32((size/512-256)/8))
	le.PutUint32(b[0x60:], 4)
	le.PutUint32(b[0x64:], serial)
	b[0x68], b[0x69] = 0, 1 // version 1.0
	b[0x6c], b[0x6d] = 9, 3
	b[0x6e] = 1
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	fat := b[128*512:]
	for c, n := range chain {
		le.PutUint32(fat[c*4:], n)
	}
	cluster, off := uint32(4), 0
	for _, e := range entries {
		if off == 4096 {
			cluster, off = chain[cluster], 0
		}
		at := (256+int(cluster-2)*8)*512 + off
		copy(b[at:at+32], e)
		off += 32
	}
	return b
}

func exfatLabelEntry(name string) []byte {
	e := make([]byte, 32)
	e[0] = exfatEntryLabel
	u := utf16.Encode([]rune(name))
	e[1] = byte(len(u))
	for i, c := range u {
		if 2+2*i+2 <= 32 {
			binary.LittleEndian.PutUint16(e[2+2*i:], c)
		}
	}
	return e
}

// exfatOther is a directory entry that is neither the end nor a label (an
// allocation bitmap entry).
func exfatOther() []byte { e := make([]byte, 32); e[0] = 0x81; return e }

func exfatProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	r, err := probeExFAT(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probeExFAT: %v", err)
	}
	return r
}

func TestExFATSynthetic(t *testing.T) {
	const mib = 1 << 20
	r := exfatProbe(t, exfatSynth(4*mib, 0x9c238877, [][]byte{exfatLabelEntry("Новый том"), exfatOther()}, nil))
	if r == nil || r.label != "Новый том" || r.uuid != "9C23-8877" || r.version != "1.0" {
		t.Fatalf("got %+v", r)
	}
	// The label after other entries, in the third cluster of the chain.
	var ents [][]byte
	for i := 0; i < 2*128; i++ {
		ents = append(ents, exfatOther())
	}
	ents = append(ents, exfatLabelEntry("deep"))
	b := exfatSynth(4*mib, 1, ents, map[uint32]uint32{4: 9, 9: 6})
	if r := exfatProbe(t, b); r == nil || r.label != "deep" || r.uuid != "0000-0001" {
		t.Errorf("chained: got %+v", r)
	}
	// The chain ends (FAT entry 0xffffffff: past the last data cluster)
	// before the label.
	b = exfatSynth(4*mib, 1, ents, map[uint32]uint32{4: 9, 9: 6})
	binary.LittleEndian.PutUint32(b[128*512+9*4:], 0xffffffff)
	if r := exfatProbe(t, b); r == nil || r.label != "" {
		t.Errorf("chain end: got %+v", r)
	}
	// An end-of-directory entry first; no serial; version 1.2.
	b = exfatSynth(4*mib, 0, [][]byte{make([]byte, 32), exfatLabelEntry("after")}, nil)
	b[0x68] = 2
	if r := exfatProbe(t, b); r == nil || r.label != "" || r.uuid != "" || r.version != "1.2" {
		t.Errorf("empty dir: got %+v", r)
	}
	// A label length over 11 is cut to the entry's 11 units.
	e := exfatLabelEntry("abcdefghijklmnop")
	if r := exfatProbe(t, exfatSynth(4*mib, 1, [][]byte{e}, nil)); r == nil || r.label != "abcdefghijk" {
		t.Errorf("long label: got %+v", r)
	}
	e[1] = 3 // length says 3 of the 11 units
	if r := exfatProbe(t, exfatSynth(4*mib, 1, [][]byte{e}, nil)); r == nil || r.label != "abc" {
		t.Errorf("short length: got %+v", r)
	}
	// A self-referencing chain stops at blkid's 10000 entries.
	loop := make([][]byte, 128)
	for i := range loop {
		loop[i] = exfatOther()
	}
	b = exfatSynth(4*mib, 1, loop, map[uint32]uint32{4: 4})
	if r := exfatProbe(t, b); r == nil || r.label != "" {
		t.Errorf("loop: got %+v", r)
	}
}

func TestExFATRejects(t *testing.T) {
	const mib = 1 << 20
	good := func() []byte { return exfatSynth(4*mib, 1, [][]byte{exfatLabelEntry("x")}, nil) }
	b := good()
	b[3] = 'X'
	if r := exfatProbe(t, b); r != nil {
		t.Errorf("magic: got %+v", r)
	}
	// A cluster size that shifts out of 32 bits is zero to blkid.
	b = good()
	b[0x6c], b[0x6d] = 20, 12
	if r := exfatProbe(t, b); r != nil {
		t.Errorf("zero cluster size: got %+v", r)
	}
	// Shift counts are taken modulo 32 as the CPU does: 41 acts as 9.
	b = good()
	b[0x6c] = 41
	if r := exfatProbe(t, b); r == nil {
		t.Errorf("shift modulo 32: not detected")
	}
	// A root directory past the device leaves exFAT unlabelled.
	b = good()
	binary.LittleEndian.PutUint32(b[0x60:], 1<<30)
	if r := exfatProbe(t, b); r == nil || r.label != "" {
		t.Errorf("root past the end: got %+v", r)
	}
	// Too short for the boot sector's fields.
	if r := exfatProbe(t, good()[:0x70]); r != nil {
		t.Errorf("truncated: got %+v", r)
	}
}

func TestExFATAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	const mib = 1 << 20
	var ents [][]byte
	for i := 0; i < 2*128; i++ {
		ents = append(ents, exfatOther())
	}
	ents = append(ents, exfatLabelEntry("deep"))
	long := exfatLabelEntry("abcdefghijklmnop")
	for name, b := range map[string][]byte{
		"label":   exfatSynth(4*mib, 0x9c238877, [][]byte{exfatLabelEntry("Новый том")}, nil),
		"chained": exfatSynth(4*mib, 1, ents, map[uint32]uint32{4: 9, 9: 6}),
		"long":    exfatSynth(4*mib, 1, [][]byte{long}, nil),
		"empty":   exfatSynth(4*mib, 0, nil, nil),
	} {
		t.Run(name, func(t *testing.T) {
			if r := compareWithBlkid(t, writeImage(t, name+".img", b)); r.Type != "exfat" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// TestExFATMkfs formats with exfatprogs: a label outside ASCII, none, and
// large clusters and sectors.
func TestExFATMkfs(t *testing.T) {
	testenv.RequireTool(t, "mkfs.exfat", "blkid")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"label", []string{"-L", "Été ☃"}},
		{"nolabel", nil},
		{"cluster1m", []string{"-c", "1M", "-L", "big"}},
		{"packbitmap", []string{"--pack-bitmap", "-L", "pack"}},
		{"full", []string{"-L", "ABCDEFGHIJK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := sparseImage(t, tc.name+".img", 64<<20)
			out, err := exec.Command(testenv.RequireTool(t, "mkfs.exfat")[0], append(tc.args, img)...).CombinedOutput()
			if err != nil {
				t.Skipf("mkfs.exfat %v: %v\n%s", tc.args, err, out)
			}
			if r := compareWithBlkid(t, img); r.Type != "exfat" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// TestExFATMkfs4KSectors formats a loop device of 4 KiB logical sectors, so
// the block shift is 12.
func TestExFATMkfs4KSectors(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.exfat", "blkid", "losetup")
	dev := testenv.LoopSector(t, 64<<20, 4096)
	testenv.Run(t, "mkfs.exfat", "-L", "s4k", dev)
	if r := compareWithBlkid(t, dev); r.Type != "exfat" || r.Label != "s4k" {
		t.Errorf("got %+v", r)
	}
}

func FuzzExFAT(f *testing.F) {
	var ents [][]byte
	for i := 0; i < 130; i++ {
		ents = append(ents, exfatOther())
	}
	ents = append(ents, exfatLabelEntry("fz"))
	b := exfatSynth(1<<20, 1, ents, map[uint32]uint32{4: 5})
	fuzzProbers(f, 0, [][]byte{region(b, 0, 512), region(b, 0, 256*512+4*4096)}, probeExFAT)
}
