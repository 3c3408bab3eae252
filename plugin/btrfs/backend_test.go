package btrfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	fsbtrfs "github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// mountBtrfs makes and mounts a btrfs on a loop device over /dev/shm.
func mountBtrfs(t *testing.T, quota bool) string {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs")
	img := filepath.Join(t.TempDir(), "btrfs.img")
	if shm, err := os.MkdirTemp("/dev/shm", "eos-btrfs-backend-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(shm) })
		img = filepath.Join(shm, "btrfs.img")
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 512<<20); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	testenv.Run(t, "mkfs.btrfs", "-q", "-f", dev)
	mnt := t.TempDir()
	if err := unix.Mount(dev, mnt, "btrfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			_ = unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	if quota {
		f, err := fsbtrfs.Open(mnt)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.EnableQuota(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return mnt
}

// The backend passes the conformance suite on a real btrfs with quotas.
func TestConformance(t *testing.T) {
	mnt := mountBtrfs(t, true)
	plugintest.Run(t, func(t *testing.T) plugin.Backend {
		b, err := New(filepath.Join(mnt, "volumes"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, plugintest.Options{Pool: "default", Size: 16 << 20})
}

// A volume's size is enforced: a write past it gets EDQUOT.
func TestSizeEnforced(t *testing.T) {
	mnt := mountBtrfs(t, true)
	b, err := New(filepath.Join(mnt, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "small", SizeBytes: 4 << 20})
	if err == nil {
		_, err = plugin.Apply(ctx, nil, ops)
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.Volume(ctx, "default/small")
	if err != nil || v.SizeBytes != 4<<20 {
		t.Fatalf("%+v %v", v, err)
	}
	f, err := os.Create(filepath.Join(v.Path, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 16 && werr == nil; i++ {
		if _, werr = f.Write(buf); werr == nil {
			werr = f.Sync()
		}
	}
	if !errors.Is(werr, unix.EDQUOT) {
		t.Fatalf("writing 16 MiB into a 4 MiB volume: %v, want EDQUOT", werr)
	}
	// A shrink below what it holds is refused.
	if _, err := b.ResizeVolume(ctx, v.ID, 1<<20); !errors.Is(err, plugin.ErrInUse) {
		t.Fatalf("shrink below the data: %v, want ErrInUse", err)
	}
}

// Without quotas, creation is unavailable and says why; listing still works.
func TestWithoutQuotas(t *testing.T) {
	mnt := mountBtrfs(t, false)
	b, err := New(filepath.Join(mnt, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	caps, err := b.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := caps.Lookup(plugin.TechVolume, plugin.ModeCreate)
	if c.Available || !strings.Contains(c.Reason, "quotas are off") {
		t.Fatalf("create without quotas: %+v", c)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "v", SizeBytes: 1 << 20}); !errors.Is(err, plugin.ErrNotSupported) {
		t.Fatalf("create without quotas: %v, want ErrNotSupported", err)
	}
	if vols, err := b.Volumes(ctx, ""); err != nil || len(vols) != 0 {
		t.Fatalf("volumes %+v %v", vols, err)
	}
}

// Not on btrfs: every capability is unavailable, naming the cause.
func TestNotBtrfs(t *testing.T) {
	b, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if caps.Can(plugin.TechVolume, plugin.ModeQuery) {
		t.Fatalf("a tmpfs directory claims btrfs volumes: %+v", caps)
	}
	if _, err := New("relative/dir"); !errors.Is(err, plugin.ErrInvalid) {
		t.Fatalf("a relative dir: %v", err)
	}
}
