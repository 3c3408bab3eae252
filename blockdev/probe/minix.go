package probe

// probeMinix is not written yet.
func probeMinix(s *source) (*sb, error) { return nil, nil }
