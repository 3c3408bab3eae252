package probe

import (
	"testing"
)

// synthReiserfs lays a ReiserFS 3 superblock at kboff KiB with magic at
// sboff bytes into it.
func synthReiserfs(size int, kboff int64, sboff int, magic string, bs uint16, journal uint32, uuid []byte, lbl string) []byte {
	b := make([]byte, size)
	sb := b[kboff<<10:]
	le.PutUint32(sb[0:], uint32(size/int(max(bs, 1))))
	le.PutUint32(sb[12:], journal)
	le.PutUint16(sb[44:], bs)
	copy(sb[sboff:], magic)
	copy(sb[84:], uuid)
	copy(sb[100:116], lbl)
	return b
}

func synthReiser4(size int, uuid []byte, lbl string) []byte {
	b := make([]byte, size)
	sb := b[64<<10:]
	copy(sb, "ReIsEr4")
	sb[19] = 16 // 4 KiB blocks, in units of 256 bytes
	copy(sb[20:], uuid)
	copy(sb[36:52], lbl)
	return b
}

func TestReiserfs(t *testing.T) {
	const size = 1 << 20
	fs := func(ver, uuid, lbl string) *Result {
		return &Result{Type: "reiserfs", Usage: UsageFilesystem, Version: ver, UUID: uuid, Label: lbl}
	}
	at64 := func(magic string, bs uint16, journal uint32) []byte {
		return synthReiserfs(size, 64, 0x34, magic, bs, journal, testUUID, "reiser lbl")
	}
	// A valid 3.6 superblock at 64 KiB behind a 3.5 magic at 8 KiB whose
	// superblock fails: blkid stops at the first magic it finds.
	shadowed := at64("ReIsEr2Fs", 4096, 18)
	copy(shadowed[8<<10+0x34:], "ReIsErFs")
	checkImages(t, []imageCase{
		{"3.6", at64("ReIsEr2Fs", 4096, 18), fs("3.6", testUUIDString, "reiser lbl")},
		{"JR", at64("ReIsEr3Fs", 4096, 18), fs("JR", testUUIDString, "reiser lbl")},
		// 3.5 has no UUID or label, whatever the bytes there say
		{"3.5 at 64 KiB", at64("ReIsErFs", 4096, 18), fs("3.5", "", "")},
		{"3.5 at 8 KiB", synthReiserfs(size, 8, 0x34, "ReIsErFs", 4096, 18, testUUID, "x"), fs("3.5", "", "")},
		{"old 3.5 magic at byte 20", synthReiserfs(size, 8, 20, "ReIsErFs", 4096, 18, testUUID, "x"), fs("3.5", "", "")},
		{"no uuid, padded label", synthReiserfs(size, 64, 0x34, "ReIsEr2Fs", 4096, 18, nil, "padded  \t"), fs("3.6", "", "padded")},
		{"full-width label", synthReiserfs(size, 64, 0x34, "ReIsEr2Fs", 4096, 18, nil, "0123456789abcdef"), fs("3.6", "", "0123456789abcdef")},
		{"512-byte blocks", at64("ReIsEr2Fs", 512, 128), fs("3.6", testUUIDString, "reiser lbl")},
		{"blocks under 512 bytes", at64("ReIsEr2Fs", 511, 1000), nil},
		// at 64 KiB with 4 KiB blocks the superblock is block 16: a journal
		// starting below block 16 would hold it
		{"journal after the superblock", at64("ReIsEr2Fs", 4096, 16), fs("3.6", testUUIDString, "reiser lbl")},
		{"superblock inside the journal", at64("ReIsEr2Fs", 4096, 15), nil},
		{"first magic decides", shadowed, nil},
		{"under 128 KiB", synthReiserfs(127<<10, 8, 0x34, "ReIsErFs", 4096, 18, nil, ""), nil},
		{"no magic", at64("ReIsEr9Fs", 4096, 18), nil},
	})
}

func TestReiser4(t *testing.T) {
	r4 := func(uuid, lbl string) *Result {
		return &Result{Type: "reiser4", Usage: UsageFilesystem, Version: "4", UUID: uuid, Label: lbl}
	}
	checkImages(t, []imageCase{
		{"uuid and label", synthReiser4(1<<20, testUUID, "r4 label "), r4(testUUIDString, "r4 label")},
		{"bare", synthReiser4(1<<20, nil, ""), r4("", "")},
		{"smallest device", synthReiser4(128<<10, testUUID, "s"), r4(testUUIDString, "s")},
		{"under 128 KiB", synthReiser4(128<<10-512, testUUID, "s"), nil},
	})
}

func FuzzReiserfs(f *testing.F) {
	fuzzProbers(f, 8<<10, [][]byte{
		region(synthReiserfs(1<<20, 8, 0x34, "ReIsErFs", 4096, 18, testUUID, "l"), 8<<10, 128),
		region(synthReiserfs(1<<20, 64, 0x34, "ReIsEr2Fs", 4096, 18, testUUID, "l"), 8<<10, 56<<10+128),
		region(synthReiser4(1<<20, testUUID, "l"), 8<<10, 56<<10+64),
	}, probeReiserfs, probeReiser4)
}
