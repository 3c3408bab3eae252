package superblock

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
)

// btrfs checksum types (BTRFS_CSUM_TYPE_*).
const (
	btrfsCsumCRC32C = 0
	btrfsCsumXXHash = 1
	btrfsCsumSHA256 = 2
	btrfsCsumBlake2 = 3
)

// btrfsChecksum computes the checksum of type t over b (the superblock after
// its 32-byte checksum area) as stored on disk: crc32c and xxhash64 as
// little-endian integers, sha256 and blake2b-256 as their digests. All four
// are verified: crc32c and sha256 by the standard library, xxhash64 and
// blake2b by our own implementations (btrfs_xxhash.go, btrfs_blake2b.go).
func btrfsChecksum(t uint16, b []byte) ([]byte, string, error) {
	switch t {
	case btrfsCsumCRC32C:
		out := make([]byte, 4)
		binary.LittleEndian.PutUint32(out, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
		return out, "crc32c", nil
	case btrfsCsumXXHash:
		out := make([]byte, 8)
		binary.LittleEndian.PutUint64(out, btrfsXXH64(b))
		return out, "xxhash64", nil
	case btrfsCsumSHA256:
		s := sha256.Sum256(b)
		return s[:], "sha256", nil
	case btrfsCsumBlake2:
		return btrfsBlake2b(b, 32), "blake2", nil
	}
	return nil, "", corrupt("btrfs", "csum_type", "unknown type %d", t)
}
