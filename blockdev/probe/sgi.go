package probe

// The SGI disk label (dvh): a big-endian header in sector 0 whose 32-bit
// words sum to zero, with 16 partitions after the volume directory.
const (
	sgiMagic      = "\x0b\xe5\xa9\x41"
	sgiPartsOff   = 312
	sgiPartSize   = 12
	sgiMaxParts   = 16
	sgiLabelWords = 128
)

func ptSGI(sc *ptScan) (ptFound, error) {
	b, err := sc.magic(0, 0, sgiMagic)
	if b == nil {
		return ptFound{}, err
	}
	var sum uint32
	for i := 0; i < sgiLabelWords; i++ {
		sum += be.Uint32(b[i*4:])
	}
	if sum != 0 {
		return ptFound{}, nil // corrupted label
	}
	if l := sc.l; l != nil {
		for i := 0; i < sgiMaxParts; i++ {
			p := b[sgiPartsOff+i*sgiPartSize:]
			size, start := uint64(be.Uint32(p[0:])), uint64(be.Uint32(p[4:]))
			if size == 0 {
				l.skip()
				continue
			}
			j := l.add("sgi", start, size)
			l.entries[j].Type = ptTypeHex(uint64(be.Uint32(p[8:])))
		}
	}
	return ptFound{typed: true, listed: true}, nil
}
