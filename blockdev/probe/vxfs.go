package probe

// probeVxFS is not written yet.
func probeVxFS(s *source) (*sb, error) { return nil, nil }
