package superblock

import (
	"fmt"
	"math/bits"
)

// Helpers the XFS and btrfs readers share, named xfs* so they cannot
// collide with the other readers' helpers in this package.

// xfsPow2In reports whether n is a power of two in lo..hi.
func xfsPow2In(n, lo, hi uint64) bool { return n >= lo && n <= hi && bits.OnesCount64(n) == 1 }

// xfsCString is b up to its first NUL (labels are NUL-padded).
func xfsCString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// xfsUUID prints 16 bytes the way blkid and the tools do.
func xfsUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
