package probe

// probeRomfs reads the romfs header at 0: the magic, then after the size
// and checksum words the volume name, which blkid takes as the label (16
// bytes of it). Nothing else is checked.
func probeRomfs(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 0, "-rom1fs-") {
		return nil, nil
	}
	return &sb{label: label(b[16:32])}, nil
}
