package probe

// cramfs magics: 0x28cd3d45 as a little- or big-endian image writes it.
const (
	cramfsMagicLE = "\x45\x3d\xcd\x28"
	cramfsMagicBE = "\x28\xcd\x3d\x45"
)

// probeCramfs reads the cramfs superblock at 0. blkid checks neither the
// CRC nor the sizes, only the magic; the volume name (16 bytes at 48) is
// the label in either byte order.
func probeCramfs(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !(hasAt(b, 0, cramfsMagicLE) || hasAt(b, 0, cramfsMagicBE)) {
		return nil, nil
	}
	return &sb{label: label(b[48:64])}, nil
}
