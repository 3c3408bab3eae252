package probe

// reiserfsMagics are where blkid looks for a ReiserFS 3 superblock, in its
// order: the 3.5 layout at 8 KiB, then 3.6, the journal-relocated "JR"
// variant and 3.5 at 64 KiB, and last an old 3.5 with the magic at byte 20.
// The superblock itself starts at the KiB boundary (kboff); the magic is
// sboff bytes into it.
var reiserfsMagics = []struct {
	kboff int64
	sboff int64
	magic string
}{
	{8, 0x34, "ReIsErFs"},
	{64, 0x34, "ReIsEr2Fs"},
	{64, 0x34, "ReIsEr3Fs"},
	{64, 0x34, "ReIsErFs"},
	{8, 20, "ReIsErFs"},
}

// reiserfsSBSize is the part of the v3 superblock blkid reads: counts,
// block size, magic, UUID and label.
const reiserfsSBSize = 116

func probeReiserfs(s *source) (*sb, error) {
	for _, m := range reiserfsMagics {
		// blkid compares the magic inside the 1 KiB block that holds it
		// and needs that whole block on the device.
		if w := s.headAt((m.kboff+m.sboff>>10)<<10, 1024); w == nil || !hasAt(w, int(m.sboff&0x3ff), m.magic) {
			continue
		}
		// The first magic that matches decides; a superblock that then
		// fails its checks is not retried at the next place.
		b := s.headAt(m.kboff<<10, reiserfsSBSize)
		if b == nil {
			return nil, nil
		}
		bs := uint32(le.Uint16(b[44:]))
		if bs>>9 == 0 {
			return nil, nil
		}
		// A superblock lying inside the journal is a stale copy the
		// journal carries, not the filesystem's own.
		if uint64(m.kboff)/uint64(bs>>9) > uint64(le.Uint32(b[12:])/2) {
			return nil, nil
		}
		r := &sb{}
		switch m.magic[6] {
		case '3':
			r.version = "JR"
		case '2':
			r.version = "3.6"
		default:
			r.version = "3.5"
		}
		// Only 3.6 and JR superblocks carry a UUID and label.
		if r.version != "3.5" {
			r.label = label(b[100:116])
			r.uuid = uuidString(b[84:100])
		}
		return r, nil
	}
	return nil, nil
}

// probeReiser4 reads the reiser4 format superblock at 64 KiB: magic, block
// size, UUID, label.
func probeReiser4(s *source) (*sb, error) {
	b := s.headAt(64<<10, 1024)
	if b == nil || !hasAt(b, 0, "ReIsEr4") {
		return nil, nil
	}
	return &sb{version: "4", uuid: uuidString(b[20:36]), label: label(b[36:52])}, nil
}
