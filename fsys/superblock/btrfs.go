package superblock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Btrfs is one btrfs superblock copy, with the fields
// `btrfs inspect-internal dump-super -f` prints under the same names.
//
// Which copy: a device holds the primary at 64 KiB and mirrors at 64 MiB
// and 256 GiB when it is big enough. The kernel mounts from the primary
// only; btrfs-progs' recovery tools (btrfs check -s, rescue super-recover)
// take the valid copy with the highest generation. ReadBtrfs reports the
// primary when it is valid, because that is what a mount sees; when the
// primary has the magic but fails its checksum or checks, it reports the
// valid mirror with the highest generation, sets PrimaryErr and Copy, and
// Super's State says not_clean (the kernel will refuse to mount until
// `btrfs rescue super-recover` rewrites the primary). Copies lists the
// copies read and what was wrong with each: the primary alone when it is
// valid, every copy inside the device when it is not. ReadBtrfsCopies
// checks all of them regardless.
type Btrfs struct {
	Copy   int   // 0 primary, 1 the 64 MiB mirror, 2 the 256 GiB mirror
	Offset int64 // where the reported copy is

	CsumType uint16
	CsumName string // as dump-super names it: crc32c, xxhash64, sha256, blake2 (BLAKE2b-256)
	Csum     []byte // as stored, csum_size bytes; ReadBtrfs has verified it

	Bytenr              uint64
	Flags               uint64
	FSID                string
	MetadataUUID        string // fsid unless the metadata_uuid feature is on, as dump-super prints
	Label               string
	Generation          uint64
	Root                uint64
	SysArraySize        uint32
	ChunkRootGeneration uint64
	RootLevel           uint8
	ChunkRoot           uint64
	ChunkRootLevel      uint8
	// LogRoot non-zero: the log tree holds fsync'd data not yet in the
	// trees, replayed at the next mount (or discarded by rescue zero-log).
	LogRoot            uint64
	LogRootLevel       uint8
	TotalBytes         uint64
	BytesUsed          uint64
	Sectorsize         uint32
	Nodesize           uint32
	Stripesize         uint32
	RootDir            uint64
	NumDevices         uint64
	CompatFlags        uint64
	CompatROFlags      uint64
	IncompatFlags      uint64
	CacheGeneration    uint64
	UUIDTreeGeneration uint64

	DevItem   BtrfsDevItem
	SysChunks []BtrfsChunk // the sys_chunk_array: where the system chunks are

	PrimaryErr error       `json:"-"` // why the primary was not used (nil: it was)
	Copies     []BtrfsCopy // the copies read (see above)
}

// BtrfsDevItem is the superblock's own device (dev_item).
type BtrfsDevItem struct {
	DevID      uint64
	TotalBytes uint64
	BytesUsed  uint64
	IOAlign    uint32
	IOWidth    uint32
	SectorSize uint32
	Type       uint64
	Generation uint64
	StartOff   uint64
	DevGroup   uint32
	SeekSpeed  uint8
	Bandwidth  uint8
	UUID       string
	FSID       string
}

// BtrfsCopy is one superblock copy's location and state.
type BtrfsCopy struct {
	Offset     int64
	Generation uint64 // 0 when the copy is not valid
	Err        error  `json:"-"` // nil: valid; ErrNotFound: no magic; else *CorruptError
}

// Superblock copies, sizes and the flag bits of ctree.h.
const (
	btrfsSuperSize  = 4096
	btrfsCsumSize   = 32 // room for the checksum at the front
	btrfsMagic      = "_BHRfS_M"
	btrfsMaxSysArr  = 2048
	btrfsSysArrOff  = 811
	btrfsChunkType  = 228 // BTRFS_CHUNK_ITEM_KEY
	btrfsFlagError  = 1 << 2
	btrfsIncMetaUID = 1 << 10
)

// btrfsMirrors are the superblock offsets (btrfs_sb_offset for mirrors 0..2).
var btrfsMirrors = [...]int64{64 << 10, 64 << 20, 256 << 30}

// ReadBtrfs reads the primary superblock and, only when the primary has
// the magic but is bad, the mirrors (see Btrfs for which copy is
// reported; the kernel never reads the mirrors either, and each read of a
// closed block device is a real I/O). It returns ErrNotFound when the
// primary has no magic (as blkid, it does not look for a filesystem behind
// a wiped primary), and the primary's *CorruptError when no copy is valid.
func ReadBtrfs(r io.ReaderAt, size int64) (*Btrfs, error) {
	if btrfsMirrors[0]+btrfsSuperSize > size {
		return nil, ErrNotFound
	}
	buf := make([]byte, btrfsSuperSize)
	if err := btrfsReadFull(r, buf, btrfsMirrors[0]); err != nil {
		return nil, err
	}
	p, perr := btrfsDecode(buf, btrfsMirrors[0])
	switch {
	case errors.Is(perr, ErrNotFound):
		return nil, ErrNotFound
	case perr == nil:
		p.Copies = []BtrfsCopy{{Offset: p.Offset, Generation: p.Generation}}
		return p, nil
	}
	copies := []BtrfsCopy{{Offset: btrfsMirrors[0], Err: perr}}
	var best *Btrfs
	for i, off := range btrfsMirrors[1:] {
		if off+btrfsSuperSize > size {
			break
		}
		if err := btrfsReadFull(r, buf, off); err != nil {
			return nil, err
		}
		b, err := btrfsDecode(buf, off)
		c := BtrfsCopy{Offset: off, Err: err}
		if err == nil {
			c.Generation = b.Generation
			b.Copy = i + 1
			if best == nil || b.Generation > best.Generation {
				best = b
			}
		}
		copies = append(copies, c)
	}
	if best == nil {
		return nil, perr
	}
	best.PrimaryErr = perr
	best.Copies = copies
	return best, nil
}

// ReadBtrfsCopies reads and checks every superblock copy inside the
// device, as dump-super -a does, whatever the primary's state.
func ReadBtrfsCopies(r io.ReaderAt, size int64) ([]BtrfsCopy, error) {
	var out []BtrfsCopy
	buf := make([]byte, btrfsSuperSize)
	for _, off := range btrfsMirrors {
		if off+btrfsSuperSize > size {
			break
		}
		if err := btrfsReadFull(r, buf, off); err != nil {
			return out, err
		}
		c := BtrfsCopy{Offset: off}
		var b *Btrfs
		if b, c.Err = btrfsDecode(buf, off); c.Err == nil {
			c.Generation = b.Generation
		}
		out = append(out, c)
	}
	return out, nil
}

func btrfsReadFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("superblock: btrfs: read %d bytes at %d: %w", len(b), off, err)
}

// btrfsDecode parses and checks one 4 KiB copy found at off.
func btrfsDecode(b []byte, off int64) (*Btrfs, error) {
	if string(b[64:72]) != btrfsMagic {
		return nil, ErrNotFound
	}
	le := binary.LittleEndian
	x := &Btrfs{
		Offset:              off,
		CsumType:            le.Uint16(b[196:]),
		Bytenr:              le.Uint64(b[48:]),
		Flags:               le.Uint64(b[56:]),
		FSID:                xfsUUID(b[32:48]),
		Generation:          le.Uint64(b[72:]),
		Root:                le.Uint64(b[80:]),
		ChunkRoot:           le.Uint64(b[88:]),
		LogRoot:             le.Uint64(b[96:]),
		TotalBytes:          le.Uint64(b[112:]),
		BytesUsed:           le.Uint64(b[120:]),
		RootDir:             le.Uint64(b[128:]),
		NumDevices:          le.Uint64(b[136:]),
		Sectorsize:          le.Uint32(b[144:]),
		Nodesize:            le.Uint32(b[148:]),
		Stripesize:          le.Uint32(b[156:]),
		SysArraySize:        le.Uint32(b[160:]),
		ChunkRootGeneration: le.Uint64(b[164:]),
		CompatFlags:         le.Uint64(b[172:]),
		CompatROFlags:       le.Uint64(b[180:]),
		IncompatFlags:       le.Uint64(b[188:]),
		RootLevel:           b[198],
		ChunkRootLevel:      b[199],
		LogRootLevel:        b[200],
		DevItem:             btrfsDecodeDevItem(b[201:299]),
		Label:               btrfsCString(b[299:555]),
		CacheGeneration:     le.Uint64(b[555:]),
		UUIDTreeGeneration:  le.Uint64(b[563:]),
	}
	x.MetadataUUID = x.FSID
	if x.IncompatFlags&btrfsIncMetaUID != 0 {
		x.MetadataUUID = xfsUUID(b[571:587])
	}
	csum, name, err := btrfsChecksum(x.CsumType, b[btrfsCsumSize:])
	if err != nil {
		return nil, err
	}
	x.CsumName = name
	x.Csum = append([]byte(nil), b[:len(csum)]...)
	if !bytes.Equal(csum, x.Csum) {
		return nil, corrupt("btrfs", "csum", "stored %x, computed %x (%s) at %d", x.Csum, csum, name, off)
	}
	if x.Bytenr != uint64(off) {
		return nil, corrupt("btrfs", "bytenr", "%d in the copy at %d", x.Bytenr, off)
	}
	if err := x.validate(); err != nil {
		return nil, err
	}
	chunks, err := btrfsParseSysChunks(b[btrfsSysArrOff : btrfsSysArrOff+int(x.SysArraySize)])
	if err != nil {
		return nil, err
	}
	x.SysChunks = chunks
	return x, nil
}

// validate is the part of the kernel's btrfs_validate_super that the
// sizes we report depend on.
func (x *Btrfs) validate() error {
	if !xfsPow2In(uint64(x.Sectorsize), 4096, 65536) {
		return corrupt("btrfs", "sectorsize", "%d is not a power of two in 4096..65536", x.Sectorsize)
	}
	if !xfsPow2In(uint64(x.Nodesize), uint64(x.Sectorsize), 65536) {
		return corrupt("btrfs", "nodesize", "%d (sectorsize %d)", x.Nodesize, x.Sectorsize)
	}
	if !xfsPow2In(uint64(x.Stripesize), 512, 1<<30) {
		return corrupt("btrfs", "stripesize", "%d is not a power of two", x.Stripesize)
	}
	if x.NumDevices == 0 {
		return corrupt("btrfs", "num_devices", "zero")
	}
	if x.SysArraySize > btrfsMaxSysArr {
		return corrupt("btrfs", "sys_array_size", "%d exceeds %d", x.SysArraySize, btrfsMaxSysArr)
	}
	if x.TotalBytes > 1<<63-1 {
		return corrupt("btrfs", "total_bytes", "%d overflows", x.TotalBytes)
	}
	return nil
}

func btrfsDecodeDevItem(b []byte) BtrfsDevItem {
	le := binary.LittleEndian
	return BtrfsDevItem{
		DevID:      le.Uint64(b[0:]),
		TotalBytes: le.Uint64(b[8:]),
		BytesUsed:  le.Uint64(b[16:]),
		IOAlign:    le.Uint32(b[24:]),
		IOWidth:    le.Uint32(b[28:]),
		SectorSize: le.Uint32(b[32:]),
		Type:       le.Uint64(b[36:]),
		Generation: le.Uint64(b[44:]),
		StartOff:   le.Uint64(b[52:]),
		DevGroup:   le.Uint32(b[60:]),
		SeekSpeed:  b[64],
		Bandwidth:  b[65],
		UUID:       xfsUUID(b[66:82]),
		FSID:       xfsUUID(b[82:98]),
	}
}

func btrfsCString(b []byte) string { return xfsCString(b) }

// Super is the common view. UUID is the fsid (blkid's UUID; the device's
// own uuid is blkid's UUID_SUB, in Devices). BlockSize is the sectorsize.
// SizeBytes is total_bytes of the whole filesystem, FreeBytes total_bytes
// minus bytes_used: the superblock's allocation view over all devices,
// before RAID profiles and metadata reservations, so not what df shows.
// State: errors when the error flag is set, needs_recovery when log_root
// is set, not_clean when the primary copy is bad and a mirror was used.
func (x *Btrfs) Super() Super {
	st := StateClean
	switch {
	case x.Flags&btrfsFlagError != 0:
		st = StateErrors
	case x.LogRoot != 0:
		st = StateNeedsRecovery
	case x.PrimaryErr != nil:
		st = StateNotClean
	}
	free := int64(0)
	if x.BytesUsed < x.TotalBytes {
		free = int64(x.TotalBytes - x.BytesUsed)
	}
	d := x.DevItem
	return Super{
		Type:      "btrfs",
		UUID:      x.FSID,
		Label:     x.Label,
		BlockSize: int64(x.Sectorsize),
		SizeBytes: int64(x.TotalBytes),
		FreeBytes: free,
		Features:  x.Features(),
		State:     st,
		Devices: []Device{{
			ID:         d.DevID,
			UUID:       d.UUID,
			TotalBytes: btrfsInt64(d.TotalBytes),
			UsedBytes:  btrfsInt64(d.BytesUsed),
		}},
		DevID:      d.DevID,
		NumDevices: x.NumDevices,
	}
}

func btrfsInt64(n uint64) int64 {
	if n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}
