package probe

import (
	"encoding/binary"
	"testing"
)

// synthOCFS is an OCFS (version 1) volume header and label at 8 KiB, with
// "OracleCFS" where blkid looks for it: over the version fields.
func synthOCFS(size int64, lbl string, lblLen uint16, volID []byte) *oddfsImage {
	img := newOddfsImage(size)
	h := img.at(8192, 512)
	copy(h, "OracleCFS")
	copy(h[136:], "/oracle")
	binary.LittleEndian.PutUint16(h[264:], 7)
	l := img.at(8192+512, 132)
	copy(l[48:112], lbl)
	binary.LittleEndian.PutUint16(l[112:], lblLen)
	copy(l[114:130], volID)
	binary.LittleEndian.PutUint16(l[130:], 16)
	return img
}

// synthOCFS2 is an OCFS2 superblock in the 1 KiB block blk.
func synthOCFS2(size int64, blk int64, lbl string, uuid []byte, major, minor uint16) *oddfsImage {
	img := newOddfsImage(size)
	b := img.at(blk<<10, 1024)
	copy(b, "OCFSV2")
	binary.LittleEndian.PutUint16(b[192:], major)
	binary.LittleEndian.PutUint16(b[194:], minor)
	binary.LittleEndian.PutUint32(b[248:], 12) // 4 KiB blocks
	binary.LittleEndian.PutUint32(b[252:], 12)
	binary.LittleEndian.PutUint16(b[256:], 4) // slots
	copy(b[272:336], lbl)
	copy(b[336:352], uuid)
	return img
}

// synthOracleASM is an ASM disk header with its disk name.
func synthOracleASM(name string) *oddfsImage {
	img := newOddfsImage(4 << 20)
	b := img.at(0, 512)
	b[0] = 1
	copy(b[32:], "ORCLDISK")
	copy(b[40:64], name)
	copy(b[72:], "DATA")
	return img
}

func TestOCFS(t *testing.T) {
	const size = 16 << 20
	// The version fields hold "Orac" and "leCF": minor 0x6361724f =
	// 1667330639, major 0x4643656c = 1178821996.
	const ocfsVersion = "1178821996.1667330639"
	ocfs := func(l, u string) *Result {
		return &Result{Type: "ocfs", Usage: UsageFilesystem, Version: ocfsVersion, Label: l, UUID: u}
	}
	ocfs2 := func(l, u, v string) *Result {
		return &Result{Type: "ocfs2", Usage: UsageFilesystem, Version: v, Label: l, UUID: u}
	}
	twice := synthOCFS2(size, 8, "eight", nil, 1, 0)
	synthOCFS2(size, 2, "two", testUUID, 0, 90).put(twice)
	long := synthOCFS(size, "", 84, testUUID)
	copy(long.at(8192+512+48, 64), "sixty-four bytes of label with no NUL anywhere in them at all!!!")
	oddfsCheck(t, []oddfsCase{
		{"ocfs", synthOCFS(size, "vol label", 9, testUUID), ocfs("vol label", testUUIDString)},
		{"ocfs label cut by its length", synthOCFS(size, "vol label", 3, testUUID), ocfs("vol", testUUIDString)},
		{"ocfs no label", synthOCFS(size, "vol", 0, nil), ocfs("", "")},
		// a length past the 64-byte field runs into the length itself
		// (84 = 'T', then a NUL)
		{"ocfs label past its field", long, ocfs("sixty-four bytes of label with no NUL anywhere in them at all!!!T", testUUIDString)},
		{"ocfs under 14000 KiB", synthOCFS(14000*1024-512, "v", 1, nil), nil},
		{"ocfs2 block 1", synthOCFS2(size, 1, "test-ocfs2", testUUID, 0, 90), ocfs2("test-ocfs2", testUUIDString, "0.90")},
		{"ocfs2 block 4", synthOCFS2(size, 4, "four", testUUID, 1, 2), ocfs2("four", testUUIDString, "1.2")},
		{"ocfs2 block 8", synthOCFS2(size, 8, "", nil, 0, 90), ocfs2("", "", "0.90")},
		{"ocfs2 first block wins", twice, ocfs2("two", testUUIDString, "0.90")},
		{"ocfs2 block 3", synthOCFS2(size, 3, "x", nil, 0, 90), nil},
		{"oracleasm", synthOracleASM("DISK01"), &Result{Type: "oracleasm", Usage: UsageFilesystem, Label: "DISK01"}},
		{"oracleasm full name", synthOracleASM("ABCDEFGHIJKLMNOPQRSTUVWXextra"), &Result{Type: "oracleasm", Usage: UsageFilesystem, Label: "ABCDEFGHIJKLMNOPQRSTUVWX"}},
	})
	oddfsNone(t, "ocfs magic", oddfsPatched(synthOCFS(size, "v", 1, nil), 8192, "oracle"), probeOCFS)
	oddfsNone(t, "ocfs2 magic", oddfsPatched(synthOCFS2(size, 1, "v", nil, 0, 90), 1024, "OCFSv2"), probeOCFS2)
	oddfsNone(t, "asm magic", oddfsPatched(synthOracleASM("D"), 32, "orcl"), probeOracleASM)
}

func FuzzOCFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{
		synthOCFS(64<<10, "label", 5, testUUID).bytes()[:8192+1024],
		synthOCFS2(64<<10, 1, "label", testUUID, 0, 90).bytes()[:2048],
		synthOracleASM("D").bytes()[:64],
	}, probeOCFS, probeOCFS2, probeOracleASM)
}
