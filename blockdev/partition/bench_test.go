package partition

import (
	"context"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkCreateGPT4OnLoop creates a GPT with four partitions on a loop
// device through the library (table, crash-ordered synced writes, kernel
// told with BLKPG) and through the equivalent single sgdisk invocation, in
// the same run, and reports how many times faster the library is.
func BenchmarkCreateGPT4OnLoop(b *testing.B) {
	testenv.RequireTool(b, "sgdisk")
	dev := testenv.Loop(b, 256<<20)
	ctx := context.Background()
	d, err := Open(ctx, dev)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	lib := func() {
		tab, err := NewGPT(d.Geometry())
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []Size{Bytes(32 << 20), Bytes(32 << 20), Bytes(64 << 20), {Rest: true}} {
			if _, err := tab.Add(AddSpec{Size: s}); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.Write(ctx, tab); err != nil {
			b.Fatal(err)
		}
		if _, err := d.SyncKernel(ctx, tab); err != nil {
			b.Fatal(err)
		}
	}
	sg := func() {
		// sgdisk re-reads the table with BLKRRPART, which on a kernel
		// without table parsers drops the partitions; its exit status 0
		// is all we need.
		testenv.Run(b, "sgdisk", "-o", "-n", "1:0:+32M", "-n", "2:0:+32M", "-n", "3:0:+64M", "-n", "4:0:0", dev)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		lib()
	}
	libTime := time.Since(start)
	b.StopTimer()
	// The anchor runs as many times (at most 50, it is a process each).
	n := min(b.N, 50)
	start = time.Now()
	for i := 0; i < n; i++ {
		sg()
	}
	sgTime := time.Since(start) / time.Duration(n)
	libPer := float64(libTime) / float64(b.N)
	b.ReportMetric(float64(sgTime)/libPer, "x_vs_sgdisk")
	// sgdisk calls sync() and then sleeps one second before BLKRRPART
	// (strace shows clock_nanosleep {1, 0}); most of its time is that
	// sleep. The work-only ratio leaves the sleep out.
	if work := sgTime - time.Second; work > 0 {
		b.ReportMetric(float64(work)/libPer, "x_vs_sgdisk_without_its_1s_sleep")
	}
}

// BenchmarkReadGPT reads a four-partition GPT from an image: the parser's
// cost, against sfdisk --json on the same image.
func BenchmarkReadGPT(b *testing.B) {
	testenv.RequireTool(b, "sfdisk")
	img := image(b, 64<<20)
	ctx := context.Background()
	d, err := Open(ctx, img)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tab, _ := NewGPT(d.Geometry())
	fourPartGPT(b, tab)
	if err := d.Write(ctx, tab); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := d.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	n := min(b.N, 20)
	start = time.Now()
	for i := 0; i < n; i++ {
		testenv.Run(b, "sfdisk", "--json", img)
	}
	theirs := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(theirs)/float64(ours), "x_vs_sfdisk")
}
