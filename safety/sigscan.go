package safety

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Signature is one on-disk structure found on the target.
type Signature struct {
	Type   string `json:"type"`   // ext4, gpt, linux_raid_member...
	Offset int64  `json:"offset"` // byte offset of the structure (-1 when the prober does not say)
	Where  string `json:"where"`  // "primary", "GPT backup header", "ext superblock backup"...
}

func (s Signature) String() string {
	if s.Offset < 0 {
		return fmt.Sprintf("%s (%s)", s.Type, s.Where)
	}
	return fmt.Sprintf("%s at byte %d (%s)", s.Type, s.Offset, s.Where)
}

const mdMagic = 0xa92b4efc

// scanBackups looks where a direct probe does not: structures a wipe of the
// first sectors leaves behind (the GPT backup header at the end, ext and
// btrfs superblock copies, the LUKS2 secondary header) and md RAID
// superblocks of every version, which the probe does not report. Each
// check is one small read; a read error is returned (the device is then
// unreadable, never empty).
func scanBackups(ctx context.Context, r io.ReaderAt, size int64) ([]Signature, error) {
	var out []Signature
	var rerr error
	read := func(off int64, n int) []byte {
		if rerr != nil || off < 0 || off+int64(n) > size {
			return nil
		}
		if err := ctx.Err(); err != nil {
			rerr = err
			return nil
		}
		b := make([]byte, n)
		m, err := r.ReadAt(b, off)
		if m < n {
			if err == nil || errors.Is(err, io.EOF) {
				return nil // shorter than it said: nothing there
			}
			rerr = fmt.Errorf("read %d bytes at %d: %w", n, off, err)
			return nil
		}
		return b
	}
	add := func(typ string, off int64, where string) {
		out = append(out, Signature{Type: typ, Offset: off, Where: where})
	}
	// GPT backup header in the last logical block, for both sector sizes.
	for _, ss := range []int64{512, 4096} {
		off := size - ss
		if off < 2*ss {
			continue
		}
		if b := read(off, 8); b != nil && string(b) == "EFI PART" {
			add("gpt", off, fmt.Sprintf("GPT backup header (%d-byte sectors)", ss))
		}
	}
	// md superblocks: 1.1 at 0, 1.2 at 4 KiB, 0.90 in the last 64 KiB-aligned
	// 64 KiB, 1.0 8 KiB before the end rounded down to 4 KiB.
	mdAt := []struct {
		off  int64
		what string
	}{
		{0, "md superblock 1.1"},
		{4096, "md superblock 1.2"},
		{(size &^ 0xffff) - 0x10000, "md superblock 0.90"},
		{((size >> 9) - 16) &^ 7 << 9, "md superblock 1.0"},
	}
	for _, m := range mdAt {
		if b := read(m.off, 4); b != nil && binary.LittleEndian.Uint32(b) == mdMagic {
			add("linux_raid_member", m.off, m.what)
		}
	}
	// ext2/3/4 superblock copies at the start of block group 1.
	for _, bs := range []int64{1024, 2048, 4096} {
		off := bs * 8 * bs // blocks per group = 8 * block size
		if bs == 1024 {
			off += bs // group 1 starts at block 8193 when block 0 holds the boot sector
		}
		if b := read(off+0x38, 2); b != nil && binary.LittleEndian.Uint16(b) == 0xEF53 {
			if lb := read(off+0x18, 4); lb != nil && int64(1024)<<binary.LittleEndian.Uint32(lb) == bs {
				add("ext4", off, "ext superblock backup")
			}
		}
	}
	// btrfs superblock mirrors.
	for _, off := range []int64{64 << 20, 256 << 30} {
		if b := read(off+0x40, 8); b != nil && string(b) == "_BHRfS_M" {
			add("btrfs", off, "btrfs superblock mirror")
		}
	}
	// LUKS2 secondary header at one of its fixed offsets.
	for off := int64(0x4000); off <= 0x400000; off <<= 1 {
		if b := read(off, 6); b != nil && bytes.Equal(b, []byte("SKUL\xba\xbe")) {
			add("crypto_LUKS", off, "LUKS2 secondary header")
		}
	}
	return out, rerr
}
