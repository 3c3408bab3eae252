package superblock

import (
	"os"
	"sort"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkExtVsDumpe2fs times what Inspect will do (open the device,
// ReadExt, close) against dumpe2fs -h on the same loop device as a whole
// process, and reports the ratio of the medians as x_vs_dumpe2fs.
func BenchmarkExtVsDumpe2fs(b *testing.B) {
	testenv.RequireTool(b, "mke2fs", "dumpe2fs")
	dev := testenv.Loop(b, 256<<20)
	testenv.Run(b, "mke2fs", "-q", "-F", "-t", "ext4", dev)

	// The anchor: a fixed number of dumpe2fs runs in the same benchmark.
	const anchorRuns = 15
	tool := make([]time.Duration, anchorRuns)
	for i := range tool {
		start := time.Now()
		testenv.Run(b, "dumpe2fs", "-h", dev)
		tool[i] = time.Since(start)
	}

	ours := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f, err := os.Open(dev)
		if err != nil {
			b.Fatal(err)
		}
		size, err := f.Seek(0, 2)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ReadExt(f, size); err != nil {
			b.Fatal(err)
		}
		f.Close()
		ours = append(ours, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(extMedian(tool))/float64(extMedian(ours)), "x_vs_dumpe2fs")
}

func extMedian(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
