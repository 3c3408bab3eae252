package probe

import "strconv"

// A ZFS vdev carries four 256 KiB labels, two at the start and two at the
// end. In each, an XDR-encoded nvlist of the pool's configuration starts at
// 16 KiB and a ring of uberblocks fills the second half.
const (
	zfsLabelSize  = 256 << 10
	zfsNVListOff  = 16 << 10
	zfsNVListSize = 4096 // blkid parses only the nvlist's first 4 KiB
	zfsRingOff    = 128 << 10
	zfsRingSize   = 128 << 10
	zfsSlotSize   = 1024 // blkid steps through the ring 1 KiB at a time
	zfsWant       = 4    // uberblocks blkid wants before it says zfs_member

	zfsUberMagic        = 0x00bab10c // written in the host's byte order
	zfsUberMagicSwapped = 0x0cb1ba0000000000

	zfsTypeUint64 = 8
	zfsTypeString = 9
	zfsTypeNVList = 19
)

// probeZFS looks for uberblocks in the four labels, in order, as blkid
// does: L0 at 0, L1 at 256 KiB, and L2 and L3 at 512 KiB and 256 KiB from
// the end of the device rounded down to 256 KiB. It stops at the label
// where the count reaches four; that label's nvlist gives LABEL (the pool
// name), UUID (the pool GUID) and UUID_SUB (this vdev's GUID), and the last
// uberblock found in it gives VERSION (the pool's SPA version).
//
// Only what blkid looks at is read: each label's uberblock ring and the
// chosen label's first 4 KiB of nvlist. On a whole disk or an image, a
// label that lies inside one of the disk's partitions does not count
// (blkid asks the partition table), so a disk whose last partition is a
// ZFS vdev is not itself taken for one; the table is read only once some
// label has uberblocks.
func probeZFS(s *source) (*sb, error) {
	align := s.size % zfsLabelSize
	labels := [...]int64{0, zfsLabelSize, s.size - 2*zfsLabelSize - align, s.size - zfsLabelSize - align}
	cover := zfsCover{s: s}
	found := 0
	for _, off := range labels {
		ring, err := s.at(off+zfsRingOff, zfsRingSize)
		if err == errBudget {
			return nil, err
		}
		if err != nil || ring == nil {
			// blkid gives up on a label it cannot read, unless it had
			// skipped that label for lying in a partition.
			if cover.covers(off) {
				continue
			}
			return nil, err
		}
		n, last, swapped := zfsUberblocks(ring)
		if n == 0 || cover.covers(off) {
			continue
		}
		found += n
		if found < zfsWant {
			continue
		}
		ver := le.Uint64(ring[last+8:])
		if swapped {
			ver = be.Uint64(ring[last+8:])
		}
		r := &sb{version: strconv.FormatUint(ver, 10)}
		// With the read budget spent the member is still reported, without
		// the nvlist's values: the type is what keeps a pool from being
		// formatted over.
		nv, err := s.at(off+zfsNVListOff, zfsNVListSize)
		if err != nil && err != errBudget {
			return nil, err
		}
		if nv != nil {
			zfsNVList(nv, r)
		}
		return r, nil
	}
	return nil, nil
}

// zfsUberblocks counts the 1 KiB slots of a ring that start with the
// uberblock magic in either byte order, and says where the last one is and
// whether it is byte-swapped. Rings of 4 KiB slots (ashift 12) show one hit
// per four slots, and blkid counts them the same way.
func zfsUberblocks(ring []byte) (n, last int, swapped bool) {
	for off := 0; off+zfsSlotSize <= len(ring); off += zfsSlotSize {
		switch le.Uint64(ring[off:]) {
		case zfsUberMagic:
			n, last, swapped = n+1, off, false
		case zfsUberMagicSwapped:
			n, last, swapped = n+1, off, true
		}
	}
	return n, last, swapped
}

// zfsNVList walks the top level of a label's nvlist: a 12-byte header,
// then pairs of {encoded size, decoded size, name length, name padded to 4
// bytes, value}, ended by a zero size. Nested nvlists (the vdev tree) are
// stepped into only to be skipped, so their guids are not the vdev's. The
// walk stops, keeping what it found, at the first pair that does not fit.
// A key seen twice keeps its last value, the one a reader of blkid's
// export output ends up with.
func zfsNVList(b []byte, r *sb) {
	const pairHdr = 12
	p := 12
	level := 0
	for len(b)-p > pairHdr {
		left := uint64(len(b) - p)
		size := uint64(be.Uint32(b[p:]))
		namelen := uint64(be.Uint32(b[p+8:]))
		namesize := (namelen + 3) &^ 3
		step := size
		if size == 0 {
			if level == 0 {
				return
			}
			level-- // the end of a nested list: its header's last 8 bytes
			step = 8
		} else {
			if size > left || namesize+pairHdr > size {
				return
			}
			value := b[p+pairHdr+int(namesize) : p+int(size)]
			if len(value) >= 16 && be.Uint32(value) == zfsTypeNVList {
				// the nested list's pairs follow its 16-byte header
				step = pairHdr + namesize + 16
				level++
			} else if level == 0 {
				zfsValue(r, b[p+pairHdr:p+pairHdr+int(namelen)], value)
			}
		}
		if step > left {
			return
		}
		p += int(step)
	}
}

// zfsValue takes the three top-level values blkid reports. Names compare
// as blkid's strncmp over the stored name length does, so a name that is a
// prefix of a key (or empty) counts as that key, in the order tried here.
func zfsValue(r *sb, name, value []byte) {
	switch {
	case zfsNameIs(name, "name") && len(value) >= 12:
		n := uint64(be.Uint32(value[8:]))
		if be.Uint32(value) != zfsTypeString || n+12 > uint64(len(value)) {
			return
		}
		if l := label(value[12 : 12+n]); l != "" {
			r.label = l
		}
	case zfsNameIs(name, "guid") && len(value) >= 16:
		if be.Uint32(value) == zfsTypeUint64 {
			r.uuidSub = strconv.FormatUint(be.Uint64(value[8:]), 10)
		}
	case zfsNameIs(name, "pool_guid") && len(value) >= 16:
		// a zero pool GUID is no UUID, as for any all-zero UUID in blkid
		if v := be.Uint64(value[8:]); be.Uint32(value) == zfsTypeUint64 && v != 0 {
			r.uuid = strconv.FormatUint(v, 10)
		}
	}
}

// zfsNameIs is strncmp(name, key, len(name)) == 0 with name not
// NUL-terminated: equal up to the end of name or a NUL common to both.
func zfsNameIs(name []byte, key string) bool {
	for i, c := range name {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		if c != k {
			return false
		}
		if c == 0 {
			return true
		}
	}
	return true
}

// zfsCover answers blkid's question whether a label's 256 KiB lie inside a
// partition of the device's own table; the table is read on first use.
type zfsCover struct {
	s    *source
	read bool
	tab  *Table
}

// covers mirrors blkid_probe_is_covered_by_pt. Only whole disks and image
// files ask; a table with a partition running past the end of the device
// covers nothing; an unreadable table covers nothing. The table is read
// with the device's logical sector size, as blkid reads it.
func (c *zfsCover) covers(off int64) bool {
	if !c.s.wholeDisk {
		return false
	}
	if !c.read {
		c.read = true
		c.tab, _ = probeTable(c.s, max(c.s.sectorSize, 512))
	}
	if c.tab == nil {
		return false
	}
	sectors := uint64(c.s.size) >> 9
	for _, e := range c.tab.Entries {
		if e.Start+e.Size > sectors {
			return false
		}
	}
	start, end := uint64(off)>>9, uint64(off+zfsLabelSize)>>9
	for _, e := range c.tab.Entries {
		if start >= e.Start && end <= e.Start+e.Size {
			return true
		}
	}
	return false
}
