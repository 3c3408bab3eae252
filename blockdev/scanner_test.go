package blockdev_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestScannerFakeTree: on a fake tree a Scanner keeps nothing open and
// answers like Discover; after Close it refuses.
func TestScannerFakeTree(t *testing.T) {
	tr := blockdevtest.Sample(t.TempDir())
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	s, err := blockdev.NewScanner(blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		g, err := s.Discover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := render(g); got != render(want) {
			t.Fatalf("Scanner differs from Discover:\n%s\n---\n%s", got, render(want))
		}
	}
	if n := blockdev.ScannerFiles(s); n != 0 {
		t.Errorf("a Scanner of a fake tree keeps %d files open", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Discover(ctx); !errors.Is(err, blockdev.ErrClosed) {
		t.Errorf("Discover after Close: %v", err)
	}
	if _, err := blockdev.NewScanner(blockdev.WithProbeWorkers(0)); !errors.Is(err, blockdev.ErrInvalidOption) {
		t.Errorf("invalid option accepted: %v", err)
	}
}

// renderTree renders d and everything stacked on it.
func renderTree(t *testing.T, g *blockdev.Graph, kname string) string {
	t.Helper()
	d, ok := g.ByName(kname)
	if !ok {
		t.Fatalf("%s not discovered", kname)
	}
	var b strings.Builder
	for _, x := range append([]*blockdev.Device{d}, g.Descendants(d)...) {
		c := *x
		fmt.Fprintf(&b, "%s %s %s errs %v\n", x.KName, x.MajMin, deref(c), x.Errs)
	}
	return b.String()
}

// TestScannerLive changes a real loop device under a Scanner, the ways its
// kept files could go stale, and checks each answer against Discover's:
// a partition added; deleted and added again with another size (the kept
// file of the old partition's size answers ENODEV and is opened anew); the
// device grown (a kept file answers the new size).
func TestScannerLive(t *testing.T) {
	testenv.RequireTool(t, "sfdisk", "partx", "losetup")
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	name := filepath.Base(dev)
	ctx := context.Background()
	// Two workers, so the race detector sees the kept files of several
	// disks used at once.
	s, err := blockdev.NewScanner(blockdev.WithProbe(false), blockdev.WithDiskWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(step string, wantParts int, wantSize uint64) {
		t.Helper()
		for range 2 { // the first call may open files, the second reads kept ones
			g, err := s.Discover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := blockdev.Discover(ctx, blockdev.WithProbe(false))
			if err != nil {
				t.Fatal(err)
			}
			got, want := renderTree(t, g, name), renderTree(t, ref, name)
			if got != want {
				t.Fatalf("%s: Scanner\n%s\nDiscover\n%s", step, got, want)
			}
			d, _ := g.ByName(name)
			kids := g.Children(d)
			if len(kids) != wantParts {
				t.Fatalf("%s: %d partitions, want %d", step, len(kids), wantParts)
			}
			last := d
			if wantParts > 0 {
				last = kids[0]
			}
			if last.Size == nil || *last.Size != wantSize {
				t.Fatalf("%s: %s size %v, want %d", step, last.KName, last.Size, wantSize)
			}
		}
	}
	table := func(size string) {
		t.Helper()
		cmd := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", dev)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.Stdin = strings.NewReader("label: dos\nstart=2048, size=" + size + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v %s", err, out)
		}
	}
	check("empty device", 0, 64<<20)
	table("16384")
	testenv.Run(t, "partx", "-a", dev)
	check("partition added", 1, 8<<20)
	testenv.Run(t, "partx", "-d", dev)
	table("32768")
	testenv.Run(t, "partx", "-a", dev)
	check("partition re-added larger", 1, 16<<20)
	if err := os.Truncate(img, 96<<20); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "losetup", "-c", dev)
	d, _ := func() (*blockdev.Device, bool) {
		g, err := s.Discover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g.ByName(name)
	}()
	if d.Size == nil || *d.Size != 96<<20 {
		t.Fatalf("grown device: size %v, want %d", d.Size, 96<<20)
	}
	if blockdev.ScannerFiles(s) == 0 {
		t.Error("the Scanner kept no files open")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := blockdev.ScannerFiles(s); n != 0 {
		t.Errorf("%d files still open after Close", n)
	}
}

// TestScannerBudget: with no room for kept files a Scanner reads like
// Discover and holds nothing.
func TestScannerBudget(t *testing.T) {
	s, err := blockdev.NewScanner(blockdev.WithProbe(false), blockdev.WithScannerFiles(5))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		if _, err := s.Discover(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := blockdev.ScannerFiles(s); n > 5 {
		t.Errorf("%d files kept, budget 5", n)
	}
}

// TestScannerBudgetManyWorkers: disks read by several workers at once never
// keep more files than the budget together, over many passes and budgets.
func TestScannerBudgetManyWorkers(t *testing.T) {
	tr := blockdevtest.Many(t.TempDir(), 64)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{1, 7, 50, 300} {
		s, err := blockdev.NewScanner(blockdev.WithRoot(tr.Dir), blockdev.WithScannerFiles(budget), blockdev.WithDiskWorkers(4))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := s.Discover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := blockdev.ScannerFiles(s); n > budget {
				t.Errorf("%d files kept, budget %d", n, budget)
			}
		}
		s.Close()
	}
}
