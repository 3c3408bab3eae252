package probe

// probeXFS checks the XFS superblock at offset 0 with the sanity rules blkid
// applies (sizes in range and consistent with their logs, data blocks
// consistent with the allocation groups), so stray "XFSB" bytes are not
// reported. Like blkid 2.38 it does not verify the v5 CRC: a superblock with
// a stale checksum is still XFS to blkid, and we answer as blkid does.
func probeXFS(s *source) (*sb, error) {
	b := s.headAt(0, 512)
	if b == nil || !hasAt(b, 0, "XFSB") {
		return nil, nil
	}
	bs := uint64(be.Uint32(b[4:]))
	dblocks := be.Uint64(b[8:])
	rextsize := uint64(be.Uint32(b[80:]))
	agblocks := uint64(be.Uint32(b[84:]))
	agcount := uint64(be.Uint32(b[88:]))
	sectsize := uint64(be.Uint16(b[102:]))
	inodesize := uint64(be.Uint16(b[104:]))
	blocklog, sectlog, inodelog, inopblog := int(b[120]), int(b[121]), int(b[122]), int(b[123])
	imaxPct := b[127]
	switch {
	case agcount == 0,
		sectsize < 512 || sectsize > 32768 || sectlog < 9 || sectlog > 15 || sectsize != 1<<sectlog,
		bs < 512 || bs > 65536 || blocklog < 9 || blocklog > 16 || bs != 1<<blocklog,
		inodesize < 256 || inodesize > 2048 || inodelog < 8 || inodelog > 11 || inodesize != 1<<inodelog,
		blocklog-inodelog != inopblog,
		// blkid multiplies in 32 bits; the products here stay well inside
		// 64 bits, and the bounds are what matter.
		rextsize*bs > 1<<30 || rextsize*bs < 4096,
		imaxPct > 100,
		dblocks == 0 || dblocks > agcount*agblocks || dblocks < (agcount-1)*agblocks+64:
		return nil, nil
	}
	return &sb{uuid: uuidString(b[32:48]), label: label(b[108:120])}, nil
}
