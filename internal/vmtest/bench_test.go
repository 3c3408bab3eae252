package vmtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkInitramfs writes the guest's module tree as a newc archive, and
// reports the ratio against GNU cpio -o -H newc archiving the same files in
// the same run (x_vs_cpio below 1 means we are faster).
func BenchmarkInitramfs(b *testing.B) {
	a, err := LoadAssets(CacheDir())
	if err != nil {
		b.Skipf("no VM assets: %v", err)
	}
	cpio, err := exec.LookPath("cpio")
	if err != nil {
		b.Skip("no cpio")
	}
	src := filepath.Join(a.Modules, "lib", "modules")
	var names []string
	_ = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != src {
			rel, _ := filepath.Rel(src, p)
			names = append(names, rel)
		}
		return nil
	})
	list := strings.Join(names, "\n") + "\n"

	var ours, theirs time.Duration
	var size int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tr := newTree()
		if err := tr.HostTree(src, "lib/modules"); err != nil {
			b.Fatal(err)
		}
		n, err := tr.WriteTo(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		size = n
		ours += time.Since(start)

		start = time.Now()
		cmd := exec.Command(cpio, "-o", "-H", "newc", "--quiet")
		cmd.Dir = src
		cmd.Stdin = strings.NewReader(list)
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("cpio: %v: %s", err, stderr.String())
		}
		theirs += time.Since(start)
	}
	b.SetBytes(size)
	if theirs > 0 {
		b.ReportMetric(float64(ours)/float64(theirs), "x_vs_cpio")
	}
}
