package btrfs

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// The item parsers decode the on-disk (little-endian, packed) items that
// BTRFS_IOC_TREE_SEARCH returns. Offsets are from include/uapi/linux/
// btrfs_tree.h; each parser returns an error wrapping ErrMalformed for a
// short or inconsistent item, never panics.

var le = binary.LittleEndian

// Sizes of the on-disk items.
const (
	rootItemV1Size     = 239 // up to and including level: items of old kernels
	rootItemSize       = 439 // sizeof(struct btrfs_root_item)
	rootRefSize        = 18  // sizeof(struct btrfs_root_ref), name follows
	dirItemSize        = 30  // sizeof(struct btrfs_dir_item), name and data follow
	qgroupStatusSize   = 32  // sizeof(struct btrfs_qgroup_status_item) without enable_gen
	qgroupInfoSize     = 40
	qgroupLimitSize    = 40
	devExtentSize      = 48
	chunkSize          = 80 // struct btrfs_chunk with its one stripe
	chunkHeaderSize    = 48
	stripeSize         = 32
	maxNameLen         = 255
	timespecSize       = 12
	rootOffGeneration  = 160
	rootOffFlags       = 208
	rootOffGenV2       = 239
	rootOffUUID        = 247
	rootOffParentUUID  = 263
	rootOffRecvUUID    = 279
	rootOffCtransid    = 295
	rootOffOtransid    = 303
	rootOffCtime       = 327
	rootOffOtime       = 339
	rootFlagReadOnly   = 1 << 0
	qgroupStatusFlagOn = 1 << 0
)

// RootItem is the part of struct btrfs_root_item a listing needs.
type RootItem struct {
	Generation   uint64
	Flags        uint64
	UUID         uuid.UUID // zero on items written before the v2 fields
	ParentUUID   uuid.UUID
	ReceivedUUID uuid.UUID
	Ctransid     uint64
	Otransid     uint64
	Ctime, Otime time.Time // zero when the item has no v2 fields
}

// ReadOnly reports BTRFS_ROOT_SUBVOL_RDONLY.
func (r RootItem) ReadOnly() bool { return r.Flags&rootFlagReadOnly != 0 }

func timespec(b []byte) time.Time {
	sec, nsec := le.Uint64(b), le.Uint32(b[8:])
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), int64(nsec)).UTC()
}

// ParseRootItem decodes a ROOT_ITEM. The uuids, transids and times are
// valid only when the item is a full one and generation_v2 equals
// generation (the kernel's rule); otherwise they stay zero.
func ParseRootItem(b []byte) (RootItem, error) {
	if len(b) < rootItemV1Size {
		return RootItem{}, malformed("root item", len(b), rootItemV1Size)
	}
	r := RootItem{Generation: le.Uint64(b[rootOffGeneration:]), Flags: le.Uint64(b[rootOffFlags:])}
	if len(b) >= rootItemSize && le.Uint64(b[rootOffGenV2:]) == r.Generation {
		copy(r.UUID[:], b[rootOffUUID:])
		copy(r.ParentUUID[:], b[rootOffParentUUID:])
		copy(r.ReceivedUUID[:], b[rootOffRecvUUID:])
		r.Ctransid = le.Uint64(b[rootOffCtransid:])
		r.Otransid = le.Uint64(b[rootOffOtransid:])
		r.Ctime = timespec(b[rootOffCtime:])
		r.Otime = timespec(b[rootOffOtime:])
	}
	return r, nil
}

// RootRef is a ROOT_REF or ROOT_BACKREF item: the directory of the parent
// subvolume that holds the child, and the child's name there.
type RootRef struct {
	DirID    uint64
	Sequence uint64
	Name     string
}

// ParseRootRef decodes a ROOT_REF/ROOT_BACKREF item.
func ParseRootRef(b []byte) (RootRef, error) {
	if len(b) < rootRefSize {
		return RootRef{}, malformed("root ref", len(b), rootRefSize)
	}
	n := int(le.Uint16(b[16:]))
	if n == 0 || n > maxNameLen || rootRefSize+n > len(b) {
		return RootRef{}, fmt.Errorf("%w: root ref name of %d bytes in a %d-byte item", ErrMalformed, n, len(b))
	}
	return RootRef{DirID: le.Uint64(b), Sequence: le.Uint64(b[8:]), Name: string(b[rootRefSize : rootRefSize+n])}, nil
}

// DirItem is one entry of a DIR_ITEM (one item may hold several entries
// whose names hash alike).
type DirItem struct {
	LocationObjectID uint64
	LocationType     uint8
	LocationOffset   uint64
	Transid          uint64
	Type             uint8
	Name             string
}

// ParseDirItems decodes every entry of a DIR_ITEM.
func ParseDirItems(b []byte) ([]DirItem, error) {
	var out []DirItem
	for len(b) > 0 {
		if len(b) < dirItemSize {
			return nil, malformed("dir item", len(b), dirItemSize)
		}
		dl, nl := int(le.Uint16(b[25:])), int(le.Uint16(b[27:]))
		if nl == 0 || nl > maxNameLen || dirItemSize+nl+dl > len(b) {
			return nil, fmt.Errorf("%w: dir item name %d + data %d bytes in %d", ErrMalformed, nl, dl, len(b))
		}
		out = append(out, DirItem{
			LocationObjectID: le.Uint64(b), LocationType: b[8], LocationOffset: le.Uint64(b[9:]),
			Transid: le.Uint64(b[17:]), Type: b[29], Name: string(b[dirItemSize : dirItemSize+nl]),
		})
		b = b[dirItemSize+nl+dl:]
	}
	if len(out) == 0 {
		return nil, malformed("dir item", 0, dirItemSize)
	}
	return out, nil
}

// QgroupStatus is the QGROUP_STATUS item of the quota tree.
type QgroupStatus struct {
	Version, Generation, Flags, Rescan uint64
}

// On reports BTRFS_QGROUP_STATUS_FLAG_ON.
func (s QgroupStatus) On() bool { return s.Flags&qgroupStatusFlagOn != 0 }

// Inconsistent reports BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT: the numbers
// need a rescan.
func (s QgroupStatus) Inconsistent() bool { return s.Flags&(1<<2) != 0 }

// Rescanning reports BTRFS_QGROUP_STATUS_FLAG_RESCAN.
func (s QgroupStatus) Rescanning() bool { return s.Flags&(1<<1) != 0 }

// ParseQgroupStatus decodes a QGROUP_STATUS item.
func ParseQgroupStatus(b []byte) (QgroupStatus, error) {
	if len(b) < qgroupStatusSize {
		return QgroupStatus{}, malformed("qgroup status", len(b), qgroupStatusSize)
	}
	return QgroupStatus{Version: le.Uint64(b), Generation: le.Uint64(b[8:]), Flags: le.Uint64(b[16:]), Rescan: le.Uint64(b[24:])}, nil
}

// QgroupInfo is a QGROUP_INFO item: usage.
type QgroupInfo struct {
	Generation, Rfer, RferCmpr, Excl, ExclCmpr uint64
}

// ParseQgroupInfo decodes a QGROUP_INFO item.
func ParseQgroupInfo(b []byte) (QgroupInfo, error) {
	if len(b) < qgroupInfoSize {
		return QgroupInfo{}, malformed("qgroup info", len(b), qgroupInfoSize)
	}
	return QgroupInfo{le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:]), le.Uint64(b[32:])}, nil
}

// QgroupLimitItem is a QGROUP_LIMIT item.
type QgroupLimitItem struct {
	Flags, MaxRfer, MaxExcl, RsvRfer, RsvExcl uint64
}

// ParseQgroupLimit decodes a QGROUP_LIMIT item.
func ParseQgroupLimit(b []byte) (QgroupLimitItem, error) {
	if len(b) < qgroupLimitSize {
		return QgroupLimitItem{}, malformed("qgroup limit", len(b), qgroupLimitSize)
	}
	return QgroupLimitItem{le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:]), le.Uint64(b[32:])}, nil
}

// DevExtent is a DEV_EXTENT item (its key: devid, DEV_EXTENT, physical
// start).
type DevExtent struct {
	ChunkTree, ChunkObjectID, ChunkOffset, Length uint64
}

// ParseDevExtent decodes a DEV_EXTENT item.
func ParseDevExtent(b []byte) (DevExtent, error) {
	if len(b) < devExtentSize {
		return DevExtent{}, malformed("dev extent", len(b), devExtentSize)
	}
	d := DevExtent{le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])}
	if d.Length == 0 {
		return DevExtent{}, fmt.Errorf("%w: dev extent of length 0", ErrMalformed)
	}
	return d, nil
}

// Stripe is one stripe of a chunk.
type Stripe struct {
	Devid, Offset uint64
}

// Chunk is a CHUNK_ITEM of the chunk tree (its key offset is the logical
// start).
type Chunk struct {
	Length, Owner, StripeLen, Type uint64
	NumStripes, SubStripes         uint16
	Stripes                        []Stripe
}

// ParseChunk decodes a CHUNK_ITEM and its stripes.
func ParseChunk(b []byte) (Chunk, error) {
	if len(b) < chunkSize {
		return Chunk{}, malformed("chunk", len(b), chunkSize)
	}
	c := Chunk{Length: le.Uint64(b), Owner: le.Uint64(b[8:]), StripeLen: le.Uint64(b[16:]), Type: le.Uint64(b[24:]),
		NumStripes: le.Uint16(b[44:]), SubStripes: le.Uint16(b[46:])}
	if c.NumStripes == 0 || chunkHeaderSize+int(c.NumStripes)*stripeSize > len(b) {
		return Chunk{}, fmt.Errorf("%w: chunk of %d stripes in %d bytes", ErrMalformed, c.NumStripes, len(b))
	}
	for i := 0; i < int(c.NumStripes); i++ {
		s := b[chunkHeaderSize+i*stripeSize:]
		c.Stripes = append(c.Stripes, Stripe{Devid: le.Uint64(s), Offset: le.Uint64(s[8:])})
	}
	return c, nil
}

// Item is one tree-search result: its key, transid and item bytes.
type Item struct {
	ObjectID uint64
	Type     uint32
	Offset   uint64
	Transid  uint64
	Data     []byte
}

// DecodeItems reads a run of (struct btrfs_ioctl_search_header, item)
// pairs as BTRFS_IOC_TREE_SEARCH lays them in its buffer (headers in
// native byte order, items on-disk little-endian) up to the end of buf.
// The items alias buf.
func DecodeItems(buf []byte) ([]Item, error) {
	var out []Item
	for len(buf) > 0 {
		var it Item
		var n int
		err := fsioctl.BtrfsSearchItems(buf, 1, func(h fsioctl.BtrfsSearchHeader, item []byte) {
			it = Item{ObjectID: h.ObjectID, Type: h.Type, Offset: h.Offset, Transid: h.Transid, Data: item}
			n = fsioctl.SizeofBtrfsSearchHeader + len(item)
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		out = append(out, it)
		buf = buf[n:]
	}
	return out, nil
}

// QgroupsFromItems merges QGROUP_INFO and QGROUP_LIMIT items of the quota
// tree (other items are ignored) into qgroups sorted by id, as Qgroups
// does with what it reads.
func QgroupsFromItems(items []Item) ([]Qgroup, error) {
	by := map[QgroupID]*Qgroup{}
	get := func(id QgroupID) *Qgroup {
		q := by[id]
		if q == nil {
			q = &Qgroup{ID: id, MaxReferenced: -1, MaxExclusive: -1}
			by[id] = q
		}
		return q
	}
	for _, it := range items {
		switch it.Type {
		case fsioctl.BtrfsQgroupInfoKey:
			in, err := ParseQgroupInfo(it.Data)
			if err != nil {
				return nil, err
			}
			q := get(QgroupID(it.Offset))
			q.Referenced, q.Exclusive = clamp(in.Rfer), clamp(in.Excl)
		case fsioctl.BtrfsQgroupLimitKey:
			l, err := ParseQgroupLimit(it.Data)
			if err != nil {
				return nil, err
			}
			q := get(QgroupID(it.Offset))
			if l.Flags&fsioctl.BtrfsQgroupLimitMaxRfer != 0 {
				q.MaxReferenced = clamp(l.MaxRfer)
			}
			if l.Flags&fsioctl.BtrfsQgroupLimitMaxExcl != 0 {
				q.MaxExclusive = clamp(l.MaxExcl)
			}
		}
	}
	out := make([]Qgroup, 0, len(by))
	for _, q := range by {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
