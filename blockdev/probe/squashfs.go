package probe

// probeSquashfs recognises squashfs 4 (little endian "hsqs"); VERSION is
// major.minor as blkid prints it ("4.0"). Versions before 4 are blkid's
// separate squashfs3 type (squashfs3.go).
func probeSquashfs(s *source) (*sb, error) {
	b := s.headAt(0, 96)
	if b == nil || !hasAt(b, 0, "hsqs") {
		return nil, nil
	}
	major, minor := le.Uint16(b[28:]), le.Uint16(b[30:])
	if major < 4 {
		return nil, nil
	}
	return &sb{version: itoa(uint32(major)) + "." + itoa(uint32(minor))}, nil
}
