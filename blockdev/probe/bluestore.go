package probe

// probeBluestore finds a Ceph BlueStore OSD block device by the text its
// label starts with; blkid reports nothing else about it.
func probeBluestore(s *source) (*sb, error) {
	b, err := containerMagic(s, 0, 0, "bluestore block device")
	if b == nil {
		return nil, err
	}
	return &sb{}, nil
}
