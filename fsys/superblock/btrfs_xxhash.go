package superblock

import (
	"encoding/binary"
	"math/bits"
)

// btrfs's xxhash checksum is XXH64 with seed 0, written from the algorithm's
// specification (xxHash's doc/xxhash_spec.md): the standard library has no
// xxhash and the module takes no dependency for 4 KiB a mount.
const (
	btrfsXXP1 uint64 = 11400714785074694791
	btrfsXXP2 uint64 = 14029467366897019727
	btrfsXXP3 uint64 = 1609587929392839161
	btrfsXXP4 uint64 = 9650029242287828579
	btrfsXXP5 uint64 = 2870177450012600261
)

func btrfsXXRound(acc, lane uint64) uint64 {
	return bits.RotateLeft64(acc+lane*btrfsXXP2, 31) * btrfsXXP1
}

func btrfsXXMerge(acc, v uint64) uint64 {
	return (acc^btrfsXXRound(0, v))*btrfsXXP1 + btrfsXXP4
}

// btrfsXXH64 is XXH64(b, seed 0).
func btrfsXXH64(b []byte) uint64 {
	le := binary.LittleEndian
	n := uint64(len(b))
	var h uint64
	if len(b) >= 32 {
		p1, p2 := btrfsXXP1, btrfsXXP2 // variables: the sums wrap, as the spec means
		v1 := p1 + p2
		v2 := p2
		v3 := uint64(0)
		v4 := 0 - p1
		for ; len(b) >= 32; b = b[32:] {
			v1 = btrfsXXRound(v1, le.Uint64(b[0:]))
			v2 = btrfsXXRound(v2, le.Uint64(b[8:]))
			v3 = btrfsXXRound(v3, le.Uint64(b[16:]))
			v4 = btrfsXXRound(v4, le.Uint64(b[24:]))
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = btrfsXXMerge(h, v1)
		h = btrfsXXMerge(h, v2)
		h = btrfsXXMerge(h, v3)
		h = btrfsXXMerge(h, v4)
	} else {
		h = btrfsXXP5
	}
	h += n
	for ; len(b) >= 8; b = b[8:] {
		h ^= btrfsXXRound(0, le.Uint64(b))
		h = bits.RotateLeft64(h, 27)*btrfsXXP1 + btrfsXXP4
	}
	if len(b) >= 4 {
		h ^= uint64(le.Uint32(b)) * btrfsXXP1
		h = bits.RotateLeft64(h, 23)*btrfsXXP2 + btrfsXXP3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * btrfsXXP5
		h = bits.RotateLeft64(h, 11) * btrfsXXP1
	}
	h ^= h >> 33
	h *= btrfsXXP2
	h ^= h >> 29
	h *= btrfsXXP3
	h ^= h >> 32
	return h
}
