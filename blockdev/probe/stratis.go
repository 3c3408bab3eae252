package probe

import (
	"hash/crc32"
	"strings"
)

// Stratis keeps two copies of its 512-byte block-device superblock in the
// first 8 KiB, at sectors 1 and 9.
const (
	stratisMagic    = "!Stra0tis\x86\xff\x02^\x41rh"
	stratisArea     = 16 * 512
	stratisCopy1    = 512
	stratisCopy2    = 9 * 512
	stratisSBSize   = 512
	stratisMagicOff = 4
)

var stratisCRC = crc32.MakeTable(crc32.Castagnoli)

// probeStratis recognises a Stratis block device. As in blkid, the magic
// in either copy lets the probe look, and then the first copy whose CRC-32C
// holds is used, magic or not. UUID is the device's UUID (Stratis stores
// it undashed); the pool's UUID is not among the values reported here.
func probeStratis(s *source) (*sb, error) {
	if s.headAt(stratisArea-1, 1) == nil {
		return nil, nil
	}
	m1 := s.headAt(0, 1024)
	m2 := s.headAt(4096, 1024)
	if !hasAt(m1, stratisCopy1+stratisMagicOff, stratisMagic) &&
		!hasAt(m2, stratisCopy2-4096+stratisMagicOff, stratisMagic) {
		return nil, nil
	}
	for _, off := range []int64{stratisCopy1, stratisCopy2} {
		b := s.headAt(off, stratisSBSize)
		if crc32.Checksum(b[4:], stratisCRC) != le.Uint32(b) {
			continue
		}
		return &sb{uuid: stratisUUID(b[64:96])}, nil
	}
	return nil, nil
}

// stratisUUID dashes a 32-character id 8-4-4-4-12 and keeps it as blkid
// keeps a UUID given as a string: up to its first NUL, trailing white space
// trimmed.
func stratisUUID(id []byte) string {
	var b strings.Builder
	for i, c := range id {
		b.WriteByte(c)
		if i == 7 || i == 11 || i == 15 || i == 19 {
			b.WriteByte('-')
		}
	}
	return label([]byte(b.String()))
}
