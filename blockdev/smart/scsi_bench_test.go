package smart

import (
	"os/exec"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkSCSIDecodeVsSmartctlExec: decoding a SAS drive's pages (INQUIRY,
// VPD, mode and the log pages smartctl -a reads), judging and rendering
// them, against one `smartctl -j --version` spawn in the same run.
func BenchmarkSCSIDecodeVsSmartctlExec(b *testing.B) {
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
		r := &Report{Protocol: ProtocolSCSI, SCSI: seagateReading(b)}
		_ = Health(r, nil)
		if _, err := MarshalSmartctlJSON(r); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_smartctl_exec")
}
