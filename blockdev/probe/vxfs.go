package probe

// vxfsMagic is the Veritas file system's superblock magic, stored in the
// byte order of the machine that made it.
const vxfsMagic = 0xa501fcf5

// probeVxFS finds a little-endian VxFS superblock at 1 KiB or a big-endian
// one at 8 KiB, the two places blkid looks; VERSION is the layout version in
// the superblock's own byte order. blkid needs the whole kilobyte holding
// the magic on the device before it looks, and so do we.
func probeVxFS(s *source) (*sb, error) {
	if b := s.headAt(1024, 1024); b != nil && le.Uint32(b) == vxfsMagic {
		return &sb{version: itoa(le.Uint32(b[4:]))}, nil
	}
	if b := s.headAt(8192, 1024); b != nil && be.Uint32(b) == vxfsMagic {
		return &sb{version: itoa(be.Uint32(b[4:]))}, nil
	}
	return nil, nil
}
