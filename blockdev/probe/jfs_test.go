package probe

import (
	"testing"
)

// synthJFS lays a JFS superblock at 32 KiB: 4 KiB blocks on 512-byte
// sectors unless mod changes them.
func synthJFS(size int, uuid []byte, lbl string, mod func(sb []byte)) []byte {
	b := make([]byte, size)
	sb := b[jfsSBOff:]
	copy(sb, "JFS1")
	le.PutUint32(sb[4:], 2)
	le.PutUint64(sb[8:], uint64(size/512))
	le.PutUint32(sb[16:], 4096)
	le.PutUint16(sb[20:], 12)
	le.PutUint16(sb[22:], 3)
	le.PutUint32(sb[24:], 512)
	le.PutUint16(sb[28:], 9)
	copy(sb[136:], uuid)
	copy(sb[152:168], lbl)
	if mod != nil {
		mod(sb)
	}
	return b
}

func TestJFS(t *testing.T) {
	const size = 16 << 20
	jfs := func(uuid, lbl string) *Result {
		return &Result{Type: "jfs", Usage: UsageFilesystem, UUID: uuid, Label: lbl}
	}
	cases := []imageCase{
		{"uuid and label", synthJFS(size, testUUID, "test-jfs", nil), jfs(testUUIDString, "test-jfs")},
		{"bare", synthJFS(size, nil, "", nil), jfs("", "")},
		{"padded full-width label", synthJFS(size, nil, "0123456789abc   ", nil), jfs("", "0123456789abc")},
		{"1 KiB blocks on 4 KiB sectors", synthJFS(size, testUUID, "", func(sb []byte) {
			le.PutUint32(sb[16:], 1024)
			le.PutUint16(sb[20:], 10)
			le.PutUint32(sb[24:], 4096)
			le.PutUint16(sb[28:], 12)
			le.PutUint16(sb[22:], 0xfffe) // -2 as a 16-bit field
		}), nil},
		{"block size not its log", synthJFS(size, testUUID, "", func(sb []byte) { le.PutUint32(sb[16:], 8192) }), nil},
		{"sector size not its log", synthJFS(size, testUUID, "", func(sb []byte) { le.PutUint32(sb[24:], 1024) }), nil},
		{"factor not the difference", synthJFS(size, testUUID, "", func(sb []byte) { le.PutUint16(sb[22:], 2) }), nil},
		// blkid computes 1 << log in 32 bits, and the CPU takes the count
		// modulo 32: log 44 passes for 4 KiB blocks, factor 35 with it
		{"shift count modulo 32", synthJFS(size, testUUID, "", func(sb []byte) {
			le.PutUint16(sb[20:], 44)
			le.PutUint16(sb[22:], 35)
		}), jfs(testUUIDString, "")},
		{"under 16 MiB", synthJFS(size-512, testUUID, "x", nil), nil},
		{"no magic", synthJFS(size, testUUID, "x", func(sb []byte) { sb[3] = '2' }), nil},
	}
	checkImages(t, cases)
}

func FuzzJFS(f *testing.F) {
	fuzzProbers(f, jfsSBOff, [][]byte{region(synthJFS(1<<20, testUUID, "j", nil), jfsSBOff, 184)}, probeJFS)
}
