package probe

// The UnixWare VTOC, inside a dos partition of type 0x63, in sector 29.
// blkid 2.38 looks for its magic at byte 29174 (kboff 14 with an sboff
// that again adds the label's whole offset), not at the label's d_magic
// (byte 14852): a label is found only when both places hold it, and we
// look where blkid does.
const (
	unixwareMagic      = "\x0d\x60\xe5\xca"
	unixwareKBOff      = 14
	unixwareSBOff      = 14838
	unixwareSector     = 29
	unixwareVTOCOff    = 156
	unixwareSlicesOff  = 216
	unixwareMaxParts   = 16
	unixwareVTOCMagic  = 0x600ddeee
	unixwareTagUnused  = 0
	unixwareTagWhole   = 5
	unixwareFlagValid  = 0x200
	unixwareMinSize    = 1440*1024 + 1
	dosTypeUnixware    = 0x63
	unixwareSliceBytes = 12
)

func ptUnixware(sc *ptScan) (ptFound, error) {
	if sc.size < unixwareMinSize {
		return ptFound{}, nil // no floppies
	}
	if m, err := sc.magic(unixwareKBOff, unixwareSBOff, unixwareMagic); m == nil {
		return ptFound{}, err
	}
	b, err := sc.sector(unixwareSector)
	if b == nil || le.Uint32(b[unixwareVTOCOff:]) != unixwareVTOCMagic {
		return ptFound{}, err
	}
	l := sc.l
	if l == nil {
		return ptFound{typed: true}, nil
	}
	// Slice 0 describes the whole disk.
	for i := 1; i < unixwareMaxParts; i++ {
		p := b[unixwareSlicesOff+i*unixwareSliceBytes:]
		tag, flags := le.Uint16(p[0:]), le.Uint16(p[2:])
		if tag == unixwareTagUnused || tag == unixwareTagWhole || flags != unixwareFlagValid {
			continue
		}
		start, size := uint64(le.Uint32(p[4:])), uint64(le.Uint32(p[8:]))
		if !l.nested(start, size) {
			continue
		}
		j := l.add("unixware", start, size)
		l.entries[j].Type = ptTypeHex(uint64(tag))
		l.entries[j].Flags = uint64(flags)
	}
	return ptFound{typed: true, listed: true}, nil
}
