package probe

// probeDDFRaid is not written yet.
func probeDDFRaid(s *source) (*sb, error) { return nil, nil }

// probeISWRaid is not written yet.
func probeISWRaid(s *source) (*sb, error) { return nil, nil }

// probeLSIRaid is not written yet.
func probeLSIRaid(s *source) (*sb, error) { return nil, nil }

// probeVIARaid is not written yet.
func probeVIARaid(s *source) (*sb, error) { return nil, nil }

// probeSilRaid is not written yet.
func probeSilRaid(s *source) (*sb, error) { return nil, nil }

// probeNVRaid is not written yet.
func probeNVRaid(s *source) (*sb, error) { return nil, nil }

// probePDCRaid is not written yet.
func probePDCRaid(s *source) (*sb, error) { return nil, nil }

// probeHPT45xRaid is not written yet.
func probeHPT45xRaid(s *source) (*sb, error) { return nil, nil }

// probeHPT37xRaid is not written yet.
func probeHPT37xRaid(s *source) (*sb, error) { return nil, nil }

// probeAdaptecRaid is not written yet.
func probeAdaptecRaid(s *source) (*sb, error) { return nil, nil }

// probeJMRaid is not written yet.
func probeJMRaid(s *source) (*sb, error) { return nil, nil }
