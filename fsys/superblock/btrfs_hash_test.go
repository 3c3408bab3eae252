package superblock

import (
	"encoding/hex"
	"testing"
)

// Published vectors: XXH64 with seed 0 (xxHash's own test values) and
// BLAKE2b-512 of "abc" (RFC 7693, appendix A). The real-image tests check
// both again against btrfs-progs' "[match]".
func TestBtrfsXXH64Vectors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"abc", 0x44bc2cf5ad770999},
	} {
		if got := btrfsXXH64([]byte(c.in)); got != c.want {
			t.Errorf("XXH64(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestBtrfsBlake2bVector(t *testing.T) {
	want := "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
		"7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
	if got := hex.EncodeToString(btrfsBlake2b([]byte("abc"), 64)); got != want {
		t.Errorf("BLAKE2b-512(abc) = %s\nwant %s", got, want)
	}
}
