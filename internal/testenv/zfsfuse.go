package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// ZFSFuseLock is the lock file ZFSFuse holds while its daemon runs.
const ZFSFuseLock = "/run/lock/eos-storage-zfs-fuse.lock"

// zfsFuseSocket is where zfs-fuse listens; only one daemon runs per machine.
const zfsFuseSocket = "/run/zfs/zfs_socket"

// ZFSFuse runs a zfs-fuse daemon for the test and stops it at cleanup. It
// first takes an exclusive flock on ZFSFuseLock (created if missing) and
// holds it for the test's duration, so test packages that go test runs in
// parallel take turns with the one daemon instead of one of them skipping.
// It skips (fails under strict) without root or zfs-fuse, or when a daemon
// it did not start is already running. Pools the test makes should use
// cachefile=none so the daemon imports nothing at its next start.
func ZFSFuse(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	bins := RequireTool(t, "zfs-fuse", "zpool", "zfs")
	if err := os.MkdirAll(filepath.Dir(ZFSFuseLock), 0o755); err != nil {
		t.Fatalf("zfs-fuse lock: %v", err)
	}
	lock, err := os.OpenFile(ZFSFuseLock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("zfs-fuse lock: %v", err)
	}
	for {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		lock.Close()
		t.Fatalf("zfs-fuse lock %s: %v", ZFSFuseLock, err)
	}
	// Registered first, so it runs last: the lock is released only after
	// the daemon is gone.
	t.Cleanup(func() { lock.Close() })
	if _, err := os.Stat(zfsFuseSocket); err == nil {
		if _, err := RunErr("zpool", "list"); err == nil {
			Skip(t, "a zfs-fuse daemon not started by a test is already running")
		}
		os.Remove(zfsFuseSocket) // left by a daemon that died
	}
	cmd := exec.Command(bins[0], "--no-daemon", "--no-kstat-mount")
	if err := cmd.Start(); err != nil {
		t.Fatalf("zfs-fuse: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for i := 0; ; i++ {
		if _, err := RunErr("zpool", "list"); err == nil {
			return
		}
		if i == 100 {
			t.Fatal("zfs-fuse did not come up")
		}
		select {
		case <-done:
			t.Fatal("zfs-fuse exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
