package probe

// probeAPFS is not written yet.
func probeAPFS(s *source) (*sb, error) { return nil, nil }
