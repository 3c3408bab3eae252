package csi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestHealthLoopfile runs volume health for real, as root on the host: the
// loopfile backend's volumes are loop devices on files in /dev/shm, so the
// walk from the volume ends at tmpfs (no drive, no SMART: normal, with the
// note), the real filesystem is inspected, and two real faults are found:
// a mount whose superblock the kernel holds read-only under a writable
// mount (made with two remounts), and an ext4 superblock that records
// errors (set with debugfs on the unpublished volume).
func TestHealthLoopfile(t *testing.T) {
	td := newTestDriver(t)
	debugfs := testenv.RequireTool(t, "debugfs", "mkfs.ext4")[0]
	ctx := context.Background()
	base := t.TempDir()
	testenv.UnmountUnder(t, base)
	ctl, node := dial(t, td.sock)

	create := func(name, fs string) (string, string) {
		t.Helper()
		c := mountCap()
		c.GetMount().FsType = fs
		cv, err := ctl.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: name, VolumeCapabilities: []*csipb.VolumeCapability{c}})
		if err != nil {
			t.Fatal(err)
		}
		id := cv.GetVolume().GetVolumeId()
		target := filepath.Join(base, name)
		if _, err := node.NodePublishVolume(ctx, &csipb.NodePublishVolumeRequest{VolumeId: id, TargetPath: target, VolumeCapability: c}); err != nil {
			t.Fatal(err)
		}
		return id, target
	}
	controller := func(id string) []*csipb.VolumeHealth_VolumeHealthEntry {
		t.Helper()
		r, err := ctl.ControllerGetVolumeHealth(ctx, &csipb.ControllerGetVolumeHealthRequest{VolumeId: id})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetVolumeHealth().GetHealthStatuses()
	}
	nodeHealth := func(id, path string) []*csipb.VolumeHealth_VolumeHealthEntry {
		t.Helper()
		r, err := node.NodeGetVolumeHealth(ctx, &csipb.NodeGetVolumeHealthRequest{VolumeId: id, VolumePublishPath: path})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetVolumeHealth().GetHealthStatuses()
	}
	listed := func(id string) bool {
		t.Helper()
		r, err := ctl.ControllerListVolumeHealth(ctx, &csipb.ControllerListVolumeHealthRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.GetEntries() {
			if e.GetVolumeId() == id {
				return true
			}
		}
		return false
	}

	// Healthy: nothing abnormal; the note says there is no drive to ask.
	id, target := create("health-xfs", "xfs")
	for name, h := range map[string][]*csipb.VolumeHealth_VolumeHealthEntry{"controller": controller(id), "node": nodeHealth(id, target)} {
		if abnormal(h) {
			t.Fatalf("%s: healthy volume reported %v", name, h)
		}
		if e := find(h, ReasonNoSMARTData); e == nil || !strings.Contains(e.GetMessage(), "tmpfs") {
			t.Fatalf("%s: want the no-SMART note naming tmpfs, got %v", name, h)
		}
		t.Logf("%s, healthy: %v", name, h)
	}
	if listed(id) {
		t.Fatal("a healthy volume is listed")
	}

	// The superblock read-only, the mount writable: what the kernel leaves
	// after an error with errors=remount-ro.
	if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount ro: %v", err)
	}
	if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind remount rw: %v", err)
	}
	for name, h := range map[string][]*csipb.VolumeHealth_VolumeHealthEntry{"controller": controller(id), "node": nodeHealth(id, target)} {
		e := find(h, ReasonRemountedRO)
		if e == nil || e.GetStatus() != csipb.VolumeHealthErrorType_DATA_LOSS || len(h) != 1 || !strings.Contains(e.GetMessage(), target) {
			t.Fatalf("%s: read-only superblock: %v", name, h)
		}
		t.Logf("%s, read-only superblock: %v", name, h)
	}
	if !listed(id) {
		t.Fatal("the read-only volume is not listed")
	}
	if err := unix.Mount("", target, "", unix.MS_REMOUNT, ""); err != nil {
		t.Fatalf("remount rw: %v", err)
	}
	if h := controller(id); abnormal(h) {
		t.Fatalf("after remounting rw: %v", h)
	}

	// An ext4 superblock recording errors, on the unpublished volume.
	id4, target4 := create("health-ext4", "ext4")
	if h := nodeHealth(id4, target4); abnormal(h) {
		t.Fatalf("fresh ext4: %v", h)
	}
	if _, err := node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: id4, TargetPath: target4}); err != nil {
		t.Fatal(err)
	}
	v, err := td.backend.Volume(ctx, id4)
	if err != nil {
		t.Fatal(err)
	}
	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Run(ctx, command.Cmd{Tool: debugfs, Args: []string{"-w", "-R", "ssv state 3", v.Device}}); err != nil {
		t.Fatal(err)
	}
	h := controller(id4)
	if e := find(h, ReasonFilesystemErrors); e == nil || e.GetStatus() != csipb.VolumeHealthErrorType_DATA_LOSS ||
		!strings.Contains(e.GetMessage(), "ext4") || !strings.Contains(e.GetMessage(), v.Device) {
		t.Fatalf("ext4 with errors: %v", h)
	}
	t.Logf("ext4 with errors: %v", h)
	if find(h, ReasonNoSMARTData) != nil {
		t.Fatalf("the note beside an abnormal entry: %v", h)
	}
	if !listed(id4) {
		t.Fatal("the ext4 volume with errors is not listed")
	}
	if _, err := node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: id, TargetPath: target}); err != nil {
		t.Fatal(err)
	}
}
