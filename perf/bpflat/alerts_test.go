package bpflat

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

func hist(vals ...time.Duration) *latency.Histogram {
	h := new(latency.Histogram)
	for _, v := range vals {
		h.Record(uint64(v))
	}
	return h
}

func TestRuleValidation(t *testing.T) {
	ok := Rule{Name: "r", Op: latency.Read, Kind: perf.Threshold, Above: time.Millisecond}
	for name, r := range map[string]Rule{
		"no name":       {Op: latency.Read, Kind: perf.Threshold},
		"no op":         {Name: "r", Kind: perf.Threshold},
		"bad stage":     {Name: "r", Op: latency.Read, Stage: 9, Kind: perf.Threshold},
		"bad quantile":  {Name: "r", Op: latency.Read, Quantile: 1.5, Kind: perf.Threshold},
		"negative":      {Name: "r", Op: latency.Read, Kind: perf.Threshold, Above: -1},
		"bad kind":      {Name: "r", Op: latency.Read},
		"clear > above": {Name: "r", Op: latency.Read, Kind: perf.Threshold, Above: 1, Clear: 2},
		"no K":          {Name: "r", Op: latency.Read, Kind: perf.Deviation},
	} {
		if _, err := newAlerting([]Rule{r}, nil, 0.05, 30, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := newAlerting([]Rule{ok, ok}, nil, 0.05, 30, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("duplicate names: %v", err)
	}
	for _, o := range []Option{WithMaxInFlight(1), WithMaxSeries(0), WithWindow(0), WithRevalidateEvery(-1),
		WithDeviceFilter(nil), WithAlertHandler(nil), WithBaseline(0, 1), WithRoot("/nonexistent/root")} {
		c := defaults()
		if err := o(&c); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("option accepted: %v", err)
		}
	}
}

// Rules of different ops, stages and quantiles watch their own signal;
// For and ClearFor count intervals; an idle interval is zero latency; a
// vanished device resolves with a reason.
func TestAlertingObserve(t *testing.T) {
	defer goleak.VerifyNone(t)
	var mu sync.Mutex
	var got []Alert
	a, err := newAlerting([]Rule{
		{Name: "read-p99", Op: latency.Read, Kind: perf.Threshold, Above: 10 * time.Millisecond, For: 2, ClearFor: 1},
		{Name: "write-p50", Op: latency.Write, Quantile: 0.5, Stage: latency.Device, Kind: perf.Threshold, Above: time.Millisecond, Device: "sdb"},
	}, []AlertHandler{func(e Alert) { mu.Lock(); got = append(got, e); mu.Unlock() }}, 0.05, 30, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1000, 0)
	slow := hist(time.Millisecond, 20*time.Millisecond) // p99 20 ms, p50 1 ms
	var returned []perf.AlertEvent
	step := func(views ...seriesView) {
		at = at.Add(time.Second)
		returned = a.observe(at, views, nil, returned)
	}
	readSda := func(h *latency.Histogram) seriesView {
		return seriesView{device: "sda", op: latency.Read, stage: latency.Total, delta: h} // the default stage
	}
	step(readSda(slow))
	if len(a.firing()) != 0 {
		t.Fatal("fired before For intervals")
	}
	// The write rule watches Device on sdb only; a Total series does not count.
	step(readSda(slow), seriesView{device: "sdb", op: latency.Write, stage: latency.Total, delta: slow},
		seriesView{device: "sdb", op: latency.Write, stage: latency.Device, delta: hist(2 * time.Millisecond)},
		seriesView{device: "sda", op: latency.Write, stage: latency.Device, delta: hist(2 * time.Millisecond)})
	f := a.firing()
	if len(f) != 2 {
		t.Fatalf("firing %+v", f)
	}
	step(readSda(new(latency.Histogram))) // idle: zero
	returned = a.observe(at.Add(time.Second), nil, []perf.DeviceChange{{Name: "sdb", Change: perf.Vanished}}, returned)
	if f := a.firing(); len(f) != 0 {
		t.Fatalf("still firing: %+v", f)
	}
	a.stop()
	if len(got) != 4 {
		t.Fatalf("events %+v", got)
	}
	for i, want := range []struct {
		rule  string
		state perf.AlertState
	}{{"read-p99", perf.Firing}, {"write-p50", perf.Firing}, {"read-p99", perf.Resolved}, {"write-p50", perf.Resolved}} {
		if got[i].Rule != want.rule || got[i].State != want.state {
			t.Errorf("event %d: %+v, want %s %v", i, got[i], want.rule, want.state)
		}
	}
	if e := got[0]; e.Device != "sda" || e.Op != latency.Read || e.Stage != latency.Total || e.Quantile != 0.99 ||
		e.Metric != 0 || e.Limit != 0.01 || e.Value < 0.019 || e.Value > 0.021 {
		t.Errorf("read-p99 firing: %+v", e)
	}
	if got[3].Reason == "" {
		t.Errorf("vanished device resolved without a reason: %+v", got[3])
	}
	// What observe returns (the snapshot's Alerts) is what the handlers got.
	if len(returned) != len(got) {
		t.Fatalf("returned %d events, handlers got %d", len(returned), len(got))
	}
	for i := range got {
		if returned[i] != got[i].AlertEvent {
			t.Errorf("event %d: returned %+v, handler %+v", i, returned[i], got[i].AlertEvent)
		}
	}
}

// A window holds the sum of the last n intervals.
func TestWindow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "n")
		w := newWindow(n)
		var all []*latency.Histogram
		for range rapid.IntRange(0, 30).Draw(t, "intervals") {
			h := new(latency.Histogram)
			for _, v := range rapid.SliceOfN(rapid.Uint64Range(0, 1<<37), 0, 20).Draw(t, "vals") {
				h.Record(v)
			}
			w.add(h)
			all = append(all, h)
			var want latency.Histogram
			for _, x := range all[max(0, len(all)-n):] {
				want.Add(x)
			}
			if w.sum != want {
				t.Fatalf("window of %d after %d intervals differs", n, len(all))
			}
		}
	})
}
