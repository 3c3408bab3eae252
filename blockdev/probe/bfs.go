package probe

// probeBFS finds the SCO UnixWare boot filesystem by its magic alone, as
// blkid does: its two six-byte name fields are not reported.
func probeBFS(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 0, "\xce\xfa\xad\x1b") {
		return nil, nil
	}
	return &sb{}, nil
}
