package partition

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// Label is the partition table type, named as sfdisk names it.
type Label string

// The labels this package reads and writes.
const (
	LabelGPT Label = "gpt"
	LabelDOS Label = "dos"
)

// Source says which copy of a GPT a table was read from.
type Source int

const (
	// FromPrimary: the primary header at LBA 1 and its entries were intact.
	FromPrimary Source = iota
	// FromBackup: the primary was damaged or absent and the backup at the
	// end of the disk was used. Repair rewrites the primary.
	FromBackup
)

func (s Source) String() string {
	if s == FromBackup {
		return "backup"
	}
	return "primary"
}

// Geometry is what the layout depends on. SectorSize is the logical sector
// size (512 or 4096); PhysicalSectorSize and OptimalIO refine alignment.
type Geometry struct {
	Size               int64 // bytes
	SectorSize         int
	PhysicalSectorSize int
	OptimalIO          int
}

// Sectors is the disk size in logical sectors.
func (g Geometry) Sectors() uint64 {
	if g.SectorSize <= 0 {
		return 0
	}
	return uint64(g.Size) / uint64(g.SectorSize)
}

func (g Geometry) validate() error {
	switch g.SectorSize {
	case 512, 1024, 2048, 4096:
	default:
		return fmt.Errorf("%w: logical sector size %d", ErrInvalidArgument, g.SectorSize)
	}
	if g.Size <= 0 || g.Sectors() < 8 {
		return fmt.Errorf("%w: disk size %d bytes", ErrInvalidArgument, g.Size)
	}
	if g.PhysicalSectorSize != 0 && (g.PhysicalSectorSize < g.SectorSize || g.PhysicalSectorSize%g.SectorSize != 0) {
		return fmt.Errorf("%w: physical sector size %d with logical %d", ErrInvalidArgument, g.PhysicalSectorSize, g.SectorSize)
	}
	if g.OptimalIO < 0 {
		return fmt.Errorf("%w: optimal I/O size %d", ErrInvalidArgument, g.OptimalIO)
	}
	return nil
}

// Partition is one partition. Start and Size are in logical sectors.
type Partition struct {
	// Number is the kernel's partition number: the GPT entry index + 1, or
	// 1-4 for dos primaries and 5 onwards for logical partitions in chain order.
	Number int
	Start  uint64
	Size   uint64

	// GPT
	Type  GUID
	UUID  GUID
	Name  string
	Attrs uint64

	// dos
	MBRType  byte
	Bootable bool
	// ebr is the LBA of the extended boot record describing a logical
	// partition (dos, Number >= 5).
	ebr     uint64
	logical bool

	// extra holds bytes of a GPT entry beyond the 128 the spec defines, so
	// larger entries round-trip unchanged.
	extra []byte
}

// End is the last sector of p (inclusive), as GPT stores it.
func (p Partition) End() uint64 { return p.Start + p.Size - 1 }

// Logical reports whether p is a dos logical partition (numbered 5 and up,
// described by an EBR inside the extended partition).
func (p Partition) Logical() bool { return p.logical }

// Table is a partition table in memory. Read returns one; NewGPT and NewDOS
// create one; the edit methods change it; Disk.Write stores it.
type Table struct {
	Label      Label
	SectorSize int
	// Sectors is the disk size in logical sectors the table was laid out
	// for (at read time: the disk's size now).
	Sectors uint64

	// GPT header fields.
	DiskGUID     GUID
	FirstUsable  uint64
	LastUsable   uint64
	EntryCount   uint32
	EntrySize    uint32
	HeaderSize   uint32
	EntriesLBA   uint64 // primary entries array, usually 2
	AlternateLBA uint64 // where the backup header is (normally Sectors-1)

	// DiskID is the dos disk signature (MBR offset 440).
	DiskID uint32

	// Partitions in Number order. A dos extended partition is listed like
	// any primary (its MBRType says extended).
	Partitions []Partition

	// Source is the copy the table came from (GPT).
	Source Source

	headerExtra []byte // header bytes beyond 92 up to HeaderSize
	// damaged is what reading found broken beyond what the table shows (a
	// dos EBR chain cut short): the partitions past the break are not in
	// Partitions, so writing this table (or an edit of it) would drop them
	// for good. Plan refuses it; NewDOS starts over deliberately.
	damaged []Problem
	// origin fingerprints the table as Read found it, so Write can tell
	// that the disk changed between the Read and the Write (another
	// writer) instead of overwriting that change. Empty for NewGPT/NewDOS.
	origin      string
	originDisk  *Disk  // the Disk that read it: a copy written elsewhere is not checked
	align       uint64 // alignment in sectors for edits, set from Geometry
	physSectors uint64 // physical sector in logical sectors
}

// Clone returns a deep copy, so an edit can be planned without touching t.
func (t *Table) Clone() *Table {
	c := *t
	c.Partitions = make([]Partition, len(t.Partitions))
	for i, p := range t.Partitions {
		p.extra = slices.Clone(p.extra)
		c.Partitions[i] = p
	}
	c.headerExtra = slices.Clone(t.headerExtra)
	return &c
}

// Partition returns partition n.
func (t *Table) Partition(n int) (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Number == n {
			return p, true
		}
	}
	return Partition{}, false
}

func (t *Table) index(n int) int {
	for i, p := range t.Partitions {
		if p.Number == n {
			return i
		}
	}
	return -1
}

func (t *Table) sort() {
	slices.SortFunc(t.Partitions, func(a, b Partition) int { return a.Number - b.Number })
}

// extended returns the dos extended partition, if any.
func (t *Table) extended() (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Number <= 4 && isExtended(p.MBRType) {
			return p, true
		}
	}
	return Partition{}, false
}

// entriesSectors is how many sectors the GPT entries array takes.
func (t *Table) entriesSectors() uint64 {
	b := uint64(t.EntryCount) * uint64(t.EntrySize)
	ss := uint64(t.SectorSize)
	return (b + ss - 1) / ss
}

// BackupEntriesLBA is where the backup entries array starts.
func (t *Table) BackupEntriesLBA() uint64 { return t.AlternateLBA - t.entriesSectors() }

// fingerprint identifies what a table says, whichever copy it came from.
func (t *Table) fingerprint() string {
	c := t.Clone()
	c.Source, c.damaged, c.origin, c.originDisk, c.align, c.physSectors = FromPrimary, nil, "", nil, 0, 0
	return fmt.Sprintf("%x", sha256.Sum256(fmt.Appendf(nil, "%+v", *c)))
}
