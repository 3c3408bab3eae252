package perf

import "math"

// Baseline learns the normal level of one metric: mean and variance. During
// the warm-up (the first Warmup values) it is the exact running mean and
// variance (Welford); after that it is exponentially weighted with factor
// Alpha, so it follows slow drift while a burst moves it only a little. A
// baseline is Ready once the warm-up is over; deviation rules ignore it
// before that, so a device never alerts against a half-learned normal.
type Baseline struct {
	Alpha  float64
	Warmup int

	n        int
	mean, m2 float64 // m2: sum of squares (warm-up) or variance (EWMA)
}

// NewBaseline validates alpha in (0,1] and warmup >= 1.
func NewBaseline(alpha float64, warmup int) (*Baseline, error) {
	if !(alpha > 0 && alpha <= 1) {
		return nil, optErr("baseline alpha %v not in (0,1]", alpha)
	}
	if warmup < 1 {
		return nil, optErr("baseline warm-up %d < 1", warmup)
	}
	return &Baseline{Alpha: alpha, Warmup: warmup}, nil
}

// Add feeds one interval's value. NaN and infinities are ignored.
func (b *Baseline) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	b.n++
	if b.n <= b.Warmup {
		d := v - b.mean
		b.mean += d / float64(b.n)
		b.m2 += d * (v - b.mean)
		if b.n == b.Warmup {
			b.m2 /= float64(b.n) // switch to a variance for the EWMA phase
		}
		return
	}
	d := v - b.mean
	inc := b.Alpha * d
	b.mean += inc
	b.m2 = (1 - b.Alpha) * (b.m2 + d*inc)
}

// Ready reports whether the warm-up is complete.
func (b *Baseline) Ready() bool { return b.n >= b.Warmup }

// Count is how many values were fed.
func (b *Baseline) Count() int { return b.n }

// Mean is the learned mean.
func (b *Baseline) Mean() float64 { return b.mean }

// StdDev is the learned standard deviation.
func (b *Baseline) StdDev() float64 {
	if b.n == 0 {
		return 0
	}
	if b.n < b.Warmup {
		return math.Sqrt(b.m2 / float64(b.n))
	}
	return math.Sqrt(b.m2)
}

// Reset forgets everything (a restarted device).
func (b *Baseline) Reset() { b.n, b.mean, b.m2 = 0, 0, 0 }
