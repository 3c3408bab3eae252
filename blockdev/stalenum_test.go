package blockdev_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestDevNumbersChangedDuringDiscover: a partition table rewritten while
// Discover runs (after it read /proc/diskstats, which it does to tell loop
// devices when detached ones are left out, and before it reads the disk)
// gives the partitions new numbers. Discover must report the numbers the
// partitions have, as their dev attributes say, not the ones diskstats gave
// for those names a moment before: those may now be another device's. The
// partitions are deleted and added back in the opposite order from the
// disk's listing hook, until the kernel has handed out other numbers; with
// every device listed (the default) and with detached loops left out.
func TestDevNumbersChangedDuringDiscover(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sfdisk", "partx")
	dev := testenv.Loop(t, 64<<20)
	base := filepath.Base(dev)
	cmd := exec.Command(testenv.RequireTool(t, "sfdisk")[0], "-q", "--no-reread", "--no-tell-kernel", dev)
	cmd.Stdin = strings.NewReader("label: gpt\nsize=8MiB\nsize=8MiB\n")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk %s: %v: %s", dev, err, out)
	}
	testenv.Run(t, "partx", "-a", dev)
	sysDev := func(name string) string {
		t.Helper()
		v, err := sysfs.ReadAttr(filepath.Join("/sys/class/block", name, "dev"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p1, p2 := base+"p1", base+"p2"
	numbers := func() string { return sysDev(p1) + " " + sysDev(p2) }
	for _, detached := range []bool{true, false} {
		before := numbers()
		var once sync.Once
		juggle := func(d *sysfs.Dir) ([]string, error) {
			if filepath.Base(d.Path()) == base {
				once.Do(func() {
					// The kernel frees a deleted partition's number when
					// its last reference goes, which may be a moment later:
					// tried a few times until the numbers differ.
					for range 20 {
						testenv.Run(t, "partx", "-d", dev)
						testenv.Run(t, "partx", "-a", "--nr", "2", dev)
						testenv.Run(t, "partx", "-a", "--nr", "1", dev)
						if numbers() != before {
							break
						}
					}
				})
			}
			return d.Names()
		}
		g, err := blockdev.Discover(context.Background(), blockdev.WithProbe(false), blockdev.WithUdev(false),
			blockdev.WithDetachedLoops(detached), blockdev.WithListFunc(juggle))
		if err != nil {
			t.Fatal(err)
		}
		if numbers() == before {
			t.Fatalf("%s and %s kept their numbers %s: the kernel did not renumber, nothing is tested", p1, p2, before)
		}
		for _, name := range []string{p1, p2} {
			d, ok := g.ByName(name)
			if !ok {
				t.Fatalf("detached loops %v: %s not discovered", detached, name)
			}
			if want := sysDev(name); d.MajMin.String() != want || len(d.Errs) != 0 {
				t.Errorf("detached loops %v: %s: discovered as %s (errors %v), its dev attribute says %s", detached, name, d.MajMin, d.Errs, want)
			}
		}
	}
}
