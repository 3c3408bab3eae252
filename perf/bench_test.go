package perf

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/procfs/blockdevice"
)

// The inputs: this machine-sized page (10 devices) and a 1,000-device page.
var benchSizes = []struct {
	name string
	n    int
}{{"small", 10}, {"1000", 1000}}

// benchTree writes a diskstats page under a temp root for both parsers.
func benchTree(b *testing.B, n int) (string, *StatReader, blockdevice.FS) {
	b.Helper()
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	os.MkdirAll(filepath.Join(dir, "sys"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "proc", "diskstats"), genDiskstats(n), 0o644); err != nil {
		b.Fatal(err)
	}
	root := fakeRoot(b, string(genDiskstats(n)))
	r, err := OpenDiskstats(root.Dir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	fs, err := blockdevice.NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	if err != nil {
		b.Fatal(err)
	}
	return dir, r, fs
}

// speedup times anchor and ours interleaved, five rounds of ~10 ms each, and
// returns the anchor's fastest round over ours: the machines are shared and
// noisy, and the fastest round of each is the one least disturbed by others.
func speedup(anchor, ours func()) float64 {
	best := func(prev time.Duration, fn func()) time.Duration {
		runs := 0
		start := time.Now()
		for time.Since(start) < 10*time.Millisecond || runs < 2 {
			fn()
			runs++
		}
		d := time.Since(start) / time.Duration(runs)
		if prev == 0 || d < prev {
			return d
		}
		return prev
	}
	var a, o time.Duration
	anchor()
	ours()
	for i := 0; i < 5; i++ {
		a = best(a, anchor)
		o = best(o, ours)
	}
	return float64(a) / float64(o)
}

// BenchmarkParseDiskstats samples the page with our reader (pread of the
// kept-open file and in-place parse) and reports x_vs_procfs: how many times
// faster than prometheus/procfs's blockdevice.ProcDiskstats on the same
// file, both timed in this run, interleaved (see speedup).
func BenchmarkParseDiskstats(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			_, r, fs := benchTree(b, sz.n)
			var s Sample
			ours := func() {
				if err := r.Read(&s); err != nil {
					b.Fatal(err)
				}
			}
			ours()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ours()
			}
			b.StopTimer()
			if len(s.Disks) != sz.n {
				b.Fatalf("parsed %d devices", len(s.Disks))
			}
			b.ReportMetric(speedup(func() {
				if _, err := fs.ProcDiskstats(); err != nil {
					b.Fatal(err)
				}
			}, ours), "x_vs_procfs")
		})
	}
}

// BenchmarkParseDiskstatsProcfs is the anchor alone, for -benchmem numbers.
func BenchmarkParseDiskstatsProcfs(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			_, _, fs := benchTree(b, sz.n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ds, err := fs.ProcDiskstats()
				if err != nil || len(ds) != sz.n {
					b.Fatal(len(ds), err)
				}
			}
		})
	}
}
