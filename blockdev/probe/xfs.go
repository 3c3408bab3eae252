package probe

// probeXFS checks the XFS superblock at offset 0 with the sanity rules blkid
// applies (sizes in range and consistent with their logs, data blocks
// consistent with the allocation groups), so stray "XFSB" bytes are not
// reported. Like blkid 2.38 it does not verify the v5 CRC: a superblock with
// a stale checksum is still XFS to blkid, and we answer as blkid does.
func probeXFS(s *source) (*sb, error) { return xfsLike(s, "XFSB"), nil }

// probeEXFS finds EXFS, a filesystem built on XFS's on-disk layout under
// its own magic; blkid applies the same checks and takes the same fields.
func probeEXFS(s *source) (*sb, error) { return xfsLike(s, "EXFS"), nil }

func xfsLike(s *source, magic string) *sb {
	b := s.headAt(0, 512)
	if b == nil || !hasAt(b, 0, magic) {
		return nil
	}
	bs := be.Uint32(b[4:])
	dblocks := be.Uint64(b[8:])
	rextsize := be.Uint32(b[80:])
	agblocks := uint64(be.Uint32(b[84:]))
	agcount := uint64(be.Uint32(b[88:]))
	sectsize := be.Uint16(b[102:])
	inodesize := be.Uint16(b[104:])
	blocklog, sectlog, inodelog, inopblog := int(b[120]), int(b[121]), int(b[122]), int(b[123])
	imaxPct := b[127]
	// blkid multiplies the realtime extent size in 32 bits, wrap included.
	rext := rextsize * bs
	switch {
	case agcount == 0,
		sectsize < 512 || sectsize > 32768 || sectlog < 9 || sectlog > 15 || int(sectsize) != 1<<sectlog,
		bs < 512 || bs > 65536 || blocklog < 9 || blocklog > 16 || int(bs) != 1<<blocklog,
		inodesize < 256 || inodesize > 2048 || inodelog < 8 || inodelog > 11 || int(inodesize) != 1<<inodelog,
		blocklog-inodelog != inopblog,
		rext > 1<<30 || rext < 4096,
		imaxPct > 100,
		dblocks == 0 || dblocks > agcount*agblocks || dblocks < (agcount-1)*agblocks+64:
		return nil
	}
	return &sb{uuid: uuidString(b[32:48]), label: label(b[108:120])}
}
