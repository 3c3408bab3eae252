package probe

import (
	"context"
	"errors"
	"io"
	"sync"
)

// headSize covers every superblock this package knows at a fixed place: the
// btrfs superblock ends at 64 KiB + 4 KiB, the furthest of them.
const headSize = 0x11000

// tailSize is the window at the end of the device read at most once, on the
// first request that falls in it: RAID member metadata (md 0.90 and 1.0,
// DDF, Intel, LSI, VIA, Silicon Image, NVIDIA, Adaptec, JMicron,
// HighPoint), DRBD's metadata, the backup GPT header, the nilfs2 backup
// superblock and UDF's last anchors all lie within it. One read serves them
// all, so the dozen RAID probers cost one read, not a dozen.
const tailSize = 256 << 10

// maxExtraReads bounds the reads beyond the head and tail buffers (GPT
// entries, extended-partition chain, FAT root directory, UDF descriptors,
// ZFS labels, Promise's scattered copies), so a crafted image cannot make a
// probe walk the whole device.
const maxExtraReads = 96

// maxExtraBytes bounds one read beyond the head buffer, and
// maxExtraTotal all of them together: a crafted chain of large reads (a
// FAT32 root directory of huge clusters) stops there, where blkid would
// read on.
const (
	maxExtraBytes = 1 << 20
	maxExtraTotal = 16 << 20
)

// source is the device or image being probed: one read of the head, then a
// bounded number of small reads elsewhere, each after a context check.
type source struct {
	ctx    context.Context
	r      io.ReaderAt
	size   int64
	head   []byte
	pooled *[]byte
	extra  int
	// extraBytes is what those reads asked for, bounded by maxExtraTotal.
	extraBytes int64
	// arena serves the buffers of reads beyond the head, bump-allocated
	// from a pooled block and all given back at release: a probe's extra
	// reads (the tail window, ZFS rings, the xfs log scan) add up to about
	// 1 MiB, which as fresh allocations cost more than the reads.
	arena   *[]byte
	arenaAt int
	// blocks are the widened small reads made so far (at).
	blocks []block
	// tail holds the device's last bytes from tailOff on, once read.
	tail     []byte
	tailOff  int64
	tailRead bool
	// wholeDisk is false when the probed device is a partition (WithParent):
	// blkid looks for hardware-RAID metadata only on whole disks and image
	// files, since a partition's last sectors are not the disk's.
	wholeDisk bool
	// cdrom is set for an optical drive (CDROM_GET_CAPABILITY answers), on
	// which blkid looks for no RAID, swap or journal.
	cdrom bool
	// sectorSize is the logical sector size (Path asks the kernel;
	// WithSectorSize overrides; 512 for image files and readers).
	sectorSize int64
}

// headPool recycles head buffers: a discovery probes every device, and the
// 68 KiB buffer is most of a probe's allocation. Nothing in a Result points
// into the head (every string is a copy), so a buffer is reusable as soon as
// the probe returns.
var headPool = sync.Pool{New: func() any { b := make([]byte, headSize); return &b }}

// arenaSize holds a whole-disk probe's usual extra reads; a larger need
// falls back to the heap.
const arenaSize = 1 << 20

var arenaPool = sync.Pool{New: func() any { b := make([]byte, arenaSize); return &b }}

// buf returns n bytes for a read beyond the head. Its contents are stale
// until the read fills them; callers use it only when the read was whole.
func (s *source) buf(n int) []byte {
	if s.arena == nil {
		s.arena = arenaPool.Get().(*[]byte)
	}
	a := *s.arena
	if n > len(a)-s.arenaAt {
		return make([]byte, n)
	}
	b := a[s.arenaAt : s.arenaAt+n : s.arenaAt+n]
	s.arenaAt += n
	return b
}

// release returns the head buffer to the pool; s must not be used after.
func (s *source) release() {
	if s.pooled != nil {
		headPool.Put(s.pooled)
		s.pooled, s.head = nil, nil
	}
	if s.arena != nil {
		arenaPool.Put(s.arena)
		s.arena, s.arenaAt = nil, 0
		s.tail, s.blocks = nil, nil
	}
}

func newSource(ctx context.Context, r io.ReaderAt, size int64) (*source, error) {
	s := &source{ctx: ctx, r: r, size: size, wholeDisk: true, sectorSize: 512}
	n := int64(headSize)
	if size < n {
		n = size
	}
	s.pooled = headPool.Get().(*[]byte)
	buf := (*s.pooled)[:n]
	if n > 0 {
		if err := ctx.Err(); err != nil {
			s.release()
			return nil, err
		}
		got, err := r.ReadAt(buf, 0)
		if err != nil && !(errors.Is(err, io.EOF) && got == len(buf)) {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				// The size was larger than what the reader holds: probe what is there.
				buf = buf[:got]
			} else {
				s.release()
				return nil, &ReadError{Off: 0, Len: len(buf), Err: err}
			}
		}
	}
	s.head = buf
	return s, nil
}

// at returns n bytes at off, or nil when the range lies outside the device.
// Ranges inside the head buffer cost nothing; others count against the
// read budget and fail with errBudget once it is spent.
func (s *source) at(off int64, n int) ([]byte, error) {
	// off > s.size-n rather than off+n > s.size: an offset read from a
	// crafted superblock may be near the int64 maximum.
	if off < 0 || n < 0 || int64(n) > s.size || off > s.size-int64(n) {
		return nil, nil
	}
	if off+int64(n) <= int64(len(s.head)) {
		return s.head[off : off+int64(n)], nil
	}
	if s.size > int64(len(s.head)) && off >= s.size-tailSize {
		if b, err := s.tailAt(off, n); b != nil || err != nil {
			return b, err
		}
	}
	if n > maxExtraBytes {
		return nil, nil
	}
	for _, c := range s.blocks {
		if off >= c.off && off-c.off <= int64(len(c.b)-n) {
			return c.b[off-c.off : off-c.off+int64(n)], nil
		}
	}
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	if s.extra >= maxExtraReads || s.extraBytes+int64(n) > maxExtraTotal {
		return nil, errBudget
	}
	s.extra++
	// A small read takes the whole 4 KiB blocks around it, which costs the
	// kernel the same, and is remembered: LUKS2's secondary header and
	// VMFS's volume header share the block at 1 MiB, and so on.
	start, end := off, off+int64(n)
	if n < blockReadMax {
		start = off &^ (blockAlign - 1)
		end = min(s.size, (off+int64(n)+blockAlign-1)&^(blockAlign-1))
	}
	s.extraBytes += end - start
	buf := s.buf(int(end - start))
	got, err := s.r.ReadAt(buf, start)
	if got == len(buf) {
		if len(s.blocks) < maxBlocks {
			s.blocks = append(s.blocks, block{start, buf})
		}
		return buf[off-start : off-start+int64(n)], nil
	}
	if err != nil && (start != off || end != off+int64(n)) {
		// The widening may have reached a bad sector the prober never
		// asked for: the exact range decides.
		buf = buf[:n]
		got, err = s.r.ReadAt(buf, off)
		if got == n {
			return buf, nil
		}
		start = off
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil
	}
	return nil, &ReadError{Off: start, Len: len(buf), Err: err}
}

// Small reads beyond the head and tail are widened to whole blocks of
// blockAlign bytes and kept (at most maxBlocks of them) for later probers.
const (
	blockAlign   = 4096
	blockReadMax = 16 << 10
	maxBlocks    = 32
)

type block struct {
	off int64
	b   []byte
}

// tailAt serves a range in the last tailSize bytes from one read of that
// window (aligned down to 4 KiB), made on first use. It returns nil and no
// error when the window cannot be read whole; at then reads the range alone.
func (s *source) tailAt(off int64, n int) ([]byte, error) {
	if !s.tailRead {
		s.tailRead = true
		start := (s.size - tailSize) &^ 4095
		if start < int64(len(s.head)) {
			start = int64(len(s.head))
		}
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
		buf := s.buf(int(s.size - start))
		got, err := s.r.ReadAt(buf, start)
		switch {
		case got == len(buf):
			s.tail, s.tailOff = buf, start
		case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			// shorter than its size says: ranges are read one by one
		default:
			return nil, &ReadError{Off: start, Len: len(buf), Err: err}
		}
	}
	if s.tail == nil || off < s.tailOff || off+int64(n) > s.tailOff+int64(len(s.tail)) {
		return nil, nil
	}
	return s.tail[off-s.tailOff : off-s.tailOff+int64(n)], nil
}

// headAt is at restricted to the head buffer: superblock magics are all
// there, so the common path never leaves memory.
func (s *source) headAt(off int64, n int) []byte {
	if off < 0 || n < 0 || off > int64(len(s.head))-int64(n) || off > s.size-int64(n) {
		return nil
	}
	return s.head[off : off+int64(n)]
}

// errBudget stops a walk that wants more reads than maxExtraReads; callers
// treat it as "structure not usable", never as an I/O failure.
var errBudget = errors.New("probe: read budget exhausted")
