package probe

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// benchAnchorRuns is how many times the blkid anchor runs per benchmark: a
// process start costs milliseconds, so a few runs give a stable mean.
const benchAnchorRuns = 20

// BenchmarkPathVsBlkid probes image files with Path and runs
// `blkid -p -o export` on the same files in the same run; x_vs_blkid is how
// many times faster the pure-Go probe is.
func BenchmarkPathVsBlkid(b *testing.B) {
	blkid, err := testenv.LookTool("blkid")
	if err != nil {
		b.Skip("needs blkid")
	}
	dir := b.TempDir()
	imgs := map[string]func(string) error{
		"ext4": func(p string) error {
			return mkImage(p, 16<<20, "mkfs.ext4", "-q", "-F", "-L", "bench", p)
		},
		"gpt": func(p string) error {
			return mkImage(p, 64<<20, "sgdisk", "-n1:2048:+10M", "-n2:0:+10M", p)
		},
		"vfat32": func(p string) error {
			return mkImage(p, 64<<20, "mkfs.vfat", "-F", "32", "-n", "BENCH", p)
		},
	}
	for name, mk := range imgs {
		b.Run(name, func(b *testing.B) {
			img := dir + "/" + name + ".img"
			if err := mk(img); err != nil {
				b.Skip(err)
			}
			start := time.Now()
			for i := 0; i < benchAnchorRuns; i++ {
				if out, err := exec.Command(blkid, "-p", "-o", "export", img).Output(); err != nil || len(out) == 0 {
					b.Fatalf("blkid: %v", err)
				}
			}
			anchor := time.Since(start) / benchAnchorRuns
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start = time.Now()
			for i := 0; i < b.N; i++ {
				r, err := Path(ctx, img)
				if err != nil || r.Empty() {
					b.Fatalf("probe: %v %+v", err, r)
				}
			}
			ours := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(anchor)/float64(ours), "x_vs_blkid")
		})
	}
}

// BenchmarkReaderAtMemory is the probe alone, without file system calls.
// x_vs_path is how many times cheaper it is than Path on the same image
// written to a file, timed in the same run: what the open and reads cost.
func BenchmarkReaderAtMemory(b *testing.B) {
	img := synthExt(1<<20, extCompatHasJournal, 0x42, 1, "e4")
	path := filepath.Join(b.TempDir(), "ext4.img")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(img)
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := ReaderAt(ctx, r, int64(len(img))); err != nil {
			b.Fatal(err)
		}
		n++
	}
	mem := time.Since(start) / time.Duration(max(n, 1))
	const pathRuns = 200
	start = time.Now()
	for i := 0; i < pathRuns; i++ {
		if _, err := Path(ctx, path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start)/pathRuns)/float64(mem), "x_vs_path")
}

func mkImage(path string, size int64, tool string, args ...string) error {
	if err := truncateFile(path, size); err != nil {
		return err
	}
	_, err := testenv.RunErr(tool, args...)
	return err
}
