package probe

// probeHFSPlus is not written yet.
func probeHFSPlus(s *source) (*sb, error) { return nil, nil }

// probeHFS is not written yet.
func probeHFS(s *source) (*sb, error) { return nil, nil }
