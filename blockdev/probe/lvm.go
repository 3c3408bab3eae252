package probe

import "hash/crc32"

const lvmLabelSize = 512

// probeLVM2 looks for an LVM2 physical-volume label in sectors 0 to 3,
// checked by sector number and the label's own CRC.
func probeLVM2(s *source) (*sb, error) {
	for _, sector := range []int64{1, 0, 2, 3} {
		b := s.headAt(sector*512, lvmLabelSize)
		if b == nil || !hasAt(b, 0, "LABELONE") || !hasAt(b, 0x18, "LVM2 001") {
			continue
		}
		if le.Uint64(b[8:]) != uint64(sector) {
			continue
		}
		// LVM's CRC is CRC-32 (IEEE) with its own seed and no final inversion.
		crc := ^crc32.Update(^uint32(0xf597a6cf), crc32.IEEETable, b[20:lvmLabelSize])
		if crc != le.Uint32(b[16:]) {
			continue
		}
		return &sb{uuid: lvmUUID(b[32:64]), version: "LVM2 001"}, nil
	}
	return nil, nil
}

// lvmUUID inserts LVM's dashes into its 32-character id: 6-4-4-4-4-4-6.
func lvmUUID(id []byte) string {
	out := make([]byte, 0, 38)
	for i, c := range id {
		if i == 6 || i == 10 || i == 14 || i == 18 || i == 22 || i == 26 {
			out = append(out, '-')
		}
		out = append(out, c)
	}
	return string(out)
}
