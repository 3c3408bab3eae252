package perf

import "bytes"

// Field counts of a /proc/diskstats line (major, minor and name included).
// The kernel grew the line over time; a DiskStat records which one it got in
// Fields and the Has* methods say which counters are real.
const (
	FieldsLegacyPartition = 7  // 2.6.x partitions: reads, read sectors, writes, write sectors
	FieldsBasic           = 14 // the classic eleven counters
	FieldsDiscard         = 18 // + discards (4.18+)
	FieldsFlush           = 20 // + flushes (5.5+)
)

// DiskStat is one device's line of /proc/diskstats (or /sys/block/DEV/stat)
// as the kernel printed it. Counters are cumulative since the device was
// registered. Time fields are milliseconds; the kernel prints them as 32-bit
// unsigned values, so they wrap at 2^32 and deltas are taken modulo 2^32
// (see ComputeRates). Counters the kernel did not print are zero and the
// Has* method for their group is false: callers must not report them.
type DiskStat struct {
	Major, Minor uint32
	Name         string
	Fields       int // number of fields on the line, name included (7, 14, 18 or 20)

	ReadIOs, ReadMerges, ReadSectors, ReadTicks     uint64
	WriteIOs, WriteMerges, WriteSectors, WriteTicks uint64
	InFlight, IOTicks, TimeInQueue                  uint64

	DiscardIOs, DiscardMerges, DiscardSectors, DiscardTicks uint64
	FlushIOs, FlushTicks                                    uint64
}

// HasExtended reports whether merges, ticks, in-flight, io_ticks and
// time_in_queue are present (false only for legacy 4-counter partition lines).
func (d *DiskStat) HasExtended() bool { return d.Fields >= FieldsBasic }

// HasDiscard reports whether the discard counters are present.
func (d *DiskStat) HasDiscard() bool { return d.Fields >= FieldsDiscard }

// HasFlush reports whether the flush counters are present.
func (d *DiskStat) HasFlush() bool { return d.Fields >= FieldsFlush }

const maxCounters = 17

// ParseDiskstats parses the content of /proc/diskstats into dst[:0] and
// returns the extended slice. It allocates nothing once dst has the capacity
// and the device names are the ones dst already held at the same positions
// (the steady state of a sampler that passes the previous result back in):
// an unchanged name reuses the previous string. Lines with more than 20
// fields keep the first 20 (a future kernel's additions are ignored, not
// an error); any other count than 7, 14, 18 or 20+ is an error.
func ParseDiskstats(data []byte, dst []DiskStat) ([]DiskStat, error) {
	dst, _, err := parseDiskstats(data, nil, nil, dst, nil)
	return dst, err
}

// lineSpan is where one device's line was in a page: data[start:end].
type lineSpan struct{ start, end int }

// parseDiskstats is ParseDiskstats for a sampler that keeps its previous
// page. When lines is not nil it records where each device's line is, for
// the next call to pass as prevLines with prev (that page). A line
// byte-identical to the same device slot's line in prev is not parsed
// again: dst must then hold, unmodified, what the call that read prev
// left in it, and that slot keeps its values. An idle device's line does
// not change between samples, so a machine of mostly idle devices costs a
// comparison a line instead of seventeen numbers.
func parseDiskstats(data, prev []byte, prevLines []lineSpan, dst []DiskStat, lines []lineSpan) ([]DiskStat, []lineSpan, error) {
	dst = dst[:0]
	if lines != nil {
		lines = lines[:0]
	}
	line := 0
	for pos := 0; pos < len(data); {
		line++
		start, end := pos, len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		pos = end + 1
		l := data[start:end]
		if isBlank(l) {
			continue
		}
		k := len(dst)
		if k < cap(dst) {
			dst = dst[:k+1]
		} else {
			dst = append(dst, DiskStat{})
		}
		if lines != nil {
			lines = append(lines, lineSpan{start, end})
		}
		if k < len(prevLines) {
			if p := prevLines[k]; bytes.Equal(l, prev[p.start:p.end]) {
				continue
			}
		}
		if err := parseLine(l, &dst[k], line); err != nil {
			return dst[:k], nil, err
		}
	}
	return dst, lines, nil
}

// ParseDeviceStat parses /sys/block/DEV/stat (the diskstats counters without
// major, minor and name) into d, keeping d's identity fields. Fields counts as
// if the identity columns were present, so it compares with the constants.
func ParseDeviceStat(data []byte, d *DiskStat) error {
	n, err := parseCounters(data, d, 1)
	if err != nil {
		return err
	}
	return setFields(d, n+3, 1)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isBlank(l []byte) bool {
	for _, c := range l {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// nextField returns the next space-separated field of l and the rest.
func nextField(l []byte) (field, rest []byte) {
	i := 0
	for i < len(l) && isSpace(l[i]) {
		i++
	}
	j := i
	for j < len(l) && !isSpace(l[j]) {
		j++
	}
	return l[i:j], l[j:]
}

// parseUint parses a decimal without allocation; ok is false on anything
// else, including overflow of 64 bits.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		nv := v*10 + uint64(c-'0')
		if nv/10 != v { // overflow
			return 0, false
		}
		v = nv
	}
	return v, true
}

func parseLine(l []byte, d *DiskStat, line int) error {
	f, rest := nextField(l)
	maj, ok := parseUint(f)
	if !ok || maj > 0xffffffff {
		return &ParseError{Line: line, Reason: "bad major number"}
	}
	f, rest = nextField(rest)
	min, ok := parseUint(f)
	if !ok || min > 0xffffffff {
		return &ParseError{Line: line, Reason: "bad minor number"}
	}
	name, rest := nextField(rest)
	if len(name) == 0 {
		return &ParseError{Line: line, Reason: "missing device name"}
	}
	// Reuse the string already in the slot when the name is unchanged: this
	// is what keeps steady-state sampling free of allocations.
	if d.Name != string(name) {
		d.Name = string(name)
	}
	d.Major, d.Minor = uint32(maj), uint32(min)
	n, err := parseCounters(rest, d, line)
	if err != nil {
		return err
	}
	return setFields(d, n+3, line)
}

// scanUint skips blanks from l[i:] and parses one unsigned decimal in the
// same pass. It returns the value, the index after it and whether a field
// was there at all; ok is false for a field that is not an unsigned
// decimal or overflows 64 bits.
func scanUint(l []byte, i int) (v uint64, next int, present, ok bool) {
	for i < len(l) && l[i] <= ' ' && isSpace(l[i]) {
		i++
	}
	if i == len(l) {
		return 0, i, false, true
	}
	start := i
	// Up to 19 digits cannot overflow 64 bits: no check in the hot loop.
	end := min(len(l), start+19)
	for i < end {
		c := l[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
		i++
	}
	for i < len(l) { // a 20th digit or more: check exactly
		c := l[i] - '0'
		if c > 9 {
			break
		}
		if v > (1<<64-1-uint64(c))/10 {
			return 0, i, true, false
		}
		v = v*10 + uint64(c)
		i++
	}
	if i == start || (i < len(l) && !isSpace(l[i])) {
		return 0, i, true, false
	}
	return v, i, true, true
}

// parseCounters fills d's counters in kernel order and returns how many it
// found (at most maxCounters; extra fields are ignored).
func parseCounters(l []byte, d *DiskStat, line int) (int, error) {
	var v [maxCounters]uint64
	n, i := 0, 0
	for {
		x, next, present, ok := scanUint(l, i)
		if !present {
			break
		}
		if !ok {
			if n == maxCounters {
				break // a future kernel's field need not be a number we know
			}
			return 0, &ParseError{Line: line, Reason: "counter is not an unsigned decimal"}
		}
		i = next
		if n < maxCounters {
			v[n] = x
			n++
		}
	}
	switch n {
	case 4:
		// Legacy partition line: reads, read sectors, writes, write sectors.
		*d = DiskStat{Major: d.Major, Minor: d.Minor, Name: d.Name,
			ReadIOs: v[0], ReadSectors: v[1], WriteIOs: v[2], WriteSectors: v[3]}
		return n, nil
	case 11, 15, 17:
	default:
		return 0, &ParseError{Line: line, Reason: "unexpected number of fields"}
	}
	// Fields beyond n are zero in v, which is what an absent field must be.
	d.ReadIOs, d.ReadMerges, d.ReadSectors, d.ReadTicks = v[0], v[1], v[2], v[3]
	d.WriteIOs, d.WriteMerges, d.WriteSectors, d.WriteTicks = v[4], v[5], v[6], v[7]
	d.InFlight, d.IOTicks, d.TimeInQueue = v[8], v[9], v[10]
	d.DiscardIOs, d.DiscardMerges, d.DiscardSectors, d.DiscardTicks = v[11], v[12], v[13], v[14]
	d.FlushIOs, d.FlushTicks = v[15], v[16]
	return n, nil
}

func setFields(d *DiskStat, n, line int) error {
	switch n {
	case FieldsLegacyPartition, FieldsBasic, FieldsDiscard, FieldsFlush:
		d.Fields = n
		return nil
	}
	return &ParseError{Line: line, Reason: "unexpected number of fields"}
}
