package probe

// probeVDO finds a VDO (dm-vdo) volume: the magic at offset 0 and the
// volume's UUID 40 bytes in.
func probeVDO(s *source) (*sb, error) {
	b, err := containerMagic(s, 0, 0, "dmvdo001")
	if b == nil {
		return nil, err
	}
	return &sb{uuid: uuidString(b[40:56])}, nil
}
