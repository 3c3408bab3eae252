package probe

// sysvMagic is the System V superblock magic, in either byte order.
const sysvMagic = 0xfd187e20

// sysvBlocks are the 1 KiB blocks in whose second half a System V
// superblock may start (the kernel's sysv driver tries the same ones).
var sysvBlocks = [...]int64{0, 9, 15, 18}

// probeSysV looks for a System V superblock in each of its places, in
// order, the first magic (of either byte order) winning; LABEL is the file
// system name.
func probeSysV(s *source) (*sb, error) {
	for _, blk := range sysvBlocks {
		b := s.headAt(blk*1024+512, 512)
		if b == nil {
			return nil, nil
		}
		if le.Uint32(b[504:]) == sysvMagic || be.Uint32(b[504:]) == sysvMagic {
			return &sb{label: label(b[440:446])}, nil
		}
	}
	return nil, nil
}

// probeXenix recognises a Xenix superblock (the 1 KiB block at offset
// 1024) by a three-byte magic blkid looks for at offset 2048, past the
// superblock's own magic field; blkid finds Xenix only that way, and we
// answer as blkid does. LABEL is the file system name.
func probeXenix(s *source) (*sb, error) {
	m := s.headAt(2048, 1024)
	if m == nil || !(hasAt(m, 0, "\x2b\x55\x44") || hasAt(m, 0, "\x44\x55\x2b")) {
		return nil, nil
	}
	b := s.headAt(1024, 1024)
	return &sb{label: label(b[632:638])}, nil
}
