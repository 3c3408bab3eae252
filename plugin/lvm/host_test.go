package lvm

import (
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// TestMetadataOnly: on the host lvm runs without device-mapper, so no LV
// can be activated and no volume be used. The backend says so for every
// technology, with the reason, and refuses to create; it still reports
// the VG and its thin pool, and bad names and sizes are ErrInvalid before
// anything runs.
func TestMetadataOnly(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup")
	ctx := context.Background()
	devs := []string{testenv.Loop(t, 64<<20), testenv.Loop(t, 64<<20)}
	l := newLab(t, devs, false)
	l.vg(t, "pvg", devs)
	// (lvm cannot make a thin pool without device-mapper: the VM tier
	// checks those.) An LV the backend did not make: never listed, never
	// touched.
	op, err := l.m.LVCreateOp(ctx, "pvg", lvm2.LVSpec{Name: "other", SizeBytes: 8 << 20})
	l.do(t, op, err)

	b, err := New(l.m, "pvg", WithThinPool("tp"), WithOverProvisioning(2))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range caps {
		if c.Available || c.Reason == "" {
			t.Errorf("without device-mapper: %+v", c)
		}
	}
	pools, err := b.Pools(ctx)
	if err != nil || len(pools) != 1 {
		t.Fatalf("pools: %+v %v", pools, err)
	}
	if p := pools[0]; p.Name != "pvg" || p.Thin || p.CapacityBytes < 100<<20 || p.FreeBytes != p.CapacityBytes-8<<20 || p.AllocatedBytes != 0 {
		t.Errorf("thick pool: %+v", p)
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil || len(vols) != 0 {
		t.Errorf("volumes: %+v %v (the untagged LV must not be listed)", vols, err)
	}
	if _, err := b.Volume(ctx, "pvg/other"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("Volume of an LV the backend did not make: %v", err)
	}
	if ops, err := b.DeleteVolume(ctx, "pvg/other"); !errors.Is(err, plugin.ErrInUse) {
		t.Errorf("deleting an LV the backend did not make: %d ops, %v", len(ops), err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "pvg", Name: "v", SizeBytes: 8 << 20}); !errors.Is(err, plugin.ErrNotSupported) {
		t.Errorf("create without device-mapper: %v", err)
	}
	for _, req := range []plugin.CreateRequest{
		{Pool: "pvg", Name: "_v", SizeBytes: 8 << 20},
		{Pool: "pvg", Name: "a+b", SizeBytes: 8 << 20},
		{Pool: "pvg", Name: "v", SizeBytes: 0},
		{Pool: "pvg", Name: "v", SizeBytes: 8 << 20, Kind: plugin.TechDirectory},
	} {
		if _, err := b.CreateVolume(ctx, req); !errors.Is(err, plugin.ErrInvalid) && !errors.Is(err, plugin.ErrNotSupported) {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "nope", Name: "v", SizeBytes: 8 << 20}); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("a missing pool: %v", err)
	}
	missing, err := New(l.m, "novg")
	if err != nil {
		t.Fatal(err)
	}
	caps, err = missing.Capabilities(ctx)
	if err != nil || caps.Can(plugin.TechVolume, plugin.ModeCreate) {
		t.Errorf("a missing VG: %+v %v", caps, err)
	}
	if _, err := missing.Pools(ctx); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("pools of a missing VG: %v", err)
	}
}
