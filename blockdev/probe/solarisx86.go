package probe

// The Solaris x86 VTOC in sector 1 of a dos partition (type 0x82, which
// Linux swap shares); slice offsets are relative to that partition. Type
// name "solaris", as blkid calls it.
const (
	solarisMagic      = "\xee\xde\x0d\x60"
	solarisMagicOff   = 512 + 12
	solarisVersionOff = 16
	solarisNPartsOff  = 30
	solarisSlicesOff  = 72
	solarisMaxParts   = 16
	solarisTagWhole   = 5
)

func ptSolaris(sc *ptScan) (ptFound, error) {
	blk, err := sc.magic(0, solarisMagicOff, solarisMagic)
	if blk == nil {
		return ptFound{}, err
	}
	b := blk[512:]
	if le.Uint32(b[solarisVersionOff:]) != 1 {
		return ptFound{}, nil
	}
	l := sc.l
	if l == nil {
		return ptFound{typed: true}, nil
	}
	n := int(le.Uint16(b[solarisNPartsOff:]))
	if n > solarisMaxParts {
		n = solarisMaxParts
	}
	// blkid reads the first n-1 slices (its loop counts from 1 but
	// starts at slice 0), and so do we.
	for i := 0; i < n-1; i++ {
		p := b[solarisSlicesOff+i*12:]
		tag, flags := le.Uint16(p[0:]), le.Uint16(p[2:])
		start, size := le.Uint32(p[4:]), le.Uint32(p[8:])
		if size == 0 || tag == solarisTagWhole {
			continue
		}
		if l.parent != nil {
			start += uint32(l.parent.Start)
		}
		if !l.nested(uint64(start), uint64(size)) {
			continue
		}
		j := l.add("solaris", uint64(start), uint64(size))
		l.entries[j].Type = ptTypeHex(uint64(tag))
		l.entries[j].Flags = uint64(flags)
	}
	return ptFound{typed: true, listed: true}, nil
}
