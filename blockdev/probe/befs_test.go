package probe

import (
	"encoding/binary"
	"testing"
)

// befsImg builds a small BeFS volume of 1 KiB blocks: the superblock, the
// root directory's inode at block 4, and whatever a test adds. Nothing but
// allocation group 0 is used unless a test says otherwise.
type befsImg struct {
	b     []byte
	o     binary.ByteOrder
	sbOff int
}

const (
	befsTestSize = 1536 << 10
	befsRootBlk  = 4
	befsAttrBlk  = 5  // the root's attribute directory inode
	befsTreeBlk  = 6  // its B+tree: header, then nodes
	befsValueBlk = 20 // the be:volume_id attribute's inode
	befsDataBlk  = 21 // and its 8 bytes
)

func newBefsImg(o binary.ByteOrder, sbOff int, name string) *befsImg {
	m := &befsImg{b: make([]byte, befsTestSize), o: o, sbOff: sbOff}
	sb := m.b[sbOff:]
	copy(sb[0:32], name)
	o.PutUint32(sb[32:], befsMagic1)
	o.PutUint32(sb[36:], befsByteOrder)
	o.PutUint32(sb[40:], 1024)
	o.PutUint32(sb[44:], 10)
	o.PutUint64(sb[48:], befsTestSize/1024)
	o.PutUint32(sb[64:], 1024)
	o.PutUint32(sb[68:], befsMagic2)
	o.PutUint32(sb[72:], 8192)
	o.PutUint32(sb[76:], 13)
	o.PutUint32(sb[80:], 1)
	o.PutUint32(sb[112:], befsMagic3)
	m.run(sb[116:], 0, befsRootBlk, 1)
	m.inode(befsRootBlk)
	return m
}

func (m *befsImg) blk(n int) []byte { return m.b[n*1024 : n*1024+1024] }

func (m *befsImg) sb() []byte { return m.b[m.sbOff : m.sbOff+befsSBSize] }

func (m *befsImg) run(dst []byte, ag uint32, start, n uint16) {
	m.o.PutUint32(dst[0:], ag)
	m.o.PutUint16(dst[4:], start)
	m.o.PutUint16(dst[6:], n)
}

// inode starts an inode filling block n and returns it.
func (m *befsImg) inode(n int) []byte {
	ino := m.blk(n)
	m.o.PutUint32(ino[0:], befsInodeMagic)
	m.run(ino[4:], 0, uint16(n), 1)
	m.o.PutUint32(ino[64:], 1024)
	return ino
}

// smallData writes a small-data entry at off into the inode's small-data
// area and returns the offset after it.
func (m *befsImg) smallData(ino []byte, off int, typ uint32, name string, data []byte) int {
	sd := ino[befsInodeSize+off:]
	m.o.PutUint32(sd[0:], typ)
	m.o.PutUint16(sd[4:], uint16(len(name)))
	m.o.PutUint16(sd[6:], uint16(len(data)))
	copy(sd[8:], name)
	copy(sd[8+len(name)+3:], data)
	return off + 8 + len(name) + 3 + len(data) + 1
}

// withVolumeID stores id inline in the root inode, as Haiku does.
func (m *befsImg) withVolumeID(id uint64) *befsImg {
	v := make([]byte, 8)
	m.o.PutUint64(v, id)
	m.smallData(m.blk(befsRootBlk), 0, befsUint64Type, befsKey, v)
	return m
}

// withTree gives the root an attribute directory whose B+tree, in blocks
// befsTreeBlk on (header, then one block per node), maps be:volume_id to an
// attribute inode holding id.
func (m *befsImg) withTree(id uint64, nodes ...befsNode) *befsImg {
	m.run(m.blk(befsRootBlk)[52:], 0, befsAttrBlk, 1)
	ad := m.inode(befsAttrBlk)
	ds := ad[befsDataOff:]
	n := uint16(1 + len(nodes))
	m.run(ds[0:], 0, befsTreeBlk, n)
	m.o.PutUint64(ds[96:], uint64(n)*1024)
	m.o.PutUint64(ds[112:], uint64(n)*1024)
	m.o.PutUint64(ds[128:], uint64(n)*1024)
	m.o.PutUint64(ds[136:], uint64(n)*1024)
	m.treeHeader(m.blk(befsTreeBlk), 1024)
	for i, nd := range nodes {
		m.node(m.blk(befsTreeBlk+1+i), nd)
	}
	vi := m.inode(befsValueBlk)
	m.o.PutUint32(vi[60:], befsUint64Type)
	m.run(vi[befsDataOff:], 0, befsDataBlk, 1)
	m.o.PutUint64(vi[befsDataOff+136:], 8)
	m.o.PutUint64(m.blk(befsDataBlk), id)
	return m
}

func (m *befsImg) treeHeader(h []byte, root int64) {
	m.o.PutUint32(h[0:], befsTreeMagic)
	m.o.PutUint32(h[4:], 1024)
	m.o.PutUint32(h[8:], 2)
	m.o.PutUint64(h[16:], uint64(root))
	m.o.PutUint64(h[24:], ^uint64(0))
}

// befsNode is one B+tree node: a leaf when overflow is -1, else an index
// node whose overflow link holds the keys above all of its own.
type befsNode struct {
	overflow int64
	keys     []string
	vals     []int64
}

func (m *befsImg) node(b []byte, nd befsNode) {
	m.o.PutUint64(b[0:], ^uint64(0))
	m.o.PutUint64(b[8:], ^uint64(0))
	m.o.PutUint64(b[16:], uint64(nd.overflow))
	m.o.PutUint16(b[24:], uint16(len(nd.keys)))
	p := befsNodeHdrSize
	var ends []uint16
	for _, k := range nd.keys {
		p += copy(b[p:], k)
		ends = append(ends, uint16(p-befsNodeHdrSize))
	}
	m.o.PutUint16(b[26:], uint16(p-befsNodeHdrSize))
	p = (p + 7) &^ 7
	for _, e := range ends {
		m.o.PutUint16(b[p:], e)
		p += 2
	}
	for _, v := range nd.vals {
		m.o.PutUint64(b[p:], uint64(v))
		p += 8
	}
}

func befsLeaf(keys []string, vals ...int64) befsNode {
	return befsNode{overflow: -1, keys: keys, vals: vals}
}

const befsTestID = 0x95d89dec82f6b73b

func TestBeFS(t *testing.T) {
	befs := func(ver, uuid string) *Result {
		return &Result{Type: "befs", Usage: UsageFilesystem, Version: ver, UUID: uuid, Label: "befs_test"}
	}
	const id = "95d89dec82f6b73b"
	img := func(m *befsImg) []byte { return m.b }
	leLE := func() *befsImg { return newBefsImg(le, 0x200, "befs_test") }
	mod := func(m *befsImg, f func(m *befsImg)) []byte { f(m); return m.b }

	cases := []imageCase{
		{"inline id", img(leLE().withVolumeID(befsTestID)), befs("little-endian", id)},
		{"big endian", img(newBefsImg(be, 0x200, "befs_test").withVolumeID(befsTestID)), befs("big-endian", id)},
		{"no boot block", img(newBefsImg(le, 0, "befs_test").withVolumeID(befsTestID)), befs("little-endian", id)},
		{"big endian without boot block", img(newBefsImg(be, 0, "befs_test").withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk))), befs("big-endian", id)},
		{"no id anywhere", img(leLE()), befs("little-endian", "")},
		{"no label", img(newBefsImg(le, 0x200, "").withVolumeID(1)), &Result{Type: "befs", Usage: UsageFilesystem, Version: "little-endian", UUID: "0000000000000001"}},
		{"inline id after other attributes", mod(leLE(), func(m *befsImg) {
			ino := m.blk(befsRootBlk)
			off := m.smallData(ino, 0, 0x54455854, "name", []byte("x\x00"))
			off = m.smallData(ino, off, befsUint64Type, "be:volume_iX", make([]byte, 8))
			v := make([]byte, 8)
			le.PutUint64(v, befsTestID)
			m.smallData(ino, off, befsUint64Type, befsKey, v)
		}), befs("little-endian", id)},
		// an empty entry ends the small-data area
		{"inline id after an empty entry", mod(leLE(), func(m *befsImg) {
			v := make([]byte, 8)
			le.PutUint64(v, befsTestID)
			m.smallData(m.blk(befsRootBlk), 8+3+1, befsUint64Type, befsKey, v)
		}), befs("little-endian", "")},
		// blkid bounds the small-data area by inode_size as if it counted
		// from the end of the inode header: the 32-byte entry needs 32
		{"inline id past inode_size", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.blk(befsRootBlk)[64:], 31)
		}), befs("little-endian", "")},
		{"inline id within inode_size", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.blk(befsRootBlk)[64:], 32)
		}), befs("little-endian", id)},
		{"inline id of the wrong size", mod(leLE(), func(m *befsImg) {
			m.smallData(m.blk(befsRootBlk), 0, befsUint64Type, befsKey, []byte{1, 2, 3, 4})
		}), befs("little-endian", "")},
		{"tree leaf, only key", img(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk))), befs("little-endian", id)},
		{"tree leaf, binary search", img(leLE().withTree(befsTestID,
			befsLeaf([]string{"BEOS:TYPE", "a:name", befsKey, "be:volume_idx", "zz"}, 50, 51, befsValueBlk, 52, 53))), befs("little-endian", id)},
		{"tree leaf, key absent", img(leLE().withTree(befsTestID, befsLeaf([]string{"a", "z"}, 50, 51))), befs("little-endian", "")},
		{"tree leaf, key above all", img(leLE().withTree(befsTestID, befsLeaf([]string{"a", "b"}, 50, 51))), befs("little-endian", "")},
		// a key that is the sought one less its last two bytes compares as
		// -2, blkid's code for a corrupt node: it then reports nothing
		{"tree key two bytes short", img(leLE().withTree(befsTestID, befsLeaf([]string{"be:volume_"}, befsValueBlk))), nil},
		{"tree key one byte short", img(leLE().withTree(befsTestID, befsLeaf([]string{"be:volume_i"}, befsValueBlk))), befs("little-endian", "")},
		{"tree index to overflow", img(leLE().withTree(befsTestID,
			befsNode{overflow: 2048, keys: []string{"aaa"}, vals: []int64{9999}},
			befsLeaf([]string{befsKey}, befsValueBlk))), befs("little-endian", id)},
		{"tree index to child", img(leLE().withTree(befsTestID,
			befsNode{overflow: 3072, keys: []string{"m"}, vals: []int64{2048}},
			befsLeaf([]string{befsKey}, befsValueBlk),
			befsLeaf([]string{"x"}, 50))), befs("little-endian", id)},
		{"tree index exact key", img(leLE().withTree(befsTestID,
			befsNode{overflow: 3072, keys: []string{"a", befsKey}, vals: []int64{9999, 2048}},
			befsLeaf([]string{befsKey}, befsValueBlk),
			befsLeaf([]string{"x"}, 50))), befs("little-endian", id)},
		{"tree index middle key", img(leLE().withTree(befsTestID,
			befsNode{overflow: 3072, keys: []string{"a", befsKey, "c"}, vals: []int64{9999, 2048, 9999}},
			befsLeaf([]string{befsKey}, befsValueBlk),
			befsLeaf([]string{"x"}, 50))), befs("little-endian", id)},
		// blkid gives up after 100 nodes and reports befs without a UUID
		{"tree loop", img(leLE().withTree(befsTestID, befsNode{overflow: 1024, keys: []string{"a"}, vals: []int64{1024}})), befs("little-endian", "")},
		{"tree bad magic", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			m.blk(befsTreeBlk)[0] ^= 1
		}), nil},
		{"tree node smaller than its header", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			le.PutUint32(m.blk(befsTreeBlk)[4:], befsNodeHdrSize-1)
		}), nil},
		{"tree node past its stream", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			le.PutUint64(m.blk(befsTreeBlk)[16:], 1025)
		}), nil},
		{"tree tables overflow the node", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			le.PutUint16(m.blk(befsTreeBlk + 1)[24:], 200)
		}), nil},
		{"attribute directory bad magic", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			m.blk(befsAttrBlk)[0] ^= 1
		}), nil},
		{"attribute inode bad magic", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			m.blk(befsValueBlk)[0] ^= 1
		}), nil},
		{"attribute of another type", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			le.PutUint32(m.blk(befsValueBlk)[60:], 0x4c4f4e47)
		}), befs("little-endian", "")},
		{"attribute of another size", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			le.PutUint64(m.blk(befsValueBlk)[befsDataOff+136:], 16)
		}), befs("little-endian", "")},
		{"attribute inode off the device", img(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsTestSize/1024))), nil},
		{"attribute value negative", img(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, -5))), nil},
		// the tree through an indirect block of runs
		{"tree via indirect block", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			ds := m.blk(befsAttrBlk)[befsDataOff:]
			m.run(ds[0:], 0, 0, 0)
			le.PutUint64(ds[96:], 0)
			m.run(ds[104:], 0, 12, 1)
			le.PutUint64(ds[112:], 2048)
			ind := m.blk(12)
			m.run(ind[0:], 0, befsTreeBlk, 1)
			m.run(ind[8:], 0, befsTreeBlk+1, 1)
		}), befs("little-endian", id)},
		// and through the double-indirect tree, whose runs are one block each
		{"tree via double indirect", mod(leLE().withTree(befsTestID, befsLeaf([]string{befsKey}, befsValueBlk)), func(m *befsImg) {
			ds := m.blk(befsAttrBlk)[befsDataOff:]
			m.run(ds[0:], 0, 0, 0)
			le.PutUint64(ds[96:], 0)
			le.PutUint64(ds[112:], 0)
			m.run(ds[120:], 0, 12, 1)
			le.PutUint64(ds[128:], 2048)
			m.run(m.blk(12)[0:], 0, 13, 1)
			m.run(m.blk(13)[0:], 0, befsTreeBlk, 1)
			m.run(m.blk(13)[8:], 0, befsTreeBlk+1, 1)
		}), befs("little-endian", id)},
		// allocation group 1 of 4-block groups: the root is block 4+2
		{"allocation groups", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.sb()[76:], 2)
			m.run(m.sb()[116:], 1, 2, 1)
			copy(m.blk(6), m.blk(befsRootBlk))
			clear(m.blk(befsRootBlk))
		}), befs("little-endian", id)},
		// blkid shifts by the group shift modulo 64
		{"group shift modulo 64", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.sb()[76:], 64+2)
			m.run(m.sb()[116:], 1, 0, 1)
		}), befs("little-endian", id)},
		{"root inode bad magic", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { m.blk(befsRootBlk)[0] ^= 1 }), nil},
		{"root inode off the device", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { m.run(m.sb()[116:], 0, befsTestSize/1024, 1) }), nil},
		{"root run of no blocks", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { m.run(m.sb()[116:], 0, befsRootBlk, 0) }), nil},
		{"512-byte blocks", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.sb()[40:], 512)
			le.PutUint32(m.sb()[44:], 9)
		}), nil},
		{"block size not its shift", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { le.PutUint32(m.sb()[40:], 2048) }), nil},
		{"8 KiB blocks", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) {
			le.PutUint32(m.sb()[40:], 8192)
			le.PutUint32(m.sb()[44:], 13)
			m.run(m.sb()[116:], 0, 1, 1) // block 1 = byte 8192
			copy(m.b[8192:], m.blk(befsRootBlk))
		}), befs("little-endian", id)},
		{"magic3 wrong", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { m.sb()[112] ^= 1 }), nil},
		{"byte order word wrong", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { m.sb()[36] ^= 1 }), nil},
		// the magic at 32 comes first: a superblock failing there is not
		// retried at 512
		{"first magic decides", mod(leLE().withVolumeID(befsTestID), func(m *befsImg) { copy(m.b[32:], "1SFB") }), nil},
		{"under 1440 KiB", leLE().withVolumeID(befsTestID).b[:1440<<10-512], nil},
	}
	checkImages(t, cases)
}

func FuzzBeFS(f *testing.F) {
	// the superblock, the root inode and the attribute tree, all in the
	// first 22 KiB
	fuzzProbers(f, 0, [][]byte{
		region(newBefsImg(le, 0x200, "f").withVolumeID(befsTestID).b, 0, 5<<10),
		region(newBefsImg(be, 0, "f").withTree(befsTestID, befsNode{overflow: 2048, keys: []string{"aaa"}, vals: []int64{9}},
			befsLeaf([]string{"a", befsKey}, 1, befsValueBlk)).b, 0, 22<<10),
	}, probeBeFS)
}
