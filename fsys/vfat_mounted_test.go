package fsys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestVFATMounted is vfat while mounted, as the Features matrix describes
// it. The host kernel has no vfat driver: there the mount must be refused
// as a NotSupportedError naming the driver (that branch is what runs on the
// host). In the VM tier's guest (internal/vmtest TestGuestVFAT), which has
// the driver, the other branch runs: the mount works and Inspect sees it,
// a mounted vfat cannot be frozen (no freeze_fs: FIFREEZE is EOPNOTSUPP)
// nor relabelled (no FS_IOC_SETFSLABEL) and both say so as typed errors,
// the file written survives the unmount, the label changes offline, and
// fsck.fat finds it clean.
func TestVFATMounted(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.fat", "fsck.fat", "fatlabel")
	dev := testenv.Loop(t, 64<<20)
	testenv.Run(t, "mkfs.fat", "-n", "OLD", dev)
	m, _ := newTestManager(t)
	ctx := context.Background()
	dir := t.TempDir()
	err := m.Mount(ctx, dev, dir, VFAT, MountOptions{})
	if !kernelHas(t, "vfat") {
		var ns *NotSupportedError
		if !errors.As(err, &ns) || ns.Type != VFAT {
			t.Fatalf("mount without a vfat driver: %v, want a NotSupportedError for vfat", err)
		}
		t.Logf("host: %v (the VM tier runs the mounted branch)", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = m.Unmount(context.Background(), dir, UnmountOptions{Lazy: true})
		}
	})
	data := []byte("written through the vfat driver\n")
	if err := os.WriteFile(filepath.Join(dir, "FILE.TXT"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Mountpoints) != 1 || info.Mountpoints[0] != dir || info.Label != "OLD" {
		t.Fatalf("Inspect of the mounted vfat: mountpoints %v label %q", info.Mountpoints, info.Label)
	}
	if thaw, err := Freeze(ctx, dir); !errors.Is(err, ErrNotSupported) {
		if thaw != nil {
			_ = thaw()
		}
		t.Fatalf("freeze of a mounted vfat: %v, want ErrNotSupported (Features says it has no freeze_fs)", err)
	}
	if err := m.SetLabel(ctx, dev, "NEW"); !errors.Is(err, ErrMounted) && !errors.Is(err, ErrNotSupported) {
		t.Fatalf("label of a mounted vfat: %v, want refused as mounted", err)
	}
	if err := m.Unmount(ctx, dir, UnmountOptions{}); err != nil {
		t.Fatal(err)
	}
	mounted = false
	if err := m.SetLabel(ctx, dev, "NEW"); err != nil {
		t.Fatalf("offline label: %v", err)
	}
	if err := m.Mount(ctx, dev, dir, VFAT, MountOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "FILE.TXT"))
	uerr := m.Unmount(ctx, dir, UnmountOptions{})
	if err != nil || string(got) != string(data) || uerr != nil {
		t.Fatalf("after remount: %q %v (unmount %v)", got, err, uerr)
	}
	if info, err := m.Inspect(ctx, dev); err != nil || info.Label != "NEW" || info.Mounted() {
		t.Fatalf("after the offline label: %+v %v", info, err)
	}
	testenv.Run(t, "fsck.fat", "-n", dev)
	t.Log("guest: vfat mounted, refused freeze and online label, relabelled offline, data intact")
}
