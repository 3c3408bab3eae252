package probe

import (
	"testing"
)

// synthHPFS lays an HPFS superblock (version ver), its spare block, and,
// when boot is set, an HPFS boot sector with serial and label.
func synthHPFS(size int, ver byte, boot bool, serial []byte, lbl string) []byte {
	b := make([]byte, size)
	copy(b[hpfsSBOff:], hpfsMagic+"\xfa\x53\xe9\xc5")
	b[hpfsSBOff+8] = ver
	copy(b[hpfsSpareOff:], hpfsSpare+"\xfa\x52\x29\xf8")
	if boot {
		copy(b[0:], "\xeb\x3c\x90IBM 10.2")
		le.PutUint16(b[11:], 512)
		b[38] = 0x28
		copy(b[39:43], serial)
		copy(b[43:54], lbl)
		copy(b[54:], "HPFS    ")
		// boot code runs on over the MBR's entry area, as on a real
		// HPFS boot sector, so it does not pass for a partition table
		b[0x1be] = 0xcd
		b[510], b[511] = 0x55, 0xaa
	}
	return b
}

func TestHPFS(t *testing.T) {
	hpfs := func(ver, uuid, lbl string) *Result {
		return &Result{Type: "hpfs", Usage: UsageFilesystem, Version: ver, UUID: uuid, Label: lbl}
	}
	serial := []byte{0xd5, 0x32, 0xc2, 0x3b}
	noSig := synthHPFS(1<<20, 2, true, serial, "LBL")
	noSig[511] = 0
	noExt := synthHPFS(1<<20, 2, true, serial, "LBL")
	noExt[38] = 0x29
	noSpare := synthHPFS(1<<20, 2, true, serial, "LBL")
	noSpare[hpfsSpareOff] = 0
	cases := []imageCase{
		// the serial is printed as its 32-bit value, upper-case hex
		{"boot sector", synthHPFS(1<<20, 2, true, serial, "P01 S16A   "), hpfs("2", "3BC2-32D5", "P01 S16A")},
		{"version 3", synthHPFS(1<<20, 3, true, serial, "V3"), hpfs("3", "3BC2-32D5", "V3")},
		{"zero serial", synthHPFS(1<<20, 2, true, nil, "NOSER"), hpfs("2", "", "NOSER")},
		{"no boot sector", synthHPFS(1<<20, 2, false, nil, ""), hpfs("2", "", "")},
		{"boot sector without 55aa", noSig, hpfs("2", "", "")},
		{"boot sector without extended BPB", noExt, hpfs("2", "", "")},
		{"no spare block", noSpare, nil},
		{"smallest device", synthHPFS(0x2400, 2, true, serial, "S"), hpfs("2", "3BC2-32D5", "S")},
		{"magic KiB cut", synthHPFS(0x23ff, 2, true, serial, "S"), nil},
	}
	checkImages(t, cases)
}

func FuzzHPFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthHPFS(0x2400, 2, true, []byte{1, 2, 3, 4}, "H"), 0, 0x2210)}, probeHPFS)
}
