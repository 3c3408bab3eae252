package probe

// probeLVM1 is not written yet.
func probeLVM1(s *source) (*sb, error) { return nil, nil }

// probeSnapCOW is not written yet.
func probeSnapCOW(s *source) (*sb, error) { return nil, nil }

// probeVerityHash is not written yet.
func probeVerityHash(s *source) (*sb, error) { return nil, nil }

// probeIntegrity is not written yet.
func probeIntegrity(s *source) (*sb, error) { return nil, nil }
