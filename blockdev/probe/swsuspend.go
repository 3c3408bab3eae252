package probe

// The signatures a suspend-to-disk image leaves in a swap area, in the order
// blkid's magic table tries them at each page size. TuxOnIce's is at offset 0
// (the swap header stays intact after it; probeSwap steps aside for it); the
// others replace the swap magic at the end of the first page.
var (
	swsuspendOffs   = []int64{0xff6, 0x1ff6, 0x3ff6, 0x7ff6, 0xfff6}
	swsuspendMagics = []struct{ magic, version string }{
		{"S1SUSPEND", "s1suspend"},
		{"S2SUSPEND", "s2suspend"},
		{"ULSUSPEND", "ulsuspend"},
		{"LINHIB0001", "linhib0001"},
	}
)

const swsuspendTuxOnIce = "\xed\xc3\x02\xe9\x98\x56\xe5\x0c"

// probeSwsuspend finds a hibernation image in a swap area. VERSION names the
// signature; label and UUID come from the swap header at 1 KiB, trusted only
// when its padding is clean, as for swap itself.
func probeSwsuspend(s *source) (*sb, error) {
	version, err := swsuspendVersion(s)
	if version == "" {
		return nil, err
	}
	h, err := s.at(1024, 516) // struct swap_header_v1_2
	if h == nil {
		return nil, err
	}
	r := &sb{version: version}
	if le.Uint32(h[44+32*4:]) == 0 && le.Uint32(h[44+33*4:]) == 0 {
		if h[28] != 0 {
			r.label = label(h[28:44])
		}
		r.uuid = uuidString(h[12:28])
	}
	return r, nil
}

// swsuspendVersion returns the version of the first signature found, or "".
func swsuspendVersion(s *source) (string, error) {
	if b, err := containerMagic(s, 0, 0, swsuspendTuxOnIce); b != nil || err != nil {
		return "tuxonice", err
	}
	for _, off := range swsuspendOffs {
		for _, m := range swsuspendMagics {
			b, err := containerMagic(s, 0, off, m.magic)
			if err != nil {
				return "", err
			}
			if b != nil {
				return m.version, nil
			}
		}
	}
	return "", nil
}
