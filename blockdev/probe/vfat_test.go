package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// vfat32Synth builds a FAT32 volume of 512-byte sectors and one-sector
// clusters (16 directory entries each): 32 reserved sectors with the FSInfo
// sector at 1, two FATs of 8 sectors (1024 entries: blkid does not check
// that they cover the volume), the root directory from cluster 2, sector 48.
// entries are laid in the root directory from its first cluster on,
// following chain (cluster -> next) at each cluster boundary.
func vfat32Synth(size int, bootLabel string, entries [][]byte, chain map[uint32]uint32) []byte {
	return vfat32SynthFAT(size, 8, bootLabel, entries, chain)
}

// vfat32SynthFAT is vfat32Synth with FATs of fatSectors sectors.
func vfat32SynthFAT(size, fatSectors int, bootLabel string, entries [][]byte, chain map[uint32]uint32) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	b[0], b[1], b[2] = 0xeb, 0x58, 0x90
	copy(b[3:], "mkfs.fat")
	le.PutUint16(b[0x0b:], 512)
	b[0x0d] = 1
	le.PutUint16(b[0x0e:], 32)
	b[0x10] = 2
	b[0x15] = 0xf8
	le.PutUint32(b[0x20:], uint32(size/512))
	le.PutUint32(b[0x24:], uint32(fatSectors))
	le.PutUint32(b[0x2c:], 2)
	le.PutUint16(b[0x30:], 1)
	le.PutUint16(b[0x32:], 6)
	b[0x42] = 0x29
	copy(b[0x43:], []byte{0xb3, 0xf9, 0x26, 0x28})
	copy(b[0x47:0x52], bytes.Repeat([]byte(" "), 11))
	copy(b[0x47:], bootLabel)
	copy(b[0x52:], "FAT32   ")
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	fsinfo := b[512:]
	copy(fsinfo, "RRaA")
	copy(fsinfo[484:], "rrAa")
	fat := b[32*512:]
	le.PutUint32(fat[0:], 0x0ffffff8)
	le.PutUint32(fat[4:], 0x0fffffff)
	le.PutUint32(fat[8:], 0x0fffffff)
	for c, n := range chain {
		le.PutUint32(fat[c*4:], n)
	}
	dataStart := (32 + 2*fatSectors) * 512
	cluster, off := uint32(2), 0
	for _, e := range entries {
		if off == 512 {
			cluster, off = chain[cluster], 0
			if cluster < 2 || cluster >= 0x0ffffff8 {
				break // the directory ends; the rest is not laid
			}
		}
		at := dataStart + int(cluster-2)*512 + off
		copy(b[at:at+32], e)
		off += 32
	}
	return b
}

// vfatEntry is a directory entry named name (11 bytes, padded with
// blanks) with attributes attr and first cluster cluster.
func vfatEntry(name string, attr byte, cluster uint16) []byte {
	e := make([]byte, 32)
	copy(e, bytes.Repeat([]byte(" "), 11))
	copy(e, name)
	e[11] = attr
	binary.LittleEndian.PutUint16(e[26:], cluster)
	return e
}

func vfatLabelEntry(name string) []byte { return vfatEntry(name, fatAttrVolumeID|0x20, 0) }

// vfatFile is an ordinary file entry: it owns a cluster, so the label
// search steps over it.
func vfatFile(name string) []byte { return vfatEntry(name, 0x20, 7) }

func vfatProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	r, err := probeVFAT(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probeVFAT: %v", err)
	}
	return r
}

func TestVFAT32Labels(t *testing.T) {
	const mib = 1 << 20
	filler := func(n int) [][]byte {
		var e [][]byte
		for i := 0; i < n; i++ {
			e = append(e, vfatFile("FILE    TXT"))
		}
		return e
	}
	for _, tc := range []struct {
		name    string
		boot    string
		entries [][]byte
		chain   map[uint32]uint32
		want    string
	}{
		{"root wins", "BOOTLBL", [][]byte{vfatLabelEntry("ROOTLBL")}, nil, "ROOTLBL"},
		// blkid reads LABEL from the root directory only; the boot sector's
		// copy is LABEL_FATBOOT.
		{"boot only", "BOOTLBL", nil, nil, ""},
		{"root NO NAME", "BOOTLBL", [][]byte{vfatLabelEntry("NO NAME")}, nil, "NO NAME"},
		{"boot NO NAME", "NO NAME", [][]byte{vfatLabelEntry("ROOT")}, nil, "ROOT"},
		// 0x05 stands for a first byte 0xe5 (which would mark the entry free).
		{"escaped e5", "", [][]byte{vfatLabelEntry("\x05\xe5\xe5")}, nil, "\xe5\xe5\xe5"},
		{"cp850 bytes", "", [][]byte{vfatLabelEntry("X\x8eB")}, nil, "X\x8eB"},
		{"after files", "", append(filler(3), vfatLabelEntry("LATE")), nil, "LATE"},
		{"erased label", "BOOT", [][]byte{vfatEntry("\xe5ABEL", fatAttrVolumeID, 0)}, nil, ""},
		{"end before label", "", [][]byte{make([]byte, 32), vfatLabelEntry("AFTER")}, nil, ""},
		{"long name skipped", "", [][]byte{vfatEntry("AB", fatAttrLongName, 0), vfatLabelEntry("L")}, nil, "L"},
		{"directory skipped", "", [][]byte{vfatEntry("D", fatAttrVolumeID|fatAttrDir, 0), vfatLabelEntry("L")}, nil, "L"},
		{"label owning a cluster", "", [][]byte{vfatEntry("C", fatAttrVolumeID, 9), vfatLabelEntry("L")}, nil, "L"},
		{"third cluster", "", append(filler(32), vfatLabelEntry("DEEP")), map[uint32]uint32{2: 5, 5: 3, 3: 0x0fffffff}, "DEEP"},
		{"chain ends first", "", append(filler(32), vfatLabelEntry("DEEP")), map[uint32]uint32{2: 5, 5: 0x0fffffff}, ""},
		{"blank label", "", [][]byte{vfatLabelEntry("")}, nil, ""},
		{"embedded NUL", "", [][]byte{vfatLabelEntry("AB\x00CD")}, nil, "AB"},
	} {
		b := vfat32Synth(4*mib, tc.boot, tc.entries, tc.chain)
		if tc.name == "chain ends first" {
			// The third cluster still holds the label; the FAT says the
			// directory ends before it.
			copy(b[(32+2*8+1)*512:], vfatLabelEntry("DEEP"))
		}
		r := vfatProbe(t, b)
		if r == nil || r.label != tc.want || r.version != "FAT32" || r.uuid != "2826-F9B3" {
			t.Errorf("%s: got %+v, want label %q", tc.name, r, tc.want)
		}
	}
}

func TestVFAT32Rejects(t *testing.T) {
	const mib = 1 << 20
	good := func() []byte { return vfat32Synth(4*mib, "B", [][]byte{vfatLabelEntry("R")}, nil) }
	if vfatProbe(t, good()) == nil {
		t.Fatal("baseline not detected")
	}
	// An FSInfo sector far away: past the end of the device, or in it and
	// all zeros (tolerated).
	far := vfat32Synth(4*mib, "B", nil, nil)
	binary.LittleEndian.PutUint16(far[0x30:], 0xffff)
	if r := vfatProbe(t, far); r != nil {
		t.Errorf("fsinfo past the end: got %+v", r)
	}
	far = vfat32Synth(40*mib, "B", nil, nil)
	binary.LittleEndian.PutUint16(far[0x30:], 0xffff)
	if r := vfatProbe(t, far); r == nil {
		t.Errorf("fsinfo of zeros far away: not detected")
	}
	for _, tc := range []struct {
		name string
		edit func(b []byte)
		ok   bool
	}{
		{"fsinfo signature", func(b []byte) { copy(b[512:], "XXXX") }, false},
		{"fsinfo second signature", func(b []byte) { copy(b[512+484:], "XXXX") }, false},
		{"fsinfo RRdA", func(b []byte) { copy(b[512:], "RRdA") }, true},
		{"fsinfo zeros", func(b []byte) { copy(b[512:], make([]byte, 512)) }, true},
		{"no fsinfo", func(b []byte) { binary.LittleEndian.PutUint16(b[0x30:], 0) }, true},
		{"no fats", func(b []byte) { b[0x10] = 0 }, false},
		{"no reserved", func(b []byte) { binary.LittleEndian.PutUint16(b[0x0e:], 0) }, false},
		{"media", func(b []byte) { b[0x15] = 0x12 }, false},
		{"cluster size 3", func(b []byte) { b[0x0d] = 3 }, false},
		{"sector size 256", func(b []byte) { binary.LittleEndian.PutUint16(b[0x0b:], 256) }, false},
	} {
		b := good()
		tc.edit(b)
		if r := vfatProbe(t, b); (r != nil) != tc.ok {
			t.Errorf("%s: got %+v, want found=%v", tc.name, r, tc.ok)
		}
	}
}

// TestVFAT32ChainLoop: a root directory whose cluster points at itself is
// walked at most 99 times, within the read budget, and FAT32 is still
// reported.
func TestVFAT32ChainLoop(t *testing.T) {
	var files [][]byte
	for i := 0; i < 16; i++ {
		files = append(files, vfatFile("F"))
	}
	b := vfat32Synth(4<<20, "B", files, map[uint32]uint32{2: 2})
	cr := &countingReader{r: bytes.NewReader(b)}
	r, err := ReaderAt(context.Background(), cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "vfat" || r.Label != "" {
		t.Errorf("got %+v", r)
	}
	if cr.n > maxExtraReads+1 {
		t.Errorf("%d reads", cr.n)
	}
}

func TestVFAT16Fields(t *testing.T) {
	const mib = 1 << 20
	// FAT12/16 carry a serial number only after an extended boot signature.
	for sig, want := range map[byte]string{0x29: "2F77-0DD2", 0x28: "2F77-0DD2", 0: "", 0x27: ""} {
		b := synthFAT16(8*mib, "B", "ROOT")
		b[0x26] = sig
		if r := vfatProbe(t, b); r == nil || r.uuid != want || r.label != "ROOT" || r.version != "FAT16" {
			t.Errorf("boot signature %#x: got %+v", sig, r)
		}
	}
	if r := vfatProbe(t, synthFAT16(8*mib, "BOOT", "")); r == nil || r.label != "" {
		t.Errorf("boot label only: got %+v", r)
	}
	b := synthFAT16(8*mib, "", "")
	copy(b[(1+2*64)*512:], vfatLabelEntry("\x05AB"))
	if r := vfatProbe(t, b); r == nil || r.label != "\xe5AB" {
		t.Errorf("escaped e5: got %+v", r)
	}
}

// vfat12Floppy is a 1.44 MB FAT12 floppy: 224 root entries from sector 19.
func vfat12Floppy(rootEntries [][]byte) []byte {
	b := make([]byte, 1440*1024)
	le := binary.LittleEndian
	b[0], b[1], b[2] = 0xeb, 0x3c, 0x90
	le.PutUint16(b[0x0b:], 512)
	b[0x0d] = 1
	le.PutUint16(b[0x0e:], 1)
	b[0x10] = 2
	le.PutUint16(b[0x11:], 224)
	le.PutUint16(b[0x13:], 2880)
	b[0x15] = 0xf0
	le.PutUint16(b[0x16:], 9)
	b[0x26] = 0x29
	copy(b[0x27:], []byte{1, 2, 3, 4})
	copy(b[0x2b:0x36], "NO NAME    ")
	copy(b[0x36:], "FAT12   ")
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	for i, e := range rootEntries {
		copy(b[19*512+32*i:], e)
	}
	return b
}

// TestVFATRootPastTheEnd: on a floppy-sized device blkid reads the root
// directory entry by entry and finds a label before the device ends; on a
// larger one it wants the whole directory and gives up.
func TestVFATRootPastTheEnd(t *testing.T) {
	f := vfat12Floppy([][]byte{vfatFile("A"), vfatLabelEntry("FLOPPY")})
	cut := f[:19*512+3*32]
	if r := vfatProbe(t, cut); r == nil || r.label != "FLOPPY" || r.version != "FAT12" || r.uuid != "0403-0201" {
		t.Errorf("truncated floppy: got %+v", r)
	}
	if r := vfatProbe(t, f); r == nil || r.label != "FLOPPY" {
		t.Errorf("floppy: got %+v", r)
	}
	if r := vfatProbe(t, vfatStraddle()); r == nil || r.label != "" {
		t.Errorf("straddling root: got %+v", r)
	}
}

// vfatStraddle is a 2 MiB device whose boot sector describes a 4 MiB FAT
// with its 512-entry root directory 4 sectors before the device's end, a
// label in its first entry.
func vfatStraddle() []byte {
	b := synthFAT16(2<<20, "B", "")
	le := binary.LittleEndian
	le.PutUint16(b[0x13:], 0)
	le.PutUint32(b[0x20:], 8192)
	le.PutUint16(b[0x0e:], uint16(2<<20/512-2*64-4))
	copy(b[(2<<20/512-4)*512:], vfatLabelEntry("CUT"))
	return b
}

// vfatBitLockerToGo writes BitLocker To Go's signature over a FAT32 boot
// sector, with the FVE metadata block at fve.
func vfatBitLockerToGo(b []byte, fve uint64, magic string) {
	copy(b, "\xeb\x58\x90MSWIN4.1")
	binary.LittleEndian.PutUint64(b[440:], fve)
	copy(b[fve:], magic)
}

func TestVFATBitLocker(t *testing.T) {
	b := vfat32Synth(4<<20, "B", nil, nil)
	vfatBitLockerToGo(b, 0x200000, "-FVE-FS-")
	if r := vfatProbe(t, b); r != nil {
		t.Errorf("BitLocker To Go taken for FAT: %+v", r)
	}
	if isVFAT(fuzzSourceExact(t, b)) {
		t.Error("isVFAT on BitLocker To Go")
	}
	b = vfat32Synth(4<<20, "B", nil, nil)
	vfatBitLockerToGo(b, 0x200000, "-NOT-FVE")
	if r := vfatProbe(t, b); r == nil {
		t.Error("FAT with a BitLocker-like OEM name but no FVE block not detected")
	}
}

func TestVFATAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	const mib = 1 << 20
	var files [][]byte
	for i := 0; i < 32; i++ {
		files = append(files, vfatFile("F"))
	}
	toGo := vfat32Synth(4*mib, "B", nil, nil)
	vfatBitLockerToGo(toGo, 0x200000, "-FVE-FS-")
	imgs := map[string][]byte{
		"boot-only":      vfat32Synth(4*mib, "BOOTLBL", nil, nil),
		"root-noname":    vfat32Synth(4*mib, "BOOT", [][]byte{vfatLabelEntry("NO NAME")}, nil),
		"escaped":        vfat32Synth(4*mib, "", [][]byte{vfatLabelEntry("\x05\xe5\xe5")}, nil),
		"cp850":          vfat32Synth(4*mib, "", [][]byte{vfatLabelEntry("X\x8eB")}, nil),
		"third-cluster":  vfat32Synth(4*mib, "", append(files, vfatLabelEntry("DEEP")), map[uint32]uint32{2: 5, 5: 3, 3: 0x0fffffff}),
		"loop":           vfat32Synth(4*mib, "", files[:16], map[uint32]uint32{2: 2}),
		"floppy-cut":     vfat12Floppy([][]byte{vfatFile("A"), vfatLabelEntry("FLOPPY")})[:19*512+3*32],
		"straddle":       vfatStraddle(),
		"fat16-nosig":    func() []byte { b := synthFAT16(8*mib, "B", "R"); b[0x26] = 0; return b }(),
		"bitlocker-togo": toGo,
	}
	for name, b := range imgs {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", b))
		})
	}
}

// TestVFATTools makes labels with dosfstools and mtools the way people do:
// mkfs.vfat -n, fatlabel (which writes the boot sector and the root entry),
// fatlabel -r, mlabel with a cp850 character, mlabel -c (clear).
func TestVFATTools(t *testing.T) {
	testenv.RequireTool(t, "mkfs.vfat", "fatlabel", "blkid")
	type step struct {
		tool string
		args []string // "IMG" is replaced by the image path
	}
	for _, tc := range []struct {
		name  string
		bits  string
		steps []step
	}{
		{"fat12-label", "12", nil},
		{"fat16-relabel", "16", []step{{"fatlabel", []string{"IMG", "SECOND"}}}},
		{"fat32-reset", "32", []step{{"fatlabel", []string{"-r", "IMG"}}}},
		{"fat32-noname", "32", []step{{"fatlabel", []string{"IMG", "NO NAME"}}}},
		{"fat16-mlabel-cp850", "16", []step{{"mlabel", []string{"-i", "IMG", "::XÄB"}}}},
		{"fat32-mlabel-clear", "32", []step{{"mlabel", []string{"-i", "IMG", "-c", "::"}}}},
		{"fat32-mlabel-lower", "32", []step{{"mlabel", []string{"-i", "IMG", "::lower"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := sparseImage(t, tc.name+".img", 64<<20)
			testenv.Run(t, "mkfs.vfat", "-F", tc.bits, "-n", "FIRST", img)
			for _, s := range tc.steps {
				bin := testenv.RequireTool(t, s.tool)[0]
				args := make([]string, len(s.args))
				for i, a := range s.args {
					if a == "IMG" {
						a = img
					}
					args[i] = a
				}
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", s.tool, args, err, out)
				}
			}
			if r := compareWithBlkid(t, img); r.Type != "vfat" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func FuzzVFAT32(f *testing.F) {
	var files [][]byte
	for i := 0; i < 20; i++ {
		files = append(files, vfatFile("F"))
	}
	b := vfat32Synth(4<<20, "B", append(files, vfatLabelEntry("L")), map[uint32]uint32{2: 3, 3: 0x0fffffff})
	fuzzProbers(f, 0, [][]byte{region(b, 0, 1024), region(b, 0, (32+2*8+2)*512)}, probeVFAT)
}
