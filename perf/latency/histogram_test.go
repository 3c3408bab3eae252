package latency

import (
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// nearestRank is the reference: the smallest sample with at least q of the
// samples at or below it.
func nearestRank(sorted []uint64, q float64) uint64 {
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(k, 0)]
}

// latencies draws samples spread like request latencies: a few clusters
// (a device's modes) of random width, anywhere from nanoseconds to past the
// overflow bound.
func latencies(t *rapid.T) []uint64 {
	n := rapid.IntRange(1, 2000).Draw(t, "n")
	modes := rapid.SliceOfN(rapid.Uint64Range(1, 1<<38), 1, 4).Draw(t, "modes")
	out := make([]uint64, n)
	for i := range out {
		m := modes[rapid.IntRange(0, len(modes)-1).Draw(t, "mode")]
		spread := rapid.Float64Range(0.5, 2).Draw(t, "spread")
		out[i] = uint64(float64(m) * spread)
	}
	return out
}

// The error bound doc.go states, on any data: every quantile estimate is
// within RelativeError of the true nearest-rank quantile, or, in the
// overflow bucket, exactly OverflowNanos with the true value at or above
// it.
func TestQuantileErrorBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := latencies(t)
		var h Histogram
		var sum uint64
		for _, v := range vals {
			h.Record(v)
			sum += v
		}
		slices.Sort(vals)
		if h.Count() != uint64(len(vals)) || h.Sum != sum {
			t.Fatalf("count %d sum %d, want %d %d", h.Count(), h.Sum, len(vals), sum)
		}
		for _, q := range []float64{rapid.Float64Range(0.001, 1).Draw(t, "q"), 0.5, 0.95, 0.99, 1} {
			exact := nearestRank(vals, q)
			est := uint64(h.Quantile(q))
			if exact >= OverflowNanos {
				if est != OverflowNanos {
					t.Fatalf("q %v: exact %d in overflow, estimate %d", q, exact, est)
				}
				continue
			}
			if d := math.Abs(float64(est) - float64(exact)); d > RelativeError*float64(exact) {
				t.Fatalf("q %v: estimate %d, exact %d: off by %.4f%%", q, est, exact, 100*d/float64(exact))
			}
			if i, _ := h.QuantileBucket(q); i != BucketIndex(exact) {
				t.Fatalf("q %v: bucket %d, exact value's %d", q, i, BucketIndex(exact))
			}
		}
		if h.Mean() != time.Duration(sum/uint64(len(vals))) {
			t.Fatalf("mean %v", h.Mean())
		}
	})
}

func TestQuantileEdges(t *testing.T) {
	var h Histogram
	for _, q := range []float64{0.5, 0, -1, 2, math.NaN()} {
		if h.Quantile(q) != 0 {
			t.Errorf("empty: Quantile(%v) = %v", q, h.Quantile(q))
		}
	}
	h.Record(1000)
	for _, q := range []float64{0, -1, 1.5, math.NaN()} {
		if _, ok := h.QuantileBucket(q); ok {
			t.Errorf("Quantile(%v) accepted", q)
		}
	}
	// 1000 ns is in [992, 1024), whose middle is 1008.
	if got := h.Quantile(0.001); got != 1008 {
		t.Errorf("one value: %v", got)
	}
	// The overflow bucket reports its lower bound.
	h.Record(1 << 40)
	if got := h.Quantile(1); got != time.Duration(OverflowNanos) {
		t.Errorf("overflow: %v", got)
	}
	// Exact buckets below 32 ns.
	var small Histogram
	for v := uint64(0); v < 32; v++ {
		small.Record(v)
	}
	if got := small.Quantile(0.5); got != 15 {
		t.Errorf("small p50 = %v", got)
	}
}

func TestAddDeltaCountBelow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := latencies(t), latencies(t)
		var ha, hab Histogram
		for _, v := range a {
			ha.Record(v)
			hab.Record(v)
		}
		var hb Histogram
		for _, v := range b {
			hb.Record(v)
			hab.Record(v)
		}
		var sum Histogram
		sum.Add(&ha)
		sum.Add(&hb)
		if sum != hab {
			t.Fatal("Add differs from recording both")
		}
		var d Histogram
		if !d.Delta(&hab, &ha) || d != hb {
			t.Fatal("Delta(a+b, a) != b")
		}
		// A restart: the current reading has less than the previous one.
		if d.Delta(&ha, &hab) && len(b) > 0 {
			t.Fatal("Delta across a restart reported no restart")
		}
		if d != ha {
			t.Fatal("Delta across a restart is not the current reading")
		}
		// CountBelow at a bucket bound is exact.
		i := rapid.IntRange(0, OverflowBucket).Draw(t, "bound")
		lo, _ := BucketBounds(i)
		var want uint64
		for _, v := range append(a, b...) {
			if v < lo {
				want++
			}
		}
		if got := hab.CountBelow(lo); got != want {
			t.Fatalf("CountBelow(%d) = %d, want %d", lo, got, want)
		}
	})
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Read.String(), "read"}, {Write.String(), "write"}, {Discard.String(), "discard"}, {Flush.String(), "flush"},
		{Other.String(), "other"}, {Op(99).String(), "op(99)"},
		{Device.String(), "device"}, {Queue.String(), "queue"}, {Total.String(), "total"}, {Stage(9).String(), "stage(9)"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}
