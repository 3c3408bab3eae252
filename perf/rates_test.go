package perf

import (
	"math"
	"testing"
	"time"
)

// A pair of 20-field samples two seconds apart, with every expected value
// worked out by hand from sysstat's formulas (see ComputeRates).
var (
	ratePrev = DiskStat{Name: "sdx", Major: 8, Fields: 20,
		ReadIOs: 100, ReadMerges: 10, ReadSectors: 1000, ReadTicks: 50,
		WriteIOs: 200, WriteMerges: 50, WriteSectors: 4000, WriteTicks: 400,
		IOTicks: 1000, TimeInQueue: 2000,
		DiscardIOs: 10, DiscardSectors: 800, DiscardTicks: 20, FlushIOs: 5, FlushTicks: 10}
	rateCur = DiskStat{Name: "sdx", Major: 8, Fields: 20,
		ReadIOs: 300, ReadMerges: 60, ReadSectors: 3000, ReadTicks: 450, // +200 ios +50 merges +2000 sect +400 ms
		WriteIOs: 600, WriteMerges: 150, WriteSectors: 12000, WriteTicks: 2000, // +400 +100 +8000 +1600
		InFlight: 3, IOTicks: 1500, TimeInQueue: 5000, // +500 ms busy, +3000 ms weighted
		DiscardIOs: 20, DiscardMerges: 10, DiscardSectors: 2800, DiscardTicks: 70, // +10 +10 +2000 +50
		FlushIOs: 25, FlushTicks: 50} // +20 +40
	rateWant = Rates{Name: "sdx", Major: 8, Fields: 20, Interval: 2 * time.Second, InFlight: 3,
		ReadsPerSec: 100, WritesPerSec: 200, DiscardsPerSec: 5, FlushesPerSec: 10,
		ReadKBPerSec: 500, WriteKBPerSec: 2000, DiscardKBPerSec: 500,
		ReadMergesPerSec: 25, WriteMergesPerSec: 50, DiscardMergesPerSec: 5,
		ReadMergePct: 20, WriteMergePct: 20, DiscardMergePct: 50,
		ReadAwait: 2, WriteAwait: 4, DiscardAwait: 5, FlushAwait: 2,
		ReadReqSizeKB: 5, WriteReqSizeKB: 10, DiscardReqSizeKB: 100,
		QueueSize: 1.5, Util: 25, TPS: 305, IOPS: 315,
		ReadBytesPerSec: 512000, WriteBytesPerSec: 2048000, DiscardBytesPerSec: 512000, BytesPerSec: 3072000,
		Await: 2050.0 / 610}
)

func ratesClose(t *testing.T, label string, got, want Rates) {
	t.Helper()
	gf, wf := rateFields(&got), rateFields(&want)
	for i, name := range rateFieldNames {
		if math.Abs(gf[i]-wf[i]) > 1e-9*math.Max(1, math.Abs(wf[i])) {
			t.Errorf("%s: %s = %v, want %v", label, name, gf[i], wf[i])
		}
	}
	if got.Name != want.Name || got.Fields != want.Fields || got.Interval != want.Interval || got.InFlight != want.InFlight {
		t.Errorf("%s: identity %+v", label, got)
	}
}

var rateFieldNames = []string{"r/s", "w/s", "d/s", "f/s", "rkB/s", "wkB/s", "dkB/s", "rrqm/s", "wrqm/s", "drqm/s",
	"%rrqm", "%wrqm", "%drqm", "r_await", "w_await", "d_await", "f_await", "rareq-sz", "wareq-sz", "dareq-sz",
	"aqu-sz", "%util", "tps", "iops", "rB/s", "wB/s", "dB/s", "B/s", "await"}

func rateFields(r *Rates) []float64 {
	return []float64{r.ReadsPerSec, r.WritesPerSec, r.DiscardsPerSec, r.FlushesPerSec, r.ReadKBPerSec, r.WriteKBPerSec,
		r.DiscardKBPerSec, r.ReadMergesPerSec, r.WriteMergesPerSec, r.DiscardMergesPerSec, r.ReadMergePct, r.WriteMergePct,
		r.DiscardMergePct, r.ReadAwait, r.WriteAwait, r.DiscardAwait, r.FlushAwait, r.ReadReqSizeKB, r.WriteReqSizeKB,
		r.DiscardReqSizeKB, r.QueueSize, r.Util, r.TPS, r.IOPS, r.ReadBytesPerSec, r.WriteBytesPerSec,
		r.DiscardBytesPerSec, r.BytesPerSec, r.Await}
}

func TestComputeRatesHandComputed(t *testing.T) {
	ratesClose(t, "pair", ComputeRates(&ratePrev, &rateCur, 2*time.Second), rateWant)
}

// Every millisecond field is a 32-bit value in the kernel: moving the pair
// across the 2^32 boundary must not change any rate.
func TestComputeRatesWrap32(t *testing.T) {
	type field struct {
		name string
		get  func(*DiskStat) *uint64
	}
	fields := []field{
		{"rd_ticks", func(d *DiskStat) *uint64 { return &d.ReadTicks }},
		{"wr_ticks", func(d *DiskStat) *uint64 { return &d.WriteTicks }},
		{"io_ticks", func(d *DiskStat) *uint64 { return &d.IOTicks }},
		{"time_in_queue", func(d *DiskStat) *uint64 { return &d.TimeInQueue }},
		{"dc_ticks", func(d *DiskStat) *uint64 { return &d.DiscardTicks }},
		{"fl_ticks", func(d *DiskStat) *uint64 { return &d.FlushTicks }},
	}
	all0, all1 := ratePrev, rateCur
	for _, f := range fields {
		p, c := ratePrev, rateCur
		delta := *f.get(&c) - *f.get(&p)
		// prev 7 ms before the wrap, cur delta-7 after it.
		*f.get(&p), *f.get(&c) = 1<<32-7, delta-7
		*f.get(&all0), *f.get(&all1) = 1<<32-7, delta-7
		ratesClose(t, f.name+" wrap", ComputeRates(&p, &c, 2*time.Second), rateWant)
	}
	ratesClose(t, "all ms fields wrap", ComputeRates(&all0, &all1, 2*time.Second), rateWant)
}

// unsigned long counters: a 32-bit kernel's wrap. (A 64-bit counter never
// reaches 2^64; a drop from above 2^32 is a reset, see
// TestComputeRatesResetIsNotHuge.)
func TestComputeRatesCounterWrap(t *testing.T) {
	p, c := ratePrev, rateCur
	p.ReadIOs, c.ReadIOs = 1<<32-9, 191               // +200 across 2^32 (32-bit kernel)
	p.WriteSectors, c.WriteSectors = 1<<32-1000, 7000 // +8000 across 2^32 (32-bit kernel)
	ratesClose(t, "counter wrap", ComputeRates(&p, &c, 2*time.Second), rateWant)
}

func TestComputeRatesOlderFormats(t *testing.T) {
	p, c := ratePrev, rateCur
	p.Fields, c.Fields = 14, 14
	p.DiscardIOs, p.DiscardMerges, p.DiscardSectors, p.DiscardTicks, p.FlushIOs, p.FlushTicks = 0, 0, 0, 0, 0, 0
	c.DiscardIOs, c.DiscardMerges, c.DiscardSectors, c.DiscardTicks, c.FlushIOs, c.FlushTicks = 0, 0, 0, 0, 0, 0
	r := ComputeRates(&p, &c, 2*time.Second)
	if r.HasDiscard() || r.HasFlush() || r.DiscardsPerSec != 0 || r.FlushesPerSec != 0 {
		t.Fatalf("14 fields reported discard/flush: %+v", r)
	}
	if r.TPS != 300 || r.IOPS != 300 || r.Await != 2000.0/600 {
		t.Fatalf("14 fields: tps %v iops %v await %v", r.TPS, r.IOPS, r.Await)
	}
	// Legacy partition lines: only ios and sectors exist.
	lp := DiskStat{Name: "sda1", Fields: 7, ReadIOs: 10, ReadSectors: 80, WriteIOs: 4, WriteSectors: 64}
	lc := DiskStat{Name: "sda1", Fields: 7, ReadIOs: 20, ReadSectors: 160, WriteIOs: 8, WriteSectors: 128}
	r = ComputeRates(&lp, &lc, time.Second)
	if r.ReadsPerSec != 10 || r.WriteKBPerSec != 32 || r.ReadReqSizeKB != 4 || r.Util != 0 || r.HasExtended() {
		t.Fatalf("legacy: %+v", r)
	}
	// A sample that lost fields reports only the common ones.
	c18 := rateCur
	c18.Fields = 18
	if r := ComputeRates(&ratePrev, &c18, time.Second); r.Fields != 18 || r.FlushesPerSec != 0 {
		t.Fatalf("mixed: %+v", r)
	}
	if r := ComputeRates(&ratePrev, &rateCur, 0); r.IOPS != 0 {
		t.Fatalf("zero interval gave rates")
	}
}

func TestComputeRatesUtilCapped(t *testing.T) {
	p, c := ratePrev, rateCur
	c.IOTicks = p.IOTicks + 2100 // more busy time than the 2 s interval
	if r := ComputeRates(&p, &c, 2*time.Second); r.Util != 100 {
		t.Fatalf("util %v, want capped 100", r.Util)
	}
}

// A device busy for the whole interval is 100% utilized, and one with four
// requests queued the whole time has an aqu-sz of 4, whatever the
// interval: each value is one correctly rounded division of a delta by the
// interval, as in sysstat. Multiplying by the interval's inverse instead
// rounds twice and gave 99.99999999999999 %util and aqu-sz
// 3.9999999999999996 over 7 s, so a rule on %util >= 100 never fired for a
// saturated device at such intervals.
func TestComputeRatesRoundOnce(t *testing.T) {
	for ms := uint64(1); ms <= 120_000; ms += 1 + ms/100 {
		iv := time.Duration(ms) * time.Millisecond
		p, c := ratePrev, rateCur
		c.IOTicks = p.IOTicks + ms
		c.TimeInQueue = p.TimeInQueue + 4*ms
		c.ReadIOs = p.ReadIOs + 5
		r := ComputeRates(&p, &c, iv)
		if r.Util != 100 || r.QueueSize != 4 {
			t.Fatalf("busy for all of %v: %%util %v, aqu-sz %v; want 100 and 4", iv, r.Util, r.QueueSize)
		}
		if want := 5 / iv.Seconds(); r.ReadsPerSec != want {
			t.Fatalf("5 reads in %v: r/s %v, want %v", iv, r.ReadsPerSec, want)
		}
	}
}
