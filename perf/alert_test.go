package perf

import (
	"errors"
	"testing"
	"time"
)

func awaitRates(dev string, await float64) []Rates {
	return []Rates{{Name: dev, Await: await, ReadAwait: await, Fields: 20}}
}

func TestAlertThresholdHysteresisDedup(t *testing.T) {
	a, err := NewAlerter([]Rule{{Name: "slow", Kind: Threshold, Metric: MetricAwait, Above: 10, Clear: 5,
		For: 2, ClearFor: 2, Severity: SeverityCritical}}, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	var evs []AlertEvent
	step := func(i int, v float64) []AlertEvent {
		return a.Observe(t0.Add(time.Duration(i)*time.Second), awaitRates("sda", v), nil, nil)
	}
	seq := []float64{20, 4, 20, 20, 20, 30, 8, 4, 8, 4, 4, 20}
	var states []string
	for i, v := range seq {
		for _, e := range step(i, v) {
			evs = append(evs, e)
			states = append(states, e.State.String()+"@"+time.Duration(i).String())
		}
	}
	// Fires at i=3 (2 consecutive over 10 after the 4 reset the count), no
	// duplicate while firing, 8 is inside the band (resets clear count),
	// resolves at i=10 (two consecutive <= 5), i=11 alone does not re-fire.
	want := []string{"firing@3ns", "resolved@10ns"}
	if len(states) != len(want) || states[0] != want[0] || states[1] != want[1] {
		t.Fatalf("events %v, want %v", states, want)
	}
	if evs[0].Severity != SeverityCritical || evs[0].Value != 20 || evs[0].Limit != 10 || evs[1].Limit != 5 || !evs[1].Since.Equal(evs[0].At) {
		t.Fatalf("%+v", evs)
	}
	if len(a.Active()) != 0 {
		t.Fatal("active after resolve")
	}
}

func TestAlertDeviationWithWarmup(t *testing.T) {
	a, err := NewAlerter([]Rule{{Name: "dev", Kind: Deviation, Metric: MetricAwait, K: 3, For: 2, MinDelta: 0.5}}, 0.05, 10)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	i := 0
	obs := func(v float64) []AlertEvent {
		i++
		return a.Observe(t0.Add(time.Duration(i)*time.Second), awaitRates("nvme0n1", v), nil, nil)
	}
	// A spike during warm-up never alerts.
	for _, v := range []float64{1, 1.2, 50, 0.8, 1, 1.1, 0.9, 1, 1.2, 0.8} {
		if ev := obs(v); len(ev) != 0 {
			t.Fatalf("alert during warm-up: %+v", ev)
		}
	}
	mean, sd, ready := a.Baseline("nvme0n1", MetricAwait)
	if !ready || mean < 5 || sd < 10 {
		t.Fatalf("warm-up baseline %v %v %v", mean, sd, ready)
	}
	// Settle the EWMA on normal values so the spike is forgotten.
	for j := 0; j < 200; j++ {
		obs(1 + float64(j%3)*0.1)
	}
	mean, sd, _ = a.Baseline("nvme0n1", MetricAwait)
	if mean > 1.2 || sd > 1 {
		t.Fatalf("settled baseline %v %v", mean, sd)
	}
	if ev := obs(30); len(ev) != 0 {
		t.Fatalf("fired after one interval: %+v", ev)
	}
	ev := obs(30)
	if len(ev) != 1 || ev[0].State != Firing || ev[0].Severity != SeverityWarning {
		t.Fatalf("deviation: %+v", ev)
	}
	// The deviating values were not learned.
	if m, _, _ := a.Baseline("nvme0n1", MetricAwait); m > 1.2 {
		t.Fatalf("learned the anomaly: mean %v", m)
	}
	// The device is reused: the alert resolves with a reason and the
	// baseline restarts.
	ev = a.Observe(t0.Add(time.Hour), nil, []DeviceChange{{"nvme0n1", Restarted}}, nil)
	if len(ev) != 1 || ev[0].State != Resolved || ev[0].Reason != "device restarted" {
		t.Fatalf("restart: %+v", ev)
	}
	if _, _, ready := a.Baseline("nvme0n1", MetricAwait); ready {
		t.Fatal("baseline survived a restart")
	}
}

func TestAlertRuleValidation(t *testing.T) {
	for _, r := range []Rule{
		{Kind: Threshold, Metric: MetricUtil, Above: 1},
		{Name: "a", Kind: Threshold, Metric: 99, Above: 1},
		{Name: "a", Kind: Threshold, Metric: MetricUtil, Above: 1, Clear: 2},
		{Name: "a", Kind: Deviation, Metric: MetricUtil},
		{Name: "a", Kind: 7, Metric: MetricUtil},
		{Name: "a", Kind: Threshold, Metric: MetricUtil, For: -1},
	} {
		if _, err := NewAlerter([]Rule{r}, 0.1, 5); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%+v: %v", r, err)
		}
	}
	r := Rule{Name: "a", Kind: Threshold, Metric: MetricUtil, Above: 1}
	if _, err := NewAlerter([]Rule{r, r}, 0.1, 5); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("duplicate: %v", err)
	}
	// Device filter.
	a, _ := NewAlerter([]Rule{{Name: "u", Kind: Threshold, Metric: MetricUtil, Above: 50, Device: "sdb"}}, 0.1, 5)
	if ev := a.Observe(time.Now(), []Rates{{Name: "sda", Util: 90}}, nil, nil); len(ev) != 0 {
		t.Fatalf("rule for sdb fired on sda: %+v", ev)
	}
}
