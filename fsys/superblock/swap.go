package superblock

import (
	"encoding/binary"
	"io"
)

// Swap is a Linux swap header: the signature in the last ten bytes of the
// first page, and (version 1) the header at byte 1024.
type Swap struct {
	// Type is "swap", or "swsuspend" when a hibernation image has replaced
	// the signature (blkid's type for S1SUSPEND, S2SUSPEND, ULSUSPEND and
	// LINHIB0001); the header fields below are still the swap's.
	Type      string
	Signature string // SWAPSPACE2, SWAP-SPACE (version 0), S1SUSPEND, ...
	// Version is blkid's VERSION: "1" for SWAPSPACE2, "0" for the old
	// SWAP-SPACE, or the hibernation flavour (s1suspend, ...).
	Version    string
	HeaderVer  uint32 // the header's own version field (1)
	PageSize   int64
	LastPage   uint32
	NrBadPages uint32
	UUID       string // empty when zero or when blkid would not trust it
	Label      string
	BigEndian  bool // made on a big-endian machine: fields are byte-swapped
}

var swapSignatures = []struct {
	magic, typ, version string
}{
	{"SWAPSPACE2", "swap", "1"},
	{"SWAP-SPACE", "swap", "0"},
	{"S1SUSPEND", "swsuspend", "s1suspend"},
	{"S2SUSPEND", "swsuspend", "s2suspend"},
	{"ULSUSPEND", "swsuspend", "ulsuspend"},
	{"LINHIB0001", "swsuspend", "linhib0001"},
}

// ReadSwap finds the swap signature for page sizes 4 KiB to 64 KiB and
// decodes the header in either byte order.
func ReadSwap(r io.ReaderAt, size int64) (*Swap, error) {
	for ps := int64(4096); ps <= 65536; ps *= 2 {
		if size >= 0 && size < ps {
			break
		}
		sig, err := extReadAt(r, size, ps-10, 10, "swap", "signature")
		if err != nil {
			return nil, err
		}
		for _, s := range swapSignatures {
			if string(sig[:len(s.magic)]) != s.magic {
				continue
			}
			return swapDecode(r, size, ps, s.magic, s.typ, s.version)
		}
	}
	return nil, ErrNotFound
}

func swapDecode(r io.ReaderAt, size, ps int64, magic, typ, version string) (*Swap, error) {
	sw := &Swap{Type: typ, Signature: magic, Version: version, PageSize: ps}
	if magic == "SWAP-SPACE" {
		// Version 0 has no header: a bitmap of good pages fills the page.
		if pages := size / ps; pages > 0 {
			sw.LastPage = uint32(min(pages, 1<<32-1) - 1)
		}
		return sw, nil
	}
	// version, last_page, nr_badpages, uuid[16], volume_name[16], then
	// padding[117] of which blkid looks at [32] and [33].
	h, err := extReadAt(r, size, 1024, 44+4*34, "swap", "header")
	if err != nil {
		return nil, err
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch {
	case binary.LittleEndian.Uint32(h) == 1:
	case binary.BigEndian.Uint32(h) == 1:
		order, sw.BigEndian = binary.BigEndian, true
	default:
		if magic == "SWAPSPACE2" {
			return nil, corrupt("swap", "version", "%d, want 1", binary.LittleEndian.Uint32(h))
		}
	}
	sw.HeaderVer = order.Uint32(h[0:])
	sw.LastPage = order.Uint32(h[4:])
	sw.NrBadPages = order.Uint32(h[8:])
	if magic == "SWAPSPACE2" && sw.LastPage == 0 {
		return nil, corrupt("swap", "last_page", "zero")
	}
	// blkid trusts the UUID and label only when padding[32] and [33] are
	// zero (old mkswap left garbage there).
	if extZero(h[44+32*4 : 44+34*4]) {
		if !extZero(h[12:28]) {
			sw.UUID = extUUID(h[12:28])
		}
		sw.Label = extCString(h[28:44])
	}
	return sw, nil
}

// Super is the common view: the swap area's size is the last page plus
// one, in pages; it has no free space to report.
func (s *Swap) Super() Super {
	return Super{
		Type:      s.Type,
		Version:   s.Version,
		UUID:      s.UUID,
		Label:     s.Label,
		BlockSize: s.PageSize,
		SizeBytes: (int64(s.LastPage) + 1) * s.PageSize,
		State:     StateClean,
	}
}
