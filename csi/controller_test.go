package csi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// opsStack runs backend operations and refuses everything on a node: the
// controller side needs nothing else.
type opsStack struct{}

var errNoNode = errors.New("no node side in this test")

func (opsStack) RunOps(ctx context.Context, ops []sched.Operation) (*sched.Report, error) {
	s, err := sched.New()
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return &sched.Report{}, nil
	}
	return s.Run(ctx, sched.NewPlan(ops...))
}
func (opsStack) EnsureFilesystem(context.Context, string, fsys.Type, fsys.MakeOptions) (*fsys.Info, error) {
	return nil, errNoNode
}
func (opsStack) EnsureMounted(context.Context, string, string, fsys.Type, fsys.MountOptions) error {
	return errNoNode
}
func (opsStack) EnsureUnmounted(context.Context, string) error { return errNoNode }
func (opsStack) GrowFilesystem(context.Context, string) error  { return errNoNode }

func memDriver(t testing.TB) *Driver {
	t.Helper()
	m, err := plugintest.NewMemory(t.TempDir(), "mem", 1<<30, plugintest.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(m, opsStack{}, WithNodeID("n1"), WithDefaultSize(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func code(err error) codes.Code { return status.Code(err) }

func TestControllerUnprivileged(t *testing.T) {
	d := memDriver(t)
	ctx := context.Background()
	caps := []*csipb.VolumeCapability{mountCap()}
	req := &csipb.CreateVolumeRequest{Name: "any name: with spaces/and slashes", VolumeCapabilities: caps,
		CapacityRange: &csipb.CapacityRange{RequiredBytes: 3<<20 + 1}}
	a, err := d.CreateVolume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetVolume().GetCapacityBytes() != 4<<20 || a.GetVolume().GetAccessibleTopology()[0].GetSegments()[TopologyKey] != "n1" {
		t.Fatalf("%v", a)
	}
	b, err := d.CreateVolume(ctx, req)
	if err != nil || b.GetVolume().GetVolumeId() != a.GetVolume().GetVolumeId() {
		t.Fatalf("repeat: %v %v", b, err)
	}
	big := &csipb.CreateVolumeRequest{Name: req.Name, VolumeCapabilities: caps, CapacityRange: &csipb.CapacityRange{RequiredBytes: 64 << 20}}
	if _, err := d.CreateVolume(ctx, big); code(err) != codes.AlreadyExists {
		t.Fatalf("other size: %v", err)
	}
	for _, bad := range []*csipb.CreateVolumeRequest{
		{Name: "", VolumeCapabilities: caps},
		{Name: "x"},
		{Name: "x", VolumeCapabilities: caps, CapacityRange: &csipb.CapacityRange{RequiredBytes: 5, LimitBytes: 4}},
		{Name: "x", VolumeCapabilities: []*csipb.VolumeCapability{{AccessType: mountCap().AccessType,
			AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER}}}},
	} {
		if _, err := d.CreateVolume(ctx, bad); code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := d.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: "x", VolumeCapabilities: caps,
		CapacityRange: &csipb.CapacityRange{RequiredBytes: 1, LimitBytes: 1000}}); code(err) != codes.OutOfRange {
		t.Errorf("no granule fits: %v", err)
	}
	for i := 0; i < 4; i++ {
		if _, err := d.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: fmt.Sprint("v", i), VolumeCapabilities: caps}); err != nil {
			t.Fatal(err)
		}
	}
	// Pagination: 5 volumes in pages of 2, and a bad token.
	var seen []string
	tok := ""
	for {
		r, err := d.ListVolumes(ctx, &csipb.ListVolumesRequest{MaxEntries: 2, StartingToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.GetEntries() {
			seen = append(seen, e.GetVolume().GetVolumeId())
		}
		if tok = r.GetNextToken(); tok == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pages gave %v", seen)
	}
	if _, err := d.ListVolumes(ctx, &csipb.ListVolumesRequest{StartingToken: "zz"}); code(err) != codes.Aborted {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := d.ListVolumes(ctx, &csipb.ListVolumesRequest{MaxEntries: -1}); code(err) != codes.InvalidArgument {
		t.Fatalf("negative max: %v", err)
	}
	// Snapshots: same name on another source is AlreadyExists.
	s, err := d.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "s", SourceVolumeId: a.GetVolume().GetVolumeId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateSnapshot(ctx, &csipb.CreateSnapshotRequest{Name: "s", SourceVolumeId: seen[0]}); seen[0] != a.GetVolume().GetVolumeId() && code(err) != codes.AlreadyExists {
		t.Fatalf("snapshot name on another source: %v", err)
	}
	c, err := d.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: "clone", VolumeCapabilities: caps,
		VolumeContentSource: &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Snapshot{Snapshot: &csipb.VolumeContentSource_SnapshotSource{SnapshotId: s.GetSnapshot().GetSnapshotId()}}}})
	if err != nil || c.GetVolume().GetContentSource().GetSnapshot().GetSnapshotId() != s.GetSnapshot().GetSnapshotId() {
		t.Fatalf("clone %v %v", c, err)
	}
	if _, err := d.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: "no/such"}); err != nil {
		t.Fatalf("delete unknown: %v", err)
	}
	gc, err := d.GetCapacity(ctx, &csipb.GetCapacityRequest{})
	if err != nil || gc.GetAvailableCapacity() <= 0 || gc.GetAvailableCapacity()%(1<<20) != 0 {
		t.Fatalf("capacity %v %v", gc, err)
	}
}

func TestSizeFor(t *testing.T) {
	d := memDriver(t)
	for _, tc := range []struct {
		req, lim, want int64
		code           codes.Code
	}{
		{0, 0, 4 << 20, codes.OK},
		{0, 2 << 20, 2 << 20, codes.OK},
		{1, 0, 1 << 20, codes.OK},
		{1<<20 + 1, 2 << 20, 2 << 20, codes.OK},
		{1<<20 + 1, 1<<20 + 2, 0, codes.OutOfRange},
		{3, 2, 0, codes.InvalidArgument},
		{-1, 0, 0, codes.InvalidArgument},
	} {
		got, err := d.sizeFor(&csipb.CapacityRange{RequiredBytes: tc.req, LimitBytes: tc.lim})
		if code(err) != tc.code || (err == nil && got != tc.want) {
			t.Errorf("[%d,%d]: %d %v, want %d %v", tc.req, tc.lim, got, err, tc.want, tc.code)
		}
	}
}
