package csi

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

func wrapInt(n int64) *wrapperspb.Int64Value { return wrapperspb.Int64(n) }

// NodeGetCapabilities implements csi.NodeServer. There is no stage step:
// publish formats (once) and mounts the device at the target.
func (d *Driver) NodeGetCapabilities(context.Context, *csipb.NodeGetCapabilitiesRequest) (*csipb.NodeGetCapabilitiesResponse, error) {
	rpc := func(t csipb.NodeServiceCapability_RPC_Type) *csipb.NodeServiceCapability {
		return &csipb.NodeServiceCapability{Type: &csipb.NodeServiceCapability_Rpc{Rpc: &csipb.NodeServiceCapability_RPC{Type: t}}}
	}
	return &csipb.NodeGetCapabilitiesResponse{Capabilities: []*csipb.NodeServiceCapability{
		rpc(csipb.NodeServiceCapability_RPC_GET_VOLUME_STATS),
		rpc(csipb.NodeServiceCapability_RPC_EXPAND_VOLUME),
		rpc(csipb.NodeServiceCapability_RPC_GET_VOLUME_HEALTH),
	}}, nil
}

// NodeGetInfo implements csi.NodeServer.
func (d *Driver) NodeGetInfo(context.Context, *csipb.NodeGetInfoRequest) (*csipb.NodeGetInfoResponse, error) {
	return &csipb.NodeGetInfoResponse{NodeId: d.nodeID, AccessibleTopology: d.topology()[0]}, nil
}

// NodeStageVolume is not offered (no STAGE_UNSTAGE_VOLUME).
func (d *Driver) NodeStageVolume(context.Context, *csipb.NodeStageVolumeRequest) (*csipb.NodeStageVolumeResponse, error) {
	return nil, status.Error(codes.Unimplemented, "no staging: publish mounts directly")
}

// NodeUnstageVolume is not offered (no STAGE_UNSTAGE_VOLUME).
func (d *Driver) NodeUnstageVolume(context.Context, *csipb.NodeUnstageVolumeRequest) (*csipb.NodeUnstageVolumeResponse, error) {
	return nil, status.Error(codes.Unimplemented, "no staging: publish mounts directly")
}

func (d *Driver) fsTypeOf(c *csipb.VolumeCapability) (fsys.Type, error) {
	t := fsys.Type(c.GetMount().GetFsType())
	if t == "" {
		return d.defaultFS, nil
	}
	if !t.Valid() || t == fsys.Swap {
		return "", status.Errorf(codes.InvalidArgument, "filesystem type %q", t)
	}
	return t, nil
}

// NodePublishVolume implements csi.NodeServer: attach if needed, then a
// block volume's device is bind-mounted on the target file, a mount
// volume's filesystem is made if the device has none and mounted on the
// target directory. A target already holding this volume is success; one
// holding anything else is AlreadyExists.
func (d *Driver) NodePublishVolume(ctx context.Context, req *csipb.NodePublishVolumeRequest) (*csipb.NodePublishVolumeResponse, error) {
	switch {
	case req.GetVolumeId() == "":
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	case req.GetTargetPath() == "":
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	case req.GetVolumeCapability() == nil:
		return nil, status.Error(codes.InvalidArgument, "volume capability missing")
	}
	vc := req.GetVolumeCapability()
	if r := unsupportedCap(vc); r != "" {
		return nil, status.Error(codes.InvalidArgument, r)
	}
	target := filepath.Clean(req.GetTargetPath())
	if !filepath.IsAbs(target) {
		return nil, status.Errorf(codes.InvalidArgument, "target path %q is not absolute", target)
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
	if v.Device == "" {
		if err := d.ensureAttached(ctx, v.ID); err != nil {
			return nil, err
		}
		if v, err = d.lookup(ctx, v.ID); err != nil {
			return nil, err
		}
		if v.Device == "" {
			return nil, status.Errorf(codes.FailedPrecondition, "volume %s has no block device", v.ID)
		}
	}
	ro := req.GetReadonly() || vc.GetAccessMode().GetMode() == csipb.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY
	if e, err := d.mountAt(target); err != nil {
		return nil, toStatus(err, "mountinfo")
	} else if e != nil {
		if !isMountOf(e, v.Device) {
			return nil, status.Errorf(codes.AlreadyExists, "%s already has %s from %s mounted", target, e.FSType, e.Source)
		}
		if hasOpt(e.Options, "ro") != ro {
			return nil, status.Errorf(codes.AlreadyExists, "%s is published with other access (options %s)", target, e.Options)
		}
		return &csipb.NodePublishVolumeResponse{}, nil
	}
	mo := fsys.MountOptions{ReadOnly: ro}
	if vc.GetBlock() != nil {
		if err := blockTarget(target); err != nil {
			return nil, err
		}
		mo.Bind = true
		if err := d.stack.EnsureMounted(ctx, v.Device, target, "", mo); err != nil {
			return nil, toStatus(err, "bind device")
		}
		return &csipb.NodePublishVolumeResponse{}, nil
	}
	t, err := d.fsTypeOf(vc)
	if err != nil {
		return nil, err
	}
	mo.Data = vc.GetMount().GetMountFlags()
	if _, err := d.stack.EnsureFilesystem(ctx, v.Device, t, fsys.MakeOptions{NoDiscard: true}); err != nil {
		return nil, toStatus(err, "filesystem")
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, toStatus(err, "target")
	}
	if err := d.stack.EnsureMounted(ctx, v.Device, target, t, mo); err != nil {
		return nil, toStatus(err, "mount")
	}
	return &csipb.NodePublishVolumeResponse{}, nil
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// blockTarget makes target a regular file to bind a device node on. The CO
// may have made it an empty directory; that is replaced.
func blockTarget(target string) error {
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return toStatus(err, "target")
	case fi.Mode().IsRegular():
		return nil
	case fi.IsDir():
		if err := os.Remove(target); err != nil {
			return status.Errorf(codes.FailedPrecondition, "block target %s is a non-empty directory", target)
		}
	default:
		return status.Errorf(codes.FailedPrecondition, "block target %s is a %s", target, fi.Mode().Type())
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return toStatus(err, "target")
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return toStatus(err, "target")
	}
	return f.Close()
}

// NodeUnpublishVolume implements csi.NodeServer: unmount if mounted, then
// remove the target. Repeats are success.
func (d *Driver) NodeUnpublishVolume(ctx context.Context, req *csipb.NodeUnpublishVolumeRequest) (*csipb.NodeUnpublishVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if req.GetTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	}
	target := filepath.Clean(req.GetTargetPath())
	unlock, err := d.locks.lock(ctx, "vol:"+req.GetVolumeId())
	if err != nil {
		return nil, toStatus(err, "lock")
	}
	defer unlock()
	for {
		e, err := d.mountAt(target)
		if err != nil {
			return nil, toStatus(err, "mountinfo")
		}
		if e == nil {
			break
		}
		if err := d.stack.EnsureUnmounted(ctx, target); err != nil {
			return nil, toStatus(err, "unmount")
		}
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, toStatus(err, "remove target")
	}
	return &csipb.NodeUnpublishVolumeResponse{}, nil
}

// NodeGetVolumeStats implements csi.NodeServer.
func (d *Driver) NodeGetVolumeStats(ctx context.Context, req *csipb.NodeGetVolumeStatsRequest) (*csipb.NodeGetVolumeStatsResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if req.GetVolumePath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume path missing")
	}
	v, err := d.lookup(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	path := filepath.Clean(req.GetVolumePath())
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, status.Errorf(codes.NotFound, "volume path %s", path)
	}
	if err != nil {
		return nil, toStatus(err, "volume path")
	}
	if !fi.IsDir() {
		// A block volume: only the total is known.
		return &csipb.NodeGetVolumeStatsResponse{Usage: []*csipb.VolumeUsage{{Unit: csipb.VolumeUsage_BYTES, Total: v.SizeBytes}}}, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return nil, toStatus(os.NewSyscallError("statfs", err), "statfs")
	}
	bs := st.Bsize
	return &csipb.NodeGetVolumeStatsResponse{Usage: []*csipb.VolumeUsage{
		{Unit: csipb.VolumeUsage_BYTES, Total: int64(st.Blocks) * bs, Available: int64(st.Bavail) * bs, Used: int64(st.Blocks-st.Bfree) * bs},
		{Unit: csipb.VolumeUsage_INODES, Total: int64(st.Files), Available: int64(st.Ffree), Used: int64(st.Files - st.Ffree)},
	}}, nil
}

// NodeGetVolumeHealth implements csi.NodeServer (the spec's replacement for
// the removed VOLUME_CONDITION): the volume's health as the controller
// reports it (pool, drives by SMART, filesystem state), plus the publish
// path's: inaccessible when it no longer holds the volume, data loss risk
// when the kernel remounted its filesystem read-only after an error.
func (d *Driver) NodeGetVolumeHealth(ctx context.Context, req *csipb.NodeGetVolumeHealthRequest) (*csipb.NodeGetVolumeHealthResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	v, err := d.lookup(ctx, req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	var path string
	if p := req.GetVolumePublishPath(); p != "" {
		path = filepath.Clean(p)
	}
	ps, psErr := d.backend.Pools(ctx)
	return &csipb.NodeGetVolumeHealthResponse{VolumeHealth: &csipb.VolumeHealth{VolumeId: v.ID, HealthStatuses: d.volumeHealth(ctx, v, ps, psErr, path)}}, nil
}

func (d *Driver) pathHealth(path string, v *plugin.Volume) []*csipb.VolumeHealth_VolumeHealthEntry {
	e, err := d.mountAt(path)
	switch {
	case err != nil:
		return []*csipb.VolumeHealth_VolumeHealthEntry{healthEntry(csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE, "MountinfoUnreadable", err.Error())}
	case e == nil || v.Device == "" || !isMountOf(e, v.Device):
		return []*csipb.VolumeHealth_VolumeHealthEntry{healthEntry(csipb.VolumeHealthErrorType_INACCESSIBLE, "NotPublished", path+" does not hold the volume")}
	case hasOpt(e.SuperOptions, "ro") && !hasOpt(e.Options, "ro"):
		return []*csipb.VolumeHealth_VolumeHealthEntry{healthEntry(csipb.VolumeHealthErrorType_DATA_LOSS, ReasonRemountedRO, path+": the filesystem went read-only under a writable mount (an I/O or metadata error)")}
	}
	return nil
}

// NodeExpandVolume implements csi.NodeServer: grow the filesystem on the
// device (already grown by the controller) to fill it, online.
func (d *Driver) NodeExpandVolume(ctx context.Context, req *csipb.NodeExpandVolumeRequest) (*csipb.NodeExpandVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id missing")
	}
	if req.GetVolumePath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume path missing")
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
	path := filepath.Clean(req.GetVolumePath())
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, status.Errorf(codes.NotFound, "volume path %s", path)
	}
	if err != nil {
		return nil, toStatus(err, "volume path")
	}
	if v.Device == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "volume %s is not attached", v.ID)
	}
	if req.GetVolumeCapability().GetBlock() != nil || !fi.IsDir() {
		return &csipb.NodeExpandVolumeResponse{CapacityBytes: v.SizeBytes}, nil
	}
	if err := d.stack.GrowFilesystem(ctx, v.Device); err != nil && !errors.Is(err, plugin.ErrNotSupported) {
		return nil, toStatus(err, "grow filesystem")
	}
	return &csipb.NodeExpandVolumeResponse{CapacityBytes: v.SizeBytes}, nil
}
