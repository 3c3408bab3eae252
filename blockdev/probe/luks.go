package probe

const (
	luksMagic  = "LUKS\xba\xbe"
	luks2Magic = "SKUL\xba\xbe" // secondary LUKS2 header
	luksHdrLen = 512            // the binary header blkid reads
)

// luks2SecondaryOffs are the places a LUKS2 secondary header may sit (one
// per metadata size cryptsetup allows, 16 KiB to 4 MiB). blkid 2.38 looks at
// each in turn when there is no primary header, so a LUKS2 device whose
// first sectors were overwritten is still crypto_LUKS. The first three lie
// in the head buffer; the others cost a read each, but only on devices with
// no primary header and only as far as the device reaches.
var luks2SecondaryOffs = []int64{0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000}

// probeLUKS mirrors blkid 2.38: any header with the primary magic is LUKS
// whatever its version field says, and a secondary header counts wherever
// it is found among the known offsets (2.38 does not yet check the offset
// the header records for itself).
func probeLUKS(s *source) (*sb, error) {
	h, err := s.at(0, luksHdrLen)
	if h == nil {
		return nil, err
	}
	if hasAt(h, 0, luksMagic) {
		return luksInfo(h), nil
	}
	for _, off := range luks2SecondaryOffs {
		h, err := s.at(off, luksHdrLen)
		if h == nil {
			return nil, err // the device ends before: blkid stops looking
		}
		if hasAt(h, 0, luks2Magic) {
			return luksInfo(h), nil
		}
	}
	return nil, nil
}

// luksInfo reads VERSION, UUID and (LUKS2) LABEL. The UUID is stored as
// text; LUKS1 and LUKS2 keep it at the same offset.
func luksInfo(h []byte) *sb {
	ver := be.Uint16(h[6:])
	r := &sb{version: itoa(uint32(ver))}
	switch ver {
	case 1:
		r.uuid = label(h[168:208])
	case 2:
		r.uuid = label(h[168:208])
		r.label = label(h[24:72])
	}
	return r
}
