package probe

// jfsSBOff is where the JFS aggregate superblock starts (32 KiB).
const jfsSBOff = 0x8000

// probeJFS checks the JFS superblock with blkid's three size rules: the
// block sizes must equal their logarithms and the block-to-sector factor
// must be their difference, which keeps a stray "JFS1" from passing.
func probeJFS(s *source) (*sb, error) {
	b := s.headAt(jfsSBOff, 1024)
	if b == nil || !hasAt(b, 0, "JFS1") {
		return nil, nil
	}
	bsize, l2bsize := le.Uint32(b[16:]), le.Uint16(b[20:])
	l2bfactor := le.Uint16(b[22:])
	pbsize, l2pbsize := le.Uint32(b[24:]), le.Uint16(b[28:])
	// blkid shifts a 32-bit one by the stored logarithm; the machine it
	// runs on (x86, arm64) takes the count modulo 32, and so do we.
	if bsize != 1<<(l2bsize&31) || pbsize != 1<<(l2pbsize&31) {
		return nil, nil
	}
	if int(l2bsize)-int(l2pbsize) != int(l2bfactor) {
		return nil, nil
	}
	return &sb{uuid: uuidString(b[136:152]), label: label(b[152:168])}, nil
}
