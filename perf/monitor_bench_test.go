package perf

import (
	"context"
	"testing"
	"time"
)

// BenchmarkMonitorSample1000 times one Monitor interval over 1,000 devices
// back to back (read, parse, rates, the snapshot, windows, a threshold and
// a deviation rule, delivery to one subscriber that keeps up), without the
// 100 ms waits of BenchmarkSampling1000Devices10Hz, so a profile shows
// where a sample's time goes. x_vs_sampling is its time over
// DiskstatsCollector.Sample alone, measured in the same run: what the
// Monitor adds on top of sampling.
func BenchmarkMonitorSample1000(b *testing.B) {
	root := fakeRoot(b, string(genDiskstats(1000)))
	m, err := NewMonitor(WithRoot(root.Dir()), WithInterval(100*time.Millisecond),
		WithRules(Rule{Name: "busy", Kind: Threshold, Metric: MetricUtil, Above: 90},
			Rule{Name: "slow", Kind: Deviation, Metric: MetricAwait, K: 3, MinDelta: 5}))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	ch, cancel := m.Subscribe(1)
	defer cancel()
	alerts := make(chan AlertEvent, 1024)
	ctx := context.Background()
	var last time.Time
	var seq uint64
	one := func() {
		seq++
		if !m.sample(ctx, seq, &last, alerts) {
			b.Fatal("sample stopped")
		}
		<-ch
	}
	one() // devices appear: not the steady state
	one()
	c, err := NewDiskstatsCollector(root.Dir())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Sample()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		one()
	}
	b.StopTimer()
	b.ReportMetric(speedup(one, func() { c.Sample() }), "x_vs_sampling")
}
