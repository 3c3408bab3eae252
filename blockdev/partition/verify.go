package partition

import (
	"bytes"
	"context"
	"fmt"
)

// Report is what Verify found.
type Report struct {
	Label    Label
	Source   Source // for GPT: the copy Read would use
	Problems []Problem
}

// OK reports whether nothing is wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Has reports whether a problem of kind was found.
func (r Report) Has(kind error) bool {
	for _, p := range r.Problems {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// Verify checks the table on disk the way sgdisk -v does and returns every
// problem, typed. An error means the disk could not be read, or there is no
// table (ErrNoTable) or none we can read (ErrUnreadable, with the report of
// what is wrong with each copy).
func (d *Disk) Verify(ctx context.Context) (Report, error) {
	sc, err := d.scan(ctx)
	if err != nil {
		return Report{}, err
	}
	t, probs, err := d.decide(sc)
	if err != nil {
		r := Report{Problems: d.gptCopyProblems(sc)}
		return r, err
	}
	r := Report{Label: t.Label, Source: t.Source}
	r.Problems = append(r.Problems, probs...)
	if t.Label == LabelDOS {
		r.Problems = append(r.Problems, d.dosProblems(t)...)
		for _, c := range []*gptCopy{sc.primary, sc.backup} {
			if c.ok() && !t.dosOwns(c.lba) {
				r.Problems = append(r.Problems, Problem{Kind: ErrStaleGPT, Detail: fmt.Sprintf("an intact GPT header at LBA %d behind the dos MBR (writing the dos table erases it)", c.lba)})
			}
		}
		return r, nil
	}
	r.Problems = append(r.Problems, d.gptCopyProblems(sc)...)
	r.Problems = append(r.Problems, d.gptPlacementProblems(sc, t)...)
	r.Problems = append(r.Problems, mbrProblems(sc, d.geo.Sectors())...)
	r.Problems = append(r.Problems, t.layoutProblems()...)
	return dedupe(r), nil
}

func dedupe(r Report) Report {
	seen := map[string]bool{}
	out := r.Problems[:0]
	for _, p := range r.Problems {
		k := p.Error()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	r.Problems = out
	return r
}

func (d *Disk) gptCopyProblems(sc *scan) []Problem {
	var probs []Problem
	for _, c := range []struct {
		copy                *gptCopy
		name                string
		hdrCRC, hdrBad, ent error
	}{
		{sc.primary, "primary", ErrPrimaryHeaderCRC, ErrPrimaryHeaderInvalid, ErrPrimaryEntriesCRC},
		{sc.backup, "backup", ErrBackupHeaderCRC, ErrBackupHeaderInvalid, ErrBackupEntriesCRC},
	} {
		switch c.copy.fault {
		case headerBadCRC:
			probs = append(probs, Problem{Kind: c.hdrCRC, Detail: fmt.Sprintf("%s header at LBA %d: %s", c.name, c.copy.lba, c.copy.why)})
		case headerNoSignature, headerBadFields:
			probs = append(probs, Problem{Kind: c.hdrBad, Detail: fmt.Sprintf("%s header at LBA %d: %s", c.name, c.copy.lba, c.copy.why)})
		case headerOK:
			if !c.copy.entriesOK {
				probs = append(probs, Problem{Kind: c.ent, Detail: fmt.Sprintf("%s entries: %s", c.name, c.copy.entriesErr)})
			}
		}
	}
	return probs
}

func (d *Disk) gptPlacementProblems(sc *scan, t *Table) []Problem {
	var probs []Problem
	last := d.geo.Sectors() - 1
	p, b := sc.primary, sc.backup
	if p.fault == headerOK {
		alt := p.hdr.AlternateLBA
		switch {
		case alt < last:
			probs = append(probs, Problem{Kind: ErrDiskGrew, Detail: fmt.Sprintf("the backup header is recorded at LBA %d but the disk now ends at %d", alt, last)},
				Problem{Kind: ErrBackupNotAtEnd, Detail: fmt.Sprintf("backup header at LBA %d, last LBA is %d", alt, last)})
		case alt > last:
			probs = append(probs, Problem{Kind: ErrDiskShrank, Detail: fmt.Sprintf("the backup header is recorded at LBA %d past the disk's end at %d", alt, last)})
		}
		if p.hdr.LastUsable > last {
			probs = append(probs, Problem{Kind: ErrDiskShrank, Detail: fmt.Sprintf("last usable LBA %d is past the disk's end at %d", p.hdr.LastUsable, last)})
		}
		es := (uint64(p.hdr.entriesLen()) + uint64(d.geo.SectorSize) - 1) / uint64(d.geo.SectorSize)
		if p.hdr.EntriesLBA < 2 || p.hdr.EntriesLBA+es > p.hdr.FirstUsable {
			probs = append(probs, Problem{Kind: ErrEntriesOverlapUsable, Detail: fmt.Sprintf("primary entries LBA %d-%d reach the first usable LBA %d", p.hdr.EntriesLBA, p.hdr.EntriesLBA+es-1, p.hdr.FirstUsable)})
		}
	} else if b.fault == headerOK && b.lba != last {
		probs = append(probs, Problem{Kind: ErrBackupNotAtEnd, Detail: fmt.Sprintf("backup header at LBA %d, last LBA is %d", b.lba, last)})
	}
	if b.fault == headerOK {
		es := (uint64(b.hdr.entriesLen()) + uint64(d.geo.SectorSize) - 1) / uint64(d.geo.SectorSize)
		if b.hdr.EntriesLBA <= b.hdr.LastUsable || b.hdr.EntriesLBA+es > b.lba {
			probs = append(probs, Problem{Kind: ErrEntriesOverlapUsable, Detail: fmt.Sprintf("backup entries LBA %d-%d overlap the usable area ending at %d or the backup header at %d", b.hdr.EntriesLBA, b.hdr.EntriesLBA+es-1, b.hdr.LastUsable, b.lba)})
		}
	}
	if p.ok() && b.ok() {
		ph, bh := p.hdr, b.hdr
		var diffs []string
		if ph.AlternateLBA != b.lba {
			diffs = append(diffs, fmt.Sprintf("primary points to the backup at %d, backup is at %d", ph.AlternateLBA, b.lba))
		}
		if bh.AlternateLBA != 1 {
			diffs = append(diffs, fmt.Sprintf("backup points to the primary at %d", bh.AlternateLBA))
		}
		if ph.DiskGUID != bh.DiskGUID {
			diffs = append(diffs, "disk GUIDs differ")
		}
		if ph.FirstUsable != bh.FirstUsable || ph.LastUsable != bh.LastUsable {
			diffs = append(diffs, "usable ranges differ")
		}
		if ph.EntryCount != bh.EntryCount || ph.EntrySize != bh.EntrySize {
			diffs = append(diffs, "entry counts or sizes differ")
		} else if !bytes.Equal(p.entries, b.entries) {
			diffs = append(diffs, "partition entries differ")
		}
		if ph.HeaderSize != bh.HeaderSize {
			diffs = append(diffs, "header sizes differ")
		}
		for _, s := range diffs {
			probs = append(probs, Problem{Kind: ErrBackupMismatch, Detail: s})
		}
	}
	// Partitions past the disk's end even when the header's usable range
	// still claims them (a shrunk disk).
	for _, q := range t.Partitions {
		if q.End() > last {
			probs = append(probs, Problem{Kind: ErrOutsideUsable, Partitions: []int{q.Number}, Detail: fmt.Sprintf("partition %d ends at %d, past the disk's last LBA %d", q.Number, q.End(), last)})
		}
	}
	return probs
}

func mbrProblems(sc *scan, sectors uint64) []Problem {
	switch sc.kind {
	case mbrNone, mbrEmpty:
		return []Problem{{Kind: ErrProtectiveMBRMissing, Detail: "sector 0 has no 0xEE partition"}}
	case mbrDOS:
		return []Problem{{Kind: ErrProtectiveMBRMissing, Detail: "sector 0 holds a dos table without a 0xEE partition"}}
	case mbrHybrid:
		return []Problem{{Kind: ErrHybridMBR, Detail: "sector 0 mixes a 0xEE partition with dos partitions"}}
	}
	var probs []Problem
	want := sectors - 1
	if want > 0xffffffff {
		want = 0xffffffff
	}
	for i, e := range mbrEntries(sc.mbr) {
		if e.Type != MBRTypeProtective {
			continue
		}
		if e.Start != 1 {
			probs = append(probs, Problem{Kind: ErrProtectiveMBRWrong, Detail: fmt.Sprintf("0xEE entry %d starts at LBA %d, not 1", i+1, e.Start)})
		}
		if uint64(e.Size) != want && e.Size != 0xffffffff {
			probs = append(probs, Problem{Kind: ErrProtectiveMBRWrong, Detail: fmt.Sprintf("0xEE entry %d covers %d sectors, the disk has %d after LBA 0", i+1, e.Size, want)})
		}
	}
	return probs
}

func (d *Disk) dosProblems(t *Table) []Problem {
	var probs []Problem
	last := d.geo.Sectors() - 1
	for _, p := range t.Partitions {
		if p.End() > last {
			probs = append(probs, Problem{Kind: ErrDiskShrank, Partitions: []int{p.Number}, Detail: fmt.Sprintf("partition %d ends at %d, past the disk's last LBA %d", p.Number, p.End(), last)})
		}
	}
	for _, p := range t.layoutProblems() {
		if p.Kind == ErrMisaligned {
			continue // dos tables from old tools start at 63; not an error
		}
		probs = append(probs, p)
	}
	return probs
}
