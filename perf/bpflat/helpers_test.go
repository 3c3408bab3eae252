package bpflat

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// requireBPF skips (or fails under the strict flag) where the kernel cannot
// run the collector; anything else that stops it is a failure.
func requireBPF(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t)
	if err := Supported(); errors.Is(err, ErrNotSupported) {
		testenv.Skip(t, "the kernel cannot run the latency collector: %v", err)
	} else if err != nil {
		t.Fatalf("Supported: %v", err)
	}
}

// shmLoop attaches a loop device backed by a file in /dev/shm (tmpfs: fast
// and off the shared disk) and returns its path and number (kernel dev_t
// encoding, major<<20 | minor).
func shmLoop(t testing.TB, size int64) (string, uint32) {
	t.Helper()
	testenv.RequireRoot(t)
	dir := "/dev/shm"
	if _, err := os.Stat(dir); err != nil {
		dir = t.TempDir()
	}
	f, err := os.CreateTemp(dir, "eos-bpflat-*.img")
	if err != nil {
		t.Fatal(err)
	}
	img := f.Name()
	t.Cleanup(func() { os.Remove(img) })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dev := testenv.LoopFile(t, img)
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return dev, unix.Major(st.Rdev)<<20 | unix.Minor(st.Rdev)
}

// loopName is the kernel name of /dev/loopN.
func loopName(dev string) string { return filepath.Base(dev) }
