package probe

// probeExFAT is not written yet.
func probeExFAT(s *source) (*sb, error) { return nil, nil }
