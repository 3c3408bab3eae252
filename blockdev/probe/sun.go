package probe

// The Sun (SPARC) disk label: sector 0, big endian, its 16-bit words XOR
// to zero; partitions start on cylinder boundaries, and their tags and
// flags live in the VTOC when that is valid (or all zero, as old Linux
// tools wrote it).
const (
	sunMagicOff     = 508
	sunMagic        = "\xda\xbe"
	sunVTOCVersion  = 128
	sunVTOCNParts   = 140
	sunVTOCInfos    = 142
	sunVTOCSanity   = 188
	sunNHead        = 436
	sunNSect        = 438
	sunPartsOff     = 444
	sunMaxParts     = 8
	sunVTOCMagic    = 0x600ddeee
	sunTagWholeDisk = 5
)

func ptSun(sc *ptScan) (ptFound, error) {
	b, err := sc.magic(0, sunMagicOff, sunMagic)
	if b == nil {
		return ptFound{}, err
	}
	var sum uint16
	for i := 0; i < 512; i += 2 {
		sum ^= be.Uint16(b[i:])
	}
	if sum != 0 {
		return ptFound{}, nil // corrupted label
	}
	l := sc.l
	if l == nil {
		return ptFound{typed: true}, nil
	}
	spc := uint64(be.Uint16(b[sunNHead:])) * uint64(be.Uint16(b[sunNSect:]))
	version, sanity := be.Uint32(b[sunVTOCVersion:]), be.Uint32(b[sunVTOCSanity:])
	nparts := be.Uint16(b[sunVTOCNParts:])
	useVTOC := sanity == sunVTOCMagic && version == 1 && nparts <= sunMaxParts
	if !useVTOC {
		nparts = sunMaxParts
	}
	// Linux once wrote labels with no VTOC at all: its (zero) tags count.
	useVTOC = useVTOC || (sanity == 0 && version == 0 && be.Uint16(b[sunVTOCNParts:]) == 0)
	for i := 0; i < int(nparts); i++ {
		p := b[sunPartsOff+i*8:]
		start := uint64(be.Uint32(p[0:])) * spc
		size := uint64(be.Uint32(p[4:]))
		var tag, flags uint16
		if useVTOC {
			tag, flags = be.Uint16(b[sunVTOCInfos+i*4:]), be.Uint16(b[sunVTOCInfos+i*4+2:])
		}
		if tag == sunTagWholeDisk || size == 0 {
			l.skip()
			continue
		}
		j := l.add("sun", start, size)
		l.entries[j].Type = ptTypeHex(uint64(tag))
		l.entries[j].Flags = uint64(flags)
	}
	return ptFound{typed: true, listed: true}, nil
}
