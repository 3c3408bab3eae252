package superblock

import (
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// ErrExtJournal: the ext magic is there, but the device is an external
// journal (jbd, the journal_dev feature), which blkid calls "jbd" and which
// is not a filesystem. It matches ErrNotFound.
var ErrExtJournal = fmt.Errorf("%w: ext external journal device (jbd)", ErrNotFound)

const (
	extSuperOff  = 1024
	extSuperSize = 1024
	extMagic     = 0xEF53

	extStateValid  = 0x1
	extStateError  = 0x2
	extStateOrphan = 0x4

	extCompatHasJournal  = 0x4
	extIncompatRecover   = 0x4
	extIncompatJournal   = 0x8
	extIncompat64bit     = 0x80
	extROCompatBigalloc  = 0x200
	extROCompatCsum      = 0x400
	extFlagsTestFilesys  = 0x4
	extEXT2IncompatSupp  = 0x2 | 0x10       // filetype, meta_bg
	extEXT3IncompatSupp  = 0x2 | 0x4 | 0x10 // + needs_recovery
	extEXT23ROCompatSupp = 0x1 | 0x2 | 0x4  // sparse_super, large_file, btree_dir
)

// Ext is an ext2/3/4 superblock: the fields dumpe2fs -h prints that a
// caller needs. Counts that have a _hi half (64bit) are already combined.
type Ext struct {
	Type            string // ext2, ext3, ext4, ext4dev (blkid's rules)
	Revision        uint32 // s_rev_level: 0 original, 1 dynamic
	MinorRevision   uint16
	InodeCount      uint64
	BlockCount      uint64
	ReservedBlocks  uint64
	FreeBlocks      uint64
	FreeInodes      uint64
	FirstDataBlock  uint32
	BlockSize       int64
	ClusterSize     int64 // equals BlockSize unless bigalloc
	BlocksPerGroup  uint32
	ClustersPerGrp  uint32
	InodesPerGroup  uint32
	InodeSize       uint16
	ReservedGDT     uint16
	DescSize        uint16
	UUID            string
	Label           string // s_volume_name up to its NUL, raw bytes
	LastMountedOn   string // s_last_mounted up to its NUL
	StateBits       uint16 // s_state: 1 valid (clean), 2 errors, 4 orphans being recovered
	Errors          uint16 // s_errors: 1 continue, 2 remount read-only, 3 panic
	MountCount      uint16
	MaxMountCount   int16
	LastCheck       time.Time
	Created         time.Time
	CompatFlags     uint32
	IncompatFlags   uint32
	ROCompatFlags   uint32
	Features        []string // dumpe2fs's names and order
	Flags           uint32   // s_flags (signed/unsigned hash, test_fs)
	JournalUUID     string   // external journal's UUID, empty when none
	JournalInode    uint32
	JournalDev      uint32
	HashSeed        string // empty when zero
	ErrorCount      uint32
	ChecksumType    uint8
	Checksum        uint32 // s_checksum, verified when metadata_csum is set
	OverheadCluster uint32
}

// ReadExt reads the primary ext superblock at byte 1024. It returns
// ErrNotFound without the magic, ErrExtJournal for an external journal,
// and a *CorruptError for an impossible geometry or a bad checksum.
func ReadExt(r io.ReaderAt, size int64) (*Ext, error) {
	if size >= 0 && size < extSuperOff+extSuperSize {
		return nil, ErrNotFound
	}
	b, err := extReadAt(r, size, extSuperOff, extSuperSize, "ext4", "superblock")
	if err != nil {
		return nil, err
	}
	if extLE.Uint16(b[0x38:]) != extMagic {
		return nil, ErrNotFound
	}
	e := extDecode(b)
	if e.IncompatFlags&extIncompatJournal != 0 {
		return nil, ErrExtJournal
	}
	e.Type = extType(e)
	if err := extCheck(e, b, size); err != nil {
		return nil, err
	}
	return e, nil
}

func extDecode(b []byte) *Ext {
	u16 := func(o int) uint16 { return extLE.Uint16(b[o:]) }
	u32 := func(o int) uint32 { return extLE.Uint32(b[o:]) }
	e := &Ext{
		InodeCount:      uint64(u32(0x00)),
		BlockCount:      uint64(u32(0x04)),
		ReservedBlocks:  uint64(u32(0x08)),
		FreeBlocks:      uint64(u32(0x0C)),
		FreeInodes:      uint64(u32(0x10)),
		FirstDataBlock:  u32(0x14),
		BlocksPerGroup:  u32(0x20),
		ClustersPerGrp:  u32(0x24),
		InodesPerGroup:  u32(0x28),
		MountCount:      u16(0x34),
		MaxMountCount:   int16(u16(0x36)),
		StateBits:       u16(0x3A),
		Errors:          u16(0x3C),
		MinorRevision:   u16(0x3E),
		Revision:        u32(0x4C),
		InodeSize:       128,
		CompatFlags:     u32(0x5C),
		IncompatFlags:   u32(0x60),
		ROCompatFlags:   u32(0x64),
		UUID:            extUUID(b[0x68:0x78]),
		Label:           extCString(b[0x78:0x88]),
		LastMountedOn:   extCString(b[0x88:0xC8]),
		ReservedGDT:     u16(0xCE),
		JournalInode:    u32(0xE0),
		JournalDev:      u32(0xE4),
		DescSize:        u16(0xFE),
		Flags:           u32(0x160),
		ChecksumType:    b[0x175],
		ErrorCount:      u32(0x194),
		OverheadCluster: u32(0x248),
		Checksum:        u32(0x3FC),
	}
	if e.Revision >= 1 {
		e.InodeSize = u16(0x58)
	}
	if !extZero(b[0xD0:0xE0]) {
		e.JournalUUID = extUUID(b[0xD0:0xE0])
	}
	if !extZero(b[0xEC:0xFC]) {
		e.HashSeed = extUUID(b[0xEC:0xFC])
	}
	if e.IncompatFlags&extIncompat64bit != 0 {
		e.BlockCount |= uint64(u32(0x150)) << 32
		e.ReservedBlocks |= uint64(u32(0x154)) << 32
		e.FreeBlocks |= uint64(u32(0x158)) << 32
	}
	// Times: the low 32 bits plus the _hi byte ext4 added for 2038.
	e.LastCheck = time.Unix(int64(u32(0x40))|int64(b[0x277])<<32, 0).UTC()
	e.Created = time.Unix(int64(u32(0x108))|int64(b[0x276])<<32, 0).UTC()
	e.Features = extFeatureNames(e.CompatFlags, e.IncompatFlags, e.ROCompatFlags)
	if lb := u32(0x18); lb < 32 {
		e.BlockSize = 1024 << lb
	}
	if lc := u32(0x1C); lc < 32 {
		e.ClusterSize = 1024 << lc
	}
	if e.ROCompatFlags&extROCompatBigalloc == 0 {
		e.ClusterSize = e.BlockSize
	}
	return e
}

// extCheck rejects what no mke2fs makes and no kernel mounts: the same
// bounds the kernel's ext4_fill_super applies, so the sizes derived from
// it cannot overflow.
func extCheck(e *Ext, b []byte, size int64) error {
	typ := e.Type
	lb := extLE.Uint32(b[0x18:])
	if lb > 6 { // 64 KiB is the largest block ext4 has
		return corrupt(typ, "s_log_block_size", "%d (block of 1024<<%d bytes)", lb, lb)
	}
	if e.ROCompatFlags&extROCompatBigalloc != 0 {
		lc := extLE.Uint32(b[0x1C:])
		if lc < lb || lc > lb+16 {
			return corrupt(typ, "s_log_cluster_size", "%d with block log %d", lc, lb)
		}
	}
	if e.BlocksPerGroup == 0 || e.InodesPerGroup == 0 {
		return corrupt(typ, "s_blocks_per_group", "%d blocks, %d inodes per group", e.BlocksPerGroup, e.InodesPerGroup)
	}
	if e.BlockCount == 0 || e.BlockCount > (1<<62)/uint64(e.BlockSize) { // SizeBytes must fit an int64
		return corrupt(typ, "s_blocks_count", "%d", e.BlockCount)
	}
	if e.Revision >= 1 && (e.InodeSize < 128 || e.InodeSize&(e.InodeSize-1) != 0 || int64(e.InodeSize) > e.BlockSize) {
		return corrupt(typ, "s_inode_size", "%d", e.InodeSize)
	}
	if e.FreeBlocks > e.BlockCount || e.FreeInodes > e.InodeCount {
		return corrupt(typ, "s_free_blocks_count", "free %d of %d blocks, %d of %d inodes", e.FreeBlocks, e.BlockCount, e.FreeInodes, e.InodeCount)
	}
	if e.ROCompatFlags&extROCompatCsum != 0 {
		if e.ChecksumType != 1 {
			return corrupt(typ, "s_checksum_type", "%d, want 1 (crc32c)", e.ChecksumType)
		}
		if want := extSuperCsum(b); want != e.Checksum {
			return corrupt(typ, "s_checksum", "0x%08x, computed 0x%08x", e.Checksum, want)
		}
	}
	return nil
}

var extCastagnoli = crc32.MakeTable(crc32.Castagnoli)

// extSuperCsum is ext4's superblock checksum: crc32c seeded with ~0 and
// not inverted at the end (the kernel's crc32c_le), over all but the last
// four bytes. Go's crc32 inverts on both sides, hence the final ^.
func extSuperCsum(b []byte) uint32 {
	return ^crc32.Checksum(b[:0x3FC], extCastagnoli)
}

// extType decides ext2/ext3/ext4/ext4dev exactly as libblkid does: the
// test_fs flag makes ext4dev; a journal with only features ext3 knows is
// ext3; no journal with only ext2's features is ext2; anything else ext4.
func extType(e *Ext) string {
	if e.Flags&extFlagsTestFilesys != 0 {
		return "ext4dev"
	}
	roUnknown := e.ROCompatFlags&^uint32(extEXT23ROCompatSupp) != 0
	if e.CompatFlags&extCompatHasJournal != 0 {
		if !roUnknown && e.IncompatFlags&^uint32(extEXT3IncompatSupp) == 0 {
			return "ext3"
		}
		return "ext4"
	}
	if !roUnknown && e.IncompatFlags&^uint32(extEXT2IncompatSupp) == 0 {
		return "ext2"
	}
	return "ext4"
}

// Super is the common view. State is errors when the error bit or the
// error count says so, needs_recovery when the journal must be replayed,
// not_clean when the valid bit is clear, else clean.
func (e *Ext) Super() Super {
	st := StateClean
	switch {
	case e.StateBits&extStateError != 0 || e.ErrorCount > 0:
		st = StateErrors
	case e.IncompatFlags&extIncompatRecover != 0:
		st = StateNeedsRecovery
	case e.StateBits&extStateValid == 0:
		st = StateNotClean
	}
	return Super{
		Type:       e.Type,
		Version:    fmt.Sprintf("%d.%d", e.Revision, e.MinorRevision),
		UUID:       e.UUID,
		Label:      e.Label,
		BlockSize:  e.BlockSize,
		SizeBytes:  int64(e.BlockCount) * e.BlockSize,
		FreeBytes:  int64(e.FreeBlocks) * e.BlockSize,
		Inodes:     e.InodeCount,
		FreeInodes: e.FreeInodes,
		Features:   append([]string(nil), e.Features...),
		State:      st,
	}
}

// extFeatureTable holds e2p's names for each bit: compat, incompat,
// ro_compat. A bit without a name prints as FEATURE_C12 / I / R like e2p.
var extFeatureTable = [3]map[uint32]string{
	{0x1: "dir_prealloc", 0x2: "imagic_inodes", 0x4: "has_journal", 0x8: "ext_attr",
		0x10: "resize_inode", 0x20: "dir_index", 0x40: "lazy_bg", 0x100: "snapshot_bitmap",
		0x200: "sparse_super2", 0x400: "fast_commit", 0x800: "stable_inodes", 0x1000: "orphan_file"},
	{0x1: "compression", 0x2: "filetype", 0x4: "needs_recovery", 0x8: "journal_dev",
		0x10: "meta_bg", 0x40: "extent", 0x80: "64bit", 0x100: "mmp", 0x200: "flex_bg",
		0x400: "ea_inode", 0x1000: "dirdata", 0x2000: "metadata_csum_seed", 0x4000: "large_dir",
		0x8000: "inline_data", 0x10000: "encrypt", 0x20000: "casefold"},
	{0x1: "sparse_super", 0x2: "large_file", 0x8: "huge_file", 0x10: "uninit_bg",
		0x20: "dir_nlink", 0x40: "extra_isize", 0x100: "quota", 0x200: "bigalloc",
		0x400: "metadata_csum", 0x800: "replica", 0x1000: "read-only", 0x2000: "project",
		0x4000: "shared_blocks", 0x8000: "verity", 0x10000: "orphan_present"},
}

// extFeatureNames lists set features in dumpe2fs's order: compat, then
// incompat, then ro_compat, each by ascending bit.
func extFeatureNames(compat, incompat, rocompat uint32) []string {
	var out []string
	for i, flags := range [3]uint32{compat, incompat, rocompat} {
		for bit := 0; bit < 32; bit++ {
			m := uint32(1) << bit
			if flags&m == 0 {
				continue
			}
			if n, ok := extFeatureTable[i][m]; ok {
				out = append(out, n)
			} else {
				out = append(out, fmt.Sprintf("FEATURE_%c%d", "CIR"[i], bit))
			}
		}
	}
	return out
}
