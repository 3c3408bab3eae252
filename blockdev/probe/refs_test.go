package probe

import "testing"

// synthReFS is a ReFS boot sector: the magic and little else.
func synthReFS(magic string) *oddfsImage {
	img := newOddfsImage(4 << 20)
	b := img.at(0, 512)
	copy(b, magic)
	copy(b[16:], "FSRS")
	return img
}

func TestReFS(t *testing.T) {
	oddfsCheck(t, []oddfsCase{
		{"refs", synthReFS(refsMagic), &Result{Type: "ReFS", Usage: UsageFilesystem}},
		{"jump instead of zeros", synthReFS("\xeb\x52\x90ReFS\x00"), nil},
		{"no NUL after the name", synthReFS("\x00\x00\x00ReFSx"), nil},
	})
}

func FuzzReFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{synthReFS(refsMagic).bytes()[:16]}, probeReFS)
}
