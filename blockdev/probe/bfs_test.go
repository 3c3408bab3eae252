package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
	cases := []struct {
		name string
		img  []byte
		want *Result
	}{
		// the names in the superblock are not reported
		{"bfs", synthBFS(1 << 20), &Result{Type: "bfs", Usage: UsageFilesystem}},
		{"just over 1 KiB", synthBFS(1025), &Result{Type: "bfs", Usage: UsageFilesystem}},
		{"1 KiB device", synthBFS(1024), nil},
		{"no magic", synthBFS(1 << 20)[1:], nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = &Result{}
			}
			if diff := cmp.Diff(want, probeBytes(t, tc.img)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			compareWithBlkid(t, writeImage(t, "bfs.img", tc.img))
		})
	}
}

func FuzzBFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthBFS(4096), 0, 40)}, probeBFS)
}
