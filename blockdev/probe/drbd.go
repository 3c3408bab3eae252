package probe

// probeDRBD is not written yet.
func probeDRBD(s *source) (*sb, error) { return nil, nil }

// probeDRBDManage is not written yet.
func probeDRBDManage(s *source) (*sb, error) { return nil, nil }

// probeDRBDProxyDatalog is not written yet.
func probeDRBDProxyDatalog(s *source) (*sb, error) { return nil, nil }
