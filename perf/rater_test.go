package perf

import (
	"fmt"
	"testing"
	"time"
)

func sample(at time.Time, disks ...DiskStat) *Sample { return &Sample{Time: at, Disks: disks} }

func changesOf(r *Rater) map[string]Change {
	m := map[string]Change{}
	for _, c := range r.Changes() {
		m[c.Name] = c.Change
	}
	return m
}

func TestRaterLifecycle(t *testing.T) {
	t0 := time.Now()
	seqs := map[string]uint64{"sdx": 5}
	r := NewRater(func(n string) (uint64, bool) { s, ok := seqs[n]; return s, ok }, 1)

	// First sample: no rates (no since-boot spike), the device appears.
	if out := r.Update(sample(t0, ratePrev), nil); len(out) != 0 {
		t.Fatalf("first sample gave rates: %+v", out)
	}
	if changesOf(r)["sdx"] != Appeared {
		t.Fatalf("changes %v", r.Changes())
	}
	out := r.Update(sample(t0.Add(2*time.Second), rateCur), nil)
	if len(out) != 1 {
		t.Fatalf("got %d rates", len(out))
	}
	ratesClose(t, "rater", out[0], rateWant)

	// A new device mid-run with large since-boot counters: no spike.
	big := DiskStat{Name: "sdy", Major: 8, Minor: 16, Fields: 14, ReadIOs: 1e9, ReadSectors: 1e12, IOTicks: 1e6}
	out = r.Update(sample(t0.Add(3*time.Second), rateCur, big), nil)
	if len(out) != 1 || out[0].Name != "sdx" || out[0].IOPS != 0 {
		t.Fatalf("new device: %+v", out)
	}
	if changesOf(r)["sdy"] != Appeared {
		t.Fatalf("changes %v", r.Changes())
	}
	// The new device's second sample gives its real rate.
	big2 := big
	big2.ReadIOs += 50
	out = r.Update(sample(t0.Add(4*time.Second), rateCur, big2), nil)
	if len(out) != 2 || out[1].ReadsPerSec != 50 {
		t.Fatalf("new device second sample: %+v", out)
	}

	// sdy vanishes: dropped, and reported once.
	out = r.Update(sample(t0.Add(5*time.Second), rateCur), nil)
	if len(out) != 1 || changesOf(r)["sdy"] != Vanished {
		t.Fatalf("vanish: %+v %v", out, r.Changes())
	}
	// If it comes back it is new again (no rates against the old counters).
	out = r.Update(sample(t0.Add(6*time.Second), rateCur, big2), nil)
	if len(out) != 1 || changesOf(r)["sdy"] != Appeared {
		t.Fatalf("return: %+v %v", out, r.Changes())
	}
}

func TestRaterReusedName(t *testing.T) {
	t0 := time.Now()
	seqs := map[string]uint64{"loop0": 1}
	r := NewRater(func(n string) (uint64, bool) { s, ok := seqs[n]; return s, ok }, 1)
	a := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 1000, ReadSectors: 8000, WriteIOs: 500, WriteSectors: 4000}
	r.Update(sample(t0, a), nil)

	// Every counter went down: another device now has the name.
	b := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 3, ReadSectors: 24}
	if out := r.Update(sample(t0.Add(time.Second), b), nil); len(out) != 0 || changesOf(r)["loop0"] != Restarted {
		t.Fatalf("counters down: %+v %v", out, r.Changes())
	}
	b2 := b
	b2.ReadIOs += 10
	if out := r.Update(sample(t0.Add(2*time.Second), b2), nil); len(out) != 1 || out[0].ReadsPerSec != 10 {
		t.Fatalf("after restart: %+v", out)
	}

	// diskseq changed although the counters grew (re-attached and busy).
	seqs["loop0"] = 2
	b3 := b2
	b3.ReadIOs += 10
	if out := r.Update(sample(t0.Add(3*time.Second), b3), nil); len(out) != 0 || changesOf(r)["loop0"] != Restarted {
		t.Fatalf("diskseq: %+v %v", out, r.Changes())
	}

	// major:minor changed.
	c := b3
	c.Minor = 9
	c.ReadIOs += 10
	if out := r.Update(sample(t0.Add(4*time.Second), c), nil); len(out) != 0 || changesOf(r)["loop0"] != Restarted {
		t.Fatalf("devno: %+v %v", out, r.Changes())
	}

	// One 32-bit ms field wrapping is not a restart.
	d := c
	d.ReadTicks = 1<<32 - 5
	r.Update(sample(t0.Add(5*time.Second), d), nil)
	d2 := d
	d2.ReadIOs += 2
	d2.ReadTicks = 5
	out := r.Update(sample(t0.Add(6*time.Second), d2), nil)
	if len(out) != 1 || out[0].ReadAwait != 5 {
		t.Fatalf("wrap: %+v %v", out, r.Changes())
	}
	// An idle device staying at zero is not restarted.
	z := DiskStat{Name: "loop1", Major: 7, Minor: 1, Fields: 20}
	r.Update(sample(t0.Add(7*time.Second), z), nil)
	if out := r.Update(sample(t0.Add(8*time.Second), z), nil); len(out) != 1 {
		t.Fatalf("idle: %+v %v", out, r.Changes())
	}
}

// A name reused by a device whose counters are partly lower and partly
// higher than the old one's (loop0 detached, re-attached to a busy image):
// on a 64-bit kernel an unsigned long counter never wraps, so any counter
// that went down is a new device, never a 32-bit wrap. Taking it for a wrap
// invented a spike of about 4e9 reads in one interval.
func TestRaterPartialDecreaseIsRestart(t *testing.T) {
	t0 := time.Now()
	r := NewRater(nil, 0)
	r.long32 = false // what every 64-bit process sees: the kernel is 64-bit
	a := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 1000, ReadSectors: 8000, WriteIOs: 500, WriteSectors: 4000}
	r.Update(sample(t0, a), nil)
	b := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 3, ReadSectors: 24, WriteIOs: 900, WriteSectors: 9000}
	if out := r.Update(sample(t0.Add(time.Second), b), nil); len(out) != 0 || changesOf(r)["loop0"] != Restarted {
		t.Fatalf("partial decrease: %+v %v", out, r.Changes())
	}
	// Merges and discards count too.
	c := b
	c.WriteIOs += 10
	c.DiscardIOs = 5
	r.Update(sample(t0.Add(2*time.Second), c), nil)
	d := c
	d.WriteIOs += 10
	d.DiscardIOs = 1
	if out := r.Update(sample(t0.Add(3*time.Second), d), nil); len(out) != 0 || changesOf(r)["loop0"] != Restarted {
		t.Fatalf("discard decrease: %+v %v", out, r.Changes())
	}

	// A 32-bit kernel's counters do wrap at 2^32: there the same drop from
	// near the top is the true delta.
	r32 := NewRater(nil, 0)
	r32.long32 = true
	w := DiskStat{Name: "sda", Major: 8, Fields: 20, ReadIOs: 1<<32 - 10, ReadSectors: 8000, WriteIOs: 500}
	r32.Update(sample(t0, w), nil)
	w2 := w
	w2.ReadIOs, w2.ReadSectors = 10, 8160
	out := r32.Update(sample(t0.Add(time.Second), w2), nil)
	if len(out) != 1 || out[0].ReadsPerSec != 20 {
		t.Fatalf("32-bit wrap: %+v %v", out, r32.Changes())
	}
}

// A counter that went down from above 2^32 cannot be a 32-bit wrap and no
// unsigned long reaches 2^64: ComputeRates gives no rate for it, never a
// value near 2^64 per second.
func TestComputeRatesResetIsNotHuge(t *testing.T) {
	p, c := ratePrev, rateCur
	p.ReadIOs, c.ReadIOs = 5<<32, 100
	if r := ComputeRates(&p, &c, time.Second); r.ReadsPerSec != 0 || r.IOPS > 1e6 {
		t.Fatalf("reset counter: r/s %v iops %v", r.ReadsPerSec, r.IOPS)
	}
}

// Periodic diskseq checks are spread over the samples: with 1,000 devices
// and the default of every 100 samples, re-reading every device's diskseq
// in one sample made that sample cost 1,000 sysfs reads (a stall of several
// ms every 10 s at 10 Hz). Each device is still checked every seqEvery
// samples, and a change is still found within that many.
func TestRaterSpreadsDiskseqChecks(t *testing.T) {
	const devs, every = 40, 8
	seqs := map[string]uint64{}
	calls := 0
	r := NewRater(func(n string) (uint64, bool) { calls++; return seqs[n], true }, every)
	t0 := time.Now()
	disks := make([]DiskStat, devs)
	for i := range disks {
		disks[i] = DiskStat{Name: fmt.Sprintf("d%d", i), Major: 7, Minor: uint32(i), Fields: 20}
		seqs[disks[i].Name] = 1
	}
	r.Update(sample(t0, disks...), nil)
	calls = 0
	maxCalls := 0
	for s := 1; s <= 3*every; s++ {
		before := calls
		r.Update(sample(t0.Add(time.Duration(s)*time.Second), disks...), nil)
		maxCalls = max(maxCalls, calls-before)
	}
	if want := 3 * devs; calls != want {
		t.Fatalf("%d diskseq reads in %d samples, want %d (each device once per %d samples)", calls, 3*every, want, every)
	}
	if maxCalls > devs/every+1 {
		t.Fatalf("%d diskseq reads in one sample: not spread", maxCalls)
	}
	// A re-attached device is still noticed within `every` samples.
	seqs["d17"] = 2
	found := -1
	for s := 0; s < every && found < 0; s++ {
		r.Update(sample(t0.Add(time.Duration(100+s)*time.Second), disks...), nil)
		if changesOf(r)["d17"] == Restarted {
			found = s
		}
	}
	if found < 0 {
		t.Fatalf("diskseq change not noticed in %d samples", every)
	}
}

// A device restarted by its counters in a sample where its diskseq is also
// due keeps the new diskseq: it must not be restarted a second time at the
// next check.
func TestRaterRestartRereadsDiskseq(t *testing.T) {
	seqs := map[string]uint64{"loop0": 1}
	r := NewRater(func(n string) (uint64, bool) { return seqs[n], true }, 1)
	t0 := time.Now()
	a := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 1000, WriteIOs: 10}
	r.Update(sample(t0, a), nil)
	seqs["loop0"] = 2
	b := DiskStat{Name: "loop0", Major: 7, Fields: 20, ReadIOs: 5, WriteIOs: 1}
	r.Update(sample(t0.Add(time.Second), b), nil)
	if changesOf(r)["loop0"] != Restarted {
		t.Fatalf("changes %v", r.Changes())
	}
	b.ReadIOs++
	if out := r.Update(sample(t0.Add(2*time.Second), b), nil); len(out) != 1 || len(r.Changes()) != 0 {
		t.Fatalf("restarted twice: %+v %v", out, r.Changes())
	}
}
