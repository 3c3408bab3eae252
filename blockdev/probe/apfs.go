package probe

// apfsBlockSize is the only container block size blkid accepts: a stray
// "NXSB" with any other value is not taken for APFS.
const apfsBlockSize = 4096

// probeAPFS checks the APFS container superblock (NX superblock) at offset
// 0: an object of type 1, subtype 0, zero padding and 4 KiB blocks. Its
// UUID is the container's.
func probeAPFS(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 32, "NXSB") {
		return nil, nil
	}
	if le.Uint16(b[24:]) != 1 || le.Uint16(b[28:]) != 0 || le.Uint16(b[30:]) != 0 ||
		le.Uint32(b[36:]) != apfsBlockSize {
		return nil, nil
	}
	return &sb{uuid: uuidString(b[72:88])}, nil
}
