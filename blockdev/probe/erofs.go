package probe

// probeErofs finds an EROFS superblock at 1 KiB: UUID and volume name.
// blkid 2.38 checks no superblock checksum, and neither do we.
func probeErofs(s *source) (*sb, error) {
	b, err := containerMagic(s, 1, 0, "\xe2\xe1\xf5\xe0")
	if b == nil {
		return nil, err
	}
	// uuid at 48, volume_name[16] at 64 (struct erofs_super_block)
	r := &sb{uuid: uuidString(b[48:64])}
	if b[64] != 0 {
		r.label = label(b[64:80])
	}
	return r, nil
}
