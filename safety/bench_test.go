package safety

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkJournalStep measures one journaled step (frame, write, fsync)
// against its anchor, a bare write+fsync of the same bytes to a file in the
// same directory: the journal's overhead over the durability it must pay.
func BenchmarkJournalStep(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	j, err := OpenJournal(ctx, WithStateDir(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	p := filepath.Join(b.TempDir(), "t")
	os.WriteFile(p, make([]byte, 4096), 0o600)
	id, _ := IdentityOf(ctx, p)
	m, err := j.Begin(ctx, Intent{Op: "bench", Target: id})
	if err != nil {
		b.Fatal(err)
	}
	frame, _ := encodeRecord(&record{Seq: 1, Kind: kindStep, ID: m.ID(), Step: "step", Time: time.Now()})
	raw, err := os.OpenFile(filepath.Join(dir, "anchor"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := raw.Write(frame); err != nil {
			b.Fatal(err)
		}
		if err := raw.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	anchor := time.Since(start)
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if err := m.Step(ctx, "step", ""); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start)
	b.ReportMetric(float64(ours)/float64(anchor), "x_vs_fsync")
}

// BenchmarkCheck runs a whole preflight of a clean loop device against its
// anchor, `blkid -p` on the same device (one process, probe only: it knows
// nothing of mounts, holders, swap or backup locations).
func BenchmarkCheck(b *testing.B) {
	dev := testenv.Loop(b, 64<<20)
	testenv.RequireTool(b, "blkid")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		testenv.RunErr("blkid", "-p", "-o", "export", dev) // exit 2: nothing found
	}
	anchor := time.Since(start)
	start = time.Now()
	for i := 0; i < b.N; i++ {
		r, err := Check(ctx, dev, OpFormat)
		if err != nil || !r.Allowed {
			b.Fatalf("%v %v", r, err)
		}
	}
	ours := time.Since(start)
	b.ReportMetric(float64(ours)/float64(anchor), "x_vs_blkid")
	// A caller checking many devices discovers once (WithGraph).
	g, err := blockdev.Discover(ctx, blockdev.WithProbe(false))
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	for i := 0; i < b.N; i++ {
		r, err := Check(ctx, dev, OpFormat, WithGraph(g))
		if err != nil || !r.Allowed {
			b.Fatalf("%v %v", r, err)
		}
	}
	b.ReportMetric(float64(time.Since(start))/float64(anchor), "x_vs_blkid_with_graph")
}

// BenchmarkScanData is the emptiness check's own cost on a zeroed 1 GiB loop
// device (every metadata region read, about 2.2 MiB), against one
// `blkid -p` process on the same device, which reads only the places its
// probers know.
func BenchmarkScanData(b *testing.B) {
	dev := testenv.Loop(b, 1<<30)
	testenv.RequireTool(b, "blkid")
	ctx := context.Background()
	start := time.Now()
	const anchorRuns = 20
	for i := 0; i < anchorRuns; i++ {
		testenv.RunErr("blkid", "-p", "-o", "export", dev) // exit 2: nothing found
	}
	anchor := time.Since(start) / anchorRuns
	f, err := os.Open(dev)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if d, err := scanData(ctx, f, 1<<30); err != nil || len(d) != 0 {
			b.Fatalf("%v %v", d, err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(anchor)/float64(per), "x_vs_blkid")
}
