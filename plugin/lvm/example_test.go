package lvm_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	lvmplugin "github.com/CodeMonkeyCybersecurity/eos-storage/plugin/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// The backend on a VG, read from lvm's recorded fullreport (the lvm
// package's fixture, replayed: no root, no lvm): its pool, and none of the
// VG's LVs listed, since the backend made none of them.
func Example() {
	fs, err := command.LoadFixtures("../../lvm/testdata/fullreport")
	if err != nil {
		panic(err)
	}
	var devs []string
	var sysdir string
	for _, f := range fs {
		for i, a := range f.Args {
			if a == "--devices" && devs == nil {
				devs = strings.Split(f.Args[i+1], ",")
			}
		}
		for _, e := range f.Env {
			if v, ok := strings.CutPrefix(e, "LVM_SYSTEM_DIR="); ok {
				sysdir = v
			}
		}
	}
	// Each recorded run answers once; the example asks four times.
	var runs []command.Fixture
	for i := 1; i <= 4; i++ {
		for _, f := range fs {
			f.Seq = i
			runs = append(runs, f)
		}
	}
	rp, err := command.NewReplayer(runs...)
	if err != nil {
		panic(err)
	}
	tool, err := lvm.NewTool(rp, lvm.WithSystemDir(sysdir), lvm.WithDevices(devs...), lvm.WithoutDeviceMapper())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	dir := mustTemp()
	defer os.RemoveAll(dir)
	j, err := safety.OpenJournal(ctx, safety.WithStateDir(dir))
	if err != nil {
		panic(err)
	}
	defer j.Close()
	m, err := lvm.NewManager(tool, lvm.WithJournal(j))
	if err != nil {
		panic(err)
	}
	rep, err := tool.Inventory(ctx)
	if err != nil {
		panic(err)
	}
	vg := rep.VGs[0].Name
	b, err := lvmplugin.New(m, vg)
	if err != nil {
		panic(err)
	}
	pools, err := b.Pools(ctx)
	if err != nil {
		panic(err)
	}
	for _, p := range pools {
		fmt.Printf("pool %s: %d of %d bytes free, thin %v\n", p.Name, p.FreeBytes, p.CapacityBytes, p.Thin)
	}
	vols, _ := b.Volumes(ctx, "")
	fmt.Println("volumes:", len(vols), "of", len(rep.VGs[0].LVs), "LVs")
	_, err = b.CreateVolume(ctx, plugin.CreateRequest{Name: "_hidden", SizeBytes: 1 << 20})
	fmt.Println(err)
	// Output:
	// pool other_vg.2: 25165824 of 29360128 bytes free, thin false
	// volumes: 0 of 1 LVs
	// plugin: invalid name "_hidden": must start with a letter or digit
}

func mustTemp() string {
	d, err := os.MkdirTemp("", "lvm-example-")
	if err != nil {
		panic(err)
	}
	return d
}
