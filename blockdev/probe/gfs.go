package probe

// GFS and GFS2 share one superblock layout at 64 KiB, told apart by their
// format numbers.
const (
	gfsOff      = 64 << 10
	gfsSBSize   = 272
	gfsMagic    = 0x01161970
	gfsFormatFS = 1309
	gfsFormatMH = 1401
)

// gfsRead returns the superblock when the GFS meta-header magic is there,
// with the fs and multihost format numbers.
func gfsRead(s *source) (b []byte, fs, multi uint32) {
	if m := s.headAt(gfsOff, 1024); m == nil || be.Uint32(m) != gfsMagic {
		return nil, 0, 0
	}
	b = s.headAt(gfsOff, gfsSBSize)
	return b, be.Uint32(b[24:]), be.Uint32(b[28:])
}

// gfsInfo is what both report: the lock table ("cluster:fsname") as LABEL
// and the UUID, which older file systems leave zero.
func gfsInfo(b []byte) *sb {
	r := &sb{uuid: uuidString(b[256:272])}
	if b[160] != 0 {
		r.label = label(b[160:224])
	}
	return r
}

// probeGFS recognises GFS (version 1) by its exact format numbers.
func probeGFS(s *source) (*sb, error) {
	b, fs, multi := gfsRead(s)
	if b == nil || fs != gfsFormatFS || multi != gfsFormatMH {
		return nil, nil
	}
	return gfsInfo(b), nil
}

// probeGFS2 accepts the GFS2 format ranges (18xx for the file system, 19xx
// for multihost); blkid reports its VERSION as "1" whatever the format.
func probeGFS2(s *source) (*sb, error) {
	b, fs, multi := gfsRead(s)
	if b == nil || fs < 1800 || fs >= 1900 || multi < 1900 || multi >= 2000 {
		return nil, nil
	}
	r := gfsInfo(b)
	r.version = "1"
	return r, nil
}
