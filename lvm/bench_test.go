package lvm

import (
	"context"
	"testing"
	"time"
)

// perRun times n runs of f and returns the mean.
func perRun(b *testing.B, n int, f func() error) time.Duration {
	b.Helper()
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(n)
}

// The pure-Go inventory (labels, metadata text, dm state by ioctl) against
// `lvm fullreport --reportformat json` on the lab's four PVs, in the same
// run. Target: at least 20x.
func BenchmarkReadDisksVsFullreport(b *testing.B) {
	l := newLab(b)
	tl := l.tool(b, "")
	ctx := context.Background()
	anchor := perRun(b, 10, func() error { _, err := tl.Inventory(ctx); return err })
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := ReadDisks(ctx, l.devices); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_lvm_fullreport")
	b.ReportMetric(float64(anchor.Microseconds()), "us/fullreport")
}

// One fullreport against pvs, vgs and lvs run one after the other, both
// typed into the same Report. Target: at least 2.5x.
func BenchmarkFullreportVsSeparate(b *testing.B) {
	l := newLab(b)
	tl := l.tool(b, "")
	ctx := context.Background()
	anchor := perRun(b, 5, func() error { _, err := tl.InventorySeparately(ctx); return err })
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := tl.Inventory(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_pvs+vgs+lvs")
}
