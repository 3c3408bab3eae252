package probe

// probeSquashfs3 recognises squashfs before version 4, which could be of
// either byte order: "sqsh" is a big-endian image, "hsqs" a little-endian
// one. Version 4 and later are squashfs (squashfs.go); VERSION is
// major.minor read in the image's byte order.
func probeSquashfs3(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil {
		return nil, nil
	}
	var major, minor uint16
	switch {
	case hasAt(b, 0, "sqsh"):
		major, minor = be.Uint16(b[28:]), be.Uint16(b[30:])
	case hasAt(b, 0, "hsqs"):
		major, minor = le.Uint16(b[28:]), le.Uint16(b[30:])
	default:
		return nil, nil
	}
	if major > 3 {
		return nil, nil
	}
	return &sb{version: itoa(uint32(major)) + "." + itoa(uint32(minor))}, nil
}
