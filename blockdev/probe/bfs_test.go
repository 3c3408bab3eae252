package probe

import (
	"testing"
)

func synthBFS(size int) []byte {
	b := make([]byte, size)
	copy(b, "\xce\xfa\xad\x1b")
	le.PutUint32(b[4:], 512)            // start of data
	le.PutUint32(b[8:], uint32(size-1)) // end of filesystem
	copy(b[28:], "fsname")
	copy(b[34:], "volume")
	return b
}

func TestBFS(t *testing.T) {
	cases := []imageCase{
		// the names in the superblock are not reported
		{"bfs", synthBFS(1 << 20), &Result{Type: "bfs", Usage: UsageFilesystem}},
		{"just over 1 KiB", synthBFS(1025), &Result{Type: "bfs", Usage: UsageFilesystem}},
		{"1 KiB device", synthBFS(1024), nil},
		{"no magic", synthBFS(1 << 20)[1:], nil},
	}
	checkImages(t, cases)
}

func FuzzBFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthBFS(4096), 0, 40)}, probeBFS)
}
