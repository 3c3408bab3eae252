package zfs

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// recPool is the pool the recorded scenario runs on.
const recPool = "eosrec"

// scenario is one fixed, sequential run through every call, with its
// checks; it runs on zfs-fuse for real (recording testdata/zfsfuse when
// EOS_STORAGE_RECORD=1) and on the recording without root or zfs.
func scenario(t *testing.T, b *Backend) {
	t.Helper()
	ctx := context.Background()
	apply := func(what string, ops []sched.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if _, err := plugin.Apply(ctx, nil, ops); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	caps, err := b.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Can(plugin.TechDirectory, plugin.ModeCreate) || !caps.Can(plugin.TechClone, plugin.ModeCreate) {
		t.Errorf("capabilities %+v", caps)
	}
	if c, _ := caps.Lookup(plugin.TechBlock, plugin.ModeCreate); c.Available || !strings.Contains(c.Reason, "zfs-fuse has no zvols") {
		t.Errorf("block on zfs-fuse: %+v", c)
	}
	pools, err := b.Pools(ctx)
	if err != nil || len(pools) != 1 || pools[0].Name != recPool || pools[0].CapacityBytes <= 0 {
		t.Fatalf("Pools: %+v %v", pools, err)
	}
	id := recPool + "/v1"
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: recPool, Name: "v1", SizeBytes: 3<<20 + 1, Tags: []string{"a", "b"}})
	apply("create", ops, err)
	v, err := b.Volume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.SizeBytes != 4<<20 || v.Thin || !strings.HasSuffix(v.Path, "/mnt/v1") || len(v.Tags) != 2 || v.Tags[1] != "b" {
		t.Errorf("Volume %+v", v)
	}
	ops, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: recPool, Name: "v1", SizeBytes: 8 << 20})
	if !errors.Is(err, plugin.ErrExists) {
		t.Errorf("conflicting create: %v", err)
	}
	ops, err = b.CreateSnapshot(ctx, id, "s1")
	apply("snapshot", ops, err)
	ss, err := b.Snapshots(ctx, id)
	if err != nil || len(ss) != 1 || ss[0].ID != id+"@s1" || ss[0].Created.IsZero() {
		t.Fatalf("Snapshots %+v %v", ss, err)
	}
	ops, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: recPool, Name: "c1", SizeBytes: 4 << 20, Thin: true, FromSnapshot: ss[0].ID})
	apply("clone", ops, err)
	vs, err := b.Volumes(ctx, recPool)
	if err != nil || len(vs) != 2 || vs[0].Name != "c1" || vs[0].SnapshotOf != ss[0].ID || !vs[0].Thin {
		t.Fatalf("Volumes %+v %v", vs, err)
	}
	ops, err = b.ResizeVolume(ctx, id, 8<<20)
	apply("resize", ops, err)
	if v, err = b.Volume(ctx, id); err != nil || v.SizeBytes != 8<<20 {
		t.Errorf("after resize %+v %v", v, err)
	}
	if _, err = b.DeleteSnapshot(ctx, ss[0].ID); !errors.Is(err, plugin.ErrInUse) {
		t.Errorf("delete of a cloned snapshot: %v", err)
	}
	ops, err = b.DeleteVolume(ctx, recPool+"/c1")
	apply("delete clone", ops, err)
	ops, err = b.DeleteSnapshot(ctx, ss[0].ID)
	apply("delete snapshot", ops, err)
	ops, err = b.DeleteVolume(ctx, id)
	apply("delete", ops, err)
	if vs, err = b.Volumes(ctx, recPool); err != nil || len(vs) != 0 {
		t.Errorf("at the end: %+v %v", vs, err)
	}
}

// TestScenarioZFSFuse runs the scenario on zfs-fuse for real.
func TestScenarioZFSFuse(t *testing.T) {
	fusePool(t, recPool, 256<<20)
	var opts []command.Option
	if os.Getenv("EOS_STORAGE_RECORD") == "1" {
		os.RemoveAll("testdata/zfsfuse")
		opts = append(opts, command.WithRecorder("testdata/zfsfuse"))
	}
	b, err := New(newExec(t, opts...), WithPools(recPool))
	if err != nil {
		t.Fatal(err)
	}
	scenario(t, b)
}

// TestScenarioReplay runs the scenario on zfs-fuse's recorded output:
// no root, no zfs, and every recorded command is used.
func TestScenarioReplay(t *testing.T) {
	rp, err := command.ReplayDir("testdata/zfsfuse")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(rp, WithPools(recPool))
	if err != nil {
		t.Fatal(err)
	}
	scenario(t, b)
	if u := rp.Unused(); len(u) != 0 {
		t.Errorf("%d recorded commands not run, first %s %q", len(u), u[0].Tool, u[0].Args)
	}
}
