package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The Be File System (BeOS, Haiku) superblock sits at 0, or at 512 after a
// boot block, in either byte order. blkid's UUID is the volume's
// "be:volume_id" attribute, read from the root directory's inode: inline in
// its small-data area or, failing that, through the attribute directory's
// B+tree.
const (
	befsMagic1    = 0x42465331 // "BFS1"
	befsMagic2    = 0xdd121031
	befsMagic3    = 0x15b6830e
	befsByteOrder = 0x42494745 // "BIGE"
	befsSBSize    = 164

	befsInodeMagic  = 0x3bbe0ad9
	befsTreeMagic   = 0x69f6c2e8
	befsUint64Type  = 0x554c4c47 // "ULLG"
	befsKey         = "be:volume_id"
	befsKeySize     = 8
	befsInodeSize   = 232 // the inode up to its small-data area
	befsDataOff     = 72  // the inode's data stream
	befsDirectRuns  = 12
	befsTreeHdrSize = 40
	befsNodeHdrSize = 28
	befsSmallHdr    = 8
)

// befsMagics are blkid's four magic places, tried in this order; the
// first that matches decides where the superblock is.
var befsMagics = []struct {
	sbOff int64
	magic string
}{
	{0, "BFS1"}, {0, "1SFB"}, {0x200, "BFS1"}, {0x200, "1SFB"},
}

// befsFS is one superblock being followed.
type befsFS struct {
	s          *source
	o          binary.ByteOrder
	blockShift uint32
	agShift    uint32
}

func probeBeFS(s *source) (*sb, error) {
	w := s.headAt(0, 1024)
	if w == nil {
		return nil, nil
	}
	sbOff := int64(-1)
	for _, m := range befsMagics {
		if hasAt(w, int(m.sbOff)+32, m.magic) {
			sbOff = m.sbOff
			break
		}
	}
	if sbOff < 0 {
		return nil, nil
	}
	b := s.headAt(sbOff, befsSBSize)
	if b == nil {
		return nil, nil
	}
	f := &befsFS{s: s}
	var version string
	switch {
	case befsMagicsIn(b, le):
		f.o, version = le, "little-endian"
	case befsMagicsIn(b, be):
		f.o, version = be, "big-endian"
	default:
		return nil, nil
	}
	bsize, shift := f.o.Uint32(b[40:]), f.o.Uint32(b[44:])
	if shift < 10 || shift > 13 || bsize != 1<<shift {
		return nil, nil
	}
	f.blockShift, f.agShift = shift, f.o.Uint32(b[76:])
	id, ok, err := f.volumeID(b)
	if err != nil || !ok {
		return nil, err
	}
	r := &sb{version: version, label: label(b[0:32])}
	if !isZero(id) {
		r.uuid = fmt.Sprintf("%016x", f.o.Uint64(id))
	}
	return r, nil
}

func befsMagicsIn(b []byte, o binary.ByteOrder) bool {
	return o.Uint32(b[32:]) == befsMagic1 && o.Uint32(b[68:]) == befsMagic2 &&
		o.Uint32(b[112:]) == befsMagic3 && o.Uint32(b[36:]) == befsByteOrder
}

// read is blkid's buffer rule: nothing for an empty range or one that
// wraps or leaves the device.
func (f *befsFS) read(off, n uint64) ([]byte, error) {
	if n == 0 || off+n < off || off+n > uint64(f.s.size) || n > maxExtraBytes {
		return nil, nil
	}
	return f.s.at(int64(off), int(n))
}

// runAt locates a block run (allocation group, start block, length). blkid
// shifts a 64-bit value by the stored group shift, which the hardware takes
// modulo 64.
func (f *befsFS) runAt(br []byte) (off, n uint64) {
	ag := uint64(f.o.Uint32(br[0:]))
	start := uint64(f.o.Uint16(br[4:]))
	n = uint64(f.o.Uint16(br[6:])) << f.blockShift
	return ag<<(f.agShift&63)<<f.blockShift + start<<f.blockShift, n
}

func (f *befsFS) run(br []byte) ([]byte, error) {
	off, n := f.runAt(br)
	return f.read(off, n)
}

// runPart reads length bytes at offset into a block run, which must hold
// them.
func (f *befsFS) runPart(br []byte, offset int64, length uint32) ([]byte, error) {
	base, n := f.runAt(br)
	if offset+int64(length) > int64(n) {
		return nil, nil
	}
	return f.read(base+uint64(offset), uint64(length))
}

// streamAt reads length bytes at position start of a data stream: its
// direct runs, one indirect block of runs, or the double-indirect tree.
func (f *befsFS) streamAt(ds []byte, start int64, length uint32) ([]byte, error) {
	o := f.o
	maxDirect := int64(o.Uint64(ds[96:]))
	maxIndirect := int64(o.Uint64(ds[112:]))
	maxDouble := int64(o.Uint64(ds[128:]))
	runLen := func(br []byte) int64 { return int64(o.Uint16(br[6:])) << f.blockShift }
	switch {
	case start < maxDirect:
		for i := 0; i < befsDirectRuns; i++ {
			br := ds[i*8 : i*8+8]
			if n := runLen(br); start < n {
				return f.runPart(br, start, length)
			} else {
				start -= n
			}
		}
	case start < maxIndirect:
		start -= maxDirect
		ind := ds[104:112]
		runs, err := f.run(ind)
		if runs == nil {
			return nil, err
		}
		for i := int64(0); i < runLen(ind)/8; i++ {
			br := runs[i*8 : i*8+8]
			if n := runLen(br); start < n {
				return f.runPart(br, start, length)
			} else {
				start -= n
			}
		}
	case start < maxDouble:
		start -= maxIndirect
		dind := ds[120:128]
		size := runLen(dind)
		if size == 0 || size/8 == 0 {
			return nil, nil
		}
		per := size / 8
		span := per * size
		di, ii := start/span, start%span/size
		start = start % span % size
		// A negative index only comes from a corrupt stream; blkid would
		// read before its buffer there.
		if di < 0 || ii < 0 || start < 0 || di >= per {
			return nil, nil
		}
		runs, err := f.run(dind)
		if runs == nil {
			return nil, err
		}
		br := runs[di*8 : di*8+8]
		if ii >= runLen(br)/8 {
			return nil, nil
		}
		runs, err = f.run(br)
		if runs == nil {
			return nil, err
		}
		return f.runPart(runs[ii*8:ii*8+8], start, length)
	}
	return nil, nil
}

// volumeID finds the "be:volume_id" value. ok is false where blkid gives
// up on the whole filesystem (an unreadable or corrupt root inode, or an
// attribute tree it cannot walk); a volume without the attribute is fine
// and has no UUID.
func (f *befsFS) volumeID(sbuf []byte) (id []byte, ok bool, err error) {
	o := f.o
	root := sbuf[116:124]
	bi, err := f.run(root)
	if bi == nil || err != nil {
		return nil, false, err
	}
	if o.Uint32(bi[0:]) != befsInodeMagic {
		return nil, false, nil
	}
	id = make([]byte, 8)
	_, biSize := f.runAt(root)
	total := min(biSize-befsInodeSize, uint64(o.Uint32(bi[64:])))
	small := bi[befsInodeSize:]
	for off := uint64(0); off+befsSmallHdr <= total; {
		sd := small[off:]
		typ := o.Uint32(sd[0:])
		nameSize, dataSize := uint64(o.Uint16(sd[4:])), uint64(o.Uint16(sd[6:]))
		n := befsSmallHdr + nameSize + 3 + dataSize + 1
		if off+n > total {
			break
		}
		if typ == befsUint64Type && nameSize == uint64(len(befsKey)) && dataSize == befsKeySize &&
			hasAt(sd, befsSmallHdr, befsKey+"\x00") {
			copy(id, sd[befsSmallHdr+nameSize+3:])
			break
		}
		if typ == 0 && nameSize == 0 && dataSize == 0 {
			break
		}
		off += n
	}
	attrs := bi[52:60]
	if !isZero(id) || isZero(attrs) {
		return id, true, nil
	}
	ai, err := f.run(attrs)
	if ai == nil || err != nil {
		return nil, false, err
	}
	if o.Uint32(ai[0:]) != befsInodeMagic {
		return nil, false, nil
	}
	value, ok, err := f.treeLookup(ai[befsDataOff:], befsKey)
	// A negative value is an errno to blkid: -ENOENT ends the probe with
	// nothing found, any other fails it, and neither reports befs.
	if !ok || err != nil || value < 0 {
		return nil, false, err
	}
	if value == 0 {
		return id, true, nil
	}
	vi, err := f.read(uint64(value)<<f.blockShift, 1<<f.blockShift)
	if vi == nil || err != nil {
		return nil, false, err
	}
	if o.Uint32(vi[0:]) != befsInodeMagic {
		return nil, false, nil
	}
	ds := vi[befsDataOff:]
	if o.Uint32(vi[60:]) == befsUint64Type && o.Uint64(ds[136:]) == befsKeySize && o.Uint16(ds[6:]) == 1 {
		data, err := f.run(ds[0:8])
		if data == nil || err != nil {
			return nil, false, err
		}
		copy(id, data)
	}
	return id, true, nil
}

// befsBadKeys is blkid's marker for a corrupt key table. A key that
// matches the first bytes of the one looked for and is two bytes shorter
// compares as the same number, and blkid then takes the node for corrupt;
// we keep that.
const befsBadKeys = -2

// treeLookup walks the B+tree in data stream ds from its root to the
// value of key, as blkid does (at most 100 nodes). ok is false for a tree
// blkid finds corrupt or absent; a key not in the tree gives 0.
func (f *befsFS) treeLookup(ds []byte, key string) (value int64, ok bool, err error) {
	o := f.o
	hdr, err := f.streamAt(ds, 0, befsTreeHdrSize)
	if hdr == nil || err != nil {
		return 0, false, err
	}
	if o.Uint32(hdr[0:]) != befsTreeMagic {
		return 0, false, nil
	}
	ptr := int64(o.Uint64(hdr[16:]))
	nodeSize := o.Uint32(hdr[4:])
	if nodeSize < befsNodeHdrSize {
		return 0, false, nil
	}
	const null = -1
	for loops := 0; ; {
		bn, err := f.streamAt(ds, ptr, nodeSize)
		if bn == nil || err != nil {
			return 0, false, err
		}
		overflow := int64(o.Uint64(bn[16:]))
		count, keyBytes := uint32(o.Uint16(bn[24:])), uint32(o.Uint16(bn[26:]))
		lensOff := (befsNodeHdrSize + keyBytes + 7) &^ 7
		valsOff := lensOff + count*2
		if valsOff+count*8 > nodeSize {
			return 0, false, nil
		}
		// Indexes may run one past either end of the tables (blkid
		// does not check); such reads stay inside the node or fail.
		keyLen := func(i int32) (uint16, bool) {
			p := int64(lensOff) + 2*int64(i)
			if p < 0 || p+2 > int64(len(bn)) {
				return 0, false
			}
			return o.Uint16(bn[p:]), true
		}
		val := func(i int32) (int64, bool) {
			p := int64(valsOff) + 8*int64(i)
			if p < 0 || p+8 > int64(len(bn)) {
				return 0, false
			}
			return int64(o.Uint64(bn[p:])), true
		}
		compare := func(i int32) int {
			var start uint16
			if i != 0 {
				v, ok := keyLen(i - 1)
				if !ok {
					return befsBadKeys
				}
				start = v
			}
			end, ok := keyLen(i)
			if !ok {
				return befsBadKeys
			}
			n := end - start
			if uint32(start)+uint32(n) > keyBytes {
				return befsBadKeys
			}
			k := bn[befsNodeHdrSize+uint32(start):]
			c := bytes.Compare(k[:min(int(n), len(key))], []byte(key[:min(int(n), len(key))]))
			if c == 0 {
				return int(n) - len(key)
			}
			return c
		}
		last := int32(count) - 1
		cmp := compare(last)
		switch {
		case cmp == befsBadKeys:
			return 0, false, nil
		case cmp == 0:
			v, ok := val(last)
			if !ok {
				return 0, false, nil
			}
			if overflow == null {
				return v, true, nil
			}
			ptr = v
		case cmp < 0:
			ptr = overflow
		default:
			first, mid := int32(0), int32(0)
			for first <= last {
				mid = (first + last) / 2
				cmp = compare(mid)
				if cmp == befsBadKeys {
					return 0, false, nil
				}
				if cmp == 0 {
					if overflow == null {
						v, ok := val(mid)
						return v, ok, nil
					}
					break
				}
				if cmp < 0 {
					first = mid + 1
				} else {
					last = mid - 1
				}
			}
			next := mid
			if cmp < 0 {
				next = mid + 1
			}
			v, ok := val(next)
			if !ok {
				return 0, false, nil
			}
			ptr = v
		}
		loops++
		if loops >= 100 || overflow == null {
			return 0, true, nil
		}
	}
}
