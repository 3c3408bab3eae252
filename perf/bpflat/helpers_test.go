package bpflat

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	waitIdle(t, dev)
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return dev, unix.Major(st.Rdev)<<20 | unix.Minor(st.Rdev)
}

// loopName is the kernel name of /dev/loopN.
func loopName(dev string) string { return filepath.Base(dev) }

// waitIdle waits until a freshly attached loop device has finished what
// the kernel reads of it by itself (the partition scan at attach: buffered
// reads, read-ahead, which on a slow device go on for tens of
// milliseconds): nothing in flight and no new request for 200 ms. A
// collector attached before then counts requests a test's fio did not
// make.
func waitIdle(t testing.TB, dev string) {
	t.Helper()
	base := filepath.Join("/sys/block", loopName(dev))
	ios := func() string {
		st, err := os.ReadFile(filepath.Join(base, "stat"))
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(filepath.Join(base, "inflight"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(st))
		return f[0] + " " + f[4] + " " + strings.Join(strings.Fields(string(in)), " ")
	}
	last, since := ios(), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		now := ios()
		if now != last || !strings.HasSuffix(now, " 0 0") {
			last, since = now, time.Now()
			continue
		}
		if time.Since(since) >= 200*time.Millisecond {
			return
		}
	}
	t.Logf("%s still busy after 10 s: %s", dev, last)
}

// deviceReads is the number of reads dev has completed (its sysfs stat).
func deviceReads(t testing.TB, dev string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/block", loopName(dev), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.Fields(string(b))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
