package superblock

import (
	"encoding/binary"
	"fmt"
	"io"
)

// XFSLogState is what the head of an XFS log says.
type XFSLogState string

const (
	// XFSLogClean: the last record before the head is an unmount record.
	XFSLogClean XFSLogState = "clean"
	// XFSLogDirty: the last record is a transaction; a mount (or
	// xfs_repair, which refuses, or xfs_repair -L, which zeroes it) must
	// replay it.
	XFSLogDirty XFSLogState = "dirty"
	// XFSLogExternal: the log is on another device (sb_logstart 0) and was
	// not read.
	XFSLogExternal XFSLogState = "external"
	// XFSLogUnknown: the log could not be read or made no sense; Err says
	// why. It is reported, not failed: the superblock itself is fine.
	XFSLogUnknown XFSLogState = "unknown"
)

// XFSLog is where the log is and what its head holds. Blocks are 512-byte
// basic blocks from the start of the log, as xfs_logprint counts them.
type XFSLog struct {
	State  XFSLogState
	Offset int64  // byte offset of the log on the device
	Blocks int64  // length in basic blocks
	Head   int64  // the block the next record goes to
	Cycle  uint32 // the cycle number of the last record
	Record int64  // the block of the last record's header (-1: none found)
	Ops    uint32 // that record's h_num_logops
	Err    error  `json:"-"`
}

const (
	xfsLogMagic       = 0xFEEDBABE
	xfsBB             = 512
	xfsLogHeaderCycle = 32768 // XLOG_HEADER_CYCLE_SIZE: bytes one header block covers
	xfsLogUnmountFlag = 0x20  // XLOG_UNMOUNT_TRANS in the op header
	xfsLogUnmountType = 0x556e
	// xfsLogScanBlocks bounds the backward search for the last record's
	// header: a record is at most 256 KiB of data plus 8 header blocks,
	// so 2 MiB covers it with room.
	xfsLogScanBlocks = 4096
	xfsLogMaxProbes  = 80 // binary search steps; 2^64 blocks would need 64
)

// xfsReadLog finds the log's head the way xlog_find_head does in the usual
// case: every basic block of the log starts with the cycle number of the
// pass that wrote it, so the head is where the cycle drops, found by
// binary search (about log2(blocks) reads of 512 bytes). The header of the
// last record is then searched backwards (at most xfsLogScanBlocks), and
// the log is clean when that record is a single unmount op ending exactly
// at the head, which is xlog_check_unmount_rec's test.
//
// Not handled, so reported as what the cycles show: a torn write of
// several in-flight iclogs at the head (the kernel re-checks a window of
// blocks before the head); after a crash such a log is dirty anyway.
func xfsReadLog(r io.ReaderAt, size int64, x *XFS) XFSLog {
	l := XFSLog{Record: -1}
	if x.Logstart == 0 {
		l.State = XFSLogExternal
		return l
	}
	fail := func(format string, args ...any) XFSLog {
		l.State = XFSLogUnknown
		l.Err = fmt.Errorf("superblock: xfs log: "+format, args...)
		return l
	}
	agno := x.Logstart >> x.Agblklog
	agbno := x.Logstart & (1<<x.Agblklog - 1)
	if agno >= uint64(x.Agcount) || agbno >= uint64(x.Agblocks) {
		return fail("logstart %d outside the filesystem", x.Logstart)
	}
	fsb := agno*uint64(x.Agblocks) + agbno
	l.Offset = int64(fsb) << x.Blocklog
	l.Blocks = int64(x.Logblocks) << x.Blocklog / xfsBB
	if l.Blocks < 2 || fsb+uint64(x.Logblocks) > x.Dblocks {
		return fail("log of %d blocks at block %d does not fit %d blocks", x.Logblocks, fsb, x.Dblocks)
	}
	if l.Offset+l.Blocks*xfsBB > size {
		return fail("log ends at %d, past the device's %d bytes", l.Offset+l.Blocks*xfsBB, size)
	}
	// Reads here are latency-bound: a block device's page cache goes at
	// its last close, so each read is a real I/O. So read one window at
	// the block the superblock's lsn names first (block 0 for v4 and a
	// fresh log): after a clean unmount the superblock was logged just
	// before the unmount record, so the head is usually inside it, and
	// every later read that falls inside is served from memory.
	hint := int64(uint32(x.LSN))
	if hint >= l.Blocks {
		hint = 0
	}
	win := &xfsWindow{r: r}
	win.load(l.Offset+hint*xfsBB, min(xfsLogWindow, (l.Blocks-hint)*xfsBB))
	r = win
	bb := make([]byte, xfsBB)
	be := binary.BigEndian
	// A block's cycle is its first word, or h_cycle for a record header
	// (xlog_get_cycle).
	cycle := func(blk int64) (uint32, error) {
		if err := xfsReadFull(r, bb[:8], l.Offset+blk*xfsBB); err != nil {
			return 0, err
		}
		if be.Uint32(bb) == xfsLogMagic {
			return be.Uint32(bb[4:]), nil
		}
		return be.Uint32(bb), nil
	}
	first, err := cycle(0)
	if err != nil {
		return fail("%v", err)
	}
	if first == 0 {
		// Never written (mkfs always writes an unmount record first).
		return fail("the log is empty")
	}
	// In a well-formed log the cycle drops from first exactly once, so a
	// drop inside the window is the head.
	if h := win.drop(first, l.Offset, hint); h > 0 {
		l.Head = h
		l.Cycle = first
		return xfsCheckHead(r, l)
	}
	last, err := cycle(l.Blocks - 1)
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case last == first:
		// One whole pass: the head wrapped to block 0.
		l.Head = l.Blocks
	case last+1 == first || last == 0:
		// [first ... first, older ...]: binary search for the drop.
		lo, hi := int64(0), l.Blocks-1 // cycle(lo) == first, cycle(hi) != first
		for n := 0; hi-lo > 1 && n < xfsLogMaxProbes; n++ {
			mid := lo + (hi-lo)/2
			c, err := cycle(mid)
			if err != nil {
				return fail("%v", err)
			}
			if c == first {
				lo = mid
			} else {
				hi = mid
			}
		}
		l.Head = hi
	default:
		return fail("cycle %d at the start and %d at the end", first, last)
	}
	l.Cycle = first
	return xfsCheckHead(r, l)
}

// xfsCheckHead finds the last record before l.Head and decides whether it
// is an unmount record.
func xfsCheckHead(r io.ReaderAt, l XFSLog) XFSLog {
	be := binary.BigEndian
	fail := func(format string, args ...any) XFSLog {
		l.State = XFSLogUnknown
		l.Err = fmt.Errorf("superblock: xfs log: "+format, args...)
		return l
	}
	// Search backwards from the head for a record header: a data block
	// starts with a cycle number, never with the magic.
	rec, hdr, err := xfsFindRecord(r, l, l.Head)
	if err != nil {
		return fail("%v", err)
	}
	if rec < 0 {
		return fail("no record header in the %d blocks before the head %d", xfsLogScanBlocks, l.Head%l.Blocks)
	}
	l.Record = rec
	l.Head %= l.Blocks
	l.Ops = be.Uint32(hdr[40:])
	hlen := int64(be.Uint32(hdr[12:]))
	hblks := int64(1)
	if hsize := int64(be.Uint32(hdr[320:])); be.Uint32(hdr[8:]) >= 2 && hsize > xfsLogHeaderCycle {
		hblks = (hsize + xfsLogHeaderCycle - 1) / xfsLogHeaderCycle
	}
	end := (rec + hblks + (hlen+xfsBB-1)/xfsBB) % l.Blocks
	if l.Ops != 1 || end != l.Head || hlen < 16 {
		l.State = XFSLogDirty
		return l
	}
	// The op header is the first thing in the first data block; its flags
	// byte is not under the stamped cycle number.
	op := make([]byte, 16)
	if err := xfsReadFull(r, op, l.Offset+((rec+hblks)%l.Blocks)*xfsBB); err != nil {
		return fail("%v", err)
	}
	magic := binary.LittleEndian.Uint16(op[12:])
	if op[9]&xfsLogUnmountFlag != 0 && (magic == xfsLogUnmountType || be.Uint16(op[12:]) == xfsLogUnmountType) {
		l.State = XFSLogClean
	} else {
		l.State = XFSLogDirty
	}
	return l
}

// xfsFindRecord returns the block and the first 512 bytes of the last
// record header before block head (which may equal l.Blocks), wrapping
// past block 0, within xfsLogScanBlocks; -1 when there is none.
func xfsFindRecord(r io.ReaderAt, l XFSLog, head int64) (int64, []byte, error) {
	const chunk = 128 // blocks per read: 64 KiB
	buf := make([]byte, chunk*xfsBB)
	scan := min(int64(xfsLogScanBlocks), l.Blocks)
	for done := int64(0); done < scan; {
		// Read the chunk that ends at block head-done (exclusive), not
		// crossing block 0.
		endBlk := ((head-done)%l.Blocks + l.Blocks) % l.Blocks
		if endBlk == 0 {
			endBlk = l.Blocks
		}
		n := min(int64(chunk), endBlk, scan-done)
		start := endBlk - n
		b := buf[:n*xfsBB]
		if err := xfsReadFull(r, b, l.Offset+start*xfsBB); err != nil {
			return -1, nil, err
		}
		for i := n - 1; i >= 0; i-- {
			if binary.BigEndian.Uint32(b[i*xfsBB:]) == xfsLogMagic {
				hdr := make([]byte, xfsBB)
				copy(hdr, b[i*xfsBB:(i+1)*xfsBB])
				return start + i, hdr, nil
			}
		}
		done += n
	}
	return -1, nil, nil
}

// xfsLogWindow is how much of the log is read at once: a record of up to
// 256 KiB (a v2 log's largest) fits.
const xfsLogWindow = 32 << 10

// xfsWindow serves reads inside one loaded range from memory.
type xfsWindow struct {
	r   io.ReaderAt
	off int64
	buf []byte
}

func (w *xfsWindow) load(off, n int64) {
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	if xfsReadFull(w.r, b, off) == nil {
		w.off, w.buf = off, b
	}
}

func (w *xfsWindow) ReadAt(b []byte, off int64) (int, error) {
	if off >= w.off && off+int64(len(b)) <= w.off+int64(len(w.buf)) {
		return copy(b, w.buf[off-w.off:]), nil
	}
	return w.r.ReadAt(b, off)
}

// drop returns the block (counted from the log's start) after the last
// block of cycle c where the window's next block has another cycle, or 0
// when the window shows no such drop. first is the window's first block.
func (w *xfsWindow) drop(c uint32, logOff, first int64) int64 {
	be := binary.BigEndian
	cyc := func(i int) uint32 {
		b := w.buf[i*xfsBB:]
		if be.Uint32(b) == xfsLogMagic {
			return be.Uint32(b[4:])
		}
		return be.Uint32(b)
	}
	if w.off != logOff+first*xfsBB {
		return 0
	}
	n := len(w.buf) / xfsBB
	for i := 0; i+1 < n; i++ {
		if cyc(i) == c && cyc(i+1) != c {
			return first + int64(i) + 1
		}
	}
	return 0
}
