package csi

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	lvmplugin "github.com/CodeMonkeyCybersecurity/eos-storage/plugin/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// lvmGuestEnv names the guest's disks for TestGuestSanityLVMThin
// (internal/vmtest's TestGuestPluginLVM sets it).
const lvmGuestEnv = "EOS_STORAGE_CSI_LVM"

// TestGuestSanityLVMThin runs csi-sanity in the VM tier's guest against
// the driver on the lvm backend, thin (WithThin): a VG on the guest's two
// disks with a thin pool, the lvm Manager journaling into the Engine's
// journal. The skips are the same 37 as TestSanity's (capabilities the
// driver does not declare); snapshots are thin snapshots and volumes from
// them thin clones.
func TestGuestSanityLVMThin(t *testing.T) {
	env := os.Getenv(lvmGuestEnv)
	if env == "" {
		t.Skipf("runs in the VM tier's guest (%s unset)", lvmGuestEnv)
	}
	if _, err := os.Stat("/dev/mapper/control"); err != nil {
		testenv.Skip(t, "no device-mapper: %v", err)
	}
	ctx := context.Background()
	devs := strings.Split(env, ",")
	st, err := newTestStack(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	tool, err := lvm.NewTool(x, lvm.WithDevices(devs...))
	if err != nil {
		t.Fatal(err)
	}
	fm, err := fsys.New(fsys.WithJournal(st.Journal()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := lvm.NewManager(tool, lvm.WithJournal(st.Journal()), lvm.WithFsys(fm))
	if err != nil {
		t.Fatal(err)
	}
	run := func(op sched.Operation, err error) {
		t.Helper()
		if err == nil {
			_, err = plugin.Apply(ctx, nil, []sched.Operation{op})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range devs {
		run(m.PVCreateOp(ctx, d))
	}
	run(m.VGCreateOp(ctx, "csivg", devs, lvm.VGOptions{}))
	t.Cleanup(func() { _ = tool.Run(context.Background(), "vgremove", "-f", "-y", "csivg") })
	run(m.LVCreateOp(ctx, "csivg", lvm.LVSpec{Name: "pool", Type: lvm.LVThinPool, SizeBytes: 256 << 20}))
	b, err := lvmplugin.New(m, "csivg", lvmplugin.WithThinPool("pool"), lvmplugin.WithOverProvisioning(8))
	if err != nil {
		t.Fatal(err)
	}
	// ext4 and 16 MiB volumes: the guest emulates its CPU, and mkfs.xfs
	// needs 300 MiB; the host's TestSanity runs xfs.
	d, err := New(b, st, WithNodeID("node-a"), WithDefaultFSType(fsys.Ext4), WithDefaultSize(16<<20), WithThin(true))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "csi.sock")
	defer serveDriver(t, d, sock)()

	base := t.TempDir()
	testenv.UnmountUnder(t, base)
	cfg := sanity.NewTestConfig()
	cfg.Address = sock
	cfg.TargetPath = filepath.Join(base, "target")
	cfg.StagingPath = filepath.Join(base, "staging")
	cfg.TestVolumeSize = 16 << 20
	cfg.TestVolumeExpandSize = 32 << 20
	cfg.IdempotentCount = 2
	sanity.Test(t, cfg)

	// GetCapacity is the thin pool's headroom under the ratio: 8 x its
	// data size less what the thin volumes were promised.
	gc, err := d.GetCapacity(ctx, &csipb.GetCapacityRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pools, err := b.Pools(ctx)
	if err != nil || len(pools) != 2 || !pools[1].Thin {
		t.Fatalf("pools: %+v %v", pools, err)
	}
	if want := pools[1].FreeBytes / (4 << 20) * (4 << 20); gc.GetAvailableCapacity() != want || want < 7*pools[1].CapacityBytes {
		t.Errorf("GetCapacity %d, thin pool %+v (want its free bytes, about 8 x capacity)", gc.GetAvailableCapacity(), pools[1])
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if !v.Thin {
			t.Errorf("a volume the thin driver made is thick: %+v", v)
		}
	}
	t.Logf("left after csi-sanity: %d volumes", len(vols))
}
