package loopfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// newTestBackend returns a backend on a fresh directory (under /dev/shm when
// shm is true, else t.TempDir()) and removes every volume it made, so no
// loop device outlives the test.
func newTestBackend(t *testing.T, shm bool) *Backend {
	t.Helper()
	testenv.RequireRoot(t)
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		testenv.Skip(t, "no /dev/loop-control: %v", err)
	}
	dir := t.TempDir()
	if shm {
		d, err := os.MkdirTemp("/dev/shm", "loopfile-test-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	b, err := New(filepath.Join(dir, "pool0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupBackend(t, b) })
	return b
}

func cleanupBackend(t *testing.T, b *Backend) {
	ents, _ := os.ReadDir(b.dir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), imgSuffix) {
			continue
		}
		img := filepath.Join(b.dir, e.Name())
		if ld, _ := b.findLoop(img); ld != nil {
			testenv.DetachLoop(t, ld.Path)
		}
	}
}

// run returns a function that applies a backend call's answer or fails t.
func run(t *testing.T) func([]sched.Operation, error) {
	return func(ops []sched.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plugin.Apply(context.Background(), nil, ops); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	for _, shm := range []bool{false, true} {
		t.Run(map[bool]string{false: "tempdir", true: "shm"}[shm], func(t *testing.T) {
			ctx := context.Background()
			b := newTestBackend(t, shm)
			caps, err := b.Capabilities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				t plugin.Technology
				m plugin.Mode
			}{{plugin.TechVolume, plugin.ModeCreate}, {plugin.TechShrink, plugin.ModeModify}, {plugin.TechSnapshot, plugin.ModeCreate}, {plugin.TechClone, plugin.ModeCreate}, {plugin.TechBlock, plugin.ModeCreate}} {
				if !caps.Can(tc.t, tc.m) {
					t.Fatalf("%s %s not available: %+v", tc.t, tc.m, caps)
				}
			}
			t.Logf("copy method here: %s", b.CopyMethod())

			req := plugin.CreateRequest{Name: "v1", SizeBytes: 5<<20 + 1, Tags: []string{"k=v"}}
			run(t)(b.CreateVolume(ctx, req))
			v, err := b.Volume(ctx, "pool0/v1")
			if err != nil {
				t.Fatal(err)
			}
			if v.SizeBytes != 6<<20 || v.Device == "" || v.Tags[0] != "k=v" {
				t.Fatalf("volume %+v", v)
			}
			if got := devSize(t, v.Device); got != 6<<20 {
				t.Fatalf("device size %d", got)
			}
			// Idempotent repeat; conflicting repeat.
			if ops, err := b.CreateVolume(ctx, req); err != nil || len(ops) != 0 {
				t.Fatalf("repeat create: %d ops, %v", len(ops), err)
			}
			if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "v1", SizeBytes: 1 << 30}); !errors.Is(err, plugin.ErrExists) {
				t.Fatalf("conflicting create: %v", err)
			}
			// Data, snapshot, clone.
			data := bytes.Repeat([]byte("eos!"), 1024)
			writeAt(t, v.Device, 1<<20, data)
			run(t)(b.CreateSnapshot(ctx, v.ID, "s1"))
			if ops, err := b.CreateSnapshot(ctx, v.ID, "s1"); err != nil || len(ops) != 0 {
				t.Fatalf("repeat snapshot: %d ops, %v", len(ops), err)
			}
			snaps, err := b.Snapshots(ctx, v.ID)
			if err != nil || len(snaps) != 1 || snaps[0].ID != "pool0/v1@s1" || snaps[0].Size != 6<<20 {
				t.Fatalf("snapshots %+v %v", snaps, err)
			}
			writeAt(t, v.Device, 1<<20, bytes.Repeat([]byte("XXXX"), 1024))
			run(t)(b.CreateVolume(ctx, plugin.CreateRequest{Name: "c1", SizeBytes: 8 << 20, FromSnapshot: "pool0/v1@s1"}))
			c, err := b.Volume(ctx, "pool0/c1")
			if err != nil || c.SnapshotOf != "pool0/v1@s1" || c.SizeBytes != 8<<20 {
				t.Fatalf("clone %+v %v", c, err)
			}
			if got := readAt(t, c.Device, 1<<20, len(data)); !bytes.Equal(got, data) {
				t.Fatalf("clone holds %q..., want the snapshot's data", got[:8])
			}
			// Grow, then shrink.
			run(t)(b.ResizeVolume(ctx, v.ID, 10<<20))
			if got := devSize(t, v.Device); got != 10<<20 {
				t.Fatalf("grown device size %d", got)
			}
			run(t)(b.ResizeVolume(ctx, v.ID, 2<<20))
			if got := devSize(t, v.Device); got != 2<<20 {
				t.Fatalf("shrunk device size %d", got)
			}
			// A restart: a new Backend on the same directory finds the
			// attached devices by inode, attaches nothing twice.
			b2, err := New(b.dir)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := b2.Volume(ctx, v.ID)
			if err != nil || v2.Device != v.Device {
				t.Fatalf("after restart %+v %v, want device %s", v2, err, v.Device)
			}
			if ops, err := b2.EnsureAttached(ctx, v.ID); err != nil || len(ops) != 0 {
				t.Fatalf("EnsureAttached after restart: %d ops %v", len(ops), err)
			}
			pools, err := b.Pools(ctx)
			if err != nil || len(pools) != 1 || pools[0].AllocatedBytes != 10<<20 || pools[0].CapacityBytes <= 0 {
				t.Fatalf("pools %+v %v", pools, err)
			}
			// Held open: delete refuses, detaches nothing.
			f, err := os.OpenFile(v.Device, os.O_RDONLY|os.O_EXCL, 0)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := b.DeleteVolume(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plugin.Apply(ctx, nil, ops); !errors.Is(err, plugin.ErrInUse) {
				t.Fatalf("delete of an open volume: %v", err)
			}
			f.Close()
			if v3, err := b.Volume(ctx, v.ID); err != nil || v3.Device != v.Device {
				t.Fatalf("after refused delete %+v %v", v3, err)
			}
			for _, id := range []string{v.ID, c.ID} {
				dev, _ := b.Volume(ctx, id)
				run(t)(b.DeleteVolume(ctx, id))
				if ops, err := b.DeleteVolume(ctx, id); err != nil || len(ops) != 0 {
					t.Fatalf("repeat delete: %d ops, %v", len(ops), err)
				}
				if _, err := os.Stat("/sys/block/" + filepath.Base(dev.Device) + "/loop/backing_file"); err == nil {
					bf, _ := os.ReadFile("/sys/block/" + filepath.Base(dev.Device) + "/loop/backing_file")
					if strings.HasPrefix(string(bf), b.dir) {
						t.Fatalf("%s still attached to %s", dev.Device, bf)
					}
				}
			}
			run(t)(b.DeleteSnapshot(ctx, "pool0/v1@s1"))
			if ops, err := b.DeleteSnapshot(ctx, "pool0/v1@s1"); err != nil || len(ops) != 0 {
				t.Fatalf("repeat snapshot delete: %d ops %v", len(ops), err)
			}
			if vols, err := b.Volumes(ctx, ""); err != nil || len(vols) != 0 {
				t.Fatalf("left %+v %v", vols, err)
			}
		})
	}
}

func TestRollbackUndoesCreate(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, true)
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "rb", SizeBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	ops = append(ops, sched.Operation{ID: "fail", Kind: "test", Dependencies: []string{ops[0].ID},
		Execute: func(context.Context, sched.Progress) error { return boom }})
	if _, err := plugin.Apply(ctx, nil, ops); !errors.Is(err, boom) {
		t.Fatalf("plan error %v", err)
	}
	if _, err := b.Volume(ctx, "pool0/rb"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("after rollback: %v", err)
	}
	ents, _ := os.ReadDir(b.dir)
	for _, e := range ents {
		if e.Name() != lockName {
			t.Errorf("left %s", e.Name())
		}
	}
}

func TestCrashedCreateIsRedone(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, true)
	// An image without a sidecar: a create killed before its commit point.
	if err := os.WriteFile(b.imgPath("half"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Volume(ctx, "pool0/half"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("half-made volume is visible: %v", err)
	}
	run(t)(b.CreateVolume(ctx, plugin.CreateRequest{Name: "half", SizeBytes: 1 << 20}))
	v, err := b.Volume(ctx, "pool0/half")
	if err != nil || v.Device == "" {
		t.Fatalf("%+v %v", v, err)
	}
	if got := readAt(t, v.Device, 0, 4); !bytes.Equal(got, make([]byte, 4)) {
		t.Fatalf("old junk survived: %q", got)
	}
	run(t)(b.DeleteVolume(ctx, v.ID))
}

func TestConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, true)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := []string{"a", "b"}[i%2] // two names, four racers each
			ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: name, SizeBytes: 1 << 20})
			if err == nil {
				_, err = plugin.Apply(ctx, nil, ops)
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	vols, _ := b.Volumes(ctx, "")
	if len(vols) != 2 {
		t.Fatalf("%d volumes", len(vols))
	}
	for _, v := range vols {
		if v.Device == "" {
			t.Errorf("%s not attached", v.ID)
		}
		run(t)(b.DeleteVolume(ctx, v.ID))
	}
}

func TestBadRequests(t *testing.T) {
	b, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	long := strings.Repeat("a", maxNameLen)
	for _, tc := range []struct {
		req  plugin.CreateRequest
		want error
	}{
		{plugin.CreateRequest{Name: "../x", SizeBytes: 1 << 20}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: ".hidden", SizeBytes: 1 << 20}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: "a/b", SizeBytes: 1 << 20}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: "-x", SizeBytes: 1 << 20}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: long + "a", SizeBytes: 1 << 20}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 0}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: "ok", SizeBytes: -1}, plugin.ErrInvalid},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 1 << 59}, plugin.ErrNoSpace},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 1 << 20, Thin: true}, plugin.ErrNotSupported},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 1 << 20, Pool: "other"}, plugin.ErrNotFound},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 1 << 20, FromSnapshot: filepath.Base(b.dir) + "/x@y"}, plugin.ErrNotFound},
		{plugin.CreateRequest{Name: "ok", SizeBytes: 1 << 20, Tags: []string{"a\nb"}}, plugin.ErrInvalid},
	} {
		if _, err := b.CreateVolume(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.req, err, tc.want)
		}
	}
	for _, id := range []string{"x", "other/x", filepath.Base(b.dir) + "/../x", filepath.Base(b.dir) + "/"} {
		if _, err := b.Volume(ctx, id); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("Volume(%q): %v", id, err)
		}
		if _, err := b.DeleteVolume(ctx, id); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("DeleteVolume(%q): %v", id, err)
		}
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: long, SizeBytes: 1 << 20}); err != nil {
		t.Errorf("name at the limit: %v", err)
	}
}

func devSize(t *testing.T, dev string) int64 {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.Seek(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeAt(t *testing.T, dev string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func readAt(t *testing.T, dev string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}
