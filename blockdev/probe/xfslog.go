package probe

// An external XFS log has no superblock: blkid recognises it by a valid log
// record header in one of the first 512 sectors (256 KiB), and gives up at
// the first sector that holds an XFS superblock instead (a filesystem, maybe
// shifted).
const (
	xfsLogScan        = 256 << 10
	xfsLogHeaderMagic = 0xfeedbabe
	// xfsLogMinSize is blkid's minimum size for an external log: a log
	// kept apart for speed is never smaller.
	xfsLogMinSize = 10 << 20
)

// probeXFSLog scans the sectors in the head buffer first, and reads the
// rest of the 256 KiB only when none of them settles the question.
func probeXFSLog(s *source) (*sb, error) {
	if s.size < xfsLogMinSize {
		return nil, nil
	}
	inHead := len(s.head) &^ 511
	if inHead > xfsLogScan {
		inHead = xfsLogScan
	}
	var rest []byte
	for off := 0; off < xfsLogScan; off += 512 {
		var sec []byte
		if off < inHead {
			sec = s.head[off : off+512]
		} else {
			if rest == nil {
				var err error
				if rest, err = s.at(int64(inHead), xfsLogScan-inHead); rest == nil {
					return nil, err
				}
			}
			sec = rest[off-inHead : off-inHead+512]
		}
		if hasAt(sec, 0, "XFSB") {
			return nil, nil
		}
		if xfsLogRecordValid(sec) {
			// blkid reports the record's UUID as LOGUUID, a key this
			// package does not carry.
			return &sb{}, nil
		}
	}
	return nil, nil
}

// xfsLogRecordValid is blkid's check of struct xlog_rec_header (big endian):
// the magic, a version of 1 or 2 bits only, a nonzero length that fits an
// int, and a known log format.
func xfsLogRecordValid(b []byte) bool {
	if be.Uint32(b[0:]) != xfsLogHeaderMagic {
		return false
	}
	if v := be.Uint32(b[8:]); v == 0 || v&^3 != 0 {
		return false
	}
	if n := be.Uint32(b[12:]); n == 0 || n > 1<<31-1 {
		return false
	}
	switch be.Uint32(b[300:]) { // h_fmt: Linux LE, Linux BE, IRIX BE
	case 1, 2, 3:
		return true
	}
	return false
}
