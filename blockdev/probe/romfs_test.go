package probe

import (
	"testing"
)

func synthRomfs(size int, volume string) []byte {
	b := make([]byte, size)
	copy(b, "-rom1fs-")
	be.PutUint32(b[8:], uint32(size))
	copy(b[16:], volume) // NUL-terminated and padded to 16 bytes on disk
	return b
}

func TestRomfs(t *testing.T) {
	rom := func(lbl string) *Result { return &Result{Type: "romfs", Usage: UsageFilesystem, Label: lbl} }
	cases := []imageCase{
		{"label", synthRomfs(4096, "test-romfs"), rom("test-romfs")},
		// only the first 16 bytes of a longer volume name count
		{"long volume name", synthRomfs(4096, "a rather long romfs volume name"), rom("a rather long ro")},
		{"padded", synthRomfs(4096, "rom  "), rom("rom")},
		{"no volume name", synthRomfs(4096, ""), rom("")},
		{"1 KiB device", synthRomfs(1024, "x"), nil},
		{"no magic", synthRomfs(4096, "x")[1:], nil},
	}
	checkImages(t, cases)
}

func FuzzRomfs(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthRomfs(4096, "r"), 0, 32)}, probeRomfs)
}
