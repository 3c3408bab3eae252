package probe

// Linux software RAID (md) members. Metadata 0.90 and 1.0 sit at the end of
// the member (from the cached tail), 1.1 at its start and 1.2 4 KiB in.
// blkid tries them in that order and takes the first; like blkid 2.38 we
// verify no superblock checksum, only the magic, the version and, for 1.x,
// the superblock's record of its own offset.
const (
	mdMagic = 0xa92b4efc
	// mdReserved is what md 0.90 keeps at the end of a member: the
	// superblock sits at the last 64 KiB boundary that leaves 64 KiB.
	mdReserved = 0x10000
	md0SBSize  = 64  // the fields blkid reads of the 4 KiB 0.90 superblock
	md1SBSize  = 256 // the fixed part of a 1.x superblock
)

func probeLinuxRaid(s *source) (*sb, error) {
	if raidTiny(s) {
		return nil, nil
	}
	r, err := md0Probe(s, s.size&^(mdReserved-1)-mdReserved)
	if r != nil || err != nil {
		return r, err
	}
	if r, err = md1Probe(s, s.size&^0xfff-0x2000, "1.0"); r != nil || err != nil {
		return r, err
	}
	if r, err = md1Probe(s, 0, "1.1"); r != nil || err != nil {
		return r, err
	}
	return md1Probe(s, 0x1000, "1.2")
}

// md0Probe reads a 0.90 superblock at off, written in the byte order of the
// host that made it.
func md0Probe(s *source, off int64) (*sb, error) {
	b, err := s.at(off, md0SBSize)
	if err != nil || b == nil {
		return nil, err
	}
	var uuid [16]byte
	var major, minor, patch, kib uint32
	// The set UUID is four 32-bit words: the first at 20, the other three
	// (only from minor version 90 on) at 52. blkid prints each word's bytes
	// most significant first, so a little-endian superblock's are reversed.
	words := [4]int{20, 52, 56, 60}
	switch {
	case le.Uint32(b) == mdMagic:
		major, minor, patch, kib = le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[32:])
		for i, w := range words {
			if i == 0 || minor >= 90 {
				be.PutUint32(uuid[i*4:], le.Uint32(b[w:]))
			}
		}
	case be.Uint32(b) == mdMagic:
		major, minor, patch, kib = be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint32(b[12:]), be.Uint32(b[32:])
		for i, w := range words {
			if i == 0 || minor >= 90 {
				copy(uuid[i*4:i*4+4], b[w:w+4])
			}
		}
	default:
		return nil, nil
	}
	// The array's per-member size (KiB) must fit before the superblock.
	size := int64(kib) << 10
	if s.size < size+mdReserved || off < size {
		return nil, nil
	}
	// On a whole disk (or an image) whose partition table has a partition
	// holding both the data and the superblock, the superblock is that
	// partition's: the last partition's member shows through at the disk's
	// end. blkid then reports the table, not a member.
	if s.wholeDisk {
		covered, err := mdCoveredByTable(s, off-size, size+mdReserved)
		if err != nil || covered {
			return nil, err
		}
	}
	return &sb{
		version: itoa(major) + "." + itoa(minor) + "." + itoa(patch),
		uuid:    uuidString(uuid[:]),
	}, nil
}

// mdCoveredByTable reports whether one partition of the device's own table
// spans the n bytes at off. As in blkid, a table with a partition running
// past the device's end covers nothing, and a table that cannot be read
// (other than by cancellation) covers nothing either: the member is reported.
// Offsets are in 512-byte sectors; the table is read with the device's
// logical sector size, as blkid reads it.
func mdCoveredByTable(s *source, off, n int64) (bool, error) {
	t, err := probeTable(s, max(s.sectorSize, 512))
	if err != nil {
		return false, s.ctx.Err()
	}
	if t == nil || len(t.Entries) == 0 {
		return false, nil
	}
	sectors := uint64(s.size) >> 9
	for _, e := range t.Entries {
		if e.Start+e.Size > sectors {
			return false, nil
		}
	}
	start, end := uint64(off)>>9, uint64(off+n)>>9
	for _, e := range t.Entries {
		if start >= e.Start && end <= e.Start+e.Size {
			return true, nil
		}
	}
	return false, nil
}

// md1Probe reads a 1.x superblock at off; ver names the place (1.0 end, 1.1
// start, 1.2 4 KiB in), since the superblock itself says only "1".
func md1Probe(s *source, off int64, ver string) (*sb, error) {
	b, err := s.at(off, md1SBSize)
	if err != nil || b == nil {
		return nil, err
	}
	if le.Uint32(b) != mdMagic || le.Uint32(b[4:]) != 1 || le.Uint64(b[144:]) != uint64(off)>>9 {
		return nil, nil
	}
	return &sb{
		version: ver,
		uuid:    uuidString(b[16:32]),
		uuidSub: uuidString(b[168:184]),
		label:   label(b[32:64]),
	}, nil
}
