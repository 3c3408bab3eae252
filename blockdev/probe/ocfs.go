package probe

// probeOCFS is not written yet.
func probeOCFS(s *source) (*sb, error) { return nil, nil }

// probeOCFS2 is not written yet.
func probeOCFS2(s *source) (*sb, error) { return nil, nil }

// probeOracleASM is not written yet.
func probeOracleASM(s *source) (*sb, error) { return nil, nil }
