package latency

import (
	"math"
	"math/bits"
	"testing"

	"pgregory.net/rapid"
)

func TestLayoutConstants(t *testing.T) {
	if NumBuckets != 529 || OverflowBucket != 528 || OverflowNanos != 1<<36 {
		t.Fatalf("layout: %d buckets, overflow %d from %d", NumBuckets, OverflowBucket, OverflowNanos)
	}
	if lo, hi := BucketBounds(OverflowBucket - 1); hi != OverflowNanos || lo != OverflowNanos-OverflowNanos/32 {
		t.Fatalf("last bucket before overflow: [%d, %d)", lo, hi)
	}
	if RelativeError != 0.03125 {
		t.Fatalf("RelativeError %v", RelativeError)
	}
}

// The buckets tile [0, inf): each starts where the previous one ends, and
// is at most 1/16 of its lower bound wide (one nanosecond below 32 ns).
func TestBucketsTile(t *testing.T) {
	var next uint64
	for i := range NumBuckets {
		lo, hi := BucketBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi <= lo {
			t.Fatalf("bucket %d: [%d, %d)", i, lo, hi)
		}
		if i < OverflowBucket {
			if w := hi - lo; w > max(1, lo/subBuckets) {
				t.Fatalf("bucket %d [%d, %d) is %d wide", i, lo, hi, w)
			}
			if BucketIndex(lo) != i || BucketIndex(hi-1) != i {
				t.Fatalf("bucket %d [%d, %d): index of lo %d, of hi-1 %d", i, lo, hi, BucketIndex(lo), BucketIndex(hi-1))
			}
		}
		next = hi
	}
	if next != math.MaxUint64 {
		t.Fatalf("the last bucket ends at %d", next)
	}
	// Every power of two is a bound (bpftrace's hist() and Prometheus'
	// default export are compared and built on that).
	for e := 0; e <= MaxExponent+1; e++ {
		i := BucketIndex(1 << e)
		if lo, _ := BucketBounds(i); lo != 1<<e {
			t.Fatalf("2^%d is inside bucket %d starting at %d", e, i, lo)
		}
	}
}

func TestBucketIndexProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Values spread over every magnitude: a random exponent, then a
		// random value below it.
		e := rapid.IntRange(0, 63).Draw(t, "exponent")
		v := rapid.Uint64Range(0, 1<<uint(e)|(1<<uint(e)-1)).Draw(t, "v")
		i := BucketIndex(v)
		lo, hi := BucketBounds(i)
		if v < lo || v >= hi && i != OverflowBucket {
			t.Fatalf("v %d in bucket %d [%d, %d)", v, i, lo, hi)
		}
		if i != OverflowBucket {
			if est := BucketEstimate(i); math.Abs(float64(est)-float64(v)) > float64(v)*RelativeError {
				t.Fatalf("v %d: estimate %d off by more than %v", v, est, RelativeError)
			}
		} else if v < OverflowNanos {
			t.Fatalf("v %d in the overflow bucket", v)
		}
		// Monotonic.
		w := rapid.Uint64Range(v, math.MaxUint64).Draw(t, "w")
		if BucketIndex(w) < i {
			t.Fatalf("index(%d) = %d < index(%d) = %d", w, BucketIndex(w), v, i)
		}
	})
}

// The formula the kernel-side program computes with shifts, written out
// again independently: the index is the exponent's block plus the top
// SubBucketBits+1 bits of v.
func TestBucketIndexFormula(t *testing.T) {
	ref := func(v uint64) int {
		if v < 2*subBuckets {
			return int(v)
		}
		e := bits.Len64(v) - 1
		if e > MaxExponent {
			return OverflowBucket
		}
		sub := int(v>>uint(e-SubBucketBits)) - subBuckets
		return (e-SubBucketBits+1)*subBuckets + sub
	}
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Uint64().Draw(t, "v") >> rapid.IntRange(0, 63).Draw(t, "shift")
		if got, want := BucketIndex(v), ref(v); got != want {
			t.Fatalf("BucketIndex(%d) = %d, want %d", v, got, want)
		}
	})
}

func TestBucketBoundsPanics(t *testing.T) {
	for _, i := range []int{-1, NumBuckets} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("BucketBounds(%d) did not panic", i)
				}
			}()
			BucketBounds(i)
		}()
	}
}
