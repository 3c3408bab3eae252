package probe

// probeJFS is not written yet.
func probeJFS(s *source) (*sb, error) { return nil, nil }
