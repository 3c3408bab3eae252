package probe

// probeLinuxRaid is not written yet.
func probeLinuxRaid(s *source) (*sb, error) { return nil, nil }
