package partition

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// WriteIntent is what Write tells the journal before its first write.
type WriteIntent struct {
	Target      string // the path written
	Description string
	Steps       []Step // every write, in order, with its data (for roll-forward)
	// NewTableID is the table being written as blkid prints PTUUID: the
	// lower-case GPT disk GUID or the dos id as 8 hex digits.
	NewTableID string
}

// Journal is what Write needs from a write-ahead journal (the safety
// package's through partsafety.Journal, or a test's). Begin must make the
// intent and the before-images of every step's range durable before it
// returns; an error means nothing may be written.
type Journal interface {
	Begin(ctx context.Context, in WriteIntent) (Txn, error)
}

// Txn is one journalled write.
type Txn interface {
	// Step records that a write step finished (for roll-forward decisions).
	Step(ctx context.Context, name string) error
	// Done closes the transaction: err nil means committed; otherwise the
	// journal puts the before-images back.
	Done(ctx context.Context, err error) error
}

// Apply writes steps in order, syncing after each: what a journal's
// roll-forward does to finish an interrupted Write.
func (d *Disk) Apply(ctx context.Context, steps []Step) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.cfg.readOnly {
		return fmt.Errorf("%w: opened read-only", ErrNotSupported)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return d.apply(steps, nil)
}

func (t *Table) tableID() string {
	if t.Label == LabelGPT {
		return strings.ToLower(t.DiskGUID.String())
	}
	return fmt.Sprintf("%08x", t.DiskID)
}

// Step is one sector-run write of a plan, in the order Write performs it.
type Step struct {
	What   string `json:"what"`   // "backup entries", "backup header", "primary entries", "primary header", "protective MBR", ...
	Offset int64  `json:"offset"` // bytes
	Data   []byte `json:"data"`
}

// Plan returns the writes that storing t would make, in order, without
// writing anything. The order for GPT is backup entries, backup header,
// primary entries, primary header, protective MBR; each is synced before
// the next starts. When the primary is damaged and the backup is the only
// intact copy, the two copies swap places (primary first), so the good copy
// is never the one being overwritten.
func (d *Disk) Plan(ctx context.Context, t *Table) ([]Step, error) {
	return d.plan(ctx, t, true)
}

// plan with validate false exists for tests that build damaged tables.
func (d *Disk) plan(ctx context.Context, t *Table, validate bool) ([]Step, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("%w: nil table", ErrInvalidArgument)
	}
	if t.SectorSize != d.geo.SectorSize {
		return nil, fmt.Errorf("%w: table has %d-byte sectors, disk %d", ErrInvalidLayout, t.SectorSize, d.geo.SectorSize)
	}
	if t.Sectors != d.geo.Sectors() {
		return nil, fmt.Errorf("%w: table laid out for %d sectors, disk has %d (Repair moves a GPT to the new end)", ErrInvalidLayout, t.Sectors, d.geo.Sectors())
	}
	if len(t.damaged) > 0 && validate {
		// A lenient read (a broken EBR chain) must never turn into a write
		// that makes the loss permanent.
		return nil, fmt.Errorf("%w: %w (the table was read from a damaged disk; partitions past the damage are not in it: back up the disk, then start from NewDOS)",
			ErrUnsafe, &LayoutError{Problems: t.damaged})
	}
	if t.origin != "" && t.originDisk == d && validate {
		// Under Write this runs with the whole-disk lock held, so the
		// comparison holds until the write.
		sc, err := d.scan(ctx)
		if err != nil {
			return nil, err
		}
		cur, _, err := d.decide(sc)
		if err != nil || cur.origin != t.origin {
			return nil, fmt.Errorf("%w: read the table again and redo the change", ErrChanged)
		}
	}
	t = t.Clone()
	t.setGeometry(d.geo)
	if validate {
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	ss := int64(d.geo.SectorSize)
	old, err := d.readSector(0)
	if err != nil {
		return nil, err
	}
	var steps []Step
	switch t.Label {
	case LabelGPT:
		entries, err := encodeGPTEntries(t)
		if err != nil {
			return nil, err
		}
		crc := crc32.ChecksumIEEE(entries)
		backup := []Step{
			{"backup entries", int64(t.BackupEntriesLBA()) * ss, padSectors(entries, d.geo.SectorSize)},
			{"backup header", int64(t.AlternateLBA) * ss, encodeGPTHeader(t, crc, true)},
		}
		primary := []Step{
			{"primary entries", int64(t.EntriesLBA) * ss, padSectors(entries, d.geo.SectorSize)},
			{"primary header", ss, encodeGPTHeader(t, crc, false)},
		}
		// The copy that currently decides what the disk holds is written
		// last. Normally that is the primary; when the primary is dead and
		// the backup is the only good copy (a repair), overwriting the
		// backup first would leave no good copy while it is torn.
		sc, err := d.scan(ctx)
		if err != nil {
			return nil, err
		}
		pmbr := Step{"protective MBR", 0, encodeProtectiveMBR(d.geo.SectorSize, d.geo.Sectors(), old)}
		prev := d.dosBefore(sc)
		if prev != nil && prev.ebrCollides(backup, ss) != prev.ebrCollides(primary, ss) {
			// Replacing a dos table: its MBR decides until the protective
			// MBR replaces it, so both GPT copies are normally written
			// first. But a copy landing on an old EBR would break the old
			// chain while it still decides: write the other copy, switch
			// with the protective MBR, then write the colliding one.
			first, second := primary, backup
			if prev.ebrCollides(primary, ss) {
				first, second = backup, primary
				// After the switch any GPT header left at LBA 1 would be
				// read before the new backup: it goes before the switch.
				if p, err := d.readSector(1); err == nil && string(p[:8]) == gptSignature {
					first = append(first, Step{"erase primary GPT header", ss, make([]byte, ss)})
				}
			}
			steps = append(append(append(steps, first...), pmbr), second...)
		} else {
			if prev == nil && !sc.primary.ok() && sc.backup.ok() {
				backup, primary = primary, backup
			}
			steps = append(append(steps, backup...), primary...)
			// A hybrid MBR (sgdisk -h) is the user's choice for old firmware:
			// keep it, as sgdisk does, rather than flatten it to protective,
			// but not its mirrors of partitions this write deletes or resizes.
			if classifyMBR(old) != mbrHybrid {
				steps = append(steps, pmbr)
			} else if mbr := d.hybridAfter(sc, old, t); mbr != nil {
				steps = append(steps, Step{"hybrid MBR", 0, mbr})
			}
		}
		// A backup header the new table no longer points at (the old end
		// of a disk that grew) would be read again if the disk shrank back
		// and the primary were damaged: a stale table returning. Erase it
		// last, once nothing refers to it, unless a partition now owns
		// that sector.
		for _, c := range []*gptCopy{sc.backup, sc.backupAtEnd} {
			if c == nil || c.fault != headerOK || c.lba == t.AlternateLBA || c.lba < t.FirstUsable || c.lba >= t.BackupEntriesLBA() {
				continue
			}
			owned := false
			for _, p := range t.Partitions {
				owned = owned || (c.lba >= p.Start && c.lba <= p.End())
			}
			if !owned {
				steps = append(steps, Step{fmt.Sprintf("erase old backup GPT header at LBA %d", c.lba), int64(c.lba) * ss, make([]byte, ss)})
			}
		}
	case LabelDOS:
		// The MBR is the switch: a dos MBR in sector 0 wins over any GPT
		// behind it (Read), so until it is written an old GPT keeps its
		// primary and reads as before, even when an EBR lands on its
		// backup (a small logical partition at the end of the disk).
		// Erasing the primary first would leave that damaged backup as the
		// only copy. The GPT headers go after the MBR: a leftover GPT would
		// be read again by anything that rewrote sector 0.
		zero := make([]byte, ss)
		ebrs := encodeEBRs(t)
		for i := len(ebrs) - 1; i >= 0; i-- {
			steps = append(steps, Step{fmt.Sprintf("EBR at LBA %d", ebrs[i].lba), int64(ebrs[i].lba) * ss, ebrs[i].data})
		}
		steps = append(steps, Step{"MBR", 0, encodeMBR(t, old)})
		// A header-looking sector an EBR now occupies, or inside a
		// partition (a disk image stored in a partition that ends at the
		// disk's end has its own backup GPT there), is not ours to erase.
		if p, err := d.readSector(1); err == nil && string(p[:8]) == gptSignature && !t.dosOwns(1) {
			steps = append(steps, Step{"erase primary GPT header", ss, zero})
		}
		last := d.geo.Sectors() - 1
		if b, err := d.readSector(last); err == nil && string(b[:8]) == gptSignature && !t.dosOwns(last) {
			steps = append(steps, Step{"erase backup GPT header", int64(last) * ss, zero})
		}
	default:
		return nil, fmt.Errorf("%w: label %q", ErrNotSupported, t.Label)
	}
	// Every step must land on the disk: one that cannot would fail only
	// after the steps before it were written.
	for _, s := range steps {
		if s.Offset < 0 || s.Offset > d.geo.Size || int64(len(s.Data)) > d.geo.Size-s.Offset {
			return nil, fmt.Errorf("%w: %s at byte %d (%d bytes) is outside the disk of %d bytes", ErrInvalidLayout, s.What, s.Offset, len(s.Data), d.geo.Size)
		}
	}
	return steps, nil
}

func padSectors(b []byte, ss int) []byte {
	if r := len(b) % ss; r != 0 {
		b = append(b, make([]byte, ss-r)...)
	}
	return b
}

// Write stores t with crash-ordered writes: the journal (when configured)
// first records intent and before-images, the whole-disk flock is held
// throughout, and each step of Plan is written and synced before the next.
//
// A table that came from this Disk's Read (or was edited from one) is
// written only if the disk still holds the table it was read from;
// otherwise ErrChanged and nothing is written. A table read from another
// Disk (a copy, as sgdisk -R makes) is not checked. After a successful Write, t counts as read from the
// disk, so it can be edited and written again.
//
// Why the GPT order is safe: Read prefers a primary whose CRCs check and
// falls back to the backup otherwise (Plan swaps the copies when only the
// backup is intact, so the copy being overwritten is never the only good one). Until the primary header is rewritten
// the old primary stays valid, or (once its entries are overwritten) fails
// its entries CRC, and the backup, already new and synced, is used. After
// the primary header sync the new primary is valid. A torn sector fails a
// CRC and so reads like the step not done. The protective MBR is last and
// does not decide what a GPT disk holds.
//
// Cancelling ctx before the first write aborts; once writing has started
// Write finishes the sequence, since stopping half way is the crash it
// guards against.
func (d *Disk) Write(ctx context.Context, t *Table) error {
	if d.cfg.readOnly {
		return fmt.Errorf("%w: opened read-only", ErrNotSupported)
	}
	// Plan under the lock: the plan reads the disk (which copy is intact,
	// what to erase, the boot code to keep), and whoever held the lock may
	// have changed all of that.
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	steps, err := d.Plan(ctx, t)
	if err != nil {
		return err
	}
	var txn Txn
	if d.cfg.journal != nil {
		target := d.path
		if target == "" {
			target = "device"
		}
		in := WriteIntent{Target: target, Steps: steps, NewTableID: t.tableID(),
			Description: fmt.Sprintf("write a %s partition table with %d partitions to %s", t.Label, len(t.Partitions), target)}
		if txn, err = d.cfg.journal.Begin(ctx, in); err != nil {
			return fmt.Errorf("%w: journal: %w", ErrUnsafe, err)
		}
	}
	werr := d.apply(steps, txn)
	if txn != nil {
		if jerr := txn.Done(context.WithoutCancel(ctx), werr); jerr != nil && werr == nil {
			werr = fmt.Errorf("partition: table written, journal not closed: %w", jerr)
		}
	}
	if werr == nil {
		// t now describes the disk: a further edit of it writes without
		// ErrChanged.
		if sc, err := d.scan(context.WithoutCancel(ctx)); err == nil {
			if cur, _, err := d.decide(sc); err == nil {
				t.origin, t.originDisk = cur.origin, d
			}
		}
	}
	return werr
}

func (d *Disk) apply(steps []Step, txn Txn) error {
	for i, s := range steps {
		n, err := d.dev.WriteAt(s.Data, s.Offset)
		if err == nil && n != len(s.Data) {
			err = fmt.Errorf("short write %d of %d", n, len(s.Data))
		}
		if err != nil {
			return fmt.Errorf("partition: write %s at %d: %w", s.What, s.Offset, err)
		}
		if err := d.dev.Sync(); err != nil {
			return fmt.Errorf("partition: sync after %s: %w", s.What, err)
		}
		d.cfg.log.Debug("partition write", "step", s.What, "offset", s.Offset, "bytes", len(s.Data))
		if txn != nil {
			if err := txn.Step(context.Background(), s.What); err != nil {
				return fmt.Errorf("partition: journal step %s: %w", s.What, err)
			}
		}
		if d.cfg.progress != nil {
			d.cfg.progress(i+1, s)
		}
	}
	return nil
}

// lock takes the whole-disk flock that udev and systemd honour, so nothing
// probes or re-reads the disk while its table is half written.
func (d *Disk) lock(ctx context.Context) (func(), error) {
	if d.file == nil || !d.block || d.cfg.lockHeld {
		return func() {}, nil
	}
	fd := int(d.file.Fd())
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Flock(fd, unix.LOCK_UN) }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("partition: flock %s: %w", d.path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s is locked by another process: %w", ErrBusy, d.path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Repair rewrites a damaged GPT copy from the good one, moves the backup to
// the end of a disk that grew (or shrank, when every partition still fits)
// and writes a protective MBR where it is missing or wrong. Problems no copy
// can fix (overlaps, partitions outside the disk, a hybrid MBR, a dos table
// with a broken chain) fail with ErrUnrepairable and write nothing.
func (d *Disk) Repair(ctx context.Context) (*Table, Report, error) {
	// What to write is decided from what is read: both under the lock
	// (Write takes it again on the same descriptor, which flock allows).
	unlock, err := d.lock(ctx)
	if err != nil {
		return nil, Report{}, err
	}
	defer unlock()
	r, err := d.Verify(ctx)
	if err != nil {
		return nil, r, err
	}
	if r.OK() {
		t, err := d.Read(ctx)
		return t, r, err
	}
	var hard []Problem
	for _, p := range r.Problems {
		switch p.Kind {
		case ErrOverlap, ErrOutsideUsable, ErrHybridMBR, ErrBadEBRChain, ErrMisaligned, ErrInvalidLayout:
			hard = append(hard, p)
		case ErrDiskShrank:
			if r.Label == LabelDOS {
				hard = append(hard, p)
			}
		}
	}
	if r.Label == LabelDOS && len(hard) == 0 {
		hard = r.Problems
	}
	if len(hard) > 0 {
		return nil, r, fmt.Errorf("%w: %w", ErrUnrepairable, &LayoutError{Problems: hard})
	}
	t, err := d.Read(ctx)
	if err != nil {
		return nil, r, err
	}
	last := d.geo.Sectors() - 1
	if t.AlternateLBA != last || t.LastUsable >= last {
		t.AlternateLBA = last
		t.LastUsable = last - t.entriesSectors() - 1
		for _, p := range t.Partitions {
			if p.End() > t.LastUsable {
				return nil, r, fmt.Errorf("%w: partition %d ends at %d, past the new last usable LBA %d", ErrUnrepairable, p.Number, p.End(), t.LastUsable)
			}
		}
	}
	t.Sectors = d.geo.Sectors()
	if err := d.Write(ctx, t); err != nil {
		return nil, r, err
	}
	t.Source = FromPrimary
	return t, r, nil
}

// hybridAfter returns sector 0 for t when the disk has a hybrid MBR whose
// dos entries mirror partitions t deletes, moves or resizes, or nil when it
// stays as it is. As sgdisk does, a mirror of a deleted partition is
// cleared in place, and a hybrid MBR left with only its 0xEE entry becomes
// a protective MBR; a mirror of a resized partition follows the new size.
// A stale mirror would let firmware or another OS use space that now
// belongs to something else.
func (d *Disk) hybridAfter(sc *scan, old []byte, t *Table) []byte {
	prev, _, err := d.decide(sc)
	if err != nil || prev.Label != LabelGPT {
		return nil // nothing known to mirror: leave the user's MBR alone
	}
	s := slices.Clone(old)
	changed, others := false, 0
	for i, e := range mbrEntries(s) {
		if e.Type == 0 || e.Type == MBRTypeProtective {
			continue
		}
		var mirror *Partition
		for _, p := range prev.Partitions {
			if p.Start == uint64(e.Start) && p.Size == uint64(e.Size) {
				mirror = &p
				break
			}
		}
		if mirror == nil {
			others++ // not a copy of a partition we know: the user's
			continue
		}
		now, ok := t.Partition(mirror.Number)
		switch {
		case ok && now.Start == mirror.Start && now.Size == mirror.Size:
			others++
		case ok && now.Start == mirror.Start && now.End() <= 0xffffffff:
			e.Size = uint32(now.Size)
			putMBREntry(s, i, e)
			changed = true
			others++
		default:
			putMBREntry(s, i, mbrEntry{})
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if others == 0 {
		return encodeProtectiveMBR(d.geo.SectorSize, d.geo.Sectors(), old)
	}
	return s
}

// dosOwns reports whether sector lba holds an EBR of t or lies inside one of
// its data partitions (not merely inside the extended partition's span).
func (t *Table) dosOwns(lba uint64) bool {
	for _, p := range t.Partitions {
		if p.Logical() && p.ebr == lba {
			return true
		}
		if isExtended(p.MBRType) && !p.Logical() {
			if p.Start == lba {
				return true // the head of the chain
			}
			continue
		}
		if p.Size > 0 && lba >= p.Start && lba <= p.End() {
			return true
		}
	}
	return false
}

// dosBefore returns the dos table the disk holds now, or nil.
func (d *Disk) dosBefore(sc *scan) *Table {
	prev, _, err := d.decide(sc)
	if err != nil || prev.Label != LabelDOS {
		return nil
	}
	return prev
}

// ebrCollides reports whether any of steps writes a sector t's EBR chain
// is read from (every EBR and the head of the extended partition).
func (t *Table) ebrCollides(steps []Step, ss int64) bool {
	var lbas []uint64
	for _, p := range t.Partitions {
		if p.Logical() {
			lbas = append(lbas, p.ebr)
		} else if isExtended(p.MBRType) {
			lbas = append(lbas, p.Start)
		}
	}
	for _, s := range steps {
		for _, l := range lbas {
			if off := int64(l) * ss; off >= s.Offset && off < s.Offset+int64(len(s.Data)) {
				return true
			}
		}
	}
	return false
}
