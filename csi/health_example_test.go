package csi_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
	"github.com/CodeMonkeyCybersecurity/eos-storage/csi"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// onPartition gives the memory backend's volumes a block device: sda1 of
// the fake tree below.
type onPartition struct{ plugin.Backend }

func (b onPartition) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	v, err := b.Backend.Volume(ctx, id)
	if v != nil {
		v.Device, v.Path = "/dev/sda1", ""
	}
	return v, err
}

// noFilesystem says every device is unformatted (a raw block volume).
type noFilesystem struct{}

func (noFilesystem) Inspect(_ context.Context, dev string) (*fsys.Info, error) {
	return nil, fmt.Errorf("%s: %w", dev, fsys.ErrUnknownFilesystem)
}

// Volume health names the drive under a volume and what SMART found. Here
// the volume sits on partition sda1 of a fake sysfs tree, and the drive's
// reading is a recorded one of a failing disk.
func ExampleWithHealth() {
	dir, _ := os.MkdirTemp("", "csi-health-example-")
	defer os.RemoveAll(dir)
	sda := filepath.Join(dir, "sys/devices/pci0/host0/block/sda")
	os.MkdirAll(filepath.Join(sda, "sda1"), 0o755)
	os.WriteFile(filepath.Join(sda, "sda1", "partition"), []byte("1\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "sys/class/block"), 0o755)
	os.Symlink(filepath.Join(sda, "sda1"), filepath.Join(dir, "sys/class/block/sda1"))
	root, _ := sysfs.New(dir)

	recorded := csi.SMARTFunc(func(_ context.Context, dev string) (*smart.Report, error) {
		b, err := os.ReadFile("../blockdev/smart/testdata/WDC_WD20EARS-00MVWB0.bin")
		if err != nil {
			return nil, err
		}
		return smart.ParseReplay(b)
	})
	mem, _ := plugintest.NewMemory(filepath.Join(dir, "pool"), "mem", 1<<30, plugintest.Faults{})
	st, err := csi.OpenEngine(context.Background(), filepath.Join(dir, "state"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	d, err := csi.New(onPartition{mem}, st, csi.WithNodeID("node-a"), csi.WithRoot(root),
		csi.WithHealth(csi.HealthConfig{SMART: recorded, Filesystems: noFilesystem{}}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	ops, _ := mem.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "data", SizeBytes: 1 << 20})
	if _, err := st.RunOps(ctx, ops); err != nil {
		fmt.Println(err)
		return
	}
	h, err := d.ControllerGetVolumeHealth(ctx, &csipb.ControllerGetVolumeHealthRequest{VolumeId: "mem/data"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range h.GetVolumeHealth().GetHealthStatuses() {
		fmt.Println(e.GetStatus(), e.GetReason())
		fmt.Println(e.GetMessage())
	}
	// Output:
	// DEGRADED DriveFailing
	// drive /dev/sda (WDC WD20EARS-00MVWB0, serial WD-WMAZA0075739) is failing (SMART): the drive's own health check reports failure, Reallocated_Sector_Ct (5) value 118 is at or below threshold 140, 65529 pending sectors, 46 offline uncorrectable sectors
}
