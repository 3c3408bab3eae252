package quota

import (
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// BenchmarkGuestReport: a report of every id of the three kinds (1,000 of
// each with limits) by List against the peer tool's report of the same
// filesystem (`repquota -v -u -g -P -n`, `xfs_quota -x -c 'report -ugp -b -i
// -n'`), timed in the same run and interleaved with it in rounds (one tool
// run, then a share of b.N reports); x-faster is the median of the rounds'
// ratios. Guest only (the host kernel has no ext4/xfs quotas).
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
			n := 0
			rounds := min(b.N, 5)
			var ratios []float64
			var tools, ours []time.Duration
			done := 0
			b.ResetTimer()
			for r := 0; r < rounds; r++ {
				b.StopTimer()
				start := time.Now()
				if out, err := exec.Command(tool[0], tool[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v: %s", tool, err, out)
				}
				t := time.Since(start)
				b.StartTimer()
				k := (b.N - done) / (rounds - r)
				start = time.Now()
				for i := 0; i < k; i++ {
					for _, kind := range []Kind{User, Group, Project} {
						us, err := m.List(bg, mnt, kind)
						if err != nil {
							b.Fatal(err)
						}
						n = len(us)
					}
				}
				o := time.Since(start) / time.Duration(k)
				done += k
				ratios, tools, ours = append(ratios, float64(t)/float64(o)), append(tools, t), append(ours, o)
			}
			b.StopTimer()
			slices.Sort(ratios)
			slices.Sort(tools)
			slices.Sort(ours)
			ratio := ratios[len(ratios)/2]
			b.ReportMetric(ratio, "x-faster")
			fmt.Printf("guest: bench %s report of 3x%d ids: List %v, %s %v (medians of %d interleaved rounds), ratio %.1fx\n", fs, n, ours[len(ours)/2], tool[0], tools[len(tools)/2], rounds, ratio)
		})
	}
}
