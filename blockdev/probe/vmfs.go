package probe

// probeVMFSVolume is not written yet.
func probeVMFSVolume(s *source) (*sb, error) { return nil, nil }

// probeVMFS is not written yet.
func probeVMFS(s *source) (*sb, error) { return nil, nil }
