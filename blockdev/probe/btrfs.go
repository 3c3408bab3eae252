package probe

const btrfsSBOff = 0x10000

// probeBtrfs reads the primary btrfs superblock at 64 KiB: fsid is UUID, the
// device item's uuid is UUID_SUB.
func probeBtrfs(s *source) (*sb, error) {
	b := s.headAt(btrfsSBOff, 4096)
	if b == nil || !hasAt(b, 0x40, "_BHRfS_M") {
		return nil, nil
	}
	return &sb{
		uuid:    uuidString(b[0x20:0x30]),
		uuidSub: uuidString(b[201+66 : 201+82]),
		label:   label(b[299 : 299+256]),
	}, nil
}
