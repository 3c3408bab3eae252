package probe

const (
	luksMagic  = "LUKS\xba\xbe"
	luks2Magic = "SKUL\xba\xbe" // secondary LUKS2 header
)

// LUKS2 keeps a secondary header at one of these offsets; blkid looks there
// when the primary is damaged. Only the ones inside the head buffer are
// tried: a probe stays within its first 68 KiB.
var luks2SecondaryOffs = []int64{0x4000, 0x8000, 0x10000}

func probeLUKS(s *source) (*sb, error) {
	if r := luksAt(s, 0, luksMagic); r != nil {
		return r, nil
	}
	for _, off := range luks2SecondaryOffs {
		if r := luksAt(s, off, luks2Magic); r != nil {
			return r, nil
		}
	}
	return nil, nil
}

func luksAt(s *source, off int64, magic string) *sb {
	h := s.headAt(off, 512)
	if h == nil || !hasAt(h, 0, magic) {
		return nil
	}
	ver := be.Uint16(h[6:])
	switch {
	case ver == 1 && magic == luksMagic:
		return &sb{version: "1", uuid: label(h[168:208])}
	case ver == 2:
		// A LUKS2 header records its own offset; a copy found elsewhere
		// (a LUKS image stored inside a file) does not count.
		if be.Uint64(h[256:]) != uint64(off) {
			return nil
		}
		return &sb{version: "2", uuid: label(h[168:208]), label: label(h[24:72])}
	}
	return nil
}
