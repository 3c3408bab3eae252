package probe

// The Apple partition map: a driver descriptor in sector 0 ("ER", the
// block size), then one map entry per block from block 1 on, each signed
// "PM" (or the old "TS") and counting the entries of the whole map.
const (
	macMagic      = "\x45\x52"
	macEntryMin   = 136 // the fields of a map entry blkid reads
	macMaxEntries = 256
)

func macEntrySigned(p []byte) bool {
	sig := be.Uint16(p)
	return sig == 0x504d || sig == 0x5453
}

func ptMac(sc *ptScan) (ptFound, error) {
	md, err := sc.magic(0, 0, macMagic)
	if md == nil {
		return ptFound{}, err
	}
	bs := int64(be.Uint16(md[2:]))
	if bs < macEntryMin {
		return ptFound{}, nil
	}
	first, err := sc.at(bs, int(bs))
	if first == nil || !macEntrySigned(first) {
		return ptFound{}, err
	}
	l := sc.l
	if l == nil {
		return ptFound{typed: true}, nil
	}
	// blkid names the map on its first entry but lists it only when every
	// entry is there and signed; entries read before a bad one stay in its
	// list all the same (they show if a later table is accepted).
	found := ptFound{typed: true}
	mul := uint32(bs / 512)
	n := be.Uint32(first[4:])
	if n > macMaxEntries {
		n = macMaxEntries
	}
	var buf []byte
	var bufFirst, bufN int64
	for i := int64(1); i <= int64(n); i++ {
		if i >= bufFirst+bufN {
			// The map in as few reads as the read bound allows, and
			// never past the area (blkid stops at the first entry it
			// cannot read).
			k := min(int64(n)-i+1, sc.size/bs-i, maxExtraBytes/bs)
			if k <= 0 {
				return found, nil
			}
			buf, err = sc.at(i*bs, int(k*bs))
			if err == errBudget || buf == nil {
				return found, nil
			}
			if err != nil {
				return ptFound{}, err
			}
			bufFirst, bufN = i, k
		}
		p := buf[(i-bufFirst)*bs:]
		if !macEntrySigned(p) {
			return found, nil
		}
		// 32-bit products, as blkid computes them.
		j := l.add("mac", uint64(be.Uint32(p[8:])*mul), uint64(be.Uint32(p[12:])*mul))
		l.entries[j].Name = label(p[16:48])
		if typ := label(p[48:80]); typ != "" {
			l.entries[j].Type = typ
		}
	}
	found.listed = true
	return found, nil
}
