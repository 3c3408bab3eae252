package partition

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// DefaultAlignment is the partition start alignment when the disk asks for
// nothing coarser: 1 MiB, as fdisk, sfdisk, sgdisk and parted use.
const DefaultAlignment = 1 << 20

// alignmentBytes is the least common multiple of 1 MiB, the physical sector
// and the optimal I/O size, so a start is aligned for all three.
func alignmentBytes(g Geometry) uint64 {
	a := uint64(DefaultAlignment)
	for _, v := range []int{g.SectorSize, g.PhysicalSectorSize, g.OptimalIO} {
		if v > 0 {
			a = lcm(a, uint64(v))
		}
	}
	return a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b uint64) uint64 { return a / gcd(a, b) * b }

func (d *Disk) setAlign(t *Table) { t.setGeometry(d.geo) }

func (t *Table) setGeometry(g Geometry) {
	t.align = max(1, alignmentBytes(g)/uint64(g.SectorSize))
	pss := max(g.PhysicalSectorSize, g.SectorSize)
	t.physSectors = uint64(pss / g.SectorSize)
}

// Alignment is the start alignment, in sectors, that edits use.
func (t *Table) Alignment() uint64 { return max(1, t.align) }

// NewGPT returns an empty GPT for a disk of geometry g, laid out as sgdisk
// lays it: 128 entries of 128 bytes right after the header, first usable LBA
// 34 on 512-byte sectors (6 on 4096), the backup at the last LBA.
func NewGPT(g Geometry) (*Table, error) {
	if g.PhysicalSectorSize == 0 {
		g.PhysicalSectorSize = g.SectorSize
	}
	if err := g.validate(); err != nil {
		return nil, err
	}
	t := &Table{Label: LabelGPT, SectorSize: g.SectorSize, Sectors: g.Sectors(), DiskGUID: NewGUID(),
		EntryCount: 128, EntrySize: 128, HeaderSize: gptMinHeaderSize, EntriesLBA: 2}
	es := t.entriesSectors()
	if t.Sectors < 2*es+4 {
		return nil, fmt.Errorf("%w: %d sectors is too small for a GPT", ErrInvalidArgument, t.Sectors)
	}
	t.FirstUsable = 2 + es
	t.AlternateLBA = t.Sectors - 1
	t.LastUsable = t.AlternateLBA - es - 1
	t.setGeometry(g)
	return t, nil
}

// NewDOS returns an empty dos table with a random disk identifier.
func NewDOS(g Geometry) (*Table, error) {
	if g.PhysicalSectorSize == 0 {
		g.PhysicalSectorSize = g.SectorSize
	}
	if err := g.validate(); err != nil {
		return nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	t := &Table{Label: LabelDOS, SectorSize: g.SectorSize, Sectors: g.Sectors(), DiskID: binary.LittleEndian.Uint32(b[:])}
	t.setGeometry(g)
	return t, nil
}

// Extent is a run of sectors.
type Extent struct {
	Start uint64
	Size  uint64
}

// End is the last sector of e, inclusive.
func (e Extent) End() uint64 { return e.Start + e.Size - 1 }

// usable is the range partitions may use (outside logical space).
func (t *Table) usable() (uint64, uint64) {
	if t.Label == LabelGPT {
		return t.FirstUsable, t.LastUsable
	}
	last := t.Sectors - 1
	if last > 0xffffffff {
		last = 0xffffffff
	}
	return 1, last
}

func freeIn(lo, hi uint64, used []Extent) []Extent {
	slices.SortFunc(used, func(a, b Extent) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	var out []Extent
	cur := lo
	for _, u := range used {
		if u.Size == 0 || u.End() < cur {
			continue
		}
		if u.Start > hi {
			break
		}
		if u.Start > cur {
			out = append(out, Extent{cur, u.Start - cur})
		}
		cur = u.End() + 1
	}
	if cur <= hi {
		out = append(out, Extent{cur, hi - cur + 1})
	}
	return out
}

// Free lists the unused regions outside any partition (for dos, outside the
// extended partition too; FreeLogical lists the space inside it).
func (t *Table) Free() []Extent {
	lo, hi := t.usable()
	var used []Extent
	for _, p := range t.Partitions {
		if !p.Logical() {
			used = append(used, Extent{p.Start, p.Size})
		}
	}
	return freeIn(lo, hi, used)
}

// FreeLogical lists the unused regions inside a dos extended partition.
// An EBR occupies the sector it sits on.
func (t *Table) FreeLogical() []Extent {
	ext, ok := t.extended()
	if !ok {
		return nil
	}
	var used []Extent
	for _, p := range t.Partitions {
		if p.Logical() {
			used = append(used, Extent{p.ebr, p.End() - p.ebr + 1})
		}
	}
	return freeIn(ext.Start, ext.End(), used)
}

// AddSpec describes a partition to add.
type AddSpec struct {
	// Number: 0 takes the lowest free number (dos: next logical when Logical).
	Number int
	// Start in sectors: 0 places the partition best-fit (the smallest free
	// region it fits). A given start is rounded up to the alignment.
	Start uint64
	Size  Size
	// Type as ParseType accepts ("linux" by default); dos also takes "extended".
	Type string
	Name string
	// UUID: zero means a random one.
	UUID  GUID
	Attrs uint64
	// Logical asks for a dos logical partition inside the extended one.
	Logical  bool
	Bootable bool
}

func alignUp(v, a uint64) uint64 {
	if a <= 1 {
		return v
	}
	return (v + a - 1) / a * a
}

// sectorsFor turns a requested size into sectors for a region starting at
// start (aligned) and ending at regionEnd.
func (t *Table) sectorsFor(s Size, start, regionEnd uint64) (uint64, error) {
	ss := uint64(t.SectorSize)
	switch {
	case s.Rest:
		if regionEnd < start {
			return 0, ErrNoSpace
		}
		return regionEnd - start + 1, nil
	case s.Percent > 0:
		lo, hi := t.usable()
		n := uint64(float64(hi-lo+1) * s.Percent / 100)
		n = n / t.Alignment() * t.Alignment()
		if n == 0 {
			return 0, fmt.Errorf("%w: %v of the disk is less than one alignment unit", ErrInvalidArgument, s)
		}
		return n, nil
	case s.Bytes > 0:
		n := (s.Bytes + ss - 1) / ss
		return alignUp(n, max(1, t.physSectors)), nil
	}
	return 0, fmt.Errorf("%w: no size given", ErrInvalidArgument)
}

// Add adds a partition and returns it as placed. The table is changed only
// when the result validates.
func (t *Table) Add(spec AddSpec) (Partition, error) {
	typ := spec.Type
	if typ == "" {
		typ = "linux"
	}
	p := Partition{Name: spec.Name, UUID: spec.UUID, Attrs: spec.Attrs, Bootable: spec.Bootable}
	if t.Label == LabelDOS && strings.EqualFold(typ, "extended") {
		p.MBRType = MBRTypeExtended
	} else {
		g, b, err := ParseType(t.Label, typ)
		if err != nil {
			return Partition{}, err
		}
		p.Type, p.MBRType = g, b
	}
	if t.Label == LabelGPT {
		if spec.Logical || spec.Bootable {
			return Partition{}, fmt.Errorf("%w: logical and bootable are dos-only", ErrNotSupported)
		}
		if p.UUID.IsZero() {
			p.UUID = NewGUID()
		}
		p.MBRType = 0
	} else {
		if spec.Name != "" || !spec.UUID.IsZero() || spec.Attrs != 0 {
			return Partition{}, fmt.Errorf("%w: name, UUID and attributes are GPT-only", ErrNotSupported)
		}
		p.Type = GUID{}
	}
	n, err := t.pickNumber(spec.Number, spec.Logical)
	if err != nil {
		return Partition{}, err
	}
	p.Number = n

	regions := t.Free()
	if spec.Logical {
		regions = t.FreeLogical()
	}
	type cand struct {
		start, size, region uint64
		ebr                 uint64
	}
	var best *cand
	for _, r := range regions {
		if spec.Start != 0 && (spec.Start < r.Start || spec.Start > r.End()) {
			continue
		}
		from := r.Start
		if spec.Start != 0 {
			from = spec.Start
		}
		ebr := uint64(0)
		if spec.Logical {
			ebr = from
			from++
		}
		start := alignUp(from, t.Alignment())
		if start > r.End() {
			continue
		}
		size, err := t.sectorsFor(spec.Size, start, r.End())
		if err != nil {
			if err == ErrNoSpace {
				continue
			}
			return Partition{}, err
		}
		if size == 0 || start+size-1 > r.End() {
			continue
		}
		c := cand{start, size, r.Size, ebr}
		switch {
		case best == nil:
			best = &c
		case spec.Size.Rest && c.size > best.size:
			best = &c
		case !spec.Size.Rest && c.region < best.region:
			best = &c
		}
		if spec.Start != 0 {
			break
		}
	}
	if best == nil {
		return Partition{}, fmt.Errorf("%w: nothing free fits %v", ErrNoSpace, spec.Size)
	}
	p.Start, p.Size, p.ebr, p.logical = best.start, best.size, best.ebr, spec.Logical
	next := t.Clone()
	next.Partitions = append(next.Partitions, p)
	next.sort()
	if spec.Logical {
		next.renumberLogical()
		p, _ = next.Partition(p.Number)
	}
	if err := next.Validate(); err != nil {
		return Partition{}, err
	}
	*t = *next
	return p, nil
}

// renumberLogical numbers logical partitions 5, 6, ... in disk order, which is
// the order of the EBR chain and how the kernel numbers them.
func (t *Table) renumberLogical() {
	var idx []int
	for i, p := range t.Partitions {
		if p.Logical() {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if t.Partitions[a].Start < t.Partitions[b].Start {
			return -1
		}
		return 1
	})
	for k, i := range idx {
		t.Partitions[i].Number = 5 + k
	}
	t.sort()
}

func (t *Table) pickNumber(want int, logical bool) (int, error) {
	taken := func(n int) bool { return t.index(n) >= 0 }
	if t.Label == LabelDOS {
		if logical {
			if _, ok := t.extended(); !ok {
				return 0, fmt.Errorf("%w: a logical partition needs an extended partition", ErrInvalidLayout)
			}
			n := 5
			for taken(n) {
				n++
			}
			if n-5 >= mbrMaxLogical {
				return 0, fmt.Errorf("%w: too many logical partitions", ErrInvalidLayout)
			}
			return n, nil // renumbered by position afterwards
		}
		if want != 0 {
			if want < 1 || want > 4 || taken(want) {
				return 0, fmt.Errorf("%w: primary partition number %d not free", ErrInvalidArgument, want)
			}
			return want, nil
		}
		for n := 1; n <= 4; n++ {
			if !taken(n) {
				return n, nil
			}
		}
		return 0, fmt.Errorf("%w: all four primary slots are used", ErrNoSpace)
	}
	if want != 0 {
		if want < 1 || want > int(t.EntryCount) || taken(want) {
			return 0, fmt.Errorf("%w: partition number %d not free (1..%d)", ErrInvalidArgument, want, t.EntryCount)
		}
		return want, nil
	}
	for n := 1; n <= int(t.EntryCount); n++ {
		if !taken(n) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: all %d entries are used", ErrNoSpace, t.EntryCount)
}

// Delete removes partition n. A dos extended partition can only go once it
// holds no logical partitions; logical partitions after n are renumbered.
func (t *Table) Delete(n int) error {
	i := t.index(n)
	if i < 0 {
		return fmt.Errorf("%w: partition %d", ErrNotFound, n)
	}
	p := t.Partitions[i]
	if t.Label == LabelDOS && isExtended(p.MBRType) && !p.Logical() {
		for _, q := range t.Partitions {
			if q.Logical() {
				return fmt.Errorf("%w: extended partition %d still holds logical partition %d", ErrInvalidLayout, n, q.Number)
			}
		}
	}
	t.Partitions = slices.Delete(t.Partitions, i, i+1)
	if p.Logical() {
		t.renumberLogical()
	}
	return nil
}

// Resize changes the size of partition n, keeping its start. "rest" grows it
// to the next partition or the end of the usable (or extended) area.
func (t *Table) Resize(n int, s Size) (Partition, error) {
	i := t.index(n)
	if i < 0 {
		return Partition{}, fmt.Errorf("%w: partition %d", ErrNotFound, n)
	}
	p := t.Partitions[i]
	// The room p may take: up to the next thing after it.
	_, limit := t.usable()
	if p.Logical() {
		ext, _ := t.extended()
		limit = ext.End()
	}
	for _, q := range t.Partitions {
		if q.Number == p.Number || q.Logical() != p.Logical() {
			continue
		}
		qs := q.Start
		if q.Logical() {
			qs = q.ebr
		}
		if qs > p.Start && qs-1 < limit {
			limit = qs - 1
		}
	}
	size, err := t.sectorsFor(s, p.Start, limit)
	if err != nil {
		return Partition{}, err
	}
	next := t.Clone()
	next.Partitions[i].Size = size
	if err := next.Validate(); err != nil {
		return Partition{}, err
	}
	*t = *next
	return next.Partitions[i], nil
}

func (t *Table) gptOnly(n int) (int, error) {
	if t.Label != LabelGPT {
		return 0, fmt.Errorf("%w: on a %s label", ErrNotSupported, t.Label)
	}
	i := t.index(n)
	if i < 0 {
		return 0, fmt.Errorf("%w: partition %d", ErrNotFound, n)
	}
	return i, nil
}

// SetName sets a GPT partition name (at most 36 UTF-16 code units).
func (t *Table) SetName(n int, name string) error {
	i, err := t.gptOnly(n)
	if err != nil {
		return err
	}
	if _, err := encodeName(name); err != nil {
		return err
	}
	t.Partitions[i].Name = name
	return nil
}

// SetType sets the type (as ParseType reads it).
func (t *Table) SetType(n int, typ string) error {
	i := t.index(n)
	if i < 0 {
		return fmt.Errorf("%w: partition %d", ErrNotFound, n)
	}
	g, b, err := ParseType(t.Label, typ)
	if err != nil {
		return err
	}
	if t.Label == LabelDOS {
		if isExtended(t.Partitions[i].MBRType) != isExtended(b) {
			return fmt.Errorf("%w: cannot turn an extended partition into a data one or back", ErrInvalidLayout)
		}
		t.Partitions[i].MBRType = b
		return nil
	}
	t.Partitions[i].Type = g
	return nil
}

// SetUUID sets a GPT partition's unique GUID; it must stay unique.
func (t *Table) SetUUID(n int, g GUID) error {
	i, err := t.gptOnly(n)
	if err != nil {
		return err
	}
	if g.IsZero() {
		return fmt.Errorf("%w: zero GUID", ErrInvalidArgument)
	}
	for _, q := range t.Partitions {
		if q.Number != n && q.UUID == g {
			return fmt.Errorf("%w: GUID %v already used by partition %d", ErrInvalidLayout, g, q.Number)
		}
	}
	t.Partitions[i].UUID = g
	return nil
}

// GPT attribute bits (UEFI spec 5.3.3 and the discoverable partitions spec).
const (
	AttrRequired    uint64 = 1 << 0
	AttrNoBlockIO   uint64 = 1 << 1
	AttrLegacyBIOS  uint64 = 1 << 2
	AttrReadOnly    uint64 = 1 << 60
	AttrNoAutomount uint64 = 1 << 63
)

// SetAttrs sets a GPT partition's attribute bits.
func (t *Table) SetAttrs(n int, attrs uint64) error {
	i, err := t.gptOnly(n)
	if err != nil {
		return err
	}
	t.Partitions[i].Attrs = attrs
	return nil
}
