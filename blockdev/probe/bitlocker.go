package probe

// probeBitLocker is not written yet.
func probeBitLocker(s *source) (*sb, error) { return nil, nil }
