package probe

// probeReFS is not written yet.
func probeReFS(s *source) (*sb, error) { return nil, nil }
