package probe

import "strconv"

// DRBD keeps its internal metadata in the device's last 4 KiB; the magic
// (big endian, like the rest) is 60 bytes into it in versions 8 and 9.
const (
	drbdMagic          = 0x83740267
	drbdMagic08        = drbdMagic + 4
	drbdMagic84Unclean = drbdMagic + 5
	drbdMagic09        = drbdMagic + 6
	drbdMDOffset       = 4096
	drbdMD08Size       = 100  // struct md_on_disk_08 up to its reserved tail
	drbdMD09Size       = 1392 // struct meta_data_on_disk_9 up to its padding
	drbdMinDeviceSize  = 0x10000
)

// probeDRBD finds DRBD 8 (clean or unclean 8.4) and DRBD 9 internal
// metadata. blkid has no magic table entry for it: it reads the end of every
// device of 64 KiB or more. DRBD's "UUID" is its 64-bit device uuid in hex.
func probeDRBD(s *source) (*sb, error) {
	if s.size < drbdMinDeviceSize {
		return nil, nil
	}
	off := s.size - drbdMDOffset
	b, err := s.at(off, drbdMD08Size)
	if b == nil {
		return nil, err
	}
	// The 64-bit device uuid follows the uuid array in v8 and the
	// reserved words in v9: 40 and 48 bytes in.
	version, uuidOff := "", 40
	switch be.Uint32(b[60:]) {
	case drbdMagic08, drbdMagic84Unclean:
		version = "v08"
	case drbdMagic09:
		uuidOff = 48
		// blkid reads the larger v9 structure before looking at its magic.
		if b, err = s.at(off, drbdMD09Size); b == nil {
			return nil, err
		}
		version = "v09"
	default:
		return nil, nil
	}
	r := &sb{version: version}
	if u := b[uuidOff : uuidOff+8]; !isZero(u) {
		r.uuid = strconv.FormatUint(be.Uint64(u), 16)
	}
	return r, nil
}

// drbdmanage's persistence header, 4 KiB into its control volume.
const drbdManagePersistMagic = "\x1a\xdb\x98\xa2"

// probeDRBDManage finds a drbdmanage control volume: "$DRBDmgr=q", then 32
// hex digits (the UUID, kept as text) and a newline. The version comes from
// the persistence header when that is present; blkid reads its field big
// endian although its name says little, and prints it signed.
func probeDRBDManage(s *source) (*sb, error) {
	h, err := containerMagic(s, 0, 0, "$DRBDmgr=q")
	if h == nil {
		return nil, err
	}
	// magic[11], uuid[32], lf
	for _, c := range h[11:43] {
		if !drbdIsHexDigit(c) {
			return nil, nil
		}
	}
	if h[43] != '\n' {
		return nil, nil
	}
	r := &sb{uuid: string(h[11:43])}
	p, err := s.at(0x1000, 8)
	if p == nil {
		return nil, err
	}
	if hasAt(p, 0, drbdManagePersistMagic) {
		r.version = strconv.Itoa(int(int32(be.Uint32(p[4:]))))
	}
	return r, nil
}

func drbdIsHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// probeDRBDProxyDatalog finds a DRBD Proxy data log: "DRBDdlh*", then a
// little-endian version and the log's UUID.
func probeDRBDProxyDatalog(s *source) (*sb, error) {
	h, err := containerMagic(s, 0, 0, "DRBDdlh*")
	if h == nil {
		return nil, err
	}
	// magic u64, version u64, uuid[16], flags u64
	return &sb{uuid: uuidString(h[16:32]), version: "v" + strconv.FormatUint(le.Uint64(h[8:]), 10)}, nil
}
