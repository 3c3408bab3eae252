package probe

import "encoding/binary"

// Minix superblock magics (v1 and v2 at byte 16, v3 at byte 24 of the
// superblock at 1 KiB), with their 14- and 30-character name variants.
const (
	minixSBOff   = 1024
	minixV1Magic = 0x137f
	minixV1Name  = 0x138f
	minixV2Magic = 0x2468
	minixV2Name  = 0x2478
	minixV3Magic = 0x4d5a

	minixStateValid = 0x0001
	minixStateError = 0x0002
	minixBlockSize  = 1024
)

// minixVersion tells the version from the superblock's magic, trying the
// little-endian reading first and then the swapped one. blkid (on the
// little-endian machines it is compared with here) reads the v3 magic
// unswapped in both passes, so a big-endian v3 filesystem is not minix to
// it; we give the same answer.
func minixVersion(b []byte) (int, binary.ByteOrder) {
	for _, o := range []binary.ByteOrder{le, be} {
		switch o.Uint16(b[16:]) {
		case minixV1Magic, minixV1Name:
			return 1, o
		case minixV2Magic, minixV2Name:
			return 2, o
		}
		if le.Uint16(b[24:]) == minixV3Magic {
			return 3, o
		}
	}
	return 0, nil
}

// probeMinix mirrors blkid's minix checks (those of fsck.minix): two bytes
// of magic are all minix has, so every count must fit the bitmaps, the
// state must be a known one, zones must be single blocks, and the ext
// magic must be absent (parts of an ext superblock read as minix).
func probeMinix(s *source) (*sb, error) {
	b := s.headAt(minixSBOff, minixBlockSize)
	if b == nil {
		return nil, nil
	}
	ver, o := minixVersion(b)
	var zones, ninodes, imaps, zmaps, firstz, logZone uint64
	switch ver {
	case 1, 2:
		st := o.Uint16(b[18:])
		if st&(minixStateValid|minixStateError) != st {
			return nil, nil
		}
		if ver == 2 {
			zones = uint64(o.Uint32(b[20:]))
		} else {
			zones = uint64(o.Uint16(b[2:]))
		}
		ninodes = uint64(o.Uint16(b[0:]))
		imaps = uint64(o.Uint16(b[4:]))
		zmaps = uint64(o.Uint16(b[6:]))
		firstz = uint64(o.Uint16(b[8:]))
		logZone = uint64(o.Uint16(b[10:]))
	case 3:
		zones = uint64(o.Uint32(b[20:]))
		ninodes = uint64(o.Uint32(b[0:]))
		imaps = uint64(o.Uint16(b[6:]))
		zmaps = uint64(o.Uint16(b[8:]))
		firstz = uint64(o.Uint16(b[10:]))
		logZone = uint64(o.Uint16(b[12:]))
	default:
		return nil, nil
	}
	switch {
	case logZone != 0, ninodes == 0, ninodes == 0xffffffff,
		imaps*minixBlockSize*8 < ninodes+1,
		firstz > zones,
		zmaps*minixBlockSize*8 < zones-firstz+1:
		return nil, nil
	}
	if e := s.headAt(extSBOff+0x38, 2); e == nil || (e[0] == 0x53 && e[1] == 0xef) {
		return nil, nil
	}
	return &sb{version: itoa(uint32(ver))}, nil
}
