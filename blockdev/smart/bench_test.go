package smart

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkDecodeVsSmartctlExec: decoding, judging and rendering a whole
// drive reading (the CPU side of one health query) against the floor cost
// of asking smartctl anything at all, one `smartctl -j --version` process,
// measured in the same run. x_vs_smartctl_exec is how many of our full
// decodes fit in the time of one smartctl spawn.
func BenchmarkDecodeVsSmartctlExec(b *testing.B) {
	blob, err := os.ReadFile("testdata/Hitachi_HDS721010CLA632.bin")
	if err != nil {
		b.Fatal(err)
	}
	tool, err := testenv.LookTool("smartctl")
	if err != nil {
		b.Skip("smartctl not installed")
	}
	const anchorRuns = 20
	start := time.Now()
	for i := 0; i < anchorRuns; i++ {
		if err := exec.Command(tool, "-j", "--version").Run(); err != nil {
			b.Fatal(err)
		}
	}
	anchor := time.Since(start) / anchorRuns
	b.ReportAllocs()
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		r, err := ParseAtasmartBlob(blob)
		if err != nil {
			b.Fatal(err)
		}
		_ = Health(r, nil)
		if _, err := MarshalSmartctlJSON(r); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_smartctl_exec")
}

// BenchmarkNotSupportedVsSmartctl: how fast a loop device is recognised as
// having no SMART, against `smartctl -j -i` on the same device.
func BenchmarkNotSupportedVsSmartctl(b *testing.B) {
	tool, err := testenv.LookTool("smartctl")
	if err != nil || os.Geteuid() != 0 {
		b.Skip("needs root and smartctl")
	}
	dev := testenv.Loop(b, 1<<20)
	const anchorRuns = 10
	start := time.Now()
	for i := 0; i < anchorRuns; i++ {
		_ = exec.Command(tool, "-j", "-i", dev).Run() // exits nonzero: no SMART device
	}
	anchor := time.Since(start) / anchorRuns
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := Read(ctx, dev); err == nil {
			b.Fatal("loop device read succeeded")
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_smartctl")
}
