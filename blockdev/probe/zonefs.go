package probe

// probeZonefs finds a zonefs superblock ("SFOZ" at offset 0, little endian
// throughout): label and UUID, nothing checksummed (blkid checks no CRC).
func probeZonefs(s *source) (*sb, error) {
	b, err := containerMagic(s, 0, 0, "SFOZ")
	if b == nil {
		return nil, err
	}
	// s_magic, s_crc, s_label[32], s_uuid[16]
	r := &sb{uuid: uuidString(b[40:56])}
	if b[8] != 0 {
		r.label = label(b[8:40])
	}
	return r, nil
}
