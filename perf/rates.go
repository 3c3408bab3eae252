package perf

import "time"

// SectorSize is the unit of the kernel's sector counters: always 512 bytes,
// whatever the device's logical block size.
const SectorSize = 512

// Rates are the per-interval numbers of `iostat -x`, computed with sysstat's
// formulas from two samples of one device. Per-second values divide by the
// measured interval. Await values are milliseconds per completed request;
// request sizes are kB (1024 bytes) per request. A value whose counters the
// kernel did not give (see Fields and the Has* methods) is zero and must not
// be reported.
type Rates struct {
	Name         string
	Major, Minor uint32
	Fields       int           // field count of the newer sample
	Interval     time.Duration // measured between the two samples

	ReadsPerSec, WritesPerSec, DiscardsPerSec, FlushesPerSec           float64 // r/s w/s d/s f/s
	ReadKBPerSec, WriteKBPerSec, DiscardKBPerSec                       float64 // rkB/s wkB/s dkB/s
	ReadMergesPerSec, WriteMergesPerSec, DiscardMergesPerSec           float64 // rrqm/s wrqm/s drqm/s
	ReadMergePct, WriteMergePct, DiscardMergePct                       float64 // %rrqm %wrqm %drqm
	ReadAwait, WriteAwait, DiscardAwait, FlushAwait                    float64 // r_await w_await d_await f_await (ms)
	ReadReqSizeKB, WriteReqSizeKB, DiscardReqSizeKB                    float64 // rareq-sz wareq-sz dareq-sz (kB)
	QueueSize                                                          float64 // aqu-sz
	Util                                                               float64 // %util, capped at 100 (sysstat is not)
	TPS                                                                float64 // r+w+d per second, flushes excluded as iostat does
	IOPS                                                               float64 // r+w+d+f per second: every completed request
	ReadBytesPerSec, WriteBytesPerSec, DiscardBytesPerSec, BytesPerSec float64 // throughput; BytesPerSec = read+write+discard
	Await                                                              float64 // ms per request over reads, writes and discards (sysstat's "await")
	InFlight                                                           uint64  // requests in flight at the newer sample
}

// HasExtended, HasDiscard and HasFlush say which groups of Rates are real.
func (r *Rates) HasExtended() bool { return r.Fields >= FieldsBasic }
func (r *Rates) HasDiscard() bool  { return r.Fields >= FieldsDiscard }
func (r *Rates) HasFlush() bool    { return r.Fields >= FieldsFlush }

// delta32 is the difference of a millisecond field, which the kernel prints
// as a 32-bit unsigned value: modulo 2^32, so a wrap gives the true delta.
func delta32(cur, prev uint64) uint64 { return uint64(uint32(cur) - uint32(prev)) }

// deltaCounter is the difference of an unsigned long counter. When it went
// down from a value that fits in 32 bits, it is a 32-bit kernel's wrap and
// the modular difference is exact. From above 2^32 it cannot be a wrap (a
// 64-bit counter does not reach 2^64): the counters were reset, and the
// delta is 0 rather than a value near 2^64. (Rater detects resets, and on
// 64-bit kernels every decrease, before it calls ComputeRates.)
func deltaCounter(cur, prev uint64) uint64 {
	if cur >= prev {
		return cur - prev
	}
	if prev <= 0xffffffff {
		return uint64(uint32(cur) - uint32(prev))
	}
	return 0
}

func ratio(num, den uint64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// ComputeRates computes iostat's numbers between prev and cur (cur newer)
// over the measured interval. The formulas are sysstat's (iostat.c,
// compute_ext_disk_stats): rates are deltas divided by the interval;
// r_await = Δrd_ticks/Δrd_ios; rareq-sz = Δrd_sectors/Δrd_ios/2;
// %rrqm = Δrd_merges/(Δrd_merges+Δrd_ios)*100; aqu-sz = Δtime_in_queue/interval(ms);
// %util = Δio_ticks/interval(ms)*100, capped at 100 (sysstat does not cap;
// see the package doc); tps excludes flushes.
// A zero or negative interval gives zero rates.
func ComputeRates(prev, cur *DiskStat, interval time.Duration) Rates {
	var r Rates
	computeRates(&r, prev, cur, interval)
	return r
}

// computeRates is ComputeRates into *r, which must be zero: a Rater fills
// its output slice in place instead of copying a 300-byte value twice per
// device. Every value divides by the interval, as sysstat does, rather than
// multiplying by its inverse: that rounds twice, and a device busy for the
// whole interval got 99.99999999999999 %util.
func computeRates(r *Rates, prev, cur *DiskStat, interval time.Duration) {
	r.Name, r.Major, r.Minor, r.Fields, r.Interval, r.InFlight = cur.Name, cur.Major, cur.Minor, cur.Fields, interval, cur.InFlight
	if prev.Fields < r.Fields {
		// The kernel cannot gain fields between two samples of one device;
		// report only what both samples have.
		r.Fields = prev.Fields
	}
	if interval <= 0 {
		return
	}
	sec := interval.Seconds()
	ms := float64(interval) / float64(time.Millisecond) // exact for whole milliseconds, unlike sec*1000

	rIO := deltaCounter(cur.ReadIOs, prev.ReadIOs)
	wIO := deltaCounter(cur.WriteIOs, prev.WriteIOs)
	rSec := deltaCounter(cur.ReadSectors, prev.ReadSectors)
	wSec := deltaCounter(cur.WriteSectors, prev.WriteSectors)
	r.ReadsPerSec = float64(rIO) / sec
	r.WritesPerSec = float64(wIO) / sec
	r.ReadKBPerSec = float64(rSec) / 2 / sec
	r.WriteKBPerSec = float64(wSec) / 2 / sec
	r.ReadBytesPerSec = float64(rSec) * SectorSize / sec
	r.WriteBytesPerSec = float64(wSec) * SectorSize / sec
	r.ReadReqSizeKB = ratio(rSec, rIO) / 2
	r.WriteReqSizeKB = ratio(wSec, wIO) / 2
	ios := rIO + wIO
	if r.HasExtended() {
		rM := deltaCounter(cur.ReadMerges, prev.ReadMerges)
		wM := deltaCounter(cur.WriteMerges, prev.WriteMerges)
		r.ReadMergesPerSec = float64(rM) / sec
		r.WriteMergesPerSec = float64(wM) / sec
		r.ReadMergePct = ratio(rM, rM+rIO) * 100
		r.WriteMergePct = ratio(wM, wM+wIO) * 100
		rT := delta32(cur.ReadTicks, prev.ReadTicks)
		wT := delta32(cur.WriteTicks, prev.WriteTicks)
		r.ReadAwait = ratio(rT, rIO)
		r.WriteAwait = ratio(wT, wIO)
		r.QueueSize = float64(delta32(cur.TimeInQueue, prev.TimeInQueue)) / ms
		r.Util = float64(delta32(cur.IOTicks, prev.IOTicks)) / ms * 100
		if r.Util > 100 {
			r.Util = 100
		}
		ticks := rT + wT
		if r.HasDiscard() {
			dIO := deltaCounter(cur.DiscardIOs, prev.DiscardIOs)
			dM := deltaCounter(cur.DiscardMerges, prev.DiscardMerges)
			dSec := deltaCounter(cur.DiscardSectors, prev.DiscardSectors)
			dT := delta32(cur.DiscardTicks, prev.DiscardTicks)
			r.DiscardsPerSec = float64(dIO) / sec
			r.DiscardKBPerSec = float64(dSec) / 2 / sec
			r.DiscardBytesPerSec = float64(dSec) * SectorSize / sec
			r.DiscardMergesPerSec = float64(dM) / sec
			r.DiscardMergePct = ratio(dM, dM+dIO) * 100
			r.DiscardAwait = ratio(dT, dIO)
			r.DiscardReqSizeKB = ratio(dSec, dIO) / 2
			ios += dIO
			ticks += dT
		}
		r.Await = ratio(ticks, ios)
	}
	r.TPS = float64(ios) / sec
	r.IOPS = r.TPS
	if r.HasFlush() {
		fIO := deltaCounter(cur.FlushIOs, prev.FlushIOs)
		r.FlushesPerSec = float64(fIO) / sec
		r.FlushAwait = ratio(delta32(cur.FlushTicks, prev.FlushTicks), fIO)
		r.IOPS += r.FlushesPerSec
	}
	r.BytesPerSec = r.ReadBytesPerSec + r.WriteBytesPerSec + r.DiscardBytesPerSec
}
