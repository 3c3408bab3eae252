package latency

import (
	"math"
	"math/bits"
)

// The bucket layout. Values are nanoseconds. Below 2^SubBucketBits (16 ns)
// every nanosecond has its own bucket; above, each power of two [2^e,
// 2^(e+1)) is split into 2^SubBucketBits equal buckets, each 2^(e-4) ns wide.
// The last bucket holds everything from OverflowNanos up.
//
// With s = max(e-4, 0), the index of v is s*16 + v>>s: a few shifts and
// adds, which the kernel-side program computes the same way.
const (
	// SubBucketBits is log2 of the buckets per power of two.
	SubBucketBits = 4
	// subBuckets is the number of buckets per power of two.
	subBuckets = 1 << SubBucketBits
	// MaxExponent is the highest power of two with its own buckets:
	// values up to 2^(MaxExponent+1)-1 ns (about 68.7 s) are resolved.
	MaxExponent = 35
	// NumBuckets counts every bucket, the overflow bucket included.
	NumBuckets = (MaxExponent-SubBucketBits+1)*subBuckets + subBuckets + 1
	// OverflowBucket is the index of the last bucket, [OverflowNanos, inf).
	OverflowBucket = NumBuckets - 1
	// OverflowNanos is where the overflow bucket starts (2^36 ns, 68.7 s).
	OverflowNanos = uint64(1) << (MaxExponent + 1)

	// RelativeError bounds the error of every estimate Quantile returns:
	// |estimate - true value| <= RelativeError * true value, where the
	// true value is the nearest-rank quantile of the recorded values
	// (below OverflowNanos). It is half a bucket's width over the bucket's
	// lower bound: 2^-(SubBucketBits+1) = 1/32 = 3.125%.
	RelativeError = 1.0 / (2 * subBuckets)
)

// BucketIndex returns the bucket v (nanoseconds) falls in.
func BucketIndex(v uint64) int {
	if v >= OverflowNanos {
		return OverflowBucket
	}
	s := 0
	if v >= subBuckets {
		s = 63 - bits.LeadingZeros64(v) - SubBucketBits
	}
	return s*subBuckets + int(v>>uint(s))
}

// BucketBounds returns bucket i's range [lo, hi) in nanoseconds. The
// overflow bucket's hi is math.MaxUint64.
func BucketBounds(i int) (lo, hi uint64) {
	switch {
	case i < 0 || i > OverflowBucket:
		panic("latency: bucket index out of range")
	case i == OverflowBucket:
		return OverflowNanos, math.MaxUint64
	case i < 2*subBuckets:
		return uint64(i), uint64(i) + 1
	}
	s := uint(i/subBuckets - 1)
	m := uint64(i%subBuckets + subBuckets)
	return m << s, (m + 1) << s
}

// BucketEstimate is the value Quantile reports for bucket i: the middle of
// the bucket (its lower bound where the bucket is one nanosecond wide, and
// for the overflow bucket, which has no upper bound).
func BucketEstimate(i int) uint64 {
	lo, hi := BucketBounds(i)
	if i == OverflowBucket {
		return lo
	}
	return lo + (hi-lo)/2
}
