package probe

import "testing"

func synthErofs(size int, lbl string, uuid []byte) []byte {
	b := make([]byte, size)
	sb := b[1024:]
	copy(sb, "\xe2\xe1\xf5\xe0")
	sb[12] = 12 // blkszbits
	copy(sb[48:], uuid)
	copy(sb[64:80], lbl)
	return b
}

func TestErofs(t *testing.T) {
	checkImages(t, []imageCase{
		{"label and uuid", synthErofs(containerSize, "ro image", testUUID), &Result{Type: "erofs", Usage: UsageFilesystem, UUID: testUUIDString, Label: "ro image"}},
		{"full-width label", synthErofs(containerSize, "0123456789abcdef", nil), &Result{Type: "erofs", Usage: UsageFilesystem, Label: "0123456789abcdef"}},
		{"smallest device", synthErofs(2048, "", testUUID), &Result{Type: "erofs", Usage: UsageFilesystem, UUID: testUUIDString}},
		// the superblock fits, the KiB blkid reads for the magic does not
		{"magic KiB cut", synthErofs(2047, "", testUUID), nil},
		{"wrong magic", synthErofs(containerSize, "x", testUUID)[1:], nil},
	})
}

func FuzzErofs(f *testing.F) {
	fuzzProbers(f, 1024, [][]byte{region(synthErofs(2048, "e", testUUID), 1024, 128)}, probeErofs)
}
