package probe

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"unicode/utf16"
)

// Synthetic images: the smallest bytes each format needs to be recognised,
// built in Go so unit tests and fuzz seeds need no mkfs tools and no
// committed binaries.

var testUUID = []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}

const testUUIDString = "12345678-9abc-def0-0123-456789abcdef"

func synthExt(size int, compat, incompat, roCompat uint32, lbl string) []byte {
	b := make([]byte, size)
	sb := b[1024:]
	sb[0x38], sb[0x39] = 0x53, 0xef
	binary.LittleEndian.PutUint32(sb[0x4c:], 1)
	binary.LittleEndian.PutUint32(sb[0x5c:], compat)
	binary.LittleEndian.PutUint32(sb[0x60:], incompat)
	binary.LittleEndian.PutUint32(sb[0x64:], roCompat)
	copy(sb[0x68:], testUUID)
	copy(sb[0x78:0x88], lbl)
	return b
}

func synthXFS(size int, lbl string) []byte {
	b := make([]byte, size)
	copy(b, "XFSB")
	be := binary.BigEndian
	be.PutUint32(b[4:], 4096)
	be.PutUint64(b[8:], 1000)
	copy(b[32:], testUUID)
	be.PutUint32(b[80:], 1)
	be.PutUint32(b[84:], 500)
	be.PutUint32(b[88:], 2)
	be.PutUint16(b[100:], 5)
	be.PutUint16(b[102:], 512)
	be.PutUint16(b[104:], 512)
	be.PutUint16(b[106:], 8)
	copy(b[108:120], lbl)
	b[120], b[121], b[122], b[123], b[124] = 12, 9, 9, 3, 9
	return b
}

func synthBtrfs(size int, lbl string) []byte {
	b := make([]byte, size)
	sb := b[0x10000:]
	copy(sb[0x20:], testUUID)
	copy(sb[0x40:], "_BHRfS_M")
	copy(sb[201+66:], testUUID[8:])
	copy(sb[201+74:], testUUID[:8])
	copy(sb[299:], lbl)
	return b
}

func synthSwap(size int, lbl string) []byte {
	b := make([]byte, size)
	copy(b[0xff6:], "SWAPSPACE2")
	h := b[1024:]
	binary.LittleEndian.PutUint32(h[0:], 1)
	binary.LittleEndian.PutUint32(h[4:], uint32(size/4096-1))
	copy(h[12:], testUUID)
	copy(h[28:44], lbl)
	return b
}

func synthLVM(size int) []byte {
	b := make([]byte, size)
	l := b[512:1024]
	copy(l, "LABELONE")
	binary.LittleEndian.PutUint64(l[8:], 1)
	binary.LittleEndian.PutUint32(l[20:], 32)
	copy(l[24:], "LVM2 001")
	copy(l[32:], "abcdefghijklmnopqrstuvwxyzABCDEF")
	crc := ^crc32.Update(^uint32(0xf597a6cf), crc32.IEEETable, l[20:])
	binary.LittleEndian.PutUint32(l[16:], crc)
	return b
}

func synthLUKS(size int, version uint16, lbl string) []byte {
	b := make([]byte, size)
	copy(b, luksMagic)
	binary.BigEndian.PutUint16(b[6:], version)
	copy(b[168:], testUUIDString)
	if version == 2 {
		copy(b[24:72], lbl)
	}
	return b
}

func synthSquashfs(size int) []byte {
	b := make([]byte, size)
	copy(b, "hsqs")
	binary.LittleEndian.PutUint16(b[28:], 4)
	return b
}

// synthISO writes a PVD (and a Joliet SVD when joliet is not empty) and a
// set terminator, enough for blkid's iso9660 prober.
func synthISO(size int, lbl, joliet string) []byte {
	b := make([]byte, size)
	pvd := b[0x8000:]
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	copy(pvd[40:72], bytes.Repeat([]byte(" "), 32))
	copy(pvd[40:], lbl)
	copy(pvd[813:], "2026112519153500")
	copy(pvd[830:], "2026112519160000")
	next := b[0x8800:]
	if joliet != "" {
		next[0] = 2
		copy(next[1:], "CD001")
		next[6] = 1
		copy(next[88:], "%/E")
		u := utf16.Encode([]rune(joliet))
		for i := 0; i < 16; i++ {
			c := uint16(' ')
			if i < len(u) {
				c = u[i]
			}
			binary.BigEndian.PutUint16(next[40+2*i:], c)
		}
		next = b[0x9000:]
	}
	next[0] = 0xff
	copy(next[1:], "CD001")
	next[6] = 1
	return b
}

// synthFAT16 is a FAT16 boot sector with the label in the boot sector and,
// when rootLabel is set, a volume-label entry in the root directory.
func synthFAT16(size int, bootLabel, rootLabel string) []byte {
	b := make([]byte, size)
	b[0] = 0xeb
	le := binary.LittleEndian
	le.PutUint16(b[0x0b:], 512)
	b[0x0d] = 1
	le.PutUint16(b[0x0e:], 1)
	b[0x10] = 2
	le.PutUint16(b[0x11:], 512)
	sectors := size / 512
	le.PutUint16(b[0x13:], uint16(sectors))
	b[0x15] = 0xf8
	le.PutUint16(b[0x16:], 64)
	b[0x26] = 0x29
	copy(b[0x27:], []byte{0xd2, 0x0d, 0x77, 0x2f})
	copy(b[0x2b:0x36], bytes.Repeat([]byte(" "), 11))
	copy(b[0x2b:], bootLabel)
	copy(b[0x36:], "FAT16   ")
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	if rootLabel != "" {
		root := b[(1+2*64)*512:]
		copy(root[:11], bytes.Repeat([]byte(" "), 11))
		copy(root, rootLabel)
		root[11] = fatAttrVolumeID
	}
	return b
}

type synthPart struct {
	start, size uint64
	typ         byte
	boot        bool
}

// synthMBR writes a dos table. Logical partitions go in one extended
// partition (which must be among parts with type 0x05) as a chain of EBRs,
// each placed one sector before its partition.
func synthMBR(size int, id uint32, parts []synthPart, logical []synthPart) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint32(b[440:], id)
	var ext synthPart
	for i, p := range parts {
		e := b[446+16*i:]
		if p.boot {
			e[0] = 0x80
		}
		e[4] = p.typ
		le.PutUint32(e[8:], uint32(p.start))
		le.PutUint32(e[12:], uint32(p.size))
		if p.typ == 0x05 {
			ext = p
		}
	}
	b[510], b[511] = 0x55, 0xaa
	ebrAt := func(i int) uint64 {
		if i == 0 {
			return ext.start
		}
		return logical[i].start - 1
	}
	for i, l := range logical {
		loc := ebrAt(i)
		ebr := b[loc*512:]
		e := ebr[446:]
		e[4] = l.typ
		le.PutUint32(e[8:], uint32(l.start-loc))
		le.PutUint32(e[12:], uint32(l.size))
		if i+1 < len(logical) {
			n := ebr[462:]
			n[4] = 0x05
			le.PutUint32(n[8:], uint32(ebrAt(i+1)-ext.start))
			le.PutUint32(n[12:], uint32(logical[i+1].size+1))
		}
		ebr[510], ebr[511] = 0x55, 0xaa
	}
	return b
}

type synthGPTPart struct {
	typ, uuid   []byte
	first, last uint64
	name        string
	attrs       uint64
}

// synthGPT writes a protective MBR, primary and backup GPT with 128 entries.
func synthGPT(size int, disk []byte, parts []synthGPTPart) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	lastLBA := uint64(size/512 - 1)
	pm := b[446:]
	pm[4] = 0xee
	le.PutUint32(pm[8:], 1)
	le.PutUint32(pm[12:], uint32(lastLBA))
	b[510], b[511] = 0x55, 0xaa
	ents := make([]byte, 128*128)
	for i, p := range parts {
		e := ents[i*128:]
		copy(e[0:], p.typ)
		copy(e[16:], p.uuid)
		le.PutUint64(e[32:], p.first)
		le.PutUint64(e[40:], p.last)
		le.PutUint64(e[48:], p.attrs)
		for j, c := range utf16.Encode([]rune(p.name)) {
			le.PutUint16(e[56+2*j:], c)
		}
	}
	ecrc := crc32.ChecksumIEEE(ents)
	hdr := func(my, alt, entLBA uint64) []byte {
		h := make([]byte, 92)
		copy(h, "EFI PART")
		le.PutUint32(h[8:], 0x00010000)
		le.PutUint32(h[12:], 92)
		le.PutUint64(h[24:], my)
		le.PutUint64(h[32:], alt)
		le.PutUint64(h[40:], 34)
		le.PutUint64(h[48:], lastLBA-33)
		copy(h[56:], disk)
		le.PutUint64(h[72:], entLBA)
		le.PutUint32(h[80:], 128)
		le.PutUint32(h[84:], 128)
		le.PutUint32(h[88:], ecrc)
		le.PutUint32(h[16:], crc32.ChecksumIEEE(h))
		return h
	}
	copy(b[512:], hdr(1, lastLBA, 2))
	copy(b[1024:], ents)
	copy(b[(lastLBA-32)*512:], ents)
	copy(b[lastLBA*512:], hdr(lastLBA, 1, lastLBA-32))
	return b
}
