package testenv

import (
	"os"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// UnmountUnder registers a cleanup that unmounts every mount below dir,
// deepest first, lazily when a mount is busy. Register it after the
// t.TempDir it guards: cleanups run last registered first, so a test that
// failed with its mounts in place still lets TempDir remove the directory.
func UnmountUnder(t testing.TB, dir string) {
	t.Cleanup(func() {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return
		}
		var targets []string
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
				targets = append(targets, f[4])
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(targets)))
		for _, tg := range targets {
			if err := unix.Unmount(tg, 0); err != nil {
				if err := unix.Unmount(tg, unix.MNT_DETACH); err != nil {
					t.Errorf("unmount %s: %v", tg, err)
				}
			}
		}
	})
}
