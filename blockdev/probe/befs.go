package probe

// probeBeFS is not written yet.
func probeBeFS(s *source) (*sb, error) { return nil, nil }
