package probe

// The Ultrix partition table: 8 entries at the end of sector 31, the
// 72-byte table ending exactly at 16 KiB, behind a magic and a valid flag
// stored little endian (blkid compares them as host integers, and the
// blkid this package follows runs on little-endian machines).
const (
	ultrixSector   = 31
	ultrixOff      = 440
	ultrixMagic    = 0x032957
	ultrixMaxParts = 8
)

func ptUltrix(sc *ptScan) (ptFound, error) {
	d, err := sc.sector(ultrixSector)
	if d == nil {
		return ptFound{}, err
	}
	b := d[ultrixOff:]
	if le.Uint32(b[0:]) != ultrixMagic || le.Uint32(b[4:]) != 1 {
		return ptFound{}, nil
	}
	if l := sc.l; l != nil {
		for i := 0; i < ultrixMaxParts; i++ {
			p := b[8+i*8:]
			n := int32(le.Uint32(p[0:]))
			if n == 0 {
				l.skip()
				continue
			}
			// A negative count becomes a huge size in blkid too.
			l.add("ultrix", uint64(le.Uint32(p[4:])), uint64(int64(n)))
		}
	}
	return ptFound{typed: true, listed: true}, nil
}
