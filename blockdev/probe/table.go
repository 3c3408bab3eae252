package probe

import (
	"fmt"
	"strconv"
)

// Table is a partition table as blkid reads it. Type and ID are what
// `blkid -p` prints for the whole device (PTTYPE, PTUUID); Entries are the
// partitions blkid's partition list holds (what it prints as PART_ENTRY_*
// for a partition of the device), with offsets and sizes in 512-byte
// sectors whatever the device's logical sector size.
//
// The two can differ, as they do in blkid: a bare BSD disklabel is listed
// but never named by blkid -p (Type is empty, the entries carry Scheme
// "bsd"); a dos table whose BSD, Solaris or other nested-label partition
// runs past the end of the device is named but lists nothing.
type Table struct {
	// Type is PTTYPE: gpt, dos, PMBR (a protective MBR without a valid
	// GPT), aix, sgi, sun, mac, ultrix, unixware, solaris or atari.
	Type string
	ID   string // PTUUID: disk GUID (gpt) or disk signature %08x (dos)
	// Entries include those of tables nested in dos partitions (bsd,
	// solaris, unixware, minix), numbered after the logical partitions.
	Entries []Entry
}

// Entry is one partition of a Table.
type Entry struct {
	Number int    // PART_ENTRY_NUMBER: GPT slot+1; dos 1-4, logical 5+; nested ones after those
	Start  uint64 // in 512-byte sectors
	Size   uint64 // in 512-byte sectors
	// Type is PART_ENTRY_TYPE: the GPT type GUID, a mac or atari type
	// string, or else the numeric type as "0xNN" ("0x0" when the table
	// has none).
	Type  string
	UUID  string // GPT partition GUID, or "<disk id>-NN" for dos
	Name  string // GPT or mac partition name
	Flags uint64 // GPT attributes, dos boot indicator, sun/unixware/solaris slice flags
	// Scheme is PART_ENTRY_SCHEME when it is not the Table's Type: the
	// nested table the entry comes from (bsd, freebsd, netbsd, openbsd,
	// solaris, unixware, minix), or the table blkid lists without naming
	// it for the whole device (a bare bsd label). Empty means Table.Type.
	Scheme string
}

// ptArea is the byte range a table prober reads: the whole device, or one
// dos partition when a nested table is looked for inside it (blkid probes
// a clone limited to the partition then).
type ptArea struct {
	s         *source
	off, size int64 // bytes from the device's start; length
	ssz       int64 // the device's logical sector size
}

// at is source.at confined to the area: (nil, nil) outside it.
func (a ptArea) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > a.size || int64(n) > a.size-off {
		return nil, nil
	}
	return a.s.at(a.off+off, n)
}

// sector reads the 512-byte sector n of the area: blkid's sector reads are
// in 512-byte units whatever the logical sector size.
func (a ptArea) sector(n uint64) ([]byte, error) {
	if n > uint64(a.size)/512 {
		return nil, nil
	}
	return a.at(int64(n)*512, 512)
}

// magic checks a magic where blkid's tables put it (sboff bytes past kboff
// KiB) and returns the whole KiB that holds it, which blkid must be able to
// read, or nil when the magic is absent.
func (a ptArea) magic(kboff, sboff int64, m string) ([]byte, error) {
	b, err := a.at((kboff+sboff>>10)<<10, 1024)
	if b == nil || err != nil {
		return nil, err
	}
	if !hasAt(b, int(sboff&0x3ff), m) {
		return nil, nil
	}
	return b, nil
}

// ptList is blkid's partition list while a device is scanned: entries of
// every table found so far, the next partition number, and the parent
// partition while a nested table is read.
type ptList struct {
	entries    []Entry
	next       int
	parent     *Entry // a copy of the dos partition holding a nested table
	parentType byte   // its dos type
}

// add appends a partition with the next number and returns its index.
func (l *ptList) add(scheme string, start, size uint64) int {
	l.entries = append(l.entries, Entry{Number: l.next, Start: start, Size: size, Type: "0x0", Scheme: scheme})
	l.next++
	return len(l.entries) - 1
}

// skip uses up a partition number without a partition (an empty slot).
func (l *ptList) skip() { l.next++ }

func (l *ptList) hasStart(start uint64) bool {
	for _, e := range l.entries {
		if e.Start == start {
			return true
		}
	}
	return false
}

// nested reports whether start and size lie inside the parent partition,
// as a nested table's slices must (with no parent, anything goes).
func (l *ptList) nested(start, size uint64) bool {
	p := l.parent
	return p == nil || (start >= p.Start && start+size >= start && start+size <= p.Start+p.Size)
}

func ptTypeHex(t uint64) string { return fmt.Sprintf("0x%x", t) }

// ptScan is one table prober's view: the area, and the partition list when
// blkid's list (binary) mode still needs an answer (nil once it has one).
type ptScan struct {
	ptArea
	l *ptList
	// gptAbsent is set by the gpt prober when a protective MBR is there
	// but neither GPT header is valid: the PMBR prober's condition.
	gptAbsent bool
}

// ptFound is one prober's verdict in blkid's two modes.
type ptFound struct {
	typed  bool   // blkid -p (type only) names this table
	id     string // and prints this PTUUID
	listed bool   // the partition list accepts it (entries were added)
	// broken: the partition list fails altogether (a nested table's
	// partition runs past the device), so blkid lists no partitions.
	broken bool
}

// ptProbers are blkid 2.38's partition probers in its order. A prober
// checks its own magic and size limits, as blkid's idinfo would before it,
// so the nested probers can be called on a dos partition the same way.
var ptProbers = []struct {
	name string
	fn   func(sc *ptScan) (ptFound, error)
}{
	{"aix", ptAIX},
	{"sgi", ptSGI},
	{"sun", ptSun},
	{"dos", ptDOS},
	{"gpt", ptGPT},
	{"PMBR", ptPMBR},
	{"mac", ptMac},
	{"ultrix", ptUltrix},
	{"bsd", ptBSD},
	{"unixware", ptUnixware},
	{"solaris", ptSolaris},
	{"minix", ptMinix},
	{"atari", ptAtari},
}

// probeTable finds the partition table on s the way blkid does, in both of
// its modes at once: the first prober that blkid -p would name gives Type
// and ID, and the first that blkid's partition list accepts gives Entries.
// A prober that fails only in one mode lets the later ones answer there.
func probeTable(s *source, sectorSize int64) (*Table, error) {
	return scanTable(s, sectorSize, true)
}

// probeTableType is probeTable for blkid -p's answer alone (Type and ID):
// the partition list and the tables nested in dos partitions are not read,
// which saves a read for every swap or BSD primary past the head.
func probeTableType(s *source, sectorSize int64) (*Table, error) {
	return scanTable(s, sectorSize, false)
}

func scanTable(s *source, sectorSize int64, entries bool) (*Table, error) {
	sc := &ptScan{ptArea: ptArea{s: s, size: s.size, ssz: sectorSize}, l: &ptList{next: 1}}
	if !entries {
		sc.l = nil
	}
	list := sc.l
	var t Table
	typed, listed, broken := false, false, false
	for _, p := range ptProbers {
		f, err := p.fn(sc)
		if err == errBudget {
			continue // too many reads for this one: as if absent
		}
		if err != nil {
			return nil, err
		}
		if !typed && f.typed {
			typed, t.Type, t.ID = true, p.name, f.id
		}
		if !listed && (f.listed || f.broken) {
			listed, broken = true, f.broken
			sc.l = nil
		}
		if typed && (listed || !entries) {
			break
		}
	}
	if list != nil && listed && !broken {
		for _, e := range list.entries {
			if e.Scheme == t.Type {
				e.Scheme = ""
			}
			t.Entries = append(t.Entries, e)
		}
	}
	if t.Type == "" && len(t.Entries) == 0 {
		return nil, nil
	}
	return &t, nil
}

// dosNested are the dos partition types blkid looks inside for another
// table, and the prober it uses.
var dosNested = map[byte]func(sc *ptScan) (ptFound, error){
	0xa5: ptBSD, // FreeBSD
	0xa6: ptBSD, // OpenBSD
	0xa9: ptBSD, // NetBSD
	0x63: ptUnixware,
	0x82: ptSolaris, // shared with Linux swap
	0x81: ptMinix,
}

// ptDOS is the dos prober: probeDOS's table, then (for the list, on a
// device larger than a floppy) the tables nested in primary partitions.
func ptDOS(sc *ptScan) (ptFound, error) {
	if b, err := sc.magic(0, 510, "\x55\xaa"); b == nil {
		return ptFound{}, err
	}
	t, err := probeDOS(sc.s, sc.ssz)
	if t == nil || err != nil {
		return ptFound{}, err
	}
	f := ptFound{typed: true, id: t.ID}
	l := sc.l
	if l == nil {
		return f, nil
	}
	for _, e := range t.Entries {
		e.Scheme = "dos"
		l.entries = append(l.entries, e)
	}
	l.next = 5
	for _, e := range t.Entries {
		if e.Number >= l.next {
			l.next = e.Number + 1
		}
	}
	f.listed = true
	if sc.size <= tinySize {
		return f, nil
	}
	n := len(l.entries)
	for i := 0; i < n; i++ {
		pa := l.entries[i]
		v, err := strconv.ParseUint(pa.Type[min(2, len(pa.Type)):], 16, 8)
		if err != nil || pa.Size == 0 || pa.Number > 4 {
			continue // only primary partitions hold nested tables
		}
		typ := byte(v)
		fn := dosNested[typ]
		if fn == nil {
			continue
		}
		off, size := pa.Start*512, pa.Size*512
		if off+size < off || off+size > uint64(sc.size) {
			return ptFound{typed: true, id: t.ID, broken: true}, nil
		}
		l.parent, l.parentType = &pa, typ
		_, err = fn(&ptScan{ptArea: ptArea{s: sc.s, off: int64(off), size: int64(size), ssz: sc.ssz}, l: l})
		l.parent, l.parentType = nil, 0
		if err != nil && err != errBudget {
			return ptFound{}, err
		}
	}
	return f, nil
}

// ptGPT is the gpt prober: a protective MBR, then probeGPT's headers.
func ptGPT(sc *ptScan) (ptFound, error) {
	if sc.size < sc.ssz {
		return ptFound{}, nil
	}
	mbr, err := sc.at(0, 512)
	if mbr == nil || !hasPMBR(mbr) {
		return ptFound{}, err
	}
	t, err := probeGPT(sc.s, sc.ssz)
	if err != nil {
		return ptFound{}, err
	}
	if t == nil {
		sc.gptAbsent = true
		return ptFound{}, nil
	}
	id := t.ID
	if id == "00000000-0000-0000-0000-000000000000" {
		id = "" // blkid prints no PTUUID for a null disk GUID
	}
	if sc.l != nil {
		for _, e := range t.Entries {
			e.Scheme = "gpt"
			sc.l.entries = append(sc.l.entries, e)
		}
	}
	return ptFound{typed: true, id: id, listed: true}, nil
}

// hasPMBR reports a boot signature and a partition of type 0xee: what
// makes dos step aside and lets gpt (or PMBR) look.
func hasPMBR(mbr []byte) bool {
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		return false
	}
	for i := 0; i < 4; i++ {
		if mbr[446+i*16+4] == 0xee {
			return true
		}
	}
	return false
}

// ptPMBR names a protective MBR whose GPT is gone; it lists nothing.
func ptPMBR(sc *ptScan) (ptFound, error) {
	b, err := sc.magic(0, 510, "\x55\xaa")
	if b == nil || !sc.gptAbsent {
		return ptFound{}, err
	}
	return ptFound{typed: true, listed: true}, nil
}
