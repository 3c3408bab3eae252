package partition

import (
	"fmt"
	"slices"
)

// Validate checks t as it would be written: GPT header geometry, numbers,
// every partition inside the usable range (dos logicals inside the extended
// partition), no overlaps, starts on a physical sector, unique GUIDs. It
// returns a *LayoutError listing every problem, or nil.
func (t *Table) Validate() error {
	if probs := t.layoutProblems(); len(probs) > 0 {
		return &LayoutError{Problems: probs}
	}
	return nil
}

func (t *Table) layoutProblems() []Problem {
	var probs []Problem
	add := func(kind error, parts []int, f string, a ...any) {
		probs = append(probs, Problem{Kind: kind, Detail: fmt.Sprintf(f, a...), Partitions: parts})
	}
	if t.Sectors == 0 || t.SectorSize == 0 {
		add(ErrInvalidLayout, nil, "table has no disk geometry")
		return probs
	}
	lo, hi := t.usable()
	if t.Label == LabelGPT {
		es := t.entriesSectors()
		switch {
		case t.EntrySize < gptMinEntrySize || t.EntrySize&(t.EntrySize-1) != 0:
			add(ErrInvalidLayout, nil, "entry size %d is not 128 times a power of two", t.EntrySize)
		case t.EntryCount == 0 || uint64(t.EntryCount)*uint64(t.EntrySize) > 1<<24:
			add(ErrInvalidLayout, nil, "%d entries", t.EntryCount)
		case t.HeaderSize < gptMinHeaderSize || int(t.HeaderSize) > t.SectorSize:
			add(ErrInvalidLayout, nil, "header size %d", t.HeaderSize)
		case t.AlternateLBA >= t.Sectors || t.AlternateLBA < 2*es+3:
			kind := ErrOutsideUsable
			if t.AlternateLBA >= t.Sectors {
				kind = ErrDiskShrank
			}
			add(kind, nil, "backup header LBA %d outside the disk of %d sectors", t.AlternateLBA, t.Sectors)
		default:
			if t.EntriesLBA < 2 || t.EntriesLBA >= t.Sectors || t.EntriesLBA+es > t.FirstUsable {
				add(ErrEntriesOverlapUsable, nil, "primary entries LBA %d-%d reach the first usable LBA %d", t.EntriesLBA, t.EntriesLBA+es-1, t.FirstUsable)
			}
			if t.BackupEntriesLBA() <= t.LastUsable {
				add(ErrEntriesOverlapUsable, nil, "backup entries start at LBA %d, at or before the last usable LBA %d", t.BackupEntriesLBA(), t.LastUsable)
			}
			if t.FirstUsable > t.LastUsable {
				add(ErrInvalidLayout, nil, "first usable LBA %d after last usable %d", t.FirstUsable, t.LastUsable)
			}
		}
	}
	seenUUID := map[GUID]int{}
	// Encoding puts a partition in the slot its number names: two with one
	// number would share a GPT entry or an MBR slot, and the second would
	// silently replace the first on disk.
	seenNumber := map[int]bool{}
	firstExtended := 0
	for _, p := range t.Partitions {
		n := []int{p.Number}
		if seenNumber[p.Number] {
			add(ErrInvalidLayout, n, "partition number %d is used twice", p.Number)
		}
		seenNumber[p.Number] = true
		if t.Label == LabelDOS && !p.Logical() && isExtended(p.MBRType) {
			if firstExtended != 0 {
				add(ErrBadEBRChain, []int{firstExtended, p.Number}, "more than one extended partition")
			} else {
				firstExtended = p.Number
			}
		}
		if p.Size == 0 {
			add(ErrOutsideUsable, n, "partition %d has no sectors", p.Number)
			continue
		}
		if p.Start+p.Size < p.Start {
			add(ErrOutsideUsable, n, "partition %d wraps around", p.Number)
			continue
		}
		switch t.Label {
		case LabelGPT:
			if p.Number < 1 || p.Number > int(t.EntryCount) {
				add(ErrInvalidLayout, n, "partition number %d outside 1..%d", p.Number, t.EntryCount)
			}
			if p.Type.IsZero() {
				add(ErrInvalidLayout, n, "partition %d has the unused type", p.Number)
			}
			if !p.UUID.IsZero() {
				if q, dup := seenUUID[p.UUID]; dup {
					add(ErrInvalidLayout, []int{q, p.Number}, "partitions %d and %d share GUID %v", q, p.Number, p.UUID)
				}
				seenUUID[p.UUID] = p.Number
			}
			if _, err := encodeName(p.Name); err != nil {
				add(ErrInvalidLayout, n, "%v", err)
			}
		case LabelDOS:
			// Only 1-4 have an MBR slot and only 5 on are logical: any
			// other number would be left out of what is written.
			if p.Logical() && p.Number < 5 {
				add(ErrInvalidLayout, n, "logical partition numbered %d, below 5", p.Number)
			}
			if !p.Logical() && (p.Number < 1 || p.Number > 4) {
				add(ErrInvalidLayout, n, "primary partition number %d outside 1..4", p.Number)
			}
			if p.MBRType == 0 {
				add(ErrInvalidLayout, n, "partition %d has type 0 (empty)", p.Number)
			}
			if p.End() > 0xffffffff {
				add(ErrOutsideUsable, n, "partition %d ends past the 2 TiB dos limit (sector %d)", p.Number, p.End())
			}
		}
		plo, phi := lo, hi
		if p.Logical() && t.Label == LabelDOS {
			ext, ok := t.extended()
			if !ok {
				add(ErrBadEBRChain, n, "logical partition %d without an extended partition", p.Number)
				continue
			}
			plo, phi = ext.Start, ext.End()
			if p.ebr < plo || p.ebr >= p.Start {
				add(ErrBadEBRChain, n, "EBR of partition %d at LBA %d is not inside the extended partition before the partition", p.Number, p.ebr)
			}
		}
		if p.Start < plo || p.End() > phi {
			add(ErrOutsideUsable, n, "partition %d (%d-%d) outside %d-%d", p.Number, p.Start, p.End(), plo, phi)
		}
		if t.physSectors > 1 && p.Start%t.physSectors != 0 {
			add(ErrMisaligned, n, "partition %d starts at %d, not a multiple of the %d-sector physical block", p.Number, p.Start, t.physSectors)
		}
	}
	probs = append(probs, overlaps(t)...)
	return probs
}

// overlaps finds pairs of partitions sharing sectors. Logical partitions are
// compared among themselves (with their EBR); everything else among the
// primaries, the extended partition included.
func overlaps(t *Table) []Problem {
	type span struct {
		n      int
		lo, hi uint64
	}
	var primary, logical []span
	for _, p := range t.Partitions {
		if p.Size == 0 {
			continue
		}
		if t.Label == LabelDOS && p.Logical() {
			lo := p.Start
			if p.ebr != 0 && p.ebr < lo {
				lo = p.ebr
			}
			logical = append(logical, span{p.Number, lo, p.End()})
			continue
		}
		primary = append(primary, span{p.Number, p.Start, p.End()})
	}
	var probs []Problem
	for _, set := range [][]span{primary, logical} {
		slices.SortFunc(set, func(a, b span) int {
			if a.lo < b.lo {
				return -1
			}
			if a.lo > b.lo {
				return 1
			}
			return a.n - b.n
		})
		for i := range set {
			for j := i + 1; j < len(set) && set[j].lo <= set[i].hi; j++ {
				a, b := min(set[i].n, set[j].n), max(set[i].n, set[j].n)
				probs = append(probs, Problem{Kind: ErrOverlap, Partitions: []int{a, b}, Detail: fmt.Sprintf("partitions %d and %d overlap", a, b)})
			}
		}
	}
	return probs
}
