package perf

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Property: the rates depend only on the deltas. Shifting every millisecond
// field of both samples by the same amount modulo 2^32 (so that any of them
// may wrap), and every counter by the same amount (modulo 2^32 for a 32-bit
// kernel's counters, so they may wrap; without overflow for a 64-bit
// kernel's, which never reach 2^64), never changes a rate, and no rate is
// negative or NaN.
func TestRatesDependOnlyOnDeltas(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prev := DiskStat{Name: "d", Fields: 20}
		k32 := rapid.Bool().Draw(t, "kernel32")
		for _, p := range counterPtrs(&prev) {
			if k32 {
				*p = uint64(rapid.Uint32().Draw(t, "prev"))
			} else {
				*p = rapid.Uint64Range(0, 1<<62).Draw(t, "prev")
			}
		}
		for _, p := range msPtrs(&prev) {
			*p = uint64(rapid.Uint32().Draw(t, "prevms"))
		}
		cur := prev
		for _, p := range counterPtrs(&cur) {
			if k32 {
				*p = uint64(uint32(*p) + rapid.Uint32Range(0, 1<<31).Draw(t, "delta"))
			} else {
				*p += rapid.Uint64Range(0, 1<<40).Draw(t, "delta")
			}
		}
		for _, p := range msPtrs(&cur) {
			*p = uint64(uint32(*p) + rapid.Uint32Range(0, 1<<31).Draw(t, "deltams"))
		}
		iv := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Hour)).Draw(t, "interval"))
		want := ComputeRates(&prev, &cur, iv)

		shift := rapid.Uint64Range(0, 1<<62).Draw(t, "shift")
		shiftMs := rapid.Uint32().Draw(t, "shiftms")
		p2, c2 := prev, cur
		for i, p := range counterPtrs(&p2) {
			cp := counterPtrs(&c2)[i]
			if k32 {
				*p, *cp = uint64(uint32(*p)+uint32(shift)), uint64(uint32(*cp)+uint32(shift))
			} else {
				*p += shift
				*cp += shift
			}
		}
		for i, p := range msPtrs(&p2) {
			*p = uint64(uint32(*p) + shiftMs)
			*msPtrs(&c2)[i] = uint64(uint32(*msPtrs(&c2)[i]) + shiftMs)
		}
		got := ComputeRates(&p2, &c2, iv)
		gf, wf := rateFields(&got), rateFields(&want)
		for i := range gf {
			if math.IsNaN(gf[i]) || gf[i] < 0 {
				t.Fatalf("%s = %v", rateFieldNames[i], gf[i])
			}
			if gf[i] != wf[i] {
				// Float rounding of large deltas only.
				if math.Abs(gf[i]-wf[i]) > 1e-9*math.Max(1, wf[i]) {
					t.Fatalf("%s: %v after shift, %v before", rateFieldNames[i], gf[i], wf[i])
				}
			}
		}
	})
}

func counterPtrs(d *DiskStat) []*uint64 {
	return []*uint64{&d.ReadIOs, &d.ReadMerges, &d.ReadSectors, &d.WriteIOs, &d.WriteMerges, &d.WriteSectors,
		&d.DiscardIOs, &d.DiscardMerges, &d.DiscardSectors, &d.FlushIOs}
}

func msPtrs(d *DiskStat) []*uint64 {
	return []*uint64{&d.ReadTicks, &d.WriteTicks, &d.IOTicks, &d.TimeInQueue, &d.DiscardTicks, &d.FlushTicks}
}

// Property: on a 64-bit kernel the Rater never invents a spike. Whatever
// sequence of samples a name shows (counters that grow, or another device
// taking the name with counters in any relation to the old ones), every
// rate it reports is the plain growth of the counters over the interval:
// a counter that went down is never read as a wrap.
func TestRaterNeverInventsSpikes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := NewRater(nil, 0)
		r.long32 = false
		t0 := time.Now()
		cur := DiskStat{Name: "sdz", Major: 8, Fields: 20}
		for _, p := range counterPtrs(&cur) {
			*p = rapid.Uint64Range(0, 1<<40).Draw(t, "start")
		}
		prev := cur
		have := false
		steps := rapid.IntRange(2, 20).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			next := cur
			if rapid.Bool().Draw(t, "replace") {
				for _, p := range counterPtrs(&next) {
					*p = rapid.Uint64Range(0, 1<<40).Draw(t, "new")
				}
			} else {
				for _, p := range counterPtrs(&next) {
					*p += rapid.Uint64Range(0, 1<<20).Draw(t, "grow")
				}
			}
			out := r.Update(sample(t0.Add(time.Duration(i)*time.Second), next), nil)
			if have && len(out) == 1 {
				for j, p := range counterPtrs(&prev) {
					c := *counterPtrs(&next)[j]
					if c < *p {
						t.Fatalf("rates reported across a decrease of counter %d: %d -> %d: %+v", j, *p, c, out[0])
					}
				}
				if want := float64(next.ReadIOs - prev.ReadIOs); math.Abs(out[0].ReadsPerSec-want) > 1e-6*math.Max(1, want) {
					t.Fatalf("r/s %v, want %v", out[0].ReadsPerSec, want)
				}
			}
			prev, cur, have = next, next, true
		}
	})
}
