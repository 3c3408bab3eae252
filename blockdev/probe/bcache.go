package probe

const (
	bcacheMagic = "\xc6\x85\x73\xf6\x4e\x1a\x45\xca\x82\x65\xf5\x7f\x48\xba\x6d\x81"
	// bcacheSBOff is where make-bcache writes the superblock, for a cache
	// device and a backing device alike; the superblock records it (in
	// sectors), and blkid insists that it does.
	bcacheSBOff = 4096
)

// probeBcache finds a bcache cache or backing device. blkid 2.38 checks the
// magic and the recorded offset, not the superblock checksum (later
// releases do), and reports the device UUID.
func probeBcache(s *source) (*sb, error) {
	b, err := containerMagic(s, bcacheSBOff>>10, 24, bcacheMagic)
	if b == nil {
		return nil, err
	}
	// csum, offset, version, magic[16], uuid[16]
	if le.Uint64(b[8:]) != bcacheSBOff/512 {
		return nil, nil
	}
	return &sb{uuid: uuidString(b[40:56])}, nil
}

// containerMagic finds a magic where blkid's magic tables put it: sboff
// bytes past kboff KiB. Like blkid it reads the whole KiB that holds the
// magic, so a device that ends inside that KiB has no magic there. It
// returns that KiB (which starts at the superblock for every sboff below
// 1024), or nil when the magic is absent. The container and small-format
// probers (bcache, bluestore, drbd, vmfs, ubi, vdo, mpool, swsuspend,
// zonefs, erofs) share it.
func containerMagic(s *source, kboff, sboff int64, magic string) ([]byte, error) {
	off := (kboff + sboff>>10) << 10
	b, err := s.at(off, 1024)
	if b == nil || err != nil {
		return nil, err
	}
	if !hasAt(b, int(sboff&0x3ff), magic) {
		return nil, nil
	}
	return b, nil
}
