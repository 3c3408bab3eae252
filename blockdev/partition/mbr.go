package partition

import (
	"encoding/binary"
	"fmt"
	"slices"
)

const (
	mbrEntriesOff = 446
	mbrDiskIDOff  = 440
	mbrMaxLogical = 256 // bound on the EBR chain; a loop or a runaway chain stops here
)

// mbrEntry is one 16-byte partition record.
type mbrEntry struct {
	Boot  byte
	Type  byte
	Start uint32 // LBA
	Size  uint32 // sectors
}

func hasMBRSignature(s []byte) bool { return len(s) >= 512 && s[510] == 0x55 && s[511] == 0xaa }

func mbrEntries(s []byte) [4]mbrEntry {
	var out [4]mbrEntry
	for i := range out {
		e := s[mbrEntriesOff+16*i : mbrEntriesOff+16*(i+1)]
		out[i] = mbrEntry{Boot: e[0], Type: e[4], Start: binary.LittleEndian.Uint32(e[8:12]), Size: binary.LittleEndian.Uint32(e[12:16])}
	}
	return out
}

func putMBREntry(s []byte, i int, e mbrEntry) {
	b := s[mbrEntriesOff+16*i : mbrEntriesOff+16*(i+1)]
	clear(b)
	if e.Type == 0 {
		return
	}
	b[0] = e.Boot
	b[4] = e.Type
	putCHS(b[1:4], uint64(e.Start))
	end := uint64(e.Start) + uint64(e.Size) - 1
	if e.Size == 0 {
		end = uint64(e.Start)
	}
	putCHS(b[5:8], end)
	binary.LittleEndian.PutUint32(b[8:12], e.Start)
	binary.LittleEndian.PutUint32(b[12:16], e.Size)
}

// putCHS writes the legacy cylinder/head/sector address for lba with the
// 255-head, 63-sector geometry fdisk and sgdisk use; addresses past cylinder
// 1023 get the conventional 1023/254/63 marker.
func putCHS(b []byte, lba uint64) {
	const heads, spt = 255, 63
	c := lba / (heads * spt)
	if c > 1023 {
		b[0], b[1], b[2] = 0xfe, 0xff, 0xff
		return
	}
	h := (lba / spt) % heads
	s := lba%spt + 1
	b[0] = byte(h)
	b[1] = byte(s) | byte((c>>2)&0xc0)
	b[2] = byte(c)
}

// mbrKind classifies sector 0.
type mbrKind int

const (
	mbrNone       mbrKind = iota // no 0x55AA signature
	mbrEmpty                     // signature, no partitions
	mbrProtective                // exactly one 0xEE entry starting at LBA 1
	mbrHybrid                    // a 0xEE entry alongside other entries
	mbrDOS                       // a plain dos table
)

func classifyMBR(s []byte) mbrKind {
	if !hasMBRSignature(s) {
		return mbrNone
	}
	ee, other := 0, 0
	for _, e := range mbrEntries(s) {
		switch e.Type {
		case 0:
		case MBRTypeProtective:
			ee++
		default:
			other++
		}
	}
	switch {
	case ee > 0 && other > 0:
		return mbrHybrid
	case ee > 0:
		return mbrProtective
	case other > 0:
		return mbrDOS
	}
	return mbrEmpty
}

// sectorReader reads one logical sector.
type sectorReader func(lba uint64) ([]byte, error)

// parseDOS decodes a dos table from sector 0, following the EBR chain of an
// extended partition with read. It returns the table and the problems met on
// the way (a broken chain stops at the break; what came before is kept).
func parseDOS(s0 []byte, sectorSize int, sectors uint64, read sectorReader) (*Table, []Problem, error) {
	t := &Table{Label: LabelDOS, SectorSize: sectorSize, Sectors: sectors, DiskID: binary.LittleEndian.Uint32(s0[mbrDiskIDOff:])}
	var probs []Problem
	var ext *Partition
	for i, e := range mbrEntries(s0) {
		if e.Type == 0 {
			continue
		}
		p := Partition{Number: i + 1, Start: uint64(e.Start), Size: uint64(e.Size), MBRType: e.Type, Bootable: e.Boot == 0x80}
		t.Partitions = append(t.Partitions, p)
		if isExtended(e.Type) {
			if ext != nil {
				probs = append(probs, Problem{Kind: ErrBadEBRChain, Detail: "more than one extended partition", Partitions: []int{ext.Number, p.Number}})
				continue
			}
			ext = &t.Partitions[len(t.Partitions)-1]
		}
	}
	if ext == nil {
		return t, probs, nil
	}
	extStart, extEnd := ext.Start, ext.End()
	next := extStart
	seen := map[uint64]bool{}
	for n := 5; ; n++ {
		if n-5 >= mbrMaxLogical {
			probs = append(probs, Problem{Kind: ErrBadEBRChain, Detail: fmt.Sprintf("more than %d logical partitions", mbrMaxLogical)})
			break
		}
		if seen[next] || next < extStart || next > extEnd {
			probs = append(probs, Problem{Kind: ErrBadEBRChain, Detail: fmt.Sprintf("EBR link to LBA %d loops or leaves the extended partition %d-%d", next, extStart, extEnd)})
			break
		}
		seen[next] = true
		if next >= sectors {
			// An extended partition reaching past the end of a disk that
			// shrank: the chain is broken there, which is a finding, not
			// a failed read.
			probs = append(probs, Problem{Kind: ErrBadEBRChain, Detail: fmt.Sprintf("EBR link to LBA %d is past the disk's last LBA %d", next, sectors-1)})
			break
		}
		s, err := read(next)
		if err != nil {
			return nil, nil, err
		}
		if !hasMBRSignature(s) {
			if next == extStart && n == 5 {
				break // an empty extended partition
			}
			probs = append(probs, Problem{Kind: ErrBadEBRChain, Detail: fmt.Sprintf("EBR at LBA %d has no signature", next)})
			break
		}
		es := mbrEntries(s)
		if es[0].Type != 0 && es[0].Size != 0 {
			t.Partitions = append(t.Partitions, Partition{Number: n, Start: next + uint64(es[0].Start), Size: uint64(es[0].Size), MBRType: es[0].Type, Bootable: es[0].Boot == 0x80, ebr: next, logical: true})
		} else {
			n-- // an empty EBR (fdisk leaves one at the head of the chain)
		}
		if es[1].Type == 0 || !isExtended(es[1].Type) {
			break
		}
		next = extStart + uint64(es[1].Start)
	}
	return t, probs, nil
}

// encodeMBR builds sector 0 of a dos table from t, keeping the boot code of
// old (the first 440 bytes) so a bootloader survives an edit.
func encodeMBR(t *Table, old []byte) []byte {
	s := make([]byte, t.SectorSize)
	if len(old) >= mbrDiskIDOff {
		copy(s[:mbrDiskIDOff], old[:mbrDiskIDOff])
	}
	binary.LittleEndian.PutUint32(s[mbrDiskIDOff:], t.DiskID)
	for _, p := range t.Partitions {
		if p.Number >= 1 && p.Number <= 4 {
			putMBREntry(s, p.Number-1, mbrEntry{Boot: bootByte(p.Bootable), Type: p.MBRType, Start: uint32(p.Start), Size: uint32(p.Size)})
		}
	}
	s[510], s[511] = 0x55, 0xaa
	return s
}

func bootByte(b bool) byte {
	if b {
		return 0x80
	}
	return 0
}

// ebrWrite is one extended boot record to write.
type ebrWrite struct {
	lba  uint64
	data []byte
}

// encodeEBRs builds the EBR chain for t's logical partitions: each EBR's
// first entry is the logical partition relative to the EBR, the second links
// to the next EBR relative to the start of the extended partition.
func encodeEBRs(t *Table) []ebrWrite {
	ext, ok := t.extended()
	if !ok {
		return nil
	}
	var logical []Partition
	for _, p := range t.Partitions {
		if p.Logical() {
			logical = append(logical, p)
		}
	}
	if len(logical) == 0 {
		// An empty chain: a zeroed EBR with a signature at the head, as fdisk writes.
		s := make([]byte, t.SectorSize)
		s[510], s[511] = 0x55, 0xaa
		return []ebrWrite{{ext.Start, s}}
	}
	slices.SortFunc(logical, func(a, b Partition) int { return a.Number - b.Number })
	// The chain starts at the first sector of the extended partition,
	// whatever was there before (deleting the first logical partition
	// would otherwise leave the old head describing it).
	logical[0].ebr = ext.Start
	out := make([]ebrWrite, len(logical))
	for i, p := range logical {
		s := make([]byte, t.SectorSize)
		putMBREntry(s, 0, mbrEntry{Boot: bootByte(p.Bootable), Type: p.MBRType, Start: uint32(p.Start - p.ebr), Size: uint32(p.Size)})
		if i+1 < len(logical) {
			n := logical[i+1]
			// The link covers the next EBR through the end of its partition.
			putMBREntry(s, 1, mbrEntry{Type: MBRTypeExtended, Start: uint32(n.ebr - ext.Start), Size: uint32(n.End() - n.ebr + 1)})
		}
		s[510], s[511] = 0x55, 0xaa
		out[i] = ebrWrite{p.ebr, s}
	}
	return out
}

// encodeProtectiveMBR builds the protective MBR for a GPT disk of sectors
// logical sectors, keeping old's boot code and disk signature.
func encodeProtectiveMBR(sectorSize int, sectors uint64, old []byte) []byte {
	s := make([]byte, sectorSize)
	if len(old) >= mbrDiskIDOff+4 && hasMBRSignature(old) {
		copy(s[:mbrDiskIDOff+4], old[:mbrDiskIDOff+4])
	}
	size := sectors - 1
	if size > 0xffffffff {
		size = 0xffffffff
	}
	putMBREntry(s, 0, mbrEntry{Type: MBRTypeProtective, Start: 1, Size: uint32(size)})
	s[510], s[511] = 0x55, 0xaa
	return s
}
