package blockdev_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func kernelNames(g *blockdev.Graph) []string {
	var out []string
	for _, d := range g.All() {
		out = append(out, d.KName)
	}
	slices.Sort(out)
	return out
}

// TestWithEmpty: empty devices are listed by default and left out with
// WithEmpty(false); a size that cannot be read is not "empty".
func TestWithEmpty(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(0, 1<<20, "/img")
	tr.Loop(1, 0, "")
	tr.Loop(2, 0, "")
	tr.Set("loop2", "size", "garbage")
	tr.SATA("sda", 0, 0, 1<<30, "M", "S", false)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<20)
	tr.AddPartition("sda", "sda2", 8, 2, 2, 2<<20, 0)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kernelNames(all), []string{"loop0", "loop1", "loop2", "sda", "sda1", "sda2"}; !slices.Equal(got, want) {
		t.Errorf("default: %v, want %v", got, want)
	}
	some, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithEmpty(false))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kernelNames(some), []string{"loop0", "loop2", "sda", "sda1"}; !slices.Equal(got, want) {
		t.Errorf("WithEmpty(false): %v, want %v", got, want)
	}
	if d, ok := some.ByName("loop2"); !ok || len(d.Errs) == 0 || d.Size != nil {
		t.Errorf("unreadable size: listed %v, want listed with the error", ok)
	}
	sda, _ := some.ByName("sda")
	if kids := some.Children(sda); len(kids) != 1 || kids[0].KName != "sda1" {
		t.Errorf("sda's children %v, want sda1 alone", kids)
	}
}

// treeOpens builds a fake tree with build and returns how many files a
// Discover of it opens with opts (udev off, so only sysfs and /proc count).
func treeOpens(t *testing.T, build func(*blockdevtest.Tree), opts ...blockdev.Option) int {
	t.Helper()
	tr := blockdevtest.New(t.TempDir())
	build(tr)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	_, n, err := blockdev.DiscoverOpens(context.Background(),
		append(opts, blockdev.WithRoot(tr.Dir), blockdev.WithUdev(false))...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWithEmptyOpens: an empty disk left out costs one read (its size), and
// a disk that is not empty costs no more than without WithEmpty(false) (the
// size read to decide is not read again).
func TestWithEmptyOpens(t *testing.T) {
	count := func(build func(*blockdevtest.Tree), opts ...blockdev.Option) int {
		t.Helper()
		return treeOpens(t, build, opts...)
	}
	noEmpty := blockdev.WithEmpty(false)
	base := count(func(*blockdevtest.Tree) {}, noEmpty)
	if got := count(func(tr *blockdevtest.Tree) { tr.Loop(1, 0, "") }, noEmpty) - base; got != 1 {
		t.Errorf("an empty loop device left out cost %d opens, want 1", got)
	}
	disk := func(tr *blockdevtest.Tree) { tr.SATA("sda", 0, 0, 1<<30, "M", "S", false) }
	if with, without := count(disk, noEmpty), count(disk); with != without {
		t.Errorf("a SATA disk costs %d opens with WithEmpty(false), %d without", with, without)
	}
}

// lsblkMajMins lists the maj:min of every node of lsblk's JSON tree.
func lsblkMajMins(t *testing.T, out []byte) []string {
	t.Helper()
	type node struct {
		MajMin   string `json:"maj:min"`
		Children []node `json:"children"`
	}
	var v struct {
		Blockdevices []node `json:"blockdevices"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func([]node)
	walk = func(ns []node) {
		for _, n := range ns {
			seen[n.MajMin] = true
			walk(n.Children)
		}
	}
	walk(v.Blockdevices)
	var mm []string
	for m := range seen {
		mm = append(mm, m)
	}
	slices.Sort(mm)
	return mm
}

// TestWithEmptyMatchesLsblk: Discover lists what lsblk -a lists,
// WithEmpty(false) what lsblk -A (--noempty) lists, and
// WithDetachedLoops(false) what lsblk lists with neither, on the same fake
// tree with a detached loop device and an empty partition.
func TestWithEmptyMatchesLsblk(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	tr := blockdevtest.Sample(t.TempDir())
	tr.AddPartition("sda", "sda3", 8, 3, 3, 40*blockdevtest.GiB, 0)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		flag string
		opts []blockdev.Option
	}{
		{"-a", nil},
		{"-A", []blockdev.Option{blockdev.WithEmpty(false)}},
		{"", []blockdev.Option{blockdev.WithDetachedLoops(false)}},
	} {
		args := []string{"--sysroot", tr.Dir, "-J", "-o", "MAJ:MIN"}
		if c.flag != "" {
			args = append(args, c.flag)
		}
		want := lsblkMajMins(t, testenv.Run(t, "lsblk", args...))
		g, err := blockdev.Discover(ctx, append(c.opts, blockdev.WithRoot(tr.Dir))...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range g.All() {
			got = append(got, d.MajMin.String())
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("lsblk %v lists %v, Discover %v", args[3:], want, got)
		}
	}
}
