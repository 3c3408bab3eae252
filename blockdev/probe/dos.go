package probe

import "fmt"

const maxLogical = 100 // blkid's bound on the extended-partition chain

func isExtended(t byte) bool { return t == 0x05 || t == 0x0f || t == 0x85 }

// aixMagic opens an AIX disk, whose first sector may also end in 0x55AA.
const aixMagic = "\xc9\xc2\xd4\xc1"

// probeDOS reads an MBR partition table and its chain of extended boot
// records; logical partitions are numbered from 5 as the kernel and blkid do.
// It steps aside, as blkid's dos prober does, for an AIX disk, for a
// protective MBR (gpt's), and for FAT and NTFS boot sectors, which carry
// the same 0x55AA signature.
func probeDOS(s *source, ssz int64) (*Table, error) {
	mbr := s.headAt(0, 512)
	if mbr == nil || hasAt(mbr, 0, aixMagic) {
		return nil, nil
	}
	for i := 0; i < 4; i++ {
		if b := mbr[446+i*16]; b != 0 && b != 0x80 {
			return nil, nil // boot indicators are 0 or 0x80 in a real MBR
		}
	}
	for i := 0; i < 4; i++ {
		if mbr[446+i*16+4] == 0xee {
			return nil, nil
		}
	}
	if isVFAT(s) {
		return nil, nil
	}
	// blkid treats a failed NTFS check as "not NTFS", never as an error.
	if ntfs, _ := probeNTFS(s); ntfs != nil {
		return nil, nil
	}
	t := &Table{Type: "dos"}
	id := le.Uint32(mbr[440:])
	if id != 0 {
		t.ID = fmt.Sprintf("%08x", id)
	}
	mul := uint64(ssz / 512)
	var ext []Entry
	for i := 0; i < 4; i++ {
		p := mbr[446+i*16 : 446+(i+1)*16]
		start, size := uint64(le.Uint32(p[8:])), uint64(le.Uint32(p[12:]))
		if size == 0 {
			continue
		}
		e := t.dosEntry(i+1, p[4], start*mul, size*mul, p[0])
		t.Entries = append(t.Entries, e)
		if isExtended(p[4]) {
			ext = append(ext, e)
		}
	}
	next := 5
	for _, x := range ext {
		var err error
		next, err = t.walkExtended(s, ssz, x, next)
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Table) dosEntry(n int, typ byte, start, size uint64, boot byte) Entry {
	e := Entry{Number: n, Start: start, Size: size, Type: fmt.Sprintf("0x%x", typ)}
	if t.ID != "" {
		e.UUID = fmt.Sprintf("%s-%02x", t.ID, n)
	}
	if boot == 0x80 {
		e.Flags = 0x80
	}
	return e
}

// walkExtended follows the EBR chain of one extended partition. A broken
// link ends the chain; what was read so far stays (as in blkid).
func (t *Table) walkExtended(s *source, ssz int64, x Entry, n int) (int, error) {
	mul := uint64(ssz / 512)
	exStart, exSize := x.Start/mul, x.Size/mul
	cur := exStart
	seen := map[uint64]bool{}
	for i := 0; i < maxLogical && !seen[cur]; i++ {
		seen[cur] = true
		ebr, err := s.at(int64(cur)*ssz, 512)
		if err != nil || ebr == nil {
			return n, ignoreBudget(err)
		}
		if ebr[510] != 0x55 || ebr[511] != 0xaa {
			return n, nil
		}
		var link uint64
		for j := 0; j < 4; j++ {
			p := ebr[446+j*16 : 446+(j+1)*16]
			start, size := uint64(le.Uint32(p[8:])), uint64(le.Uint32(p[12:]))
			if size == 0 {
				continue
			}
			if isExtended(p[4]) {
				if link == 0 {
					link = exStart + start
				}
				continue
			}
			abs := cur + start
			if abs < exStart || abs+size > exStart+exSize {
				continue // logical partition outside its container
			}
			t.Entries = append(t.Entries, t.dosEntry(n, p[4], abs*mul, size*mul, p[0]))
			n++
		}
		if link == 0 {
			break
		}
		cur = link
	}
	return n, nil
}
