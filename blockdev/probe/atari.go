package probe

// The Atari (AHDI) root sector: sector 0, big endian, with the disk size,
// a bad-sector list, four primary entries (an "XGM" one opens a chain of
// extended root sectors) and, in the ICD variant, eight more entries.
// Every check and every quirk of blkid's prober is kept: Atari tables have
// no magic, so these checks are all that tells one from random bytes.
const (
	atariICDOff    = 0x156
	atariHDSizeOff = 0x1c2
	atariPartsOff  = 0x1c6
	atariBSLOff    = 0x1f6
	atariEntrySize = 12
	atariMaxChain  = 100
	atariMaxSize   = 1<<31 - 1 // sectors
)

// atariAlnum is the Linux kernel's isalnum (Latin-1 letters count), which
// blkid copies to agree with the kernel's own Atari parser.
func atariAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
		c >= 0xc0 && c != 0xd7 && c != 0xf7
}

// atariDimension checks that start and size are both within 1..max and the
// 32-bit end does not wrap past max.
func atariDimension(start, size, max uint32) bool {
	end := start + size
	return end >= start && start > 0 && start <= max && size > 0 && size <= max && end > 0 && end <= max
}

func atariActive(p []byte) bool { return p[0]&1 != 0 }

func atariID(p []byte) string { return string(p[1:4]) }

func atariCommonID(p []byte) bool {
	switch atariID(p) {
	case "GEM", "BGM", "LNX", "SWP", "RAW":
		return true
	}
	return false
}

func ptAtari(sc *ptScan) (ptFound, error) {
	if sc.ssz != 512 || sc.size/512 > atariMaxSize {
		return ptFound{}, nil
	}
	rs, err := sc.sector(0)
	if rs == nil {
		return ptFound{}, err
	}
	hd := be.Uint32(rs[atariHDSizeOff:])
	if hd < 2 || uint64(hd) > uint64(sc.size/512) {
		return ptFound{}, nil
	}
	bslStart, bslLen := be.Uint32(rs[atariBSLOff:]), be.Uint32(rs[atariBSLOff+4:])
	if (bslStart != 0 || bslLen != 0) && !atariDimension(bslStart, bslLen, hd) {
		return ptFound{}, nil
	}
	valid := false
	for i := 0; i < 4 && !valid; i++ {
		p := rs[atariPartsOff+i*atariEntrySize:]
		valid = atariActive(p) && atariAlnum(p[1]) && atariAlnum(p[2]) && atariAlnum(p[3]) &&
			atariDimension(be.Uint32(p[4:]), be.Uint32(p[8:]), hd)
	}
	if !valid {
		return ptFound{}, nil
	}
	l := sc.l
	if l == nil {
		return ptFound{typed: true}, nil
	}
	xgm := false
	for i := 0; i < 4; i++ {
		p := rs[atariPartsOff+i*atariEntrySize:]
		switch {
		case !atariActive(p):
			l.skip()
		case atariID(p) == "XGM":
			xgm = true
			if err := atariExtended(sc, l, p); err != nil {
				return ptFound{}, err
			}
		default:
			atariAdd(l, p, 0)
		}
	}
	// Without XGM chains, ICD entries follow if the first one looks real.
	if !xgm && atariCommonID(rs[atariICDOff:]) {
		for i := 0; i < 8; i++ {
			p := rs[atariICDOff+i*atariEntrySize:]
			if !atariActive(p) || !atariCommonID(p) {
				l.skip()
				continue
			}
			atariAdd(l, p, 0)
		}
	}
	return ptFound{typed: true, listed: true}, nil
}

// atariAdd lists one entry at base+start. A start already listed is not
// listed twice; a primary or ICD slot still uses up its number then.
func atariAdd(l *ptList, p []byte, base uint32) bool {
	start := be.Uint32(p[4:]) + base
	if l.hasStart(uint64(start)) {
		if base == 0 {
			l.skip()
		}
		return false
	}
	j := l.add("atari", uint64(start), uint64(be.Uint32(p[8:])))
	if id := label(p[1:4]); id != "" {
		l.entries[j].Type = id
	}
	return true
}

// atariExtended follows an XGM chain: each extended root sector holds a
// data partition (relative to itself) and the link to the next one
// (relative to the first). Anything malformed ends the chain, keeping what
// was listed; so does running out of reads.
func atariExtended(sc *ptScan, l *ptList, x []byte) error {
	first := be.Uint32(x[4:])
	cur := first
	for n := 0; n < atariMaxChain; n++ {
		xrs, err := sc.sector(uint64(cur))
		if err == errBudget || xrs == nil {
			return nil
		}
		if err != nil {
			return err
		}
		i := 0
		for ; i < 3 && !atariActive(xrs[atariPartsOff+i*atariEntrySize:]); i++ {
		}
		if i == 3 {
			return nil
		}
		p := xrs[atariPartsOff+i*atariEntrySize:]
		if atariID(p) == "XGM" || !atariAdd(l, p, cur) {
			return nil
		}
		link := xrs[atariPartsOff+(i+1)*atariEntrySize:]
		if !atariActive(link) || atariID(link) != "XGM" {
			return nil
		}
		cur = first + be.Uint32(link[4:])
	}
	return nil
}
