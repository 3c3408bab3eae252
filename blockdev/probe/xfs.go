package probe

import "hash/crc32"

// probeXFS checks the XFS superblock at offset 0 with the same sanity rules
// blkid applies (sizes in range and consistent, CRC for v5 superblocks), so
// stale or random "XFSB" bytes are not reported.
func probeXFS(s *source) (*sb, error) {
	b := s.headAt(0, 512)
	if b == nil || !hasAt(b, 0, "XFSB") {
		return nil, nil
	}
	bs := be.Uint32(b[4:])
	dblocks := be.Uint64(b[8:])
	agblocks := be.Uint32(b[84:])
	agcount := be.Uint32(b[88:])
	version := be.Uint16(b[100:])
	sectsize := be.Uint16(b[102:])
	inodesize := be.Uint16(b[104:])
	inopblock := be.Uint16(b[106:])
	blocklog, sectlog, inodelog, inopblog, agblklog := b[120], b[121], b[122], b[123], b[124]
	switch {
	case agcount == 0 || agblocks == 0 || dblocks == 0,
		bs < 512 || bs > 65536 || bs&(bs-1) != 0 || uint32(1)<<blocklog != bs,
		sectsize < 512 || sectsize > 32768 || sectsize&(sectsize-1) != 0 || uint32(1)<<sectlog != uint32(sectsize),
		inodesize < 256 || inodesize > 2048 || inodesize&(inodesize-1) != 0 || uint32(1)<<inodelog != uint32(inodesize),
		inodelog > blocklog || uint32(inopblock) != bs>>inodelog || inopblog != blocklog-inodelog,
		agblklog > 31,
		dblocks > uint64(agcount)*uint64(agblocks),
		dblocks < uint64(agcount-1)*uint64(agblocks)+64:
		return nil, nil
	}
	if version&0xf == 5 {
		sec := s.headAt(0, int(sectsize))
		if sec == nil {
			return nil, nil
		}
		c := make([]byte, len(sec))
		copy(c, sec)
		want := le.Uint32(c[224:])
		c[224], c[225], c[226], c[227] = 0, 0, 0, 0
		if crc32.Checksum(c, castagnoli) != want {
			return nil, nil
		}
	}
	return &sb{uuid: uuidString(b[32:48]), label: label(b[108:120])}, nil
}
