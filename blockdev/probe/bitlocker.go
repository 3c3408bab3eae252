package probe

import "fmt"

// The three BitLocker boot sectors blkid knows, told apart by their first
// 11 bytes: Vista's and Windows 7's (and later) "-FVE-FS-" OEM names behind
// different jumps, and BitLocker To Go's FAT-looking "MSWIN4.1".
const (
	bitlockerMagicVista = "\xeb\x52\x90-FVE-FS-"
	bitlockerMagicWin7  = "\xeb\x58\x90-FVE-FS-"
	bitlockerMagicToGo  = "\xeb\x58\x90MSWIN4.1"
	bitlockerMagicFVE   = "-FVE-FS-"
)

// bitlockerKind is which of the three boot sectors a device has.
type bitlockerKind int

const (
	bitlockerNone bitlockerKind = iota
	bitlockerVista
	bitlockerWin7
	bitlockerToGo
)

// bitlockerHeader finds a BitLocker volume: the boot sector's magic and,
// except on Vista (whose header blkid takes on its magic alone), an FVE
// metadata block with its own signature where the boot sector points.
// fve is that block's first 12 bytes (nil on Vista). It is what vfat and
// ntfs ask too (blkid_probe_is_bitlocker): a BitLocker volume is not
// taken for the FAT or NTFS it imitates.
func bitlockerHeader(s *source) (kind bitlockerKind, hdr, fve []byte, err error) {
	hdr = s.headAt(0, 512)
	if hdr == nil {
		return bitlockerNone, nil, nil, nil
	}
	var off uint64
	switch {
	case hasAt(hdr, 0, bitlockerMagicVista):
		return bitlockerVista, hdr, nil, nil
	case hasAt(hdr, 0, bitlockerMagicWin7):
		kind, off = bitlockerWin7, le.Uint64(hdr[176:])
	case hasAt(hdr, 0, bitlockerMagicToGo):
		kind, off = bitlockerToGo, le.Uint64(hdr[440:])
	default:
		return bitlockerNone, nil, nil, nil
	}
	if off == 0 || off > uint64(s.size) {
		return bitlockerNone, nil, nil, nil
	}
	fve, err = s.at(int64(off), 12)
	if err != nil || fve == nil || !hasAt(fve, 0, bitlockerMagicFVE) {
		return bitlockerNone, nil, nil, err
	}
	return kind, hdr, fve, nil
}

// probeBitLocker reports a BitLocker volume. VERSION is the FVE metadata
// version (1 for Vista-era metadata, 2 since Windows 7), absent on Vista
// headers, whose metadata blkid does not look for. The Windows 7 boot
// sector's 32-bit volume serial becomes UUID, printed as blkid does, a
// signed decimal zero-padded to 16 places; Windows leaves it zero, and a
// zero serial gives no UUID.
func probeBitLocker(s *source) (*sb, error) {
	kind, hdr, fve, err := bitlockerHeader(s)
	if err != nil || kind == bitlockerNone {
		return nil, err
	}
	r := &sb{}
	if kind == bitlockerWin7 {
		if serial := le.Uint32(hdr[67:]); serial != 0 {
			r.uuid = fmt.Sprintf("%016d", int32(serial))
		}
	}
	if fve != nil {
		r.version = itoa(uint32(le.Uint16(fve[10:])))
	}
	return r, nil
}
