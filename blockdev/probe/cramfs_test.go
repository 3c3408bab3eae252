package probe

import (
	"testing"
)

func synthCramfs(size int, magic, name string) []byte {
	b := make([]byte, size)
	copy(b, magic)
	le.PutUint32(b[4:], uint32(size))
	copy(b[16:], "Compressed ROMFS")
	copy(b[48:64], name)
	return b
}

func TestCramfs(t *testing.T) {
	cram := func(lbl string) *Result { return &Result{Type: "cramfs", Usage: UsageFilesystem, Label: lbl} }
	cases := []imageCase{
		{"little endian", synthCramfs(4096, cramfsMagicLE, "test-cram"), cram("test-cram")},
		{"big endian", synthCramfs(4096, cramfsMagicBE, "bigcram"), cram("bigcram")},
		{"full-width name", synthCramfs(4096, cramfsMagicLE, "0123456789abcdef"), cram("0123456789abcdef")},
		{"padded name", synthCramfs(4096, cramfsMagicLE, "name \n "), cram("name")},
		{"no name", synthCramfs(4096, cramfsMagicBE, ""), cram("")},
		// blkid reads a whole KiB for the magic: the device must be larger
		// than that KiB, which it ignores a device of exactly
		{"1 KiB device", synthCramfs(1024, cramfsMagicLE, "x"), nil},
		{"just over 1 KiB", synthCramfs(1025, cramfsMagicLE, "x"), cram("x")},
		{"no magic", synthCramfs(4096, "\x45\x3d\xcd\x29", "x"), nil},
	}
	checkImages(t, cases)
}

func FuzzCramfs(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{
		region(synthCramfs(4096, cramfsMagicLE, "c"), 0, 64),
		region(synthCramfs(4096, cramfsMagicBE, "c"), 0, 64),
	}, probeCramfs)
}
