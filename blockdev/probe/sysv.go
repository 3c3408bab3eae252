package probe

// probeSysV is not written yet.
func probeSysV(s *source) (*sb, error) { return nil, nil }

// probeXenix is not written yet.
func probeXenix(s *source) (*sb, error) { return nil, nil }
