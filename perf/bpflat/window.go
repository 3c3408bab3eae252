package bpflat

import "github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"

// window merges the interval histograms of the last n intervals: a running
// sum plus a ring of the intervals in it, kept sparse (a device's latencies
// fill a few dozen of the 529 buckets), so that the interval leaving the
// window can be subtracted.
type window struct {
	sum  latency.Histogram
	ring []sparseHist
	next int
}

type sparseHist struct {
	idx []uint16
	cnt []uint64
	sum uint64
}

func newWindow(n int) *window { return &window{ring: make([]sparseHist, n)} }

// add puts an interval into the window, dropping the oldest.
func (w *window) add(d *latency.Histogram) {
	old := &w.ring[w.next]
	for i, b := range old.idx {
		w.sum.Counts[b] -= old.cnt[i]
	}
	w.sum.Sum -= old.sum
	old.idx, old.cnt, old.sum = old.idx[:0], old.cnt[:0], d.Sum
	for b, c := range d.Counts {
		if c != 0 {
			old.idx = append(old.idx, uint16(b))
			old.cnt = append(old.cnt, c)
			w.sum.Counts[b] += c
		}
	}
	w.sum.Sum += d.Sum
	w.next = (w.next + 1) % len(w.ring)
}
