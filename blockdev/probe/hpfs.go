package probe

// probeHPFS is not written yet.
func probeHPFS(s *source) (*sb, error) { return nil, nil }
