package quota

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(writerEnv) != "" {
		os.Exit(writerChild())
	}
	if os.Getenv(crashEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m)
}

// newFS makes fstype on a loop device (image on /dev/shm when it can) and
// mounts it with the options; it returns the mountpoint and the device.
// Mount failures are returned, not fatal: the kernel may refuse quotas.
func newFS(t testing.TB, fstype string, size int64, mkfsArgs []string, mountOpts string) (mnt, dev string, mountErr error) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs."+fstype, "losetup", "mount", "umount")
	dir, err := os.MkdirTemp("/dev/shm", "quota-test-")
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	dev = testenv.LoopFile(t, img)
	testenv.Run(t, "mkfs."+fstype, append(mkfsArgs, dev)...)
	mnt = t.TempDir()
	args := []string{"-t", fstype}
	if mountOpts != "" {
		args = append(args, "-o", mountOpts)
	}
	if out, err := exec.Command("mount", append(args, dev, mnt)...).CombinedOutput(); err != nil {
		return mnt, dev, &exec.ExitError{ProcessState: nil, Stderr: out}
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt, dev, nil
}

func mustFS(t testing.TB, fstype string, size int64, mkfsArgs []string, mountOpts string) (string, string) {
	t.Helper()
	mnt, dev, err := newFS(t, fstype, size, mkfsArgs, mountOpts)
	if err != nil {
		t.Fatalf("mount %s -o %q: %s", fstype, mountOpts, err.(*exec.ExitError).Stderr)
	}
	return mnt, dev
}

func newManager(t testing.TB) *Manager {
	t.Helper()
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var bg = context.Background()
