package quota

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkGuestReport: a report of every id of the three kinds (1,000 of
// each with limits) by List against the peer tool's report of the same
// filesystem (`repquota -v -u -g -P -n`, `xfs_quota -x -c 'report -ugp -b -i
// -n'`), timed in the same run; the ratio is x-faster. Guest only (the
// host kernel has no ext4/xfs quotas).
func BenchmarkGuestReport(b *testing.B) {
	for _, fs := range []string{"ext4", "xfs"} {
		b.Run(fs, func(b *testing.B) {
			var mnt string
			var tool []string
			if fs == "ext4" {
				mnt, _ = quotaExt4(b)
				tool = []string{"repquota", "-v", "-u", "-g", "-P", "-n", mnt}
			} else {
				mnt, _ = quotaXFS(b)
				tool = []string{"xfs_quota", "-x", "-c", "report -ugp -b -i -n", mnt}
			}
			if _, err := exec.LookPath(tool[0]); err != nil {
				b.Skipf("%s missing", tool[0])
			}
			m := newManager(b)
			setMany(b, m, mnt)
			const runs = 5
			start := time.Now()
			for i := 0; i < runs; i++ {
				if out, err := exec.Command(tool[0], tool[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v: %s", tool, err, out)
				}
			}
			toolPer := time.Since(start) / runs
			b.ResetTimer()
			n := 0
			start = time.Now()
			for b.Loop() {
				for _, k := range []Kind{User, Group, Project} {
					us, err := m.List(bg, mnt, k)
					if err != nil {
						b.Fatal(err)
					}
					n = len(us)
				}
			}
			b.StopTimer()
			oursPer := time.Since(start) / time.Duration(b.N)
			ratio := float64(toolPer) / float64(oursPer)
			b.ReportMetric(ratio, "x-faster")
			fmt.Printf("guest: bench %s report of 3x%d ids: List %v, %s %v, ratio %.1fx\n", fs, n, oursPer, tool[0], toolPer, ratio)
		})
	}
}
