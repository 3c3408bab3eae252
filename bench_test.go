package storage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkInventory reads the machine with Engine.Inventory and, in the
// same run, with the tools it replaces for the same facts: lsblk -J -O,
// blkid -p per device, lvm fullreport, df, and smartctl -j per drive
// (lvm and smartctl when installed). The I/O rate sample is cut to 1ms:
// no tool of that list measures rates. Reports x-faster = tools / Inventory.
//
// The devices the tools are run on are those of the first Inventory; other
// tests on a shared machine bind and release loop devices meanwhile, so
// compare medians of several runs.
func BenchmarkInventory(b *testing.B) {
	versusTools(b)
}

// BenchmarkInventoryFilesystems is BenchmarkInventory on a machine with 16
// more loop devices, each with a mounted ext4: what grows with the devices
// (per device the probe, the table, fsys.Inspect and the LVM label on one
// side; blkid and its share of lsblk, lvm and df on the other).
func BenchmarkInventoryFilesystems(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "mkfs.ext4", "mount")
	dir := b.TempDir()
	for i := range 16 {
		dev := testenv.Loop(b, 32<<20)
		testenv.Run(b, "mkfs.ext4", "-q", "-F", dev)
		mnt := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(mnt, 0o755); err != nil {
			b.Fatal(err)
		}
		testenv.Run(b, "mount", dev, mnt)
	}
	versusTools(b)
}

func versusTools(b *testing.B) {
	b.Helper()
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "lsblk", "blkid", "df")
	ctx := context.Background()
	e, err := New(WithRateInterval(time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	inv, err := e.Inventory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var devs, drives []string
	for _, d := range inv.Devices {
		if d.SizeBytes > 0 {
			devs = append(devs, d.Path)
		}
		if d.Type == "disk" {
			drives = append(drives, d.Path)
		}
	}
	type cmd struct {
		name string
		args []string
	}
	cmds := []cmd{{"lsblk", []string{"-J", "-O"}}, {"df", nil}}
	for _, d := range devs {
		cmds = append(cmds, cmd{"blkid", []string{"-p", d}})
	}
	if _, err := exec.LookPath("lvm"); err == nil {
		cmds = append(cmds, cmd{"lvm", []string{"fullreport", "--reportformat", "json"}})
	} else {
		b.Log("lvm not installed: not in the anchor")
	}
	if _, err := exec.LookPath("smartctl"); err == nil {
		for _, d := range drives {
			cmds = append(cmds, cmd{"smartctl", []string{"-j", "-a", d}})
		}
	} else {
		b.Log("smartctl not installed: not in the anchor")
	}
	var ours, tools time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.Inventory(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for _, c := range cmds {
			_ = exec.CommandContext(ctx, c.name, c.args...).Run() // exit status 2 (blkid: nothing found) is an answer too
		}
		tools += time.Since(t1)
		ours += t1.Sub(t0)
	}
	b.ReportMetric(float64(tools)/float64(ours), "x-faster")
	b.ReportMetric(float64(len(cmds)), "tool-runs")
	b.ReportMetric(float64(len(devs)), "devices")
}
