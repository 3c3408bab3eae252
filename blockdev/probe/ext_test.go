package probe

import "testing"

// TestDifferentialExt4dev: mke2fs -E test_fs sets the test flag; blkid calls
// such an ext4 ext4dev, and finds a test-flagged ext2 both ext4dev and ext2
// (ambivalent).
func TestDifferentialExt4dev(t *testing.T) {
	for _, tc := range []struct {
		tool, want string
		ambiguous  bool
	}{{"mkfs.ext4", "ext4dev", false}, {"mkfs.ext2", "", true}} {
		img := sparseImage(t, tc.tool+".img", 16<<20)
		runStdin(t, "", tc.tool, "-q", "-F", "-E", "test_fs", "-L", "dev", img)
		got := compareWithBlkid(t, img)
		if got.Type != tc.want || (len(got.Ambiguous) > 0) != tc.ambiguous {
			t.Errorf("%s -E test_fs: %+v", tc.tool, got)
		}
	}
	b := synthExt(1<<20, extCompatHasJournal, 0x42, 1, "t")
	b[1024+0x160] |= extFlagsTestFS
	if got := probeBytes(t, b); got.Type != "ext4dev" || got.Label != "t" || got.Version != "1.0" {
		t.Errorf("synthetic: %+v", got)
	}
}
