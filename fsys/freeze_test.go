package fsys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestFreezeThaw(t *testing.T) {
	for _, c := range []struct {
		typ  Type
		tool string
		args []string
	}{
		{Ext4, "mkfs.ext4", []string{"-F", "-q"}},
		{XFS, "mkfs.xfs", []string{"-f", "-q"}},
		{Btrfs, "mkfs.btrfs", []string{"-f", "-q"}},
	} {
		t.Run(string(c.typ), func(t *testing.T) {
			dev := olMkfs(t, 512<<20, c.tool, c.args...)
			dir := olMount(t, dev, c.typ)
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			file, sum := olWriteFile(t, dir, "before", 1<<20)

			thaw, err := Freeze(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			// Frozen: a second freeze is EBUSY -> ErrBusy.
			if _, err := Freeze(context.Background(), dir); !errors.Is(err, ErrBusy) {
				t.Errorf("freeze of a frozen fs: %v", err)
			}
			// A write started now blocks until the thaw, then completes.
			wrote := make(chan error, 1)
			go func() { wrote <- os.WriteFile(filepath.Join(dir, "during"), []byte("x"), 0o600) }()
			if err := thaw(); err != nil {
				t.Fatalf("thaw: %v", err)
			}
			if err := thaw(); err != nil {
				t.Errorf("second thaw: %v", err)
			}
			select {
			case err := <-wrote:
				if err != nil {
					t.Errorf("write during freeze: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("write still blocked a minute after the thaw")
			}
			olVerify(t, file, sum)
			// Thawed: freezing again works.
			thaw2, err := Freeze(context.Background(), dir)
			if err != nil {
				t.Fatalf("freeze after thaw: %v", err)
			}
			if err := thaw2(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A caller that never thaws: the context's end thaws, and the thaw it
// forgot returns nil afterwards.
func TestFreezeThawsOnContextEnd(t *testing.T) {
	dev := olMkfs(t, 512<<20, "mkfs.xfs", "-f", "-q")
	dir := olMount(t, dev, XFS)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	thaw, err := Freeze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// Wait for the automatic thaw without assuming how long it takes: a
	// write completes only once the filesystem is thawed.
	if err := os.WriteFile(filepath.Join(dir, "after-cancel"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := thaw(); err != nil {
		t.Errorf("thaw after automatic thaw: %v", err)
	}
	// A context already ended: nothing is frozen.
	if _, err := Freeze(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("freeze with an ended context: %v", err)
	}
}

func TestFreezeNotMountpoint(t *testing.T) {
	if _, err := Freeze(context.Background(), "relative/dir"); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative path: %v", err)
	}
}
