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

// counters returns pointers to the counters in kernel order, so one loop
// fills any line length without reflection or allocation.
func (d *DiskStat) counter(i int) *uint64 {
	switch i {
	case 0:
		return &d.ReadIOs
	case 1:
		return &d.ReadMerges
	case 2:
		return &d.ReadSectors
	case 3:
		return &d.ReadTicks
	case 4:
		return &d.WriteIOs
	case 5:
		return &d.WriteMerges
	case 6:
		return &d.WriteSectors
	case 7:
		return &d.WriteTicks
	case 8:
		return &d.InFlight
	case 9:
		return &d.IOTicks
	case 10:
		return &d.TimeInQueue
	case 11:
		return &d.DiscardIOs
	case 12:
		return &d.DiscardMerges
	case 13:
		return &d.DiscardSectors
	case 14:
		return &d.DiscardTicks
	case 15:
		return &d.FlushIOs
	case 16:
		return &d.FlushTicks
	}
	return nil
}

const maxCounters = 17

// ParseDiskstats parses the content of /proc/diskstats into dst[:0] and
// returns the extended slice. It allocates nothing once dst has the capacity
// and the device names are the ones dst already held at the same positions
// (the steady state of a sampler that passes the previous result back in):
// an unchanged name reuses the previous string. Lines with more than 20
// fields keep the first 20 (a future kernel's additions are ignored, not
// an error); any other count than 7, 14, 18 or 20+ is an error.
func ParseDiskstats(data []byte, dst []DiskStat) ([]DiskStat, error) {
	dst = dst[:0]
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		if isBlank(l) {
			continue
		}
		var d *DiskStat
		if len(dst) < cap(dst) {
			dst = dst[:len(dst)+1]
		} else {
			dst = append(dst, DiskStat{})
		}
		d = &dst[len(dst)-1]
		if err := parseLine(l, d, line); err != nil {
			return dst[:len(dst)-1], err
		}
	}
	return dst, nil
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

// parseCounters fills d's counters in kernel order and returns how many it
// found (at most maxCounters; extra fields are ignored).
func parseCounters(l []byte, d *DiskStat, line int) (int, error) {
	var vals [maxCounters]uint64
	n := 0
	for {
		var f []byte
		f, l = nextField(l)
		if len(f) == 0 {
			break
		}
		if n == maxCounters {
			continue // fields of a future kernel
		}
		v, ok := parseUint(f)
		if !ok {
			return 0, &ParseError{Line: line, Reason: "counter is not an unsigned decimal"}
		}
		vals[n] = v
		n++
	}
	switch n {
	case 4:
		// Legacy partition line: reads, read sectors, writes, write sectors.
		*d = DiskStat{Major: d.Major, Minor: d.Minor, Name: d.Name,
			ReadIOs: vals[0], ReadSectors: vals[1], WriteIOs: vals[2], WriteSectors: vals[3]}
		return n, nil
	case 11, 15, 17:
	default:
		return 0, &ParseError{Line: line, Reason: "unexpected number of fields"}
	}
	for i := 0; i < maxCounters; i++ {
		if i < n {
			*d.counter(i) = vals[i]
		} else {
			*d.counter(i) = 0
		}
	}
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
