package fsys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// mountinfoHas reports whether the mountinfo file at path lists dir.
func mountinfoHas(t *testing.T, path, dir string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return strings.Contains(string(b), " "+dir+" ")
}

// otherThread parks a goroutine on its own locked OS thread and returns
// that thread's id and a function that releases it.
func otherThread(t *testing.T) (int, func()) {
	tid := make(chan int)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(done)
		tid <- unix.Gettid()
		<-release
	}()
	id := <-tid
	return id, func() { close(release); <-done }
}

func TestWithTempMountIsPrivate(t *testing.T) {
	dev := olMkfs(t, 256<<20, "mkfs.ext4", "-F", "-q")
	m := olManager(t)
	ctx := context.Background()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	other, release := otherThread(t)
	defer release()

	var seen string
	err := m.WithTempMount(ctx, dev, Ext4, false, func(dir string) error {
		seen = dir
		if !mountinfoHas(t, "/proc/thread-self/mountinfo", dir) {
			t.Error("the mount is not in its own thread's mountinfo")
		}
		if mountinfoHas(t, "/proc/self/task/"+strconv.Itoa(other)+"/mountinfo", dir) {
			t.Error("another thread of this process sees the temporary mount")
		}
		if mountinfoHas(t, "/proc/self/mountinfo", dir) {
			t.Error("the main thread's mountinfo shows the temporary mount")
		}
		if mountinfoHas(t, "/proc/1/mountinfo", dir) {
			t.Error("pid 1 sees the temporary mount")
		}
		return os.WriteFile(filepath.Join(dir, "marker"), []byte("written in private"), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing remains: the directory is gone and no thread lists it.
	if _, err := os.Stat(seen); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s remains: %v", seen, err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/mountinfo")
	for _, p := range tasks {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), " "+seen+" ") {
			t.Errorf("%s still lists %s", p, seen)
		}
	}

	// Read-only: the marker is there and a write fails.
	err = m.WithTempMount(ctx, dev, Ext4, true, func(dir string) error {
		b, err := os.ReadFile(filepath.Join(dir, "marker"))
		if err != nil || string(b) != "written in private" {
			t.Errorf("marker: %q %v", b, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); !errors.Is(err, unix.EROFS) {
			t.Errorf("write on the read-only temporary mount: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWithTempMountErrorsAndPanics(t *testing.T) {
	dev := olMkfs(t, 256<<20, "mkfs.ext4", "-F", "-q")
	m := olManager(t)
	ctx := context.Background()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	boom := errors.New("boom")
	var dir1 string
	if err := m.WithTempMount(ctx, dev, Ext4, true, func(dir string) error { dir1 = dir; return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: %v", err)
	}
	if _, err := os.Stat(dir1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory left after an error: %v", err)
	}

	var dir2 string
	func() {
		defer func() {
			if p := recover(); p != "fn panicked" {
				t.Errorf("recovered %v", p)
			}
		}()
		_ = m.WithTempMount(ctx, dev, Ext4, true, func(dir string) error { dir2 = dir; panic("fn panicked") })
	}()
	if _, err := os.Stat(dir2); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory left after a panic: %v", err)
	}

	// A file left open makes the unmount busy: it is detached, not leaked.
	var f *os.File
	err := m.WithTempMount(ctx, dev, Ext4, true, func(dir string) error {
		var err error
		f, err = os.Open(filepath.Join(dir, "."))
		return err
	})
	if err != nil {
		t.Errorf("busy temporary mount: %v", err)
	}
	if f != nil {
		f.Close()
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.WithTempMount(cctx, dev, Ext4, true, func(string) error { t.Error("ran"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	if err := m.WithTempMount(ctx, "loop0", Ext4, true, func(string) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative device: %v", err)
	}
}

// However often it runs, WithTempMount leaves the process's main thread
// (whose namespace /proc/self shows to everyone in the process) in the
// original mount namespace, and later mounts are seen.
func TestWithTempMountLeavesMainThreadAlone(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4")
	dev := testenv.Loop(t, 64<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
	before, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if err := m.WithTempMount(context.Background(), dev, Ext4, true, func(string) error { return nil }); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	if after, _ := os.Readlink("/proc/self/ns/mnt"); after != before {
		t.Fatalf("the main thread's mount namespace changed: %s -> %s", before, after)
	}
	dir := mountTemp(t, dev)
	info, err := m.Inspect(context.Background(), dev)
	if err != nil || len(info.Mountpoints) != 1 || info.Mountpoints[0] != dir {
		t.Fatalf("a mount after the temporary ones: %v %+v", err, info)
	}
}
