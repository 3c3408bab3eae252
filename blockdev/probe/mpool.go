package probe

import "hash/crc32"

var mpoolCRC = crc32.MakeTable(crc32.Castagnoli)

// probeMpool finds a Micron mpool drive: the "mpoolDev" magic and a
// descriptor whose CRC-32C over its first 62 bytes must match, as blkid
// requires. The pool name is the label and the pool id the UUID.
func probeMpool(s *source) (*sb, error) {
	b, err := containerMagic(s, 0, 0, "mpoolDev")
	if b == nil {
		return nil, err
	}
	// magic u64, name[32], poolid[16], vers u16, gen u32, cksum1 u32
	if crc32.Checksum(b[:62], mpoolCRC) != le.Uint32(b[62:]) {
		return nil, nil
	}
	return &sb{label: label(b[8:40]), uuid: uuidString(b[40:56])}, nil
}
