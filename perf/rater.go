package perf

import (
	"strconv"
	"time"
)

// Change says what happened to a device between two samples.
type Change int

const (
	// Appeared: first sample of a device; it has no rates until the next one,
	// so a device that shows up mid-run never reports its since-boot totals
	// as one interval's spike.
	Appeared Change = iota + 1
	// Restarted: the name now belongs to a different device (major:minor or
	// diskseq changed, or every counter went down); its baseline starts over.
	Restarted
	// Vanished: the device is no longer in the statistics and was dropped.
	Vanished
)

func (c Change) String() string {
	switch c {
	case Appeared:
		return "appeared"
	case Restarted:
		return "restarted"
	case Vanished:
		return "vanished"
	}
	return "unknown"
}

// DeviceChange reports a device that appeared, restarted or vanished.
type DeviceChange struct {
	Name   string
	Change Change
}

// SeqFunc returns a device's diskseq (the kernel's per-attach sequence number,
// 5.15+) and whether it is known. Rater calls it for new devices and, when
// configured, periodically, to notice a name reused by another device.
type SeqFunc func(name string) (uint64, bool)

type devState struct {
	name   string
	last   DiskStat
	seq    uint64
	hasSeq bool
	gen    uint64
}

// Rater turns successive samples into Rates, one device at a time, keeping
// the previous counters of every device. It handles devices that appear,
// vanish and are reused (see Change). Not safe for concurrent use.
type Rater struct {
	devs     map[string]*devState
	order    []*devState // states in the previous sample's order: skips the map when devices keep their places
	gen      uint64
	last     time.Time
	seq      SeqFunc
	seqEvery int
	changes  []DeviceChange
	// long32: the kernel's unsigned long may be 32 bits, so a counter
	// that went down from below 2^32 may have wrapped. A 64-bit process
	// runs only on a 64-bit kernel, whose counters never wrap: there any
	// counter that went down belongs to a new device.
	long32 bool
}

// NewRater returns a Rater. seq may be nil (no diskseq checks); seqEvery is
// how often, in samples, every known device's diskseq is re-read (0: only
// when a device first appears or restarts), each device at its own sample.
func NewRater(seq SeqFunc, seqEvery int) *Rater {
	if seqEvery < 0 {
		seqEvery = 0
	}
	return &Rater{devs: make(map[string]*devState), seq: seq, seqEvery: seqEvery, long32: strconv.IntSize == 32}
}

// Changes returns the device changes found by the last Update; valid until
// the next Update.
func (r *Rater) Changes() []DeviceChange { return r.changes }

// allDown reports whether every counter that moves went down: the name was
// reused by a fresh device (or the counters were reset), not a wrap.
func allDown(prev, cur *DiskStat) bool {
	if cur.ReadIOs+cur.WriteIOs+cur.ReadSectors+cur.WriteSectors == 0 &&
		prev.ReadIOs+prev.WriteIOs+prev.ReadSectors+prev.WriteSectors == 0 {
		return false // an idle device: nothing went down
	}
	return cur.ReadIOs <= prev.ReadIOs && cur.WriteIOs <= prev.WriteIOs &&
		cur.ReadSectors <= prev.ReadSectors && cur.WriteSectors <= prev.WriteSectors &&
		(cur.ReadIOs < prev.ReadIOs || cur.WriteIOs < prev.WriteIOs ||
			cur.ReadSectors < prev.ReadSectors || cur.WriteSectors < prev.WriteSectors)
}

// counterReset reports whether an unsigned long counter went down in a way
// no wrap explains: on a 64-bit kernel any decrease (they never wrap), on a
// 32-bit one a decrease from above 2^32. A name re-attached to a device
// with some counters higher and some lower is caught here; taken for a
// wrap it would report about 2^32 requests in one interval.
func (r *Rater) counterReset(prev, cur *DiskStat) bool {
	down := func(p, c uint64) bool { return c < p && (!r.long32 || p > 0xffffffff) }
	return down(prev.ReadIOs, cur.ReadIOs) || down(prev.ReadMerges, cur.ReadMerges) ||
		down(prev.ReadSectors, cur.ReadSectors) || down(prev.WriteIOs, cur.WriteIOs) ||
		down(prev.WriteMerges, cur.WriteMerges) || down(prev.WriteSectors, cur.WriteSectors) ||
		down(prev.DiscardIOs, cur.DiscardIOs) || down(prev.DiscardMerges, cur.DiscardMerges) ||
		down(prev.DiscardSectors, cur.DiscardSectors) || down(prev.FlushIOs, cur.FlushIOs)
}

// Update consumes sample s and appends to out the rates of every device seen
// in both s and the previous sample, in the order of s. It allocates only
// for devices it has not seen before.
func (r *Rater) Update(s *Sample, out []Rates) []Rates {
	r.gen++
	r.changes = r.changes[:0]
	interval := time.Duration(0)
	if !r.last.IsZero() {
		interval = s.Time.Sub(r.last)
	}
	r.last = s.Time
	checkSeq := r.seq != nil && r.seqEvery > 0
	for i := range s.Disks {
		cur := &s.Disks[i]
		var st *devState
		ok := false
		if i < len(r.order) && r.order[i] != nil && r.order[i].name == cur.Name {
			st, ok = r.order[i], true
		} else {
			st, ok = r.devs[cur.Name]
		}
		if i < len(r.order) {
			r.order[i] = st
		} else {
			r.order = append(r.order, st)
		}
		if !ok {
			st = &devState{name: cur.Name, last: *cur, gen: r.gen}
			r.order[i] = st
			if r.seq != nil {
				st.seq, st.hasSeq = r.seq(cur.Name)
			}
			r.devs[cur.Name] = st
			r.changes = append(r.changes, DeviceChange{cur.Name, Appeared})
			continue
		}
		// Each device's diskseq is due once every seqEvery samples, at a
		// sample that depends on its place: 1,000 devices cost 1,000/seqEvery
		// sysfs reads per sample instead of a 1,000-read stall every seqEvery.
		seqDue := checkSeq && (r.gen+uint64(i))%uint64(r.seqEvery) == 0
		if st.gen == r.gen-1 && st.last == *cur && !seqDue {
			// Not one counter moved (an idle device): every rate is zero,
			// which is what ComputeRates gives for equal samples, without
			// its divisions and copies.
			st.gen = r.gen
			out = append(out, Rates{Name: cur.Name, Major: cur.Major, Minor: cur.Minor,
				Fields: cur.Fields, Interval: interval, InFlight: cur.InFlight})
			continue
		}
		restarted := st.gen != r.gen-1 || // absent from the previous sample
			st.last.Major != cur.Major || st.last.Minor != cur.Minor ||
			allDown(&st.last, cur) || r.counterReset(&st.last, cur)
		seqRead := false
		if seqDue && !restarted {
			seq, has := r.seq(cur.Name)
			seqRead = true
			if has != st.hasSeq || seq != st.seq {
				st.seq, st.hasSeq = seq, has
				restarted = true
			}
		}
		st.gen = r.gen
		if restarted {
			st.last = *cur
			if r.seq != nil && !seqRead {
				// Restarted for another reason: take the new device's
				// diskseq now, or the next check restarts it again.
				st.seq, st.hasSeq = r.seq(cur.Name)
			}
			r.changes = append(r.changes, DeviceChange{cur.Name, Restarted})
			continue
		}
		out = append(out, Rates{})
		computeRates(&out[len(out)-1], &st.last, cur, interval)
		st.last = *cur
	}
	clear(r.order[len(s.Disks):])
	r.order = r.order[:len(s.Disks)]
	if len(r.devs) != len(s.Disks) {
		for name, st := range r.devs {
			if st.gen != r.gen {
				delete(r.devs, name)
				r.changes = append(r.changes, DeviceChange{name, Vanished})
			}
		}
	}
	return out
}
