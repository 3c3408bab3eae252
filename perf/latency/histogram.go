package latency

import (
	"math"
	"time"
)

// Histogram counts request latencies in the log-linear buckets of this
// package (see BucketIndex) and keeps their sum. The zero value is empty and
// ready to use. A Histogram is about 4 KiB; pass it by pointer.
type Histogram struct {
	Counts [NumBuckets]uint64
	// Sum is the sum of the recorded values in nanoseconds (it wraps after
	// 584 years of accumulated latency).
	Sum uint64
}

// Record adds one value of v nanoseconds.
func (h *Histogram) Record(v uint64) {
	h.Counts[BucketIndex(v)]++
	h.Sum += v
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Add adds o's counts and sum to h.
func (h *Histogram) Add(o *Histogram) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.Sum += o.Sum
}

// Delta sets h to cur - prev, the values recorded between two readings of
// one cumulative histogram. It reports false, and sets h to cur, when some
// count of cur is below prev's (the source restarted in between: cur holds
// everything since then).
func (h *Histogram) Delta(cur, prev *Histogram) bool {
	for i := range cur.Counts {
		if cur.Counts[i] < prev.Counts[i] {
			*h = *cur
			return false
		}
	}
	for i := range cur.Counts {
		h.Counts[i] = cur.Counts[i] - prev.Counts[i]
	}
	h.Sum = cur.Sum - prev.Sum
	return true
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Mean is Sum / Count, exact (not a bucket estimate); 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return time.Duration(h.Sum / n)
}

// Quantile estimates the q-quantile (0 < q <= 1) of the recorded values by
// nearest rank: the smallest recorded value with at least q of all values at
// or below it lies in some bucket, and Quantile returns that bucket's
// BucketEstimate. Below OverflowNanos the estimate is within RelativeError
// of that value; in the overflow bucket it is OverflowNanos, a lower bound.
// It returns 0 for an empty histogram and for q outside (0, 1].
func (h *Histogram) Quantile(q float64) time.Duration {
	i, ok := h.QuantileBucket(q)
	if !ok {
		return 0
	}
	return time.Duration(BucketEstimate(i))
}

// QuantileBucket returns the bucket holding the nearest-rank q-quantile;
// false for an empty histogram or q outside (0, 1].
func (h *Histogram) QuantileBucket(q float64) (int, bool) {
	if !(q > 0 && q <= 1) {
		return 0, false
	}
	n := h.Count()
	if n == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		if cum >= rank {
			return i, true
		}
	}
	return OverflowBucket, true // unreachable: cum reaches n
}

// CountBelow is the number of recorded values below v nanoseconds, exact
// when v is a bucket boundary (a lower bound of some bucket) and otherwise
// the count of the buckets that end at or below v.
func (h *Histogram) CountBelow(v uint64) uint64 {
	var n uint64
	for i, c := range h.Counts {
		_, hi := BucketBounds(i)
		if hi > v {
			break
		}
		n += c
	}
	return n
}
