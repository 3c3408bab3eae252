package probe

// probeBluestore is not written yet.
func probeBluestore(s *source) (*sb, error) { return nil, nil }
