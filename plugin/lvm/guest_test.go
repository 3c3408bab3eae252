package lvm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// guestEnv names the guest's two disks for TestGuestConformance
// (internal/vmtest's TestGuestPluginLVM sets it).
const guestEnv = "EOS_STORAGE_PLUGIN_LVM"

// TestGuestConformance runs only in the VM tier's guest, with
// device-mapper: plugintest on a VG with a thin pool (thick and thin
// volumes, grows and shrinks, classic snapshots and their copied clones,
// concurrent calls), then thin clones, the over-provisioning limit, the
// policy's refusal of a pool it does not watch, and a filesystem shrink.
func TestGuestConformance(t *testing.T) {
	env := os.Getenv(guestEnv)
	if env == "" {
		t.Skipf("runs in the VM tier's guest (%s unset)", guestEnv)
	}
	if _, err := os.Stat("/dev/mapper/control"); err != nil {
		testenv.Skip(t, "no device-mapper: %v", err)
	}
	ctx := context.Background()
	devs := strings.Split(env, ",")
	l := newLab(t, devs, true)
	l.vg(t, "pvg", devs)
	op, err := l.m.LVCreateOp(ctx, "pvg", lvm2.LVSpec{Name: "tp", Type: lvm2.LVThinPool, SizeBytes: 128 << 20})
	l.do(t, op, err)
	b, err := New(l.m, "pvg", WithThinPool("tp"), WithOverProvisioning(4))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range caps {
		if !c.Available && c.Technology != plugin.TechDirectory && c.Mode != plugin.ModeModify {
			t.Errorf("unavailable in the guest: %+v", c)
		}
	}
	start := time.Now()
	plugintest.Run(t, func(*testing.T) plugin.Backend { return b }, plugintest.Options{Pool: "pvg", Size: 16 << 20, Timeout: 10 * time.Minute})
	t.Logf("plugintest: %v", time.Since(start).Round(time.Millisecond))

	t.Run("thin clone", func(t *testing.T) { guestThinClone(t, b) })
	t.Run("over-provisioning", func(t *testing.T) { guestOverProvisioning(t, b) })
	t.Run("policy", func(t *testing.T) { guestPolicy(t, l) })
	t.Run("filesystem shrink", func(t *testing.T) { guestShrinkFS(t, b) })
}

func create(t *testing.T, b *Backend, req plugin.CreateRequest) *plugin.Volume {
	t.Helper()
	if err := apply(b.CreateVolume(context.Background(), req)); err != nil {
		t.Fatalf("create %+v: %v", req, err)
	}
	v, err := b.Volume(context.Background(), b.volID(req.Name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apply(b.DeleteVolume(context.Background(), v.ID)) })
	return v
}

// guestThinClone: a thin snapshot keeps the data at its time, a clone of
// it (larger than the snapshot) holds that data and is writable, and the
// snapshot outlives its volume.
func guestThinClone(t *testing.T, b *Backend) {
	ctx := context.Background()
	v := create(t, b, plugin.CreateRequest{Pool: "tp", Name: "tv", SizeBytes: 16 << 20, Tags: []string{"k8s pvc/x=1"}})
	if !v.Thin || len(v.Tags) != 1 || v.Tags[0] != "k8s pvc/x=1" {
		t.Fatalf("thin volume: %+v", v)
	}
	before, after := []byte("at the snapshot"), []byte("after the snap!")
	testenv.PatchFile(t, v.Device, 4096, before)
	if err := apply(b.CreateSnapshot(ctx, v.ID, "s1")); err != nil {
		t.Fatal(err)
	}
	testenv.PatchFile(t, v.Device, 4096, after)
	snaps, err := b.Snapshots(ctx, v.ID)
	if err != nil || len(snaps) != 1 || !snaps[0].ReadOnly || snaps[0].Size != v.SizeBytes || time.Since(snaps[0].Created) > time.Hour {
		t.Fatalf("snapshots: %+v %v", snaps, err)
	}
	c := create(t, b, plugin.CreateRequest{Pool: "pvg", Name: "tc", SizeBytes: 32 << 20, FromSnapshot: snaps[0].ID})
	if !c.Thin || c.SnapshotOf != snaps[0].ID || c.SizeBytes != 32<<20 {
		t.Fatalf("clone: %+v", c)
	}
	if got := testenv.ReadFileAt(t, c.Device, 4096, len(before)); !bytes.Equal(got, before) {
		t.Fatalf("clone holds %q, want %q", got, before)
	}
	testenv.PatchFile(t, c.Device, 4096, []byte("the clone writes"))
	if got := testenv.ReadFileAt(t, v.Device, 4096, len(after)); !bytes.Equal(got, after) {
		t.Fatalf("the volume holds %q after the clone's write", got)
	}
	// The same clone again: nothing to do; another size: ErrExists.
	if ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "pvg", Name: "tc", SizeBytes: 32 << 20, FromSnapshot: snaps[0].ID}); err != nil || len(ops) != 0 {
		t.Errorf("repeating the clone: %d ops, %v", len(ops), err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "pvg", Name: "tc2", SizeBytes: 4 << 20, FromSnapshot: snaps[0].ID}); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("a clone smaller than its snapshot: %v", err)
	}
	// The volume goes; its thin snapshot stays and is listed by its ID.
	if err := apply(b.DeleteVolume(ctx, v.ID)); err != nil {
		t.Fatal(err)
	}
	all, err := b.Snapshots(ctx, "")
	if err != nil || len(all) != 1 || all[0].ID != snaps[0].ID || all[0].SourceID != v.ID {
		t.Fatalf("snapshots after the volume's delete: %+v %v", all, err)
	}
	if err := apply(b.DeleteSnapshot(ctx, snaps[0].ID)); err != nil {
		t.Fatal(err)
	}
	t.Logf("thin clone of %s: data at the snapshot, writable, grown to 32 MiB; the snapshot outlived its volume", snaps[0].ID)
}

// guestOverProvisioning: the thin pool's free space is the ratio's share
// less the virtual sizes, and a thin volume past it is ErrNoSpace before
// anything runs.
func guestOverProvisioning(t *testing.T, b *Backend) {
	ctx := context.Background()
	thinPool := func() plugin.Pool {
		ps, err := b.Pools(ctx)
		if err != nil || len(ps) != 2 || !ps[1].Thin {
			t.Fatalf("pools: %+v %v", ps, err)
		}
		return ps[1]
	}
	p := thinPool()
	if p.FreeBytes != 4*p.CapacityBytes-p.AllocatedBytes {
		t.Fatalf("thin pool: %+v, want free = 4 x capacity - allocated", p)
	}
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "tp", Name: "big", SizeBytes: p.FreeBytes + 4<<20})
	if !errors.Is(err, plugin.ErrNoSpace) || len(ops) != 0 {
		t.Fatalf("a thin volume past the limit: %d ops, %v", len(ops), err)
	}
	v := create(t, b, plugin.CreateRequest{Pool: "tp", Name: "big", SizeBytes: p.FreeBytes})
	if q := thinPool(); q.FreeBytes != 0 || q.AllocatedBytes != p.AllocatedBytes+v.SizeBytes {
		t.Fatalf("after filling the promise: %+v", q)
	}
	if _, err := b.ResizeVolume(ctx, v.ID, v.SizeBytes+4<<20); !errors.Is(err, plugin.ErrNoSpace) {
		t.Fatalf("a thin grow past the limit: %v", err)
	}
	t.Logf("thin pool %d bytes, ratio 4: %d bytes promised, one byte more refused", p.CapacityBytes, v.SizeBytes)
}

// guestPolicy: with the thin-pool policy, a pool it does not watch gets
// no thin volume (lvmthin(7)'s failure is never risked), and one it
// watches does.
func guestPolicy(t *testing.T, l *lab) {
	ctx := context.Background()
	rs, err := lvm2.NewReportSource(l.tool)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lvm2.NewPolicy(rs, rs, lvm2.WithPolicyInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(l.m, "pvg", WithThinPool("tp"), WithPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	thinFree := func() int64 {
		ps, err := b.Pools(ctx)
		if err != nil || len(ps) != 2 {
			t.Fatalf("pools: %+v %v", ps, err)
		}
		return ps[1].FreeBytes
	}
	req := plugin.CreateRequest{Pool: "tp", Name: "pol", SizeBytes: 8 << 20}
	_, err = b.CreateVolume(ctx, req)
	var ae *lvm2.AdmitError
	if !errors.Is(err, plugin.ErrBackend) || !errors.As(err, &ae) || ae.Code != lvm2.RefusedUnmonitored {
		t.Fatalf("a pool the policy does not watch: %v", err)
	}
	if f := thinFree(); f != 0 {
		t.Fatalf("an unwatched pool offers %d free bytes", f)
	}
	if err := p.Watch(ctx, "pvg", "tp"); err != nil {
		t.Fatal(err)
	}
	if err := p.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if f := thinFree(); f <= 0 {
		t.Fatalf("a watched pool offers %d free bytes", f)
	}
	create(t, b, req)
	t.Logf("unwatched pool: %v; watched: admitted", err)
}

// guestShrinkFS: a thick volume with ext4 shrinks through fsys with its
// data intact; below the filesystem's minimum it is refused and nothing
// changes.
func guestShrinkFS(t *testing.T, b *Backend) {
	ctx := context.Background()
	v := create(t, b, plugin.CreateRequest{Pool: "pvg", Name: "fs", SizeBytes: 64 << 20})
	testenv.Run(t, "mkfs.ext4", "-q", "-F", v.Device)
	mnt := t.TempDir()
	testenv.Run(t, "mount", v.Device, mnt)
	data := bytes.Repeat([]byte("eos-storage "), 100000)
	if err := os.WriteFile(filepath.Join(mnt, "f"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "umount", mnt)
	if err := apply(b.ResizeVolume(ctx, v.ID, 32<<20)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Volume(ctx, v.ID); err != nil || got.SizeBytes != 32<<20 {
		t.Fatalf("after the shrink: %+v %v", got, err)
	}
	if out, err := exec.Command("e2fsck", "-fn", v.Device).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck after the shrink: %v\n%s", err, out)
	}
	ops, refused := b.ResizeVolume(ctx, v.ID, 4<<20)
	if refused == nil {
		refused = apply(ops, nil)
	}
	if !errors.Is(refused, plugin.ErrInvalid) {
		t.Fatalf("shrinking ext4 holding 1.2 MB to 4 MiB: %v", refused)
	}
	testenv.Run(t, "mount", v.Device, mnt)
	defer testenv.RunErr("umount", mnt)
	got, err := os.ReadFile(filepath.Join(mnt, "f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data after the shrink: %d bytes, %v", len(got), err)
	}
	t.Logf("ext4 shrunk 64 -> 32 MiB with its data; 4 MiB refused: %v", refused)
}
