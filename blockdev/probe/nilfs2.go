package probe

import (
	"hash/crc32"
	"os"
)

// nilfs2 keeps its superblock at 1 KiB and a backup in the device's last
// 4 KiB (at the last 512-byte boundary minus 4 KiB).
const (
	nilfs2SBOff  = 0x400
	nilfs2SBSize = 1024
	nilfs2Magic  = 0x3434
	// nilfs2SumOff is s_sum, the CRC that covers the superblock's first
	// s_bytes bytes with the CRC field itself taken as zero.
	nilfs2SumOff = 16
)

func nilfs2BackupOff(size int64) int64 { return (size/0x200 - 8) * 0x200 }

// nilfs2Valid is blkid's test of one superblock copy: magic, a length the
// CRC can cover, and a CRC that matches. A backup on a whole disk must
// also record the disk's size: a backup that does not describe the device
// it ends is left over from an earlier, larger filesystem.
func nilfs2Valid(s *source, b []byte, backup bool) bool {
	if b == nil || le.Uint16(b[6:]) != nilfs2Magic {
		return false
	}
	if backup && le.Uint64(b[32:]) != uint64(s.size) && nilfs2WholeDisk(s) {
		return false
	}
	n := int(le.Uint16(b[8:]))
	if n < nilfs2SumOff+4 || n > nilfs2SBSize {
		return false
	}
	// The CRC is the kernel's crc32_le: seeded, without the final
	// inversion crc32.Update adds and removes.
	crc := ^crc32.Update(^le.Uint32(b[12:]), crc32.IEEETable, b[:nilfs2SumOff])
	crc = ^crc32.Update(^crc, crc32.IEEETable, []byte{0, 0, 0, 0})
	crc = ^crc32.Update(^crc, crc32.IEEETable, b[nilfs2SumOff+4:n])
	return crc == le.Uint32(b[nilfs2SumOff:])
}

// nilfs2WholeDisk is blkid's notion of a whole disk: a device node that is
// not a partition. An image file has no device number, so blkid trusts its
// backup superblock whatever size it records; a reader that cannot tell
// what it is counts as an image too.
func nilfs2WholeDisk(s *source) bool {
	if !s.wholeDisk {
		return false
	}
	st, ok := s.r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := st.Stat()
	return err == nil && fi.Mode()&os.ModeDevice != 0
}

func probeNilfs2(s *source) (*sb, error) {
	p := s.headAt(nilfs2SBOff, nilfs2SBSize)
	if p == nil {
		return nil, nil
	}
	vp := nilfs2Valid(s, p, false)
	// The backup is in the cached tail; a failed read of it is ignored
	// when the primary is good (the end of a CD may not read at all).
	bk, err := s.at(nilfs2BackupOff(s.size), nilfs2SBSize)
	if err != nil && !vp {
		return nil, err
	}
	vb := err == nil && nilfs2Valid(s, bk, true)
	if !vp && !vb {
		return nil, nil
	}
	sbuf := p
	// blkid takes the backup when it alone is valid, or when the
	// primary's last checkpoint number is the higher of the two.
	if vb && (!vp || le.Uint64(p[56:]) > le.Uint64(bk[56:])) {
		sbuf = bk
	}
	return &sb{
		version: itoa(le.Uint32(sbuf[0:])),
		uuid:    uuidString(sbuf[152:168]),
		label:   label(sbuf[168:248]),
	}, nil
}
