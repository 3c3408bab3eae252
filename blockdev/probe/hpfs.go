package probe

import "fmt"

// HPFS keeps its superblock at 8 KiB and a spare copy's header right after
// it; the label and serial number live in the boot sector.
const (
	hpfsSBOff    = 0x2000
	hpfsSpareOff = 0x2200
	hpfsMagic    = "\x49\xe8\x95\xf9"
	hpfsSpare    = "\x49\x18\x91\xf9"
)

func probeHPFS(s *source) (*sb, error) {
	b := s.headAt(hpfsSBOff, 1024)
	if b == nil || !hasAt(b, 0, hpfsMagic) {
		return nil, nil
	}
	if sp := s.headAt(hpfsSpareOff, 8); sp == nil || !hasAt(sp, 0, hpfsSpare) {
		return nil, nil
	}
	r := &sb{version: itoa(uint32(b[8]))}
	// The boot sector's label and serial count only when it is an HPFS
	// boot sector with an extended BPB; otherwise HPFS is reported bare.
	if bb := s.headAt(0, 512); bb != nil && bb[510] == 0x55 && bb[511] == 0xaa && hasAt(bb, 54, "HPFS") && bb[38] == 0x28 {
		r.label = label(bb[43:54])
		if ser := bb[39:43]; !isZero(ser) {
			r.uuid = fmt.Sprintf("%02X%02X-%02X%02X", ser[3], ser[2], ser[1], ser[0])
		}
	}
	return r, nil
}
