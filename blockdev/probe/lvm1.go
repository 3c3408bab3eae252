package probe

import "strings"

// probeLVM1 recognises an LVM1 physical volume: "HM" at offset 0 and
// version 1 or 2. The PV id field is 128 bytes; the UUID is its first 32,
// LVM2's id length, dashed as LVM2's and cut at the first NUL as blkid's
// %s does.
func probeLVM1(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 0, "HM") {
		return nil, nil
	}
	if v := le.Uint16(b[2:]); v != 1 && v != 2 {
		return nil, nil
	}
	// An id that starts with NUL prints as nothing, which covers blkid's
	// test for an all-zero id too.
	u := lvmUUID(b[44 : 44+32])
	if i := strings.IndexByte(u, 0); i >= 0 {
		u = u[:i]
	}
	return &sb{uuid: u}, nil
}

// probeSnapCOW recognises a device-mapper snapshot's copy-on-write store by
// its magic alone; blkid reports nothing else about it.
func probeSnapCOW(s *source) (*sb, error) {
	if b := s.headAt(0, 1024); b == nil || !hasAt(b, 0, "SnAp") {
		return nil, nil
	}
	return &sb{}, nil
}

// probeVerityHash recognises a dm-verity hash device made with a
// superblock (veritysetup format): superblock version 1 only; UUID is the
// hash device's.
func probeVerityHash(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 0, "verity\x00\x00") || le.Uint32(b[8:]) != 1 {
		return nil, nil
	}
	return &sb{uuid: uuidString(b[16:32]), version: "1"}, nil
}

// probeIntegrity recognises a dm-integrity superblock; VERSION is its
// one-byte version, which must not be zero.
func probeIntegrity(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 0, "integrt\x00") || b[8] == 0 {
		return nil, nil
	}
	return &sb{version: itoa(uint32(b[8]))}, nil
}
