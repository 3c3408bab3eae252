package probe

import "fmt"

// probeUBI finds a UBI image (the erase-counter header of its first
// eraseblock). blkid's UUID for it is the image sequence number in decimal.
func probeUBI(s *source) (*sb, error) {
	b, err := containerMagic(s, 0, 0, "UBI#")
	if b == nil {
		return nil, err
	}
	// magic u32, version u8, 3 pad, ec u64, vid_hdr_offset, data_offset, image_seq (big endian)
	r := &sb{version: itoa(uint32(b[4]))}
	if seq := b[24:28]; !isZero(seq) {
		r.uuid = itoa(be.Uint32(seq))
	}
	return r, nil
}

// probeUBIFS finds a UBIFS superblock node at offset 0 (a UBIFS image
// outside UBI, as mkfs.ubifs writes it). blkid reads the whole 4 KiB node,
// so a shorter device has none.
func probeUBIFS(s *source) (*sb, error) {
	m, err := containerMagic(s, 0, 0, "\x31\x18\x10\x06")
	if m == nil {
		return nil, err
	}
	b, err := s.at(0, 4096)
	if b == nil {
		return nil, err
	}
	return &sb{
		uuid:    uuidString(b[108:124]),
		version: fmt.Sprintf("w%dr%d", int32(le.Uint32(b[80:])), int32(le.Uint32(b[124:]))),
	}, nil
}
