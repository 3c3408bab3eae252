package loopfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

const mib = 1 << 20

func newBackend(t *testing.T) *Backend {
	t.Helper()
	testenv.RequireRoot(t)
	dir := t.TempDir()
	b, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { detachAll(t, b) })
	return b
}

// detachAll detaches every volume the test left attached.
func detachAll(t *testing.T, b *Backend) {
	vols, _ := b.Volumes(context.Background(), "")
	for _, v := range vols {
		ops, err := b.DeleteVolume(context.Background(), v.ID)
		if err == nil {
			_, err = plugin.Apply(context.Background(), nil, ops)
		}
		if err != nil {
			t.Errorf("cleanup of %s: %v", v.ID, err)
		}
	}
}

func apply(t *testing.T, ops []sched.Operation, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Apply(context.Background(), nil, ops); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t *testing.T, dev string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
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

// The whole life of a volume on real loop devices: create (rounded up to a
// MiB, attached), data written through the device, a snapshot, a clone of
// it holding the same data, grow and shrink with the device following,
// idempotent repeats, and delete.
func TestVolumeLifecycle(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "vol-1", SizeBytes: 10*mib + 1, Tags: []string{"app=db"}})
	apply(t, ops, err)
	v, err := b.Volume(ctx, "default/vol-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.SizeBytes != 11*mib || v.Device == "" || devSize(t, v.Device) != 11*mib || len(v.Tags) != 1 {
		t.Fatalf("volume %+v (device size %d)", v, devSize(t, v.Device))
	}
	// Repeats: the same create is nothing to do; another size is refused.
	if ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "vol-1", SizeBytes: 11 * mib}); err != nil || len(ops) != 0 {
		t.Fatalf("repeat create: %d ops, %v", len(ops), err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "vol-1", SizeBytes: 20 * mib}); !errors.Is(err, plugin.ErrExists) {
		t.Fatalf("conflicting create: %v", err)
	}
	data := bytes.Repeat([]byte("eos-storage!"), 1000)
	writeAt(t, v.Device, 5*mib, data)

	ops, err = b.CreateSnapshot(ctx, v.ID, "snap1")
	apply(t, ops, err)
	if ops, err := b.CreateSnapshot(ctx, v.ID, "snap1"); err != nil || len(ops) != 0 {
		t.Fatalf("repeat snapshot: %d ops, %v", len(ops), err)
	}
	snaps, err := b.Snapshots(ctx, v.ID)
	if err != nil || len(snaps) != 1 || snaps[0].ID != "default/vol-1@snap1" || snaps[0].SourceID != v.ID || snaps[0].Size != 11*mib {
		t.Fatalf("snapshots %+v %v", snaps, err)
	}
	writeAt(t, v.Device, 5*mib, bytes.Repeat([]byte("X"), len(data))) // after the snapshot

	ops, err = b.CreateVolume(ctx, plugin.CreateRequest{Name: "clone", SizeBytes: 12 * mib, FromSnapshot: snaps[0].ID})
	apply(t, ops, err)
	c, err := b.Volume(ctx, "default/clone")
	if err != nil || c.SnapshotOf != snaps[0].ID || c.SizeBytes != 12*mib {
		t.Fatalf("clone %+v %v", c, err)
	}
	if got := readAt(t, c.Device, 5*mib, len(data)); !bytes.Equal(got, data) {
		t.Fatal("the clone does not hold the snapshot's data")
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "small", SizeBytes: mib, FromSnapshot: snaps[0].ID}); !errors.Is(err, plugin.ErrInvalid) {
		t.Fatalf("clone smaller than its snapshot: %v", err)
	}

	// Grow and shrink: the device follows, the data stays.
	ops, err = b.ResizeVolume(ctx, c.ID, 30*mib)
	apply(t, ops, err)
	if devSize(t, c.Device) != 30*mib || !bytes.Equal(readAt(t, c.Device, 5*mib, len(data)), data) {
		t.Fatalf("after grow: %d bytes", devSize(t, c.Device))
	}
	ops, err = b.ResizeVolume(ctx, c.ID, 8*mib)
	apply(t, ops, err)
	if devSize(t, c.Device) != 8*mib || !bytes.Equal(readAt(t, c.Device, 5*mib, len(data)), data) {
		t.Fatalf("after shrink: %d bytes", devSize(t, c.Device))
	}
	if ops, err := b.ResizeVolume(ctx, c.ID, 8*mib); err != nil || len(ops) != 0 {
		t.Fatalf("resize to the same size: %d ops %v", len(ops), err)
	}

	pools, err := b.Pools(ctx)
	if err != nil || len(pools) != 1 || pools[0].AllocatedBytes != 19*mib || pools[0].CapacityBytes <= 0 {
		t.Fatalf("pools %+v %v", pools, err)
	}

	// Delete: the device goes away; a repeat is nothing to do.
	dev := c.Device
	ops, err = b.DeleteVolume(ctx, c.ID)
	apply(t, ops, err)
	if _, err := b.Volume(ctx, c.ID); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop", "backing_file")); err == nil && strings.Contains(string(b), "clone") {
		t.Fatalf("%s still backs the deleted volume: %s", dev, b)
	}
	if ops, err := b.DeleteVolume(ctx, c.ID); err != nil || len(ops) != 0 {
		t.Fatalf("repeat delete: %d ops %v", len(ops), err)
	}
	ops, err = b.DeleteSnapshot(ctx, snaps[0].ID)
	apply(t, ops, err)
	if ops, err := b.DeleteSnapshot(ctx, snaps[0].ID); err != nil || len(ops) != 0 {
		t.Fatalf("repeat snapshot delete: %d ops %v", len(ops), err)
	}
}

// Names and sizes are checked before anything runs.
func TestBadRequests(t *testing.T) {
	b, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	long := strings.Repeat("a", maxNameLen)
	for _, name := range []string{"", "..", "a/b", "-x", ".x", "a@b", "a b", "a\x00b", long + "a", "é"} {
		if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: name, SizeBytes: mib}); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("name %q: %v, want ErrInvalid", name, err)
		}
	}
	for _, size := range []int64{0, -1, 1 << 51} {
		if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "v", SizeBytes: size}); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("size %d: %v, want ErrInvalid", size, err)
		}
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "v", SizeBytes: 1 << 49}); !errors.Is(err, plugin.ErrNoSpace) {
		t.Errorf("512 TiB: %v, want ErrNoSpace", err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "other", Name: "v", SizeBytes: mib}); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("another pool: %v", err)
	}
	for _, id := range []string{"v", "other/v", "default/../x", "default/a/b"} {
		if _, err := b.ResizeVolume(ctx, id, mib); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("resize id %q: %v, want ErrInvalid", id, err)
		}
	}
	if _, err := b.ResizeVolume(ctx, "default/missing", mib); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("resize of a missing volume: %v", err)
	}
	if _, err := b.CreateSnapshot(ctx, "default/missing", "s"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("snapshot of a missing volume: %v", err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "c", SizeBytes: mib, FromSnapshot: "default/x@missing"}); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("clone of a missing snapshot: %v", err)
	}
	// The longest name is accepted (up to planning).
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: long, SizeBytes: mib}); err != nil {
		t.Errorf("a %d-byte name: %v", len(long), err)
	}
}

// Concurrent creates of distinct volumes all land; concurrent creates of one
// name end with one volume and no error.
func TestConcurrentCreates(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		for _, name := range []string{fmt.Sprintf("v%d", i), "same"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: name, SizeBytes: 4 * mib})
				if err == nil {
					_, err = plugin.Apply(ctx, nil, ops)
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil || len(vols) != 11 {
		t.Fatalf("%d volumes, %v", len(vols), err)
	}
	seen := map[string]bool{}
	for _, v := range vols {
		if v.Device == "" || seen[v.Device] {
			t.Errorf("volume %s: device %q (shared or missing)", v.ID, v.Device)
		}
		seen[v.Device] = true
	}
}

// A mounted volume is not deleted; a create that crashed before its
// sidecar is not listed and is replaced by the next create of its name; a
// detached volume (a reboot) is attached again by Attach.
func TestDeleteInUseAndLeftovers(t *testing.T) {
	b := newBackend(t)
	testenv.RequireTool(t, "mkfs.ext4", "mount", "umount")
	ctx := context.Background()
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "used", SizeBytes: 16 * mib})
	apply(t, ops, err)
	v, _ := b.Volume(ctx, "default/used")
	testenv.Run(t, "mkfs.ext4", "-q", "-F", v.Device)
	dir := t.TempDir()
	testenv.Run(t, "mount", v.Device, dir)
	ops, err = b.DeleteVolume(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Apply(ctx, nil, ops); !errors.Is(err, plugin.ErrInUse) {
		testenv.Run(t, "umount", dir)
		t.Fatalf("delete of a mounted volume: %v, want ErrInUse", err)
	}
	testenv.Run(t, "umount", dir)
	if _, err := b.Volume(ctx, v.ID); err != nil {
		t.Fatalf("the refused delete removed the volume: %v", err)
	}

	// A leftover file without its sidecar.
	if err := os.WriteFile(b.volFile("crashed"), []byte("half made"), 0o600); err != nil {
		t.Fatal(err)
	}
	if vols, _ := b.Volumes(ctx, ""); len(vols) != 1 {
		t.Fatalf("the leftover is listed: %+v", vols)
	}
	ops, err = b.CreateVolume(ctx, plugin.CreateRequest{Name: "crashed", SizeBytes: 2 * mib})
	apply(t, ops, err)
	if c, err := b.Volume(ctx, "default/crashed"); err != nil || c.SizeBytes != 2*mib || bytes.HasPrefix(readAt(t, c.Device, 0, 9), []byte("half made")) {
		t.Fatalf("after replacing the leftover: %+v %v", c, err)
	}

	// Detached behind the backend's back, attached again.
	testenv.Run(t, "losetup", "-d", v.Device)
	if got, _ := b.Volume(ctx, v.ID); got.Device != "" {
		t.Fatalf("a detached volume reports device %s", got.Device)
	}
	dev, err := b.Attach(ctx, v.ID)
	if err != nil || dev == "" {
		t.Fatalf("Attach: %q %v", dev, err)
	}
	if got, _ := b.Volume(ctx, v.ID); got.Device != dev {
		t.Fatalf("after Attach: %+v", got)
	}
}

// A rolled-back create leaves nothing; a rolled-back resize is back at its
// old size.
func TestRollback(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Name: "rb", SizeBytes: 4 * mib})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops[0].Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	v, _ := b.Volume(ctx, "default/rb")
	rops, err := b.ResizeVolume(ctx, v.ID, 8*mib)
	if err != nil {
		t.Fatal(err)
	}
	if err := rops[0].Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := rops[0].Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Volume(ctx, v.ID); got.SizeBytes != 4*mib || devSize(t, got.Device) != 4*mib {
		t.Fatalf("after the resize's rollback: %+v", got)
	}
	if err := ops[0].Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Volume(ctx, v.ID); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("after the create's rollback: %v", err)
	}
	if ents, _ := os.ReadDir(b.dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// Capabilities answer without root and name what is missing.
func TestCapabilities(t *testing.T) {
	b, err := New(t.TempDir(), WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := caps.Lookup(plugin.TechVolume, plugin.ModeCreate)
	if c.Available || !strings.Contains(c.Reason, "loop-control") {
		t.Fatalf("without /dev/loop-control: %+v", c)
	}
	if !caps.Can(plugin.TechVolume, plugin.ModeQuery) || caps.Can(plugin.TechDirectory, plugin.ModeCreate) {
		t.Fatalf("caps %+v", caps)
	}
}

// The backend passes the conformance suite on real loop devices.
func TestConformance(t *testing.T) {
	plugintest.Run(t, func(t *testing.T) plugin.Backend { return newBackend(t) }, plugintest.Options{Pool: "default", Size: 8 * mib})
}
