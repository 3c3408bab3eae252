package zfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// fusePool starts zfs-fuse (testenv.ZFSFuse) and makes a pool of size bytes
// on a sparse file, its root mounted under the test's directory, destroyed
// at cleanup.
func fusePool(t *testing.T, name string, size int64) (mnt string) {
	t.Helper()
	testenv.ZFSFuse(t)
	dir := t.TempDir()
	img := filepath.Join(dir, name+".img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mnt = filepath.Join(dir, "mnt")
	testenv.Run(t, "zpool", "create", "-f", "-m", mnt, "-o", "cachefile=none", name, img)
	t.Cleanup(func() {
		// zfs-fuse may call the pool busy while it is still releasing
		// the FUSE mounts of destroyed datasets.
		var err error
		for i := 0; i < 20; i++ {
			if _, err = testenv.RunErr("zpool", "destroy", "-f", name); err == nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("zpool destroy %s: %v", name, err)
	})
	return mnt
}

func newExec(t testing.TB, opts ...command.Option) *command.Exec {
	t.Helper()
	e, err := command.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestConformanceZFSFuse runs the conformance suite against zfs-fuse for
// real: filesystem datasets are directory volumes; zvols are declared
// unavailable, so the suite checks they are refused.
func TestConformanceZFSFuse(t *testing.T) {
	fusePool(t, "eospt", 512<<20)
	plugintest.Run(t, func(t *testing.T) plugin.Backend {
		b, err := New(newExec(t), WithPools("eospt"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, plugintest.Options{Pool: "eospt"})
}

// TestRollbackZFSFuse: a plan whose create ran and whose next operation
// failed is rolled back by the scheduler, which destroys the dataset, on
// zfs-fuse for real; a snapshot rolled back is destroyed too.
func TestRollbackZFSFuse(t *testing.T) {
	fusePool(t, "eosrb", 256<<20)
	ctx := context.Background()
	b, err := New(newExec(t), WithPools("eosrb"))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "eosrb", Name: "v", SizeBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	injected := errors.New("injected")
	fail := sched.Operation{ID: "fail", Kind: "test", Dependencies: []string{ops[0].ID},
		Execute: func(context.Context, sched.Progress) error { return injected }}
	s, err := sched.New(sched.WithRetry(sched.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, sched.NewPlan(append(ops, fail)...)); !errors.Is(err, injected) {
		t.Fatalf("plan: %v", err)
	}
	if _, err := b.Volume(ctx, "eosrb/v"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("after rollback: %v, want ErrNotFound", err)
	}
}
