package partition

import (
	"context"
	"fmt"
	"hash/crc32"
)

// gptCopy is one copy (primary or backup) of a GPT as found on disk.
type gptCopy struct {
	lba        uint64
	hdr        gptHeader
	fault      headerFault
	why        string
	entries    []byte
	entriesOK  bool
	entriesErr string
}

func (c *gptCopy) ok() bool { return c != nil && c.fault == headerOK && c.entriesOK }

// scan is everything Read and Verify look at, read once.
type scan struct {
	mbr     []byte
	kind    mbrKind
	primary *gptCopy
	backup  *gptCopy // at the last LBA, or where the primary says it is
	// backupAtEnd is the header found at the last LBA when the primary
	// points elsewhere (a disk that grew).
	backupAtEnd *gptCopy
}

func (d *Disk) readCopy(lba uint64) (*gptCopy, error) {
	c := &gptCopy{lba: lba}
	if lba == 0 || lba >= d.geo.Sectors() {
		c.fault, c.why = headerNoSignature, fmt.Sprintf("LBA %d is outside the disk", lba)
		return c, nil
	}
	s, err := d.readSector(lba)
	if err != nil {
		return nil, err
	}
	c.hdr, c.fault, c.why = parseGPTHeader(s, lba)
	if c.fault != headerOK {
		return c, nil
	}
	n := uint64(c.hdr.entriesLen()+d.geo.SectorSize-1) / uint64(d.geo.SectorSize)
	if c.hdr.EntriesLBA == 0 || c.hdr.EntriesLBA >= d.geo.Sectors() || n > d.geo.Sectors()-c.hdr.EntriesLBA {
		c.entriesErr = fmt.Sprintf("entries array at LBA %d (%d sectors) is outside the disk", c.hdr.EntriesLBA, n)
		return c, nil
	}
	buf, err := d.readAt(c.hdr.EntriesLBA, n)
	if err != nil {
		return nil, err
	}
	c.entries = buf[:c.hdr.entriesLen()]
	if got := crc32.ChecksumIEEE(c.entries); got != c.hdr.EntriesCRC {
		c.entriesErr = fmt.Sprintf("entries CRC %08x, computed %08x", c.hdr.EntriesCRC, got)
		return c, nil
	}
	c.entriesOK = true
	return c, nil
}

func (d *Disk) scan(ctx context.Context) (*scan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s0, err := d.readSector(0)
	if err != nil {
		return nil, err
	}
	sc := &scan{mbr: s0, kind: classifyMBR(s0)}
	if sc.primary, err = d.readCopy(1); err != nil {
		return nil, err
	}
	last := d.geo.Sectors() - 1
	backupLBA := last
	if sc.primary.fault == headerOK && sc.primary.hdr.AlternateLBA != last && sc.primary.hdr.AlternateLBA < d.geo.Sectors() {
		backupLBA = sc.primary.hdr.AlternateLBA
		if sc.backupAtEnd, err = d.readCopy(last); err != nil {
			return nil, err
		}
	}
	if sc.backup, err = d.readCopy(backupLBA); err != nil {
		return nil, err
	}
	if !sc.backup.ok() && sc.backupAtEnd.ok() {
		sc.backup, sc.backupAtEnd = sc.backupAtEnd, nil
	}
	return sc, nil
}

// Read reads the partition table.
//
// How it decides, in order (this is also the rule that makes the write
// ordering crash-safe, see Write):
//  1. Unless sector 0 holds a dos table with partitions, a primary GPT
//     whose header and entries CRCs check: GPT, FromPrimary.
//  2. Else, if sector 0 is a protective or hybrid MBR, or is no MBR at all:
//     a backup GPT whose CRCs check: GPT, FromBackup.
//  3. Else a dos MBR (even one with no partitions): dos, EBR chain followed.
//  4. Else, when a primary GPT signature or a 0xEE entry was seen: ErrUnreadable.
//  5. Else: ErrNoTable.
//
// A dos MBR in front of an intact GPT reads as dos (Verify reports
// ErrStaleGPT): that is the state half way through turning a dos disk into
// GPT, which must still read as the old table until the protective MBR is
// written, and it is what the kernel, sfdisk and blkid read.
func (d *Disk) Read(ctx context.Context) (*Table, error) {
	sc, err := d.scan(ctx)
	if err != nil {
		return nil, err
	}
	t, _, err := d.decide(sc)
	return t, err
}

func (d *Disk) decide(sc *scan) (*Table, []Problem, error) {
	t, probs, err := d.decideTable(sc)
	if t != nil {
		t.origin, t.originDisk = t.fingerprint(), d
	}
	return t, probs, err
}

func (d *Disk) decideTable(sc *scan) (*Table, []Problem, error) {
	sectors := d.geo.Sectors()
	// A real dos table in sector 0 wins over any GPT behind it: the kernel
	// reads a GPT only behind a protective (or hybrid) MBR, and so do sfdisk
	// and blkid, so the dos partitions are the ones in use. It also makes
	// the protective MBR, written last, the switch from dos to GPT.
	if sc.primary.ok() && sc.kind != mbrDOS {
		t := tableFromHeader(sc.primary.hdr, sc.primary.entries, d.geo.SectorSize, sectors, FromPrimary)
		d.setAlign(t)
		return t, nil, nil
	}
	if sc.kind != mbrDOS && sc.kind != mbrEmpty && sc.backup.ok() {
		t := tableFromHeader(sc.backup.hdr, sc.backup.entries, d.geo.SectorSize, sectors, FromBackup)
		d.setAlign(t)
		d.cfg.log.Warn("primary GPT damaged, using the backup", "path", d.path, "primary", sc.primary.why+sc.primary.entriesErr)
		return t, nil, nil
	}
	if sc.kind == mbrDOS || sc.kind == mbrEmpty {
		t, probs, err := parseDOS(sc.mbr, d.geo.SectorSize, sectors, d.readSector)
		if err != nil {
			return nil, nil, err
		}
		d.setAlign(t)
		t.damaged = probs
		return t, probs, nil
	}
	// A damaged backup alone (no primary signature, no 0xEE entry) is not
	// a table: it is what a crash leaves half way through creating a GPT
	// on a blank disk, which must still read as "no table".
	if sc.primary.fault != headerNoSignature || sc.kind == mbrProtective || sc.kind == mbrHybrid {
		why := fmt.Sprintf("primary: %s%s; backup: %s%s", sc.primary.why, sc.primary.entriesErr, sc.backup.why, sc.backup.entriesErr)
		if hint := d.sectorSizeHint(); hint != "" {
			why += "; " + hint
		}
		return nil, nil, fmt.Errorf("%w: %s", ErrUnreadable, why)
	}
	return nil, nil, ErrNoTable
}

// sectorSizeHint looks for a GPT header where another logical sector size
// would put it: an image of a 4Kn disk opened with 512-byte sectors (or the
// reverse) has its header at byte 4096 (or 512).
func (d *Disk) sectorSizeHint() string {
	for _, ss := range []int{512, 4096} {
		if ss == d.geo.SectorSize || int64(ss)*2 > d.geo.Size {
			continue
		}
		b := make([]byte, 8)
		if _, err := d.dev.ReadAt(b, int64(ss)); err == nil && string(b) == gptSignature {
			return fmt.Sprintf("a GPT header sits at byte %d: the disk has %d-byte sectors (WithSectorSize(%d))", ss, ss, ss)
		}
	}
	return ""
}
