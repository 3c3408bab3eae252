package perf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

func ExampleParseDiskstats() {
	page := []byte("   8       0 sda 1200 10 96000 600 300 5 2400 900 0 1000 1500 0 0 0 0 40 8\n" +
		"   8       1 sda1 11 22 33 44\n")
	disks, err := perf.ParseDiskstats(page, nil)
	if err != nil {
		panic(err)
	}
	for _, d := range disks {
		fmt.Printf("%s %d:%d fields=%d reads=%d discard=%v flush=%v\n", d.Name, d.Major, d.Minor, d.Fields, d.ReadIOs, d.HasDiscard(), d.HasFlush())
	}
	// Output:
	// sda 8:0 fields=20 reads=1200 discard=true flush=true
	// sda1 8:1 fields=7 reads=11 discard=false flush=false
}

func ExampleComputeRates() {
	prev := perf.DiskStat{Name: "sda", Fields: 14, ReadIOs: 1000, ReadSectors: 8000, ReadTicks: 500, IOTicks: 1000}
	cur := perf.DiskStat{Name: "sda", Fields: 14, ReadIOs: 1200, ReadSectors: 9600, ReadTicks: 900, IOTicks: 1250}
	r := perf.ComputeRates(&prev, &cur, time.Second)
	fmt.Printf("r/s=%.2f rkB/s=%.2f r_await=%.2f rareq-sz=%.2f %%util=%.2f\n",
		r.ReadsPerSec, r.ReadKBPerSec, r.ReadAwait, r.ReadReqSizeKB, r.Util)
	// Output:
	// r/s=200.00 rkB/s=800.00 r_await=2.00 rareq-sz=4.00 %util=25.00
}

// A Monitor on a fake tree: the first snapshot registers the devices, the
// next ones carry rates.
func ExampleMonitor() {
	dir, _ := os.MkdirTemp("", "perf-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	os.WriteFile(filepath.Join(dir, "proc", "diskstats"), []byte("8 0 sda 0 0 0 0 0 0 0 0 0 0 0\n"), 0o644)

	m, err := perf.NewMonitor(perf.WithRoot(dir), perf.WithInterval(100*time.Millisecond),
		perf.WithRules(perf.Rule{Name: "busy", Kind: perf.Threshold, Metric: perf.MetricUtil, Above: 90, For: 3}))
	if err != nil {
		panic(err)
	}
	ch, _ := m.Subscribe(8)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		panic(err)
	}
	first := <-ch
	fmt.Println("first:", first.Disks[0].Stat.Name, first.Changes[0].Change, "rates:", first.Disks[0].HasRates)
	second := <-ch
	fmt.Println("second rates:", second.Disks[0].HasRates)
	cancel()
	m.Wait()
	// Output:
	// first: sda appeared rates: false
	// second rates: true
}
