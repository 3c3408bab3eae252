package probe

// Swap signatures sit in the last 10 bytes of the first page; the page size
// is not known, so every size from 4 to 64 KiB is tried, as blkid does.
var swapMagicOffs = []int64{0xff6, 0x1ff6, 0x3ff6, 0x7ff6, 0xfff6}

// tuxOnIce keeps a valid swap header too; blkid refuses to call it swap.
const tuxOnIceMagic = "\xed\xc3\x02\xe9\x98\x56\xe5\x0c"

func probeSwap(s *source) (*sb, error) {
	var v2 bool
	found := false
	for _, off := range swapMagicOffs {
		b := s.headAt(off, 10)
		if b == nil {
			continue
		}
		if string(b) == "SWAP-SPACE" {
			found = true
			break
		}
		if string(b) == "SWAPSPACE2" {
			found, v2 = true, true
			break
		}
	}
	if !found {
		return nil, nil
	}
	if hasAt(s.head, 0, tuxOnIceMagic) {
		return nil, nil
	}
	if !v2 {
		return &sb{version: "0"}, nil // the old format has no UUID or label
	}
	h := s.headAt(1024, 516) // struct swap_header_v1_2
	if h == nil {
		return nil, nil
	}
	ver := le.Uint32(h[0:])
	if ver != 1 && be.Uint32(h[0:]) != 1 {
		return nil, nil
	}
	if le.Uint32(h[4:]) == 0 { // last page unset: not a usable header
		return nil, nil
	}
	r := &sb{version: "1"}
	// blkid trusts UUID and label only when the padding that follows is
	// clean, a guard against garbage from older mkswap versions.
	if le.Uint32(h[44+32*4:]) == 0 && le.Uint32(h[44+33*4:]) == 0 {
		if h[28] != 0 {
			r.label = label(h[28:44])
		}
		r.uuid = uuidString(h[12:28])
	}
	return r, nil
}
