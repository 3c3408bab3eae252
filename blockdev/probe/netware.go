package probe

// probeNetware is not written yet.
func probeNetware(s *source) (*sb, error) { return nil, nil }
