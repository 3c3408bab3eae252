package perf

import (
	"errors"
	"math"
	"testing"
)

func TestWindowPercentiles(t *testing.T) {
	w, err := NewWindow(100)
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Count != 0 {
		t.Fatalf("empty: %+v", s)
	}
	for i := 100; i >= 1; i-- { // 1..100 in reverse order
		w.Add(float64(i))
	}
	w.Add(math.NaN())
	s := w.Stats()
	// Nearest rank over 1..100: p50 = 50, p95 = 95, p99 = 99.
	if s.Count != 100 || s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Min != 1 || s.Max != 100 || s.Mean != 50.5 {
		t.Fatalf("%+v", s)
	}
	// The window rolls: 50 more values of 1000 replace the 50 oldest (100..51).
	for i := 0; i < 50; i++ {
		w.Add(1000)
	}
	s = w.Stats()
	if s.Count != 100 || s.Min != 1 || s.P50 != 50 || s.P95 != 1000 || s.Max != 1000 {
		t.Fatalf("rolled: %+v", s)
	}
	w.Reset()
	if w.Len() != 0 {
		t.Fatal("reset")
	}
	if _, err := NewWindow(0); !errors.Is(err, ErrInvalidOption) {
		t.Fatal(err)
	}
	// Small windows: p99 of 3 values is the max.
	w3, _ := NewWindow(3)
	w3.Add(1)
	w3.Add(3)
	w3.Add(2)
	if s := w3.Stats(); s.P50 != 2 || s.P99 != 3 {
		t.Fatalf("%+v", s)
	}
}

func TestBaseline(t *testing.T) {
	if _, err := NewBaseline(0, 5); !errors.Is(err, ErrInvalidOption) {
		t.Fatal(err)
	}
	if _, err := NewBaseline(0.5, 0); !errors.Is(err, ErrInvalidOption) {
		t.Fatal(err)
	}
	b, _ := NewBaseline(0.1, 4)
	for _, v := range []float64{2, 4, 4, 4} {
		if b.Ready() {
			t.Fatal("ready during warm-up")
		}
		b.Add(v)
	}
	// Exact population mean and deviation of 2,4,4,4: 3.5 and sqrt(0.75).
	if !b.Ready() || b.Mean() != 3.5 || math.Abs(b.StdDev()-math.Sqrt(0.75)) > 1e-12 {
		t.Fatalf("warm-up: mean %v sd %v", b.Mean(), b.StdDev())
	}
	// EWMA step: mean += 0.1*(14-3.5) = 4.55; var = 0.9*(0.75 + 10.5*1.05) = 10.5975.
	b.Add(14)
	if math.Abs(b.Mean()-4.55) > 1e-12 || math.Abs(b.StdDev()-math.Sqrt(10.5975)) > 1e-12 {
		t.Fatalf("ewma: mean %v sd %v", b.Mean(), b.StdDev())
	}
	b.Reset()
	if b.Ready() || b.Count() != 0 {
		t.Fatal("reset")
	}
}
