package probe

import (
	"fmt"
)

const (
	ntfsMagic = "NTFS    " // OEM id, 3 bytes into the boot sector

	// ntfsMaxCluster is the largest cluster Windows creates (2 MiB since
	// Windows 10 1703); blkid rejects anything larger.
	ntfsMaxCluster = 2 << 20

	ntfsMFTVolume      = 3 // $Volume's record number in the MFT
	ntfsAttrVolumeName = 0x60
	ntfsAttrEnd        = 0xffffffff
	// ntfsAttrHeader is the resident attribute header blkid reads: type,
	// length, non-resident flag, name length and offset, flags, instance,
	// value length and value offset.
	ntfsAttrHeader = 22
)

// probeNTFS checks the boot sector's BIOS parameter block as blkid does
// (the FAT fields NTFS leaves zero must be zero), then reads the MFT's first
// record and $Volume's record: both must say "FILE". The label is $Volume's
// volume-name attribute, the UUID the 64-bit volume serial in upper-case hex.
// Like blkid, the records are read without applying their update sequence
// fixups.
func probeNTFS(s *source) (*sb, error) {
	b, rec, recSize, err := ntfsCheck(s)
	if rec == nil {
		return nil, err
	}
	r := &sb{label: ntfsVolumeName(rec, recSize)}
	if serial := b[0x48:0x50]; !isZero(serial) {
		r.uuid = fmt.Sprintf("%016X", le.Uint64(serial))
	}
	return r, nil
}

// isNTFS is blkid_probe_is_ntfs: the dos table reader asks it so that an
// NTFS boot sector, which ends in 0x55AA like an MBR, is not read as a
// partition table. A read error counts as "not NTFS", as in blkid.
func isNTFS(s *source) bool {
	_, rec, _, _ := ntfsCheck(s)
	return rec != nil
}

// ntfsCheck validates the boot sector and the two MFT records and returns
// the boot sector and $Volume's record (nil when this is not NTFS).
func ntfsCheck(s *source) (boot, rec []byte, recSize uint32, err error) {
	b := s.headAt(0, 0x54) // through the serial number; the checksum is not read
	if b == nil || !hasAt(b, 3, ntfsMagic) {
		return nil, nil, 0, nil
	}
	sectorSize := uint32(le.Uint16(b[0x0b:]))
	if sectorSize < 256 || sectorSize > 4096 {
		return nil, nil, 0, nil
	}
	var spc uint32 // sectors per cluster
	switch c := b[0x0d]; c {
	case 1, 2, 4, 8, 16, 32, 64, 128:
		spc = uint32(c)
	default:
		// Large clusters are stored as a negative power of two.
		if c < 240 || c > 249 {
			return nil, nil, 0, nil
		}
		spc = 1 << (256 - uint32(c))
	}
	if sectorSize*spc > ntfsMaxCluster {
		return nil, nil, 0, nil
	}
	if le.Uint16(b[0x0e:]) != 0 || b[0x10] != 0 || le.Uint16(b[0x11:]) != 0 ||
		le.Uint16(b[0x13:]) != 0 || le.Uint16(b[0x16:]) != 0 || le.Uint32(b[0x20:]) != 0 {
		return nil, nil, 0, nil
	}
	// Clusters per MFT record: a positive power of two up to 64, or a
	// negative exponent of the record size in bytes.
	cpm := int8(b[0x40])
	if u := uint8(cpm); u < 0xe1 || u > 0xf7 {
		switch cpm {
		case 1, 2, 4, 8, 16, 32, 64:
		default:
			return nil, nil, 0, nil
		}
	}
	if cpm > 0 {
		recSize = uint32(cpm) * spc * sectorSize
	} else {
		recSize = 1 << uint32(-int32(cpm))
	}
	clusters := le.Uint64(b[0x28:]) / uint64(spc)
	if le.Uint64(b[0x30:]) > clusters || le.Uint64(b[0x38:]) > clusters {
		return nil, nil, 0, nil
	}
	off := le.Uint64(b[0x30:]) * uint64(sectorSize) * uint64(spc)
	if rec, err = ntfsRecord(s, off, recSize); rec == nil {
		return nil, nil, 0, err
	}
	off += ntfsMFTVolume * uint64(recSize)
	if rec, err = ntfsRecord(s, off, recSize); rec == nil {
		return nil, nil, 0, err
	}
	return b, rec, recSize, nil
}

// ntfsRecord reads the MFT record at off and returns it when it starts with
// "FILE". A record larger than one read may be is checked for existence and
// read in part: only the attribute walk could want more of it.
func ntfsRecord(s *source, off uint64, size uint32) ([]byte, error) {
	if off > uint64(s.size) || uint64(size) > uint64(s.size)-off {
		return nil, nil
	}
	n := int(size)
	if n > maxExtraBytes {
		n = maxExtraBytes
	}
	rec, err := ntfsAt(s, off, n)
	if rec == nil || !hasAt(rec, 0, "FILE") {
		return nil, err
	}
	return rec, nil
}

// ntfsVolumeName walks the record's attributes to the volume-name one, as
// blkid does: it stops at the end marker, at a zero-length attribute, or
// past the record's allocated size.
func ntfsVolumeName(rec []byte, recSize uint32) string {
	attrOff := uint64(le.Uint16(rec[0x14:]))
	allocated := uint64(le.Uint32(rec[0x1c:]))
	for attrOff+ntfsAttrHeader <= uint64(recSize) && attrOff <= allocated {
		if attrOff+ntfsAttrHeader > uint64(len(rec)) {
			return "" // beyond what a single read brings in
		}
		a := rec[attrOff:]
		typ, alen := le.Uint32(a[0:]), le.Uint32(a[4:])
		if alen == 0 || typ == ntfsAttrEnd {
			return ""
		}
		if typ == ntfsAttrVolumeName {
			valOff, valLen := uint64(le.Uint16(a[20:])), uint64(le.Uint32(a[16:]))
			end := attrOff + valOff + valLen
			if end > uint64(recSize) || end > uint64(len(rec)) {
				return ""
			}
			return utf16Label(rec[attrOff+valOff:end], false)
		}
		attrOff += uint64(alen)
	}
	return ""
}

// ntfsAt is s.at for an unsigned offset computed from on-disk fields: an
// offset past the device (or past what int64 holds) is simply not there,
// and no sum with n can wrap around.
func ntfsAt(s *source, off uint64, n int) ([]byte, error) {
	if n < 0 || off > uint64(s.size) || uint64(n) > uint64(s.size)-off {
		return nil, nil
	}
	return s.at(int64(off), n)
}
