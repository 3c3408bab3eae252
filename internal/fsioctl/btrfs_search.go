package fsioctl

import (
	"context"
	"errors"
	"math"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BtrfsSearchArgsV2 is struct btrfs_ioctl_search_args_v2 without its
// flexible buffer: the key and buf_size (112 bytes); the items follow it.
type BtrfsSearchArgsV2 struct {
	Key     BtrfsSearchKey
	BufSize uint64
}

// BtrfsIocTreeSearchV2 is BTRFS_IOC_TREE_SEARCH_V2 (Linux 3.16): the same
// search into a caller-sized buffer.
var BtrfsIocTreeSearchV2 = archIOC.iowr(0x94, 17, unsafe.Sizeof(BtrfsSearchArgsV2{}))

// btrfsSearchV2Buf is the buffer BtrfsSearch asks V2 to fill: 64 KiB
// holds any item (a leaf is at most 64 KiB) and cuts the ioctls of a
// large listing sixteen-fold against V1's 4 KiB.
const btrfsSearchV2Buf = 64 << 10

// searchV2 runs one V2 search of key into mem (header then buffer),
// returning the items' bytes and count.
func searchV2(fd int, mem []uint64, key BtrfsSearchKey) ([]byte, uint32, error) {
	h := (*BtrfsSearchArgsV2)(unsafe.Pointer(&mem[0]))
	h.Key = key
	h.Key.NrItems = math.MaxUint32
	h.BufSize = uint64(len(mem)*8) - uint64(unsafe.Sizeof(BtrfsSearchArgsV2{}))
	err := ioctl(fd, "BTRFS_IOC_TREE_SEARCH_V2", BtrfsIocTreeSearchV2, unsafe.Pointer(&mem[0]))
	runtime.KeepAlive(mem)
	if err != nil {
		return nil, 0, err
	}
	all := unsafe.Slice((*byte)(unsafe.Pointer(&mem[0])), len(mem)*8)
	return all[unsafe.Sizeof(BtrfsSearchArgsV2{}):], h.Key.NrItems, nil
}

// ErrStopSearch, returned by a BtrfsSearch callback, ends the walk early
// without an error.
var ErrStopSearch = errors.New("fsioctl: stop search")

// BtrfsSearchRange is the full key range of one tree for BtrfsSearch:
// every objectid, type and offset, every transid.
func BtrfsSearchRange(tree uint64) BtrfsSearchKey {
	return BtrfsSearchKey{
		TreeID:      tree,
		MaxObjectID: math.MaxUint64, MaxOffset: math.MaxUint64, MaxTransid: math.MaxUint64,
		MaxType: math.MaxUint8,
	}
}

// BtrfsSearch walks the items of key.TreeID whose (objectid, type, offset)
// lie between key's minimum and maximum in the kernel's key order (the
// order is lexicographic on the triple: an objectid between the bounds
// comes back with every type, so fn filters what it wants) and calls fn
// for each, in tree order, with the item aliasing an internal buffer. It
// reads with BTRFS_IOC_TREE_SEARCH_V2 in 64 KiB batches (V1's 4 KiB on
// kernels without V2), checks ctx between
// batches, and stops at the end of the range, on fn's error (ErrStopSearch
// ends it cleanly) or on a malformed batch (ErrShortItem).
func BtrfsSearch(ctx context.Context, fd int, key BtrfsSearchKey, fn func(h BtrfsSearchHeader, item []byte) error) error {
	return BtrfsSearchBuf(ctx, fd, key, nil, fn)
}

// NewBtrfsSearchBuf is a buffer for BtrfsSearchBuf whose V2 searches
// return up to size bytes of items each (at least 64 KiB: a leaf).
func NewBtrfsSearchBuf(size int) []uint64 {
	size = max(size, btrfsSearchV2Buf)
	return make([]uint64, (int(unsafe.Sizeof(BtrfsSearchArgsV2{}))+size+7)/8)
}

// BtrfsSearchBuf is BtrfsSearch into the caller's buffer (from
// NewBtrfsSearchBuf; nil: a 64 KiB one for this call). A large buffer kept
// across searches saves ioctls and the page faults of a new buffer: a
// listing of 1,000 subvolumes (about 600 KiB of items) is four ioctls
// into 256 KiB. fn's items alias mem, which must not be shared by
// concurrent searches.
func BtrfsSearchBuf(ctx context.Context, fd int, key BtrfsSearchKey, mem []uint64, fn func(h BtrfsSearchHeader, item []byte) error) error {
	if len(mem)*8 < int(unsafe.Sizeof(BtrfsSearchArgsV2{}))+btrfsSearchV2Buf {
		mem = NewBtrfsSearchBuf(btrfsSearchV2Buf)
	}
	v1 := false
	var a *BtrfsSearchArgs
	cur := key
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var buf []byte
		var n uint32
		var err error
		if !v1 {
			buf, n, err = searchV2(fd, mem, cur)
			if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
				v1 = true // a kernel before 3.16
			}
		}
		if v1 {
			if a == nil {
				a = new(BtrfsSearchArgs)
			}
			a.Key = cur
			a.Key.NrItems = math.MaxUint32
			err = BtrfsTreeSearch(fd, a)
			buf, n = a.Buf[:], a.Key.NrItems
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		var last BtrfsSearchHeader
		var ferr error
		err = BtrfsSearchItems(buf, n, func(h BtrfsSearchHeader, item []byte) {
			if ferr != nil {
				return
			}
			last = h
			ferr = fn(h, item)
		})
		if err != nil {
			return err
		}
		if errors.Is(ferr, ErrStopSearch) {
			return nil
		}
		if ferr != nil {
			return ferr
		}
		next, ok := nextKey(last.ObjectID, last.Type, last.Offset)
		if !ok || keyLess(key.MaxObjectID, key.MaxType, key.MaxOffset, next[0], uint32(next[1]), next[2]) {
			return nil
		}
		cur.MinObjectID, cur.MinType, cur.MinOffset = next[0], uint32(next[1]), next[2]
	}
}

// nextKey is the key right after (objectid, type, offset); false past the
// last key there can be.
func nextKey(obj uint64, typ uint32, off uint64) ([3]uint64, bool) {
	switch {
	case off < math.MaxUint64:
		return [3]uint64{obj, uint64(typ), off + 1}, true
	case typ < math.MaxUint8:
		return [3]uint64{obj, uint64(typ) + 1, 0}, true
	case obj < math.MaxUint64:
		return [3]uint64{obj + 1, 0, 0}, true
	}
	return [3]uint64{}, false
}

// keyLess reports whether key a sorts before key b.
func keyLess(ao uint64, at uint32, aoff, bo uint64, bt uint32, boff uint64) bool {
	if ao != bo {
		return ao < bo
	}
	if at != bt {
		return at < bt
	}
	return aoff < boff
}
