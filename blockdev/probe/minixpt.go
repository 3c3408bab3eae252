package probe

// Minix subpartitions: a dos-style table in the first sector of a dos
// partition of type 0x81, whose own entries of type 0x81 are the
// subpartitions (at absolute offsets). Only ever nested: on a whole disk
// the same sector is a dos table.
const dosTypeMinix = 0x81

func ptMinix(sc *ptScan) (ptFound, error) {
	b, err := sc.magic(0, 510, "\x55\xaa")
	if b == nil {
		return ptFound{}, err
	}
	l := sc.l
	if l == nil || l.parent == nil || l.parentType != dosTypeMinix {
		return ptFound{}, nil
	}
	for i := 0; i < 4; i++ {
		p := b[446+i*16:]
		if p[4] != dosTypeMinix {
			continue
		}
		start, size := uint64(le.Uint32(p[8:])), uint64(le.Uint32(p[12:]))
		if !l.nested(start, size) {
			continue
		}
		j := l.add("minix", start, size)
		l.entries[j].Type = ptTypeHex(dosTypeMinix)
		l.entries[j].Flags = uint64(p[0])
	}
	return ptFound{typed: true, listed: true}, nil
}
