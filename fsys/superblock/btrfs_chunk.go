package superblock

import (
	"encoding/binary"
	"strings"
)

// BtrfsChunk is one chunk item of the sys_chunk_array: a logical range
// (Key offset .. +Length) of the system block group and the device ranges
// (stripes) that hold it. It tells which devices a mount needs to find the
// chunk tree.
type BtrfsChunk struct {
	Logical    uint64 // the key's offset: the chunk's logical start
	Length     uint64
	Owner      uint64
	StripeLen  uint64
	Type       uint64 // block group flags
	IOAlign    uint32
	IOWidth    uint32
	SectorSize uint32
	SubStripes uint16
	Stripes    []BtrfsStripe
}

// BtrfsStripe is one device range of a chunk.
type BtrfsStripe struct {
	DevID   uint64
	Offset  uint64
	DevUUID string
}

const (
	btrfsDiskKeySize = 17 // objectid u64, type u8, offset u64
	btrfsChunkSize   = 48 // struct btrfs_chunk without its stripes
	btrfsStripeSize  = 32
)

// btrfsParseSysChunks walks the sys_chunk_array (at most 2048 bytes, so at
// most 2048/80 chunks): each entry is a disk key of type CHUNK_ITEM and a
// chunk with num_stripes stripes. Anything that does not fit is corrupt;
// nothing is allocated from a count before it is checked against the bytes
// left.
func btrfsParseSysChunks(b []byte) ([]BtrfsChunk, error) {
	le := binary.LittleEndian
	var out []BtrfsChunk
	for len(b) > 0 {
		if len(b) < btrfsDiskKeySize+btrfsChunkSize {
			return nil, corrupt("btrfs", "sys_chunk_array", "%d trailing bytes", len(b))
		}
		if b[8] != btrfsChunkType {
			return nil, corrupt("btrfs", "sys_chunk_array", "key type %d, not CHUNK_ITEM", b[8])
		}
		c := b[btrfsDiskKeySize:]
		ch := BtrfsChunk{
			Logical:    le.Uint64(b[9:]),
			Length:     le.Uint64(c[0:]),
			Owner:      le.Uint64(c[8:]),
			StripeLen:  le.Uint64(c[16:]),
			Type:       le.Uint64(c[24:]),
			IOAlign:    le.Uint32(c[32:]),
			IOWidth:    le.Uint32(c[36:]),
			SectorSize: le.Uint32(c[40:]),
			SubStripes: le.Uint16(c[46:]),
		}
		n := int(le.Uint16(c[44:]))
		need := btrfsDiskKeySize + btrfsChunkSize + n*btrfsStripeSize
		if n == 0 || need > len(b) {
			return nil, corrupt("btrfs", "sys_chunk_array", "chunk at %d with %d stripes in %d bytes", ch.Logical, n, len(b))
		}
		ch.Stripes = make([]BtrfsStripe, n)
		s := c[btrfsChunkSize:]
		for i := range ch.Stripes {
			ch.Stripes[i] = BtrfsStripe{
				DevID:   le.Uint64(s[0:]),
				Offset:  le.Uint64(s[8:]),
				DevUUID: xfsUUID(s[16:32]),
			}
			s = s[btrfsStripeSize:]
		}
		out = append(out, ch)
		b = b[need:]
	}
	return out, nil
}

// btrfsBlockGroupNames are the block group flag bits dump-super prints.
var btrfsBlockGroupNames = []struct {
	bit  uint64
	name string
}{
	{1 << 0, "DATA"}, {1 << 1, "SYSTEM"}, {1 << 2, "METADATA"},
	{1 << 3, "RAID0"}, {1 << 4, "RAID1"}, {1 << 5, "DUP"}, {1 << 6, "RAID10"},
	{1 << 7, "RAID5"}, {1 << 8, "RAID6"}, {1 << 9, "RAID1C3"}, {1 << 10, "RAID1C4"},
}

// btrfsProfileMask is every RAID profile bit; none set is "single".
const btrfsProfileMask = 0x7f8

// TypeName spells the chunk's type as dump-super does: "SYSTEM|DUP", and
// "SYSTEM|single" for the profile without a bit.
func (c BtrfsChunk) TypeName() string {
	var parts []string
	for _, f := range btrfsBlockGroupNames {
		if c.Type&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if c.Type&btrfsProfileMask == 0 {
		parts = append(parts, "single")
	}
	return strings.Join(parts, "|")
}
