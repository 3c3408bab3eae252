package probe

import "crypto/md5"

// HFS keeps its master directory block (MDB), and HFS+ its volume header, at
// 1 KiB; an HFS+ volume may also sit inside an HFS "wrapper" whose MDB
// points at it.
const (
	hfsSBOff   = 1024
	hfsMDBSize = 130 // through the embedded volume's extent
	hfsVHSize  = 512 // HFS+ volume header

	hfsCatHeaderRead = 0x2000 // blkid reads this much of the catalog's header node
	hfsNodeLeaf      = 0xff
	hfsRootParentID  = 1 // parent of the root folder's record
	hfsNodeDescSize  = 14
	hfsCatKeySize    = 518 // key length, parent id, name length, 255 UTF-16 units
	hfsExtents       = 8
)

// hfsUUIDNamespace is the MD5 prefix Apple uses to turn the 64-bit volume
// id of the Finder info into a UUID (a name-based, version 3 UUID).
var hfsUUIDNamespace = [16]byte{
	0xb3, 0xe2, 0x0f, 0x39, 0xf2, 0x92, 0x11, 0xd6,
	0x97, 0xa4, 0x00, 0x30, 0x65, 0x43, 0xec, 0xac,
}

// hfsUUID derives the UUID from the Finder info's volume id as blkid does;
// an all-zero id means none.
func hfsUUID(id []byte) string {
	if isZero(id) {
		return ""
	}
	h := md5.New()
	h.Write(hfsUUIDNamespace[:])
	h.Write(id)
	u := h.Sum(nil)
	u[6] = 0x30 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return uuidString(u)
}

func hfsIsPlusSig(b []byte) bool { return hasAt(b, 0, "H+") || hasAt(b, 0, "HX") }

// probeHFS finds a plain HFS volume. A wrapper around an embedded HFS+ is
// left to probeHFSPlus. hfs is tolerant in blkid: another filesystem's
// signature beside it does not make the result ambiguous on its own.
func probeHFS(s *source) (*sb, error) {
	m := s.headAt(hfsSBOff, hfsMDBSize)
	if m == nil || !hasAt(m, 0, "BD") || hfsIsPlusSig(m[124:]) {
		return nil, nil
	}
	if bs := be.Uint32(m[20:]); bs == 0 || bs%512 != 0 {
		return nil, nil
	}
	n := int(m[36])
	if n > 27 {
		n = 27
	}
	// The name is Mac Roman; blkid passes its bytes through unconverted.
	return &sb{tolerant: true, uuid: hfsUUID(m[116:124]), label: label(m[37 : 37+n])}, nil
}

// probeHFSPlus finds HFS+ and HFSX, alone or inside an HFS wrapper. The
// label is the name in the catalog b-tree's first leaf record, the root
// folder's, found the way blkid finds it.
func probeHFSPlus(s *source) (*sb, error) {
	m := s.headAt(hfsSBOff, hfsMDBSize)
	if m == nil {
		return nil, nil
	}
	var off uint32 // the embedded volume's offset; 32-bit arithmetic, as blkid's
	var vh []byte
	switch {
	case hasAt(m, 0, "BD"):
		if !hfsIsPlusSig(m[124:]) {
			return nil, nil // plain HFS
		}
		off = uint32(be.Uint16(m[28:]))*512 + uint32(be.Uint16(m[126:]))*be.Uint32(m[20:])
		var err error
		if vh, err = ntfsAt(s, uint64(off)+hfsSBOff, hfsVHSize); vh == nil {
			return nil, err
		}
	case hfsIsPlusSig(m):
		if vh = s.headAt(hfsSBOff, hfsVHSize); vh == nil {
			return nil, nil
		}
	default:
		return nil, nil
	}
	if !hfsIsPlusSig(vh) {
		return nil, nil
	}
	blocksize := be.Uint32(vh[40:])
	if blocksize < 512 {
		return nil, nil
	}
	r := &sb{uuid: hfsUUID(vh[104:112])}
	lbl, err := hfsPlusLabel(s, uint64(off), blocksize, vh[288:288+hfsExtents*8])
	if err != nil && err != errBudget {
		return nil, err
	}
	r.label = lbl
	return r, nil
}

// hfsPlusLabel reads the catalog file's header node for the first leaf
// node's number and size, maps it through the catalog's first extents, and
// takes the name of that node's first record when it is the root folder's.
// Like blkid it addresses the node by whole allocation blocks, and any
// inconsistency leaves the volume without a label rather than unrecognised.
func hfsPlusLabel(s *source, off uint64, blocksize uint32, extents []byte) (string, error) {
	catBlock := be.Uint32(extents[0:])
	hdr, err := ntfsAt(s, off+uint64(catBlock)*uint64(blocksize), hfsCatHeaderRead)
	if hdr == nil {
		return "", err
	}
	leafHead := be.Uint32(hdr[hfsNodeDescSize+10:])
	leafRecords := be.Uint32(hdr[hfsNodeDescSize+6:])
	nodeSize := uint32(be.Uint16(hdr[hfsNodeDescSize+18:]))
	if nodeSize < hfsNodeDescSize+hfsCatKeySize || leafRecords == 0 {
		return "", nil
	}
	leafBlock := leafHead * nodeSize / blocksize
	var start uint32
	found := false
	for i := 0; i < hfsExtents; i++ {
		start = be.Uint32(extents[i*8:])
		count := be.Uint32(extents[i*8+4:])
		if count == 0 {
			return "", nil
		}
		if leafBlock < count {
			found = true
			break
		}
		leafBlock -= count
	}
	if !found {
		return "", nil
	}
	leafOff := (uint64(start) + uint64(leafBlock)) * uint64(blocksize)
	node, err := ntfsAt(s, off+leafOff, int(nodeSize))
	if node == nil {
		return "", err
	}
	if be.Uint16(node[10:]) == 0 || node[8] != hfsNodeLeaf {
		return "", nil
	}
	key := node[hfsNodeDescSize:]
	nameLen := int(be.Uint16(key[6:]))
	if be.Uint32(key[2:]) != hfsRootParentID || nameLen > 255 {
		return "", nil
	}
	return utf16Label(key[8:8+nameLen*2], true), nil
}
