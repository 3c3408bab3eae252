package probe

// probeReiserfs is not written yet.
func probeReiserfs(s *source) (*sb, error) { return nil, nil }

// probeReiser4 is not written yet.
func probeReiser4(s *source) (*sb, error) { return nil, nil }
