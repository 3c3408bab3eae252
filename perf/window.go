package perf

import (
	"math"
	"slices"
)

// Window keeps the last N values of one metric (one value per sampling
// interval) and summarises them.
//
// What a percentile here is: diskstats gives, per interval, only totals, so
// each value in a window is an interval average (the mean await of every
// request that completed in that interval, the IOPS over that interval).
// Window.Stats' P95 is therefore "the 95th percentile of the last N interval
// averages", computed by nearest rank: the smallest value such that at least
// 95% of the intervals in the window are at or below it. It is NOT the 95th
// percentile of single-request latencies, which diskstats cannot give (a
// block-layer tracer can); a short burst of slow requests inside a busy
// interval is averaged away.
type Window struct {
	vals    []float64
	next    int
	full    bool
	scratch []float64
}

// NewWindow returns a window of size n (n >= 1).
func NewWindow(n int) (*Window, error) {
	if n < 1 {
		return nil, optErr("window size %d < 1", n)
	}
	return &Window{vals: make([]float64, n)}, nil
}

// Add records one interval's value. NaN and infinities are ignored.
func (w *Window) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	w.vals[w.next] = v
	w.next++
	if w.next == len(w.vals) {
		w.next, w.full = 0, true
	}
}

// Len is the number of values held.
func (w *Window) Len() int {
	if w.full {
		return len(w.vals)
	}
	return w.next
}

// Reset empties the window (a restarted device).
func (w *Window) Reset() { w.next, w.full = 0, false }

// WindowStats summarises a window. Count is the number of intervals it
// covers; the other fields are zero when Count is zero.
type WindowStats struct {
	Count          int
	Mean, Min, Max float64
	P50, P95, P99  float64
}

// Stats computes the summary. It sorts a scratch copy: O(N log N), no
// allocation after the first call.
func (w *Window) Stats() WindowStats {
	n := w.Len()
	if n == 0 {
		return WindowStats{}
	}
	s := append(w.scratch[:0], w.vals[:n]...)
	slices.Sort(s)
	w.scratch = s
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return WindowStats{Count: n, Mean: sum / float64(n), Min: s[0], Max: s[n-1],
		P50: nearestRank(s, 0.50), P95: nearestRank(s, 0.95), P99: nearestRank(s, 0.99)}
}

// nearestRank is the smallest value with at least p of the sorted values at
// or below it.
func nearestRank(sorted []float64, p float64) float64 {
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	if k < 0 {
		k = 0
	}
	return sorted[k]
}
