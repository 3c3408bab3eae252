package probe

// refsMagic opens a ReFS boot sector: three zero bytes where NTFS has its
// jump, then the file system name.
const refsMagic = "\x00\x00\x00ReFS\x00"

// probeReFS recognises ReFS by its boot-sector magic alone: blkid reads no
// field of it, so there is no label, UUID or version to report.
func probeReFS(s *source) (*sb, error) {
	if b := s.headAt(0, 1024); b == nil || !hasAt(b, 0, refsMagic) {
		return nil, nil
	}
	return &sb{}, nil
}
