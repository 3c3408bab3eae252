package probe

import (
	"encoding/binary"
	"fmt"
)

// UFS superblock magics: UFS2 first, then the UFS1 family (4.4BSD, and the
// variants for long file names, security extensions, 4 GB files and the
// "fea" one), each stored in the byte order of the machine that made it.
var ufsMagics = []uint32{0x19540119, 0x00011954, 0x00195612, 0x00095014, 0x00612195, 0x05231994}

const (
	ufs2Magic = 0x19540119
	// ufsSBSize is blkid's struct ufs_super_block; fs_magic is its last
	// word but one byte.
	ufsSBSize   = 1377
	ufsMagicOff = 1372
)

// ufsOffsets are the KiB offsets where a UFS superblock may start (the
// BSDs put UFS1 at 8 KiB, UFS2 at 64 KiB, and some at 0 or 256 KiB), in
// the order blkid tries them.
var ufsOffsets = []int64{0, 8, 64, 256}

// probeUFS tries each place in turn. Like blkid it stops at the first
// place the device is too small to hold, so a small device is never read
// at 256 KiB; that read, the only one outside the head, happens only when
// no magic was found earlier.
func probeUFS(s *source) (*sb, error) {
	for _, kb := range ufsOffsets {
		b, err := s.at(kb<<10, ufsSBSize)
		if err != nil || b == nil {
			return nil, err
		}
		mLE, mBE := le.Uint32(b[ufsMagicOff:]), be.Uint32(b[ufsMagicOff:])
		for _, m := range ufsMagics {
			if mLE != m && mBE != m {
				continue
			}
			var o binary.ByteOrder = le
			if mBE == m {
				o = be
			}
			r := &sb{version: "1"}
			if m == ufs2Magic {
				r.version = "2"
				r.label = label(b[680:712])
			}
			if id := b[144:152]; !isZero(id) {
				r.uuid = fmt.Sprintf("%08x%08x", o.Uint32(id[0:]), o.Uint32(id[4:]))
			}
			return r, nil
		}
	}
	return nil, nil
}
