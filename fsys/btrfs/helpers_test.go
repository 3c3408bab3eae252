package btrfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m)
}

// testFS is a freshly made btrfs on n loop devices (images on /dev/shm),
// mounted on a temporary directory; everything is undone at cleanup.
type testFS struct {
	mnt  string
	devs []string
	imgs []string
	fs   *FS
}

const minDev = 114294784

func newTestFS(t testing.TB, n int, size int64, mkfsArgs ...string) *testFS {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs", "losetup")
	dir, err := os.MkdirTemp("/dev/shm", "btrfs-test-")
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	tf := &testFS{}
	for i := 0; i < n; i++ {
		img := filepath.Join(dir, "d"+string(rune('0'+i))+".img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, size); err != nil {
			t.Fatal(err)
		}
		tf.imgs = append(tf.imgs, img)
		tf.devs = append(tf.devs, testenv.LoopFile(t, img))
	}
	args := append([]string{"-q", "-f"}, mkfsArgs...)
	testenv.Run(t, "mkfs.btrfs", append(args, tf.devs...)...)
	tf.mnt = t.TempDir()
	testenv.Run(t, "mount", "-t", "btrfs", tf.devs[0], tf.mnt)
	t.Cleanup(func() {
		if tf.fs != nil {
			tf.fs.Close()
		}
		exec.Command("umount", "-R", tf.mnt).Run()
		// Forget the members so no stale registration outlives the loops.
		exec.Command("btrfs", append([]string{"device", "scan", "--forget"}, tf.devs...)...).Run()
	})
	f, err := Open(tf.mnt)
	if err != nil {
		t.Fatal(err)
	}
	tf.fs = f
	return tf
}

// spareLoop is one more loop device, not part of any filesystem.
func spareLoop(t testing.TB, size int64) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "btrfs-spare-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	img := filepath.Join(dir, "spare.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	t.Cleanup(func() { exec.Command("btrfs", "device", "scan", "--forget", dev).Run() })
	return dev
}

func btrfsOut(t testing.TB, args ...string) string {
	t.Helper()
	return string(testenv.Run(t, "btrfs", args...))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func fields(s string) []string { return strings.Fields(s) }
