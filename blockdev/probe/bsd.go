package probe

// The BSD disklabel, at byte 512 (i386 and most others), 64 or 128 (some
// other architectures). blkid -p never names it (its type-only mode skips
// bsd), but lists its partitions: on the whole disk, or inside a FreeBSD,
// OpenBSD or NetBSD dos partition, where the table is named after the
// system.
const (
	bsdMagic       = "\x57\x45\x56\x82"
	bsdNPartsOff   = 138
	bsdPartsOff    = 148
	bsdPartSize    = 16
	bsdMaxParts    = 16
	bsdLabelLen    = bsdPartsOff + bsdMaxParts*bsdPartSize
	bsdFSUnused    = 0
	bsdWholeSlice  = 2 // 'c', the partition that spans the slice
	dosTypeFreeBSD = 0xa5
	dosTypeOpenBSD = 0xa6
	dosTypeNetBSD  = 0xa9
)

func ptBSD(sc *ptScan) (ptFound, error) {
	l := sc.l
	if l == nil {
		return ptFound{}, nil
	}
	var b []byte
	for _, off := range []int64{512, 64, 128} {
		blk, err := sc.magic(0, off, bsdMagic)
		if err != nil {
			return ptFound{}, err
		}
		if blk != nil {
			b = blk[off : off+bsdLabelLen]
			break
		}
	}
	if b == nil {
		return ptFound{}, nil
	}
	name, absOff := "bsd", uint32(0)
	if l.parent != nil {
		switch l.parentType {
		case dosTypeFreeBSD:
			name, absOff = "freebsd", uint32(l.parent.Start)
		case dosTypeNetBSD:
			name = "netbsd"
		case dosTypeOpenBSD:
			name = "openbsd"
		}
	}
	nparts := int(le.Uint16(b[bsdNPartsOff:]))
	if nparts > bsdMaxParts {
		nparts = bsdMaxParts
	}
	part := func(i int) []byte { return b[bsdPartsOff+i*bsdPartSize:] }
	// FreeBSD 10 and later store offsets relative to the slice, which
	// shows as a 'c' partition starting at 0.
	relative := absOff != 0 && nparts > bsdWholeSlice && le.Uint32(part(bsdWholeSlice)[4:]) == 0
	for i := 0; i < nparts; i++ {
		p := part(i)
		if p[12] == bsdFSUnused {
			continue
		}
		start, size := le.Uint32(p[4:]), le.Uint32(p[0:])
		if relative {
			start += absOff
		}
		if pa := l.parent; pa != nil && pa.Start == uint64(start) && pa.Size == uint64(size) {
			continue // the slice itself
		}
		if !l.nested(uint64(start), uint64(size)) {
			continue
		}
		j := l.add(name, uint64(start), uint64(size))
		l.entries[j].Type = ptTypeHex(uint64(p[12]))
	}
	return ptFound{listed: true}, nil
}
