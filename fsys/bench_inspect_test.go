package fsys

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"golang.org/x/sys/unix"
)

// BenchmarkInspect measures Inspect (open, probe, superblock, mounts,
// close) against the tool that prints the same facts, as a whole process,
// on the same loop device in the same run, and reports the ratio of their
// medians over alternated rounds.
func BenchmarkInspect(b *testing.B) {
	testenv.RequireRoot(b)
	cases := []struct {
		typ    Type
		mkfs   []string
		anchor []string
		metric string
	}{
		{Ext4, []string{"mkfs.ext4", "-q", "-F"}, []string{"dumpe2fs", "-h"}, "x_vs_dumpe2fs"},
		{XFS, []string{"mkfs.xfs", "-q", "-f"}, []string{"xfs_info"}, "x_vs_xfs_info"},
		{Btrfs, []string{"mkfs.btrfs", "-q", "-f"}, []string{"btrfs", "inspect-internal", "dump-super"}, "x_vs_dump_super"},
	}
	for _, tc := range cases {
		b.Run(string(tc.typ), func(b *testing.B) {
			testenv.RequireTool(b, tc.mkfs[0], tc.anchor[0])
			dev := testenv.Loop(b, 512<<20)
			testenv.Run(b, tc.mkfs[0], append(tc.mkfs[1:], dev)...)
			m, err := New()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := m.Inspect(ctx, dev); err != nil {
				b.Fatal(err)
			}
			tool, err := exec.LookPath(tc.anchor[0])
			if err != nil {
				b.Fatal(err)
			}
			args := append(append([]string(nil), tc.anchor[1:]...), dev)
			var ours, theirs, floor []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := m.Inspect(ctx, dev); err != nil {
					b.Fatal(err)
				}
				ours = append(ours, time.Since(t0))
				t0 = time.Now()
				if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", tc.anchor[0], err, out)
				}
				theirs = append(theirs, time.Since(t0))
				t0 = time.Now()
				inspectFloor(b, dev, tc.typ == Btrfs)
				floor = append(floor, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(median(theirs))/float64(median(ours)), tc.metric)
			b.ReportMetric(float64(median(ours).Microseconds()), "us/inspect")
			// The floor: only the system calls no Inspect can avoid (open,
			// one direct read of the head, btrfs's second block, close, the
			// ustat or stat that says unmounted). No Go program that reads
			// the superblock is faster than the floor here.
			b.ReportMetric(float64(median(theirs))/float64(median(floor)), "floor_"+tc.metric)
			b.ReportMetric(float64(median(ours))/float64(median(floor)), "inspect_vs_floor")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// inspectFloor makes the system calls every Inspect of an unmounted
// device must make, and nothing else.
func inspectFloor(b *testing.B, dev string, second bool) {
	f, err := os.OpenFile(dev, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		b.Fatal(err)
	}
	buf := alignedBuf(headBytes)
	if _, err := f.ReadAt(buf, 0); err != nil {
		b.Fatal(err)
	}
	if second {
		if _, err := f.ReadAt(buf[:cacheBlock], 64<<10); err != nil {
			b.Fatal(err)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var u unix.Ustat_t
	_ = unix.Ustat(int(st.Rdev), &u)
}
