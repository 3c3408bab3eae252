package csi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

var controllerCaps = []csipb.ControllerServiceCapability_RPC_Type{
	csipb.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
	csipb.ControllerServiceCapability_RPC_GET_CAPACITY,
	csipb.ControllerServiceCapability_RPC_EXPAND_VOLUME,
	csipb.ControllerServiceCapability_RPC_LIST_VOLUMES,
	csipb.ControllerServiceCapability_RPC_GET_VOLUME,
	csipb.ControllerServiceCapability_RPC_GET_VOLUME_HEALTH,
	csipb.ControllerServiceCapability_RPC_LIST_VOLUME_HEALTH,
	csipb.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
	csipb.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
}

// ControllerGetCapabilities implements csi.ControllerServer. Snapshot
// capabilities are listed only when the backend offers them here.
func (d *Driver) ControllerGetCapabilities(ctx context.Context, _ *csipb.ControllerGetCapabilitiesRequest) (*csipb.ControllerGetCapabilitiesResponse, error) {
	caps, err := d.backend.Capabilities(ctx)
	if err != nil {
		return nil, toStatus(err, "capabilities")
	}
	var out []*csipb.ControllerServiceCapability
	for _, c := range controllerCaps {
		switch c {
		case csipb.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT, csipb.ControllerServiceCapability_RPC_LIST_SNAPSHOTS:
			if !caps.Can(plugin.TechSnapshot, plugin.ModeCreate) {
				continue
			}
		}
		out = append(out, &csipb.ControllerServiceCapability{Type: &csipb.ControllerServiceCapability_Rpc{Rpc: &csipb.ControllerServiceCapability_RPC{Type: c}}})
	}
	return &csipb.ControllerGetCapabilitiesResponse{Capabilities: out}, nil
}

// checkCaps accepts single-node access, mount or block.
func checkCaps(caps []*csipb.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range caps {
		if reason := unsupportedCap(c); reason != "" {
			return status.Error(codes.InvalidArgument, reason)
		}
	}
	return nil
}

func unsupportedCap(c *csipb.VolumeCapability) string {
	if c == nil || c.GetAccessMode() == nil {
		return "volume capability without access mode"
	}
	if c.GetBlock() == nil && c.GetMount() == nil {
		return "volume capability without access type"
	}
	switch c.GetAccessMode().GetMode() {
	case csipb.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
		csipb.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
		csipb.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
		csipb.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
		return ""
	}
	return fmt.Sprintf("access mode %s: volumes are local to one node", c.GetAccessMode().GetMode())
}

// sizeFor picks a size in the capacity range, rounded up to the backend's
// granularity.
func (d *Driver) sizeFor(r *csipb.CapacityRange) (int64, error) {
	req, lim := r.GetRequiredBytes(), r.GetLimitBytes()
	if req < 0 || lim < 0 {
		return 0, status.Error(codes.InvalidArgument, "negative capacity")
	}
	if lim > 0 && req > lim {
		return 0, status.Errorf(codes.InvalidArgument, "required %d > limit %d", req, lim)
	}
	size := req
	if size == 0 {
		size = d.defaultSize
		if lim > 0 && lim < size {
			size = lim
		}
	}
	lt := d.backend.Limits()
	if lt.MinSize > size {
		size = lt.MinSize
	}
	if g := lt.Granularity; g > 0 {
		size = (size + g - 1) / g * g
	}
	if lim > 0 && size > lim {
		return 0, status.Errorf(codes.OutOfRange, "no size of granularity %d fits in [%d, %d]", lt.Granularity, req, lim)
	}
	return size, nil
}

func fitsRange(size int64, r *csipb.CapacityRange) bool {
	return size >= r.GetRequiredBytes() && (r.GetLimitBytes() == 0 || size <= r.GetLimitBytes())
}

func (d *Driver) topology() []*csipb.Topology {
	return []*csipb.Topology{{Segments: map[string]string{TopologyKey: d.nodeID}}}
}

func (d *Driver) csiVolume(v *plugin.Volume) *csipb.Volume {
	out := &csipb.Volume{VolumeId: v.ID, CapacityBytes: v.SizeBytes, AccessibleTopology: d.topology()}
	if v.SnapshotOf != "" {
		out.ContentSource = &csipb.VolumeContentSource{Type: &csipb.VolumeContentSource_Snapshot{Snapshot: &csipb.VolumeContentSource_SnapshotSource{SnapshotId: v.SnapshotOf}}}
	}
	return out
}

// CreateVolume implements csi.ControllerServer.
func (d *Driver) CreateVolume(ctx context.Context, req *csipb.CreateVolumeRequest) (*csipb.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name missing")
	}
	if err := checkCaps(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	if ar := req.GetAccessibilityRequirements(); ar != nil && len(ar.GetRequisite()) > 0 {
		ok := false
		for _, t := range ar.GetRequisite() {
			if n, has := t.GetSegments()[TopologyKey]; !has || n == d.nodeID {
				ok = true
			}
		}
		if !ok {
			return nil, status.Errorf(codes.ResourceExhausted, "no requisite topology includes node %s", d.nodeID)
		}
	}
	size, err := d.sizeFor(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	var fromSnap string
	if src := req.GetVolumeContentSource(); src != nil {
		switch {
		case src.GetSnapshot() != nil:
			fromSnap = src.GetSnapshot().GetSnapshotId()
			if _, err := d.snapshotByID(ctx, fromSnap); err != nil {
				return nil, err
			}
		default:
			return nil, status.Error(codes.InvalidArgument, "only snapshots can be a volume's source")
		}
	}
	name := backendName(volPrefix, req.GetName())
	unlock, err := d.locks.lock(ctx, "name:"+name)
	if err != nil {
		return nil, toStatus(err, "lock")
	}
	defer unlock()
	pool, err := d.poolOf(ctx)
	if err != nil {
		return nil, err
	}
	id := pool + "/" + name
	if v, err := d.backend.Volume(ctx, id); err == nil {
		if !fitsRange(v.SizeBytes, req.GetCapacityRange()) || v.SnapshotOf != fromSnap {
			return nil, status.Errorf(codes.AlreadyExists, "volume %q exists with %d bytes from %q", req.GetName(), v.SizeBytes, v.SnapshotOf)
		}
		if err := d.ensureAttached(ctx, v.ID); err != nil {
			return nil, err
		}
		return &csipb.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, toStatus(err, "volume")
	}
	tags := []string{tagName + sanitizeTag(req.GetName())}
	ops, err := d.backend.CreateVolume(ctx, plugin.CreateRequest{Pool: pool, Name: name, SizeBytes: size, FromSnapshot: fromSnap, Tags: tags, Thin: d.thin})
	if err != nil {
		return nil, toStatus(err, "create volume")
	}
	if _, err := d.stack.RunOps(ctx, ops); err != nil {
		return nil, toStatus(err, "create volume")
	}
	v, err := d.backend.Volume(ctx, id)
	if err != nil {
		return nil, toStatus(err, "created volume")
	}
	return &csipb.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
}

func sanitizeTag(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// poolOf is the pool new volumes go to: the backend's first that is not
// a thin pool (thin volumes are asked for with CreateRequest.Thin). The
// answer is kept once found: a backend's pools are its configuration (a
// VG, a directory), and asking for them costs an lvm run per call. A
// failure is not kept, and is the caller's gRPC status.
func (d *Driver) poolOf(ctx context.Context) (string, error) {
	d.poolMu.Lock()
	defer d.poolMu.Unlock()
	if d.pool != "" {
		return d.pool, nil
	}
	ps, err := d.backend.Pools(ctx)
	if err != nil {
		return "", toStatus(err, "pools")
	}
	if len(ps) == 0 {
		return "", status.Error(codes.Unavailable, "the backend has no pool")
	}
	d.pool = ps[0].Name
	for _, p := range ps {
		if !p.Thin {
			d.pool = p.Name
			break
		}
	}
	return d.pool, nil
}

func (d *Driver) ensureAttached(ctx context.Context, id string) error {
	a, ok := d.backend.(Attacher)
	if !ok {
		return nil
	}
	if _, err := a.Attach(ctx, id); err != nil {
		return toStatus(err, "attach")
	}
	return nil
}

// lookup returns the backend volume for a CSI volume ID; an ID the backend
// cannot even parse is NotFound, as the spec asks for unknown IDs.
func (d *Driver) lookup(ctx context.Context, id string) (*plugin.Volume, error) {
	v, err := d.backend.Volume(ctx, id)
	if errors.Is(err, plugin.ErrInvalid) || errors.Is(err, plugin.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "volume %q: %v", id, err)
	}
	if err != nil {
		return nil, toStatus(err, "volume")
	}
	return v, nil
}

// DeleteVolume implements csi.ControllerServer.
func (d *Driver) DeleteVolume(ctx context.Context, req *csipb.DeleteVolumeRequest) (*csipb.DeleteVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	unlock, err := d.locks.lock(ctx, "vol:"+req.GetVolumeId())
	if err != nil {
		return nil, toStatus(err, "lock")
	}
	defer unlock()
	ops, err := d.backend.DeleteVolume(ctx, req.GetVolumeId())
	if errors.Is(err, plugin.ErrInvalid) || errors.Is(err, plugin.ErrNotFound) {
		return &csipb.DeleteVolumeResponse{}, nil
	}
	if err != nil {
		return nil, toStatus(err, "delete volume")
	}
	if _, err := d.stack.RunOps(ctx, ops); err != nil {
		return nil, toStatus(err, "delete volume")
	}
	return &csipb.DeleteVolumeResponse{}, nil
}

// ValidateVolumeCapabilities implements csi.ControllerServer.
func (d *Driver) ValidateVolumeCapabilities(ctx context.Context, req *csipb.ValidateVolumeCapabilitiesRequest) (*csipb.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	if _, err := d.lookup(ctx, req.GetVolumeId()); err != nil {
		return nil, err
	}
	for _, c := range req.GetVolumeCapabilities() {
		if r := unsupportedCap(c); r != "" {
			return &csipb.ValidateVolumeCapabilitiesResponse{Message: r}, nil
		}
	}
	return &csipb.ValidateVolumeCapabilitiesResponse{Confirmed: &csipb.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.GetVolumeContext(), VolumeCapabilities: req.GetVolumeCapabilities(), Parameters: req.GetParameters(),
	}}, nil
}

// page cuts a sorted list by a decimal starting token.
func page(n int, token string, max int32) (start, end int, next string, err error) {
	if max < 0 {
		return 0, 0, "", status.Error(codes.InvalidArgument, "negative max_entries")
	}
	if token != "" {
		s, perr := strconv.Atoi(token)
		if perr != nil || s < 0 || s > n {
			return 0, 0, "", status.Errorf(codes.Aborted, "starting token %q", token)
		}
		start = s
	}
	end = n
	if max > 0 && start+int(max) < n {
		end = start + int(max)
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

// ListVolumes implements csi.ControllerServer, with the spec's pagination:
// the token is the index of the next entry in ID order.
func (d *Driver) ListVolumes(ctx context.Context, req *csipb.ListVolumesRequest) (*csipb.ListVolumesResponse, error) {
	vols, err := d.backend.Volumes(ctx, "")
	if err != nil {
		return nil, toStatus(err, "list volumes")
	}
	sort.Slice(vols, func(i, j int) bool { return vols[i].ID < vols[j].ID })
	start, end, next, err := page(len(vols), req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	out := &csipb.ListVolumesResponse{NextToken: next}
	for i := start; i < end; i++ {
		v := vols[i]
		out.Entries = append(out.Entries, &csipb.ListVolumesResponse_Entry{Volume: d.csiVolume(&v)})
	}
	return out, nil
}

// ControllerGetVolume implements csi.ControllerServer.
func (d *Driver) ControllerGetVolume(ctx context.Context, req *csipb.ControllerGetVolumeRequest) (*csipb.ControllerGetVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	v, err := d.lookup(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	return &csipb.ControllerGetVolumeResponse{Volume: d.csiVolume(v), Status: &csipb.ControllerGetVolumeResponse_VolumeStatus{}}, nil
}

// GetCapacity implements csi.ControllerServer: the largest volume that fits
// now: the free bytes of the pools new volumes come from (with WithThin,
// the thin pools, whose free bytes the backend bounds by its
// over-provisioning limit or thin-pool policy).
func (d *Driver) GetCapacity(ctx context.Context, req *csipb.GetCapacityRequest) (*csipb.GetCapacityResponse, error) {
	if t := req.GetAccessibleTopology(); t != nil {
		if n, ok := t.GetSegments()[TopologyKey]; ok && n != d.nodeID {
			return &csipb.GetCapacityResponse{}, nil
		}
	}
	for _, c := range req.GetVolumeCapabilities() {
		if unsupportedCap(c) != "" {
			return &csipb.GetCapacityResponse{}, nil
		}
	}
	ps, err := d.backend.Pools(ctx)
	if err != nil {
		return nil, toStatus(err, "pools")
	}
	var free int64
	target, err := d.poolOf(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if d.thin && p.Thin || !d.thin && p.Name == target {
			free = max(free, p.FreeBytes)
		}
	}
	if g := d.backend.Limits().Granularity; g > 0 {
		free = free / g * g
	}
	return &csipb.GetCapacityResponse{AvailableCapacity: free, MaximumVolumeSize: wrapInt(free), MinimumVolumeSize: wrapInt(d.backend.Limits().MinSize)}, nil
}

// ControllerExpandVolume implements csi.ControllerServer. It never
// shrinks: a smaller request answers the current size.
func (d *Driver) ControllerExpandVolume(ctx context.Context, req *csipb.ControllerExpandVolumeRequest) (*csipb.ControllerExpandVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if req.GetCapacityRange() == nil {
		return nil, status.Error(codes.InvalidArgument, "capacity range missing")
	}
	unlock, err := d.locks.lock(ctx, "vol:"+req.GetVolumeId())
	if err != nil {
		return nil, toStatus(err, "lock")
	}
	defer unlock()
	v, err := d.lookup(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	nodeExp := req.GetVolumeCapability() == nil || req.GetVolumeCapability().GetBlock() == nil
	if v.SizeBytes >= req.GetCapacityRange().GetRequiredBytes() {
		if lim := req.GetCapacityRange().GetLimitBytes(); lim > 0 && v.SizeBytes > lim {
			return nil, status.Errorf(codes.OutOfRange, "volume has %d bytes, above the limit %d (no shrinking)", v.SizeBytes, lim)
		}
		return &csipb.ControllerExpandVolumeResponse{CapacityBytes: v.SizeBytes, NodeExpansionRequired: false}, nil
	}
	size, err := d.sizeFor(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	ops, err := d.backend.ResizeVolume(ctx, v.ID, size)
	if err != nil {
		return nil, toStatus(err, "resize")
	}
	if _, err := d.stack.RunOps(ctx, ops); err != nil {
		return nil, toStatus(err, "resize")
	}
	return &csipb.ControllerExpandVolumeResponse{CapacityBytes: size, NodeExpansionRequired: nodeExp}, nil
}

func (d *Driver) snapshotByID(ctx context.Context, id string) (*plugin.Snapshot, error) {
	all, err := d.backend.Snapshots(ctx, "")
	if err != nil {
		return nil, toStatus(err, "snapshots")
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "snapshot %q", id)
}

func csiSnapshot(s *plugin.Snapshot) *csipb.Snapshot {
	out := &csipb.Snapshot{SnapshotId: s.ID, SourceVolumeId: s.SourceID, SizeBytes: s.Size, ReadyToUse: true}
	if !s.Created.IsZero() {
		out.CreationTime = timestamppb.New(s.Created)
	}
	return out
}

// CreateSnapshot implements csi.ControllerServer. Snapshot names are unique
// per driver: the same name on another source is AlreadyExists.
func (d *Driver) CreateSnapshot(ctx context.Context, req *csipb.CreateSnapshotRequest) (*csipb.CreateSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name missing")
	}
	if req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "source volume id missing")
	}
	name := backendName(snapPrefix, req.GetName())
	unlock, err := d.locks.lock(ctx, "snap:"+name)
	if err != nil {
		return nil, toStatus(err, "lock")
	}
	defer unlock()
	all, err := d.backend.Snapshots(ctx, "")
	if err != nil {
		return nil, toStatus(err, "snapshots")
	}
	for i := range all {
		if all[i].Name != name {
			continue
		}
		if all[i].SourceID != req.GetSourceVolumeId() {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %q exists of %s", req.GetName(), all[i].SourceID)
		}
		return &csipb.CreateSnapshotResponse{Snapshot: csiSnapshot(&all[i])}, nil
	}
	if _, err := d.lookup(ctx, req.GetSourceVolumeId()); err != nil {
		return nil, err
	}
	ops, err := d.backend.CreateSnapshot(ctx, req.GetSourceVolumeId(), name)
	if err != nil {
		return nil, toStatus(err, "create snapshot")
	}
	if _, err := d.stack.RunOps(ctx, ops); err != nil {
		return nil, toStatus(err, "create snapshot")
	}
	snaps, err := d.backend.Snapshots(ctx, req.GetSourceVolumeId())
	if err != nil {
		return nil, toStatus(err, "snapshots")
	}
	i := slices.IndexFunc(snaps, func(s plugin.Snapshot) bool { return s.Name == name })
	if i < 0 {
		return nil, status.Error(codes.Internal, "snapshot vanished after creation")
	}
	return &csipb.CreateSnapshotResponse{Snapshot: csiSnapshot(&snaps[i])}, nil
}

// DeleteSnapshot implements csi.ControllerServer.
func (d *Driver) DeleteSnapshot(ctx context.Context, req *csipb.DeleteSnapshotRequest) (*csipb.DeleteSnapshotResponse, error) {
	if req.GetSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot id missing")
	}
	ops, err := d.backend.DeleteSnapshot(ctx, req.GetSnapshotId())
	if errors.Is(err, plugin.ErrInvalid) || errors.Is(err, plugin.ErrNotFound) {
		return &csipb.DeleteSnapshotResponse{}, nil
	}
	if err != nil {
		return nil, toStatus(err, "delete snapshot")
	}
	if _, err := d.stack.RunOps(ctx, ops); err != nil {
		return nil, toStatus(err, "delete snapshot")
	}
	return &csipb.DeleteSnapshotResponse{}, nil
}

// ListSnapshots implements csi.ControllerServer.
func (d *Driver) ListSnapshots(ctx context.Context, req *csipb.ListSnapshotsRequest) (*csipb.ListSnapshotsResponse, error) {
	all, err := d.backend.Snapshots(ctx, "")
	if err != nil {
		return nil, toStatus(err, "snapshots")
	}
	var sel []plugin.Snapshot
	for _, s := range all {
		if id := req.GetSnapshotId(); id != "" && s.ID != id {
			continue
		}
		if src := req.GetSourceVolumeId(); src != "" && s.SourceID != src {
			continue
		}
		sel = append(sel, s)
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].ID < sel[j].ID })
	start, end, next, err := page(len(sel), req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	out := &csipb.ListSnapshotsResponse{NextToken: next}
	for i := start; i < end; i++ {
		out.Entries = append(out.Entries, &csipb.ListSnapshotsResponse_Entry{Snapshot: csiSnapshot(&sel[i])})
	}
	return out, nil
}

// ControllerGetVolumeHealth implements csi.ControllerServer: the pool's,
// the drives' (SMART) and the filesystem's health of one volume.
func (d *Driver) ControllerGetVolumeHealth(ctx context.Context, req *csipb.ControllerGetVolumeHealthRequest) (*csipb.ControllerGetVolumeHealthResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	v, err := d.lookup(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	ps, psErr := d.backend.Pools(ctx)
	return &csipb.ControllerGetVolumeHealthResponse{VolumeHealth: &csipb.VolumeHealth{VolumeId: v.ID, HealthStatuses: d.volumeHealth(ctx, v, ps, psErr, "")}}, nil
}

// ControllerListVolumeHealth implements csi.ControllerServer, paginated as
// ListVolumes (the token indexes volumes in ID order). As the spec
// recommends, a page lists only the volumes with an abnormal condition, so
// it may hold fewer entries than max_entries, or none, and still have a
// next token. The pools are read once per page and each drive's SMART at
// most once per TTL, so a poll of many volumes on one disk reads it once.
func (d *Driver) ControllerListVolumeHealth(ctx context.Context, req *csipb.ControllerListVolumeHealthRequest) (*csipb.ControllerListVolumeHealthResponse, error) {
	vols, err := d.backend.Volumes(ctx, "")
	if err != nil {
		return nil, toStatus(err, "list volumes")
	}
	sort.Slice(vols, func(i, j int) bool { return vols[i].ID < vols[j].ID })
	start, end, next, err := page(len(vols), req.GetStartingToken(), req.GetMaxEntries())
	if err != nil {
		return nil, err
	}
	ps, psErr := d.backend.Pools(ctx)
	out := &csipb.ControllerListVolumeHealthResponse{NextToken: next}
	for i := start; i < end; i++ {
		if err := ctx.Err(); err != nil {
			return nil, toStatus(err, "volume health")
		}
		h := d.volumeHealth(ctx, &vols[i], ps, psErr, "")
		if abnormal(h) {
			out.Entries = append(out.Entries, &csipb.VolumeHealth{VolumeId: vols[i].ID, HealthStatuses: h})
		}
	}
	return out, nil
}

func healthEntry(t csipb.VolumeHealthErrorType, reason, msg string) *csipb.VolumeHealth_VolumeHealthEntry {
	return &csipb.VolumeHealth_VolumeHealthEntry{Status: t, Reason: reason, Message: msg}
}

// poolHealth: the volume's device gone (inaccessible), the pool nearly full
// (degraded: writes to a thin or sparse volume may fail). Empty is healthy.
func (d *Driver) poolHealth(v *plugin.Volume, ps []plugin.Pool) []*csipb.VolumeHealth_VolumeHealthEntry {
	var out []*csipb.VolumeHealth_VolumeHealthEntry
	if v.Device == "" {
		if _, ok := d.backend.(Attacher); ok {
			out = append(out, healthEntry(csipb.VolumeHealthErrorType_INACCESSIBLE, "NotAttached", "volume is not attached to a block device"))
		}
	}
	for _, p := range ps {
		if p.Name == v.Pool && p.CapacityBytes > 0 && p.FreeBytes < p.CapacityBytes/100 {
			out = append(out, healthEntry(csipb.VolumeHealthErrorType_DEGRADED, "PoolFull", fmt.Sprintf("pool %s is %d bytes from full", p.Name, p.FreeBytes)))
		}
	}
	return out
}
