package probe

import (
	"testing"
)

// EXFS is XFS's layout under another magic: the same superblock answers as
// exfs with it, and blkid agrees on the file.
func TestEXFS(t *testing.T) {
	b := synthXFS(1<<20, "ex")
	copy(b, "EXFS")
	got := probeBytes(t, b)
	if got.Type != "exfs" || got.Label != "ex" || got.UUID != testUUIDString || got.Usage != UsageFilesystem {
		t.Fatalf("%+v", got)
	}
	compareWithBlkid(t, writeImage(t, "exfs.img", b))
	// A wrapped realtime extent size: blkid multiplies in 32 bits, so
	// 2^20 blocks of 4 KiB wrap to 0 and are refused as too small; 2^20+1
	// wraps to one block (4 KiB), which blkid accepts.
	for _, tc := range []struct {
		rext uint32
		ok   bool
	}{{1 << 20, false}, {1<<20 + 1, true}} {
		b := synthXFS(1<<20, "x")
		be.PutUint32(b[80:], tc.rext)
		if got := probeBytes(t, b); (got.Type == "xfs") != tc.ok {
			t.Errorf("rextsize %d: %+v, want found=%v", tc.rext, got, tc.ok)
		}
	}
}

func FuzzEXFS(f *testing.F) {
	b := synthXFS(512, "x")
	copy(b, "EXFS")
	fuzzProbers(f, 0, [][]byte{b}, probeEXFS, probeXFS)
}
