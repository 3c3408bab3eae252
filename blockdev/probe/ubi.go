package probe

// probeUBI is not written yet.
func probeUBI(s *source) (*sb, error) { return nil, nil }

// probeUBIFS is not written yet.
func probeUBIFS(s *source) (*sb, error) { return nil, nil }
