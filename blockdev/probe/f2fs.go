package probe

const (
	f2fsSBOff     = 0x400
	f2fsMagic     = "\x10\x20\xf5\xf2"
	f2fsSBSize    = 0x47c // through the volume name, as blkid reads it
	f2fsLabelOff  = 0x7c
	f2fsLabelSize = 1024 // 512 UTF-16 units
)

// probeF2FS reads the first superblock. Version 1.0 superblocks had another
// layout, so blkid reports them with no UUID, label or version, and so do
// we.
func probeF2FS(s *source) (*sb, error) {
	b := s.headAt(f2fsSBOff, f2fsSBSize)
	if b == nil || !hasAt(b, 0, f2fsMagic) {
		return nil, nil
	}
	major, minor := uint32(le.Uint16(b[4:])), uint32(le.Uint16(b[6:]))
	if major == 1 && minor == 0 {
		return &sb{}, nil
	}
	r := &sb{uuid: uuidString(b[0x6c:0x7c]), version: itoa(major) + "." + itoa(minor)}
	// blkid looks at the name's first byte only: a name whose first
	// character has a zero low byte counts as no name.
	if b[f2fsLabelOff] != 0 {
		r.label = utf16Label(b[f2fsLabelOff:f2fsLabelOff+f2fsLabelSize], false)
	}
	return r, nil
}
