package zfs

import (
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// TestOpenZFSReplay replays hand-written OpenZFS output (testdata/openzfs,
// see its README): with zpool list -p the backend offers zvols as block
// volumes, lists them with their volsize and /dev/zvol device, creates a
// sparse zvol for a thin request and resizes by volsize.
func TestOpenZFSReplay(t *testing.T) {
	ctx := context.Background()
	rp, err := command.ReplayDir("testdata/openzfs")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(rp)
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(ctx)
	if err != nil || !caps.Can(plugin.TechBlock, plugin.ModeCreate) {
		t.Fatalf("block: %+v %v", caps, err)
	}
	vs, err := b.Volumes(ctx, "tank")
	if err != nil || len(vs) != 2 {
		t.Fatalf("Volumes %+v %v", vs, err)
	}
	fs, zv := vs[0], vs[1]
	if fs.ID != "tank/fs" || fs.SizeBytes != 4<<20 || !fs.Thin || fs.Path != "/tank/fs" || len(fs.Tags) != 1 {
		t.Errorf("filesystem %+v", fs)
	}
	if zv.ID != "tank/zv" || zv.SizeBytes != 8<<20 || zv.Thin || zv.Device != "/dev/zvol/tank/zv" || zv.Path != "" {
		t.Errorf("zvol %+v", zv)
	}
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "tank", Name: "zv2", SizeBytes: 8 << 20, Thin: true, Kind: plugin.TechBlock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Apply(ctx, nil, ops); err != nil {
		t.Fatal(err)
	}
	ops, err = b.ResizeVolume(ctx, "tank/zv", 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Apply(ctx, nil, ops); err != nil {
		t.Fatal(err)
	}
	if u := rp.Unused(); len(u) != 0 {
		t.Errorf("unused fixtures: %d, first %v", len(u), u[0].Args)
	}
}

// TestMissingTool: with a search path lacking zpool and zfs, New works,
// Capabilities names the missing tool, and a mutation is ErrNotSupported.
func TestMissingTool(t *testing.T) {
	ctx := context.Background()
	b, err := New(newExec(t, command.WithSearchPath(t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := b.Capabilities(ctx)
	if err != nil || len(caps) == 0 {
		t.Fatalf("%+v %v", caps, err)
	}
	for _, c := range caps {
		if c.Available || c.MissingTool != "zpool" || c.Reason == "" {
			t.Errorf("%+v", c)
		}
	}
	_, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: "tank", Name: "v", SizeBytes: 1 << 20})
	var ue *plugin.UnavailableError
	if !errors.As(err, &ue) || ue.MissingTool != "zpool" {
		t.Errorf("create: %v", err)
	}
	// A bad name is still refused first, as invalid.
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "tank", Name: "-v", SizeBytes: 1 << 20}); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	r := plugin.NewRegistry()
	if err := r.Register(b); err != nil {
		t.Fatal(err)
	}
	rep := r.Report(ctx)
	if len(rep) != 1 || rep[0].Error != "" || rep[0].Capabilities.Can(plugin.TechVolume, plugin.ModeCreate) {
		t.Errorf("report %+v", rep)
	}
}
