package fsioctl

import (
	"context"
	"errors"
	"math"
)

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
// reads with BTRFS_IOC_TREE_SEARCH in 4 KiB batches, checks ctx between
// batches, and stops at the end of the range, on fn's error (ErrStopSearch
// ends it cleanly) or on a malformed batch (ErrShortItem).
func BtrfsSearch(ctx context.Context, fd int, key BtrfsSearchKey, fn func(h BtrfsSearchHeader, item []byte) error) error {
	a := new(BtrfsSearchArgs)
	a.Key = key
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		a.Key.NrItems = math.MaxUint32
		if err := BtrfsTreeSearch(fd, a); err != nil {
			return err
		}
		if a.Key.NrItems == 0 {
			return nil
		}
		var last BtrfsSearchHeader
		var ferr error
		err := BtrfsSearchItems(a.Buf[:], a.Key.NrItems, func(h BtrfsSearchHeader, item []byte) {
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
		a.Key.MinObjectID, a.Key.MinType, a.Key.MinOffset = next[0], uint32(next[1]), next[2]
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
