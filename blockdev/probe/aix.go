package probe

// ptAIX names an AIX disk by its magic alone: blkid knows nothing else of
// its layout and lists no partitions (the dos prober steps aside for it).
func ptAIX(sc *ptScan) (ptFound, error) {
	if b, err := sc.magic(0, 0, aixMagic); b == nil {
		return ptFound{}, err
	}
	return ptFound{typed: true, listed: true}, nil
}
