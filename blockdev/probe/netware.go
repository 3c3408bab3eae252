package probe

import "fmt"

// netwareSBOff is where the Novell Storage Services pool superblock
// starts (4 KiB).
const netwareSBOff = 4096

// probeNetware reads the NSS superblock: blkid reports the media format
// version and the pool ID, and checks nothing beyond the magic.
func probeNetware(s *source) (*sb, error) {
	b := s.headAt(netwareSBOff, 1024)
	if b == nil || !hasAt(b, 0, "SPB5") {
		return nil, nil
	}
	return &sb{
		version: fmt.Sprintf("%d.%02d", le.Uint16(b[8:]), le.Uint16(b[10:])),
		uuid:    uuidString(b[348:364]),
	}, nil
}
