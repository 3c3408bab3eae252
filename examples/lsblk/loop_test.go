package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// liveColumns are compared with lsblk on real devices: the tree, sysfs and
// mount columns. lsblk takes the signature columns from udev, which these
// machines lack, so those are compared with blkid -p instead.
const liveColumns = "NAME,KNAME,PATH,MAJ:MIN,SIZE,RO,RM,ROTA,HOTPLUG,TYPE,MODEL,SERIAL,VENDOR,REV,WWN,TRAN,HCTL," +
	"LOG-SEC,PHY-SEC,MIN-IO,OPT-IO,ALIGNMENT,DISC-ALN,DISC-GRAN,DISC-MAX,DISC-ZERO,SCHED,RQ-SIZE,RA,DAX,ZONED," +
	"PKNAME,START,MOUNTPOINT,MOUNTPOINTS,FSSIZE,FSUSED,FSAVAIL,FSUSE%"

// signatureColumns maps our JSON keys to blkid -p -o export keys.
var signatureColumns = map[string]string{
	"fstype": "TYPE", "fsver": "VERSION", "uuid": "UUID", "label": "LABEL", "pttype": "PTTYPE",
	"ptuuid": "PTUUID", "parttype": "PART_ENTRY_TYPE", "partuuid": "PART_ENTRY_UUID", "partlabel": "PART_ENTRY_NAME",
}

func liveDifferences(key string, dev map[string]any, theirs, our any) string {
	if key == "tran" && theirs == nil && our == "loop" {
		return "lsblk 2.38 reports no transport for loop devices; we report loop (a deliberate extension)"
	}
	return ""
}

func mkfs(t *testing.T, tool string, args ...string) {
	t.Helper()
	testenv.RequireTool(t, tool)
	testenv.Run(t, tool, args...)
}

// partitioned attaches an image, writes a table with sfdisk and tells the
// kernel about the partitions with partx (this kernel does not parse tables).
func partitioned(t *testing.T, size int64, script string) string {
	t.Helper()
	testenv.RequireTool(t, "sfdisk", "partx")
	dev := testenv.Loop(t, size)
	cmd := exec.Command(mustTool(t, "sfdisk"), "-q", "--no-reread", "--no-tell-kernel", dev)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk %s: %v: %s", dev, err, out)
	}
	testenv.Run(t, "partx", "-a", dev)
	return dev
}

func mustTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.RequireTool(t, name)[0]
}

func blkid(t *testing.T, dev string) map[string]string {
	t.Helper()
	out, err := testenv.RunErr("blkid", "-p", "-o", "export", dev)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) { // 2: nothing found
		t.Fatalf("blkid -p %s: %v", dev, err)
	}
	m := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), "="); ok {
			m[k] = unquoteExport(v)
		}
	}
	return m
}

// unquoteExport undoes blkid's export quoting: a backslash before each
// character a shell would treat specially ("data\ one").
func unquoteExport(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func TestDifferentialLoopDevices(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lsblk", "blkid", "mount", "swapon")
	gpt := partitioned(t, 600<<20, "label: gpt\n"+
		"size=32MiB, type=linux, name=\"data one\"\n"+
		"size=300MiB, type=linux, name=xfs\n"+
		"size=120MiB, type=linux\n"+
		"size=16MiB, type=swap\n"+
		"size=40MiB, type=uefi, name=esp\n")
	dos := partitioned(t, 64<<20, "label: dos\nsize=24MiB, type=c\nsize=24MiB, type=83\n")
	mkfs(t, "mkfs.ext4", "-q", "-F", "-L", "root", gpt+"p1")
	mkfs(t, "mkfs.xfs", "-q", "-f", "-L", "big", gpt+"p2")
	mkfs(t, "mkfs.btrfs", "-q", "-f", "-L", "pool", gpt+"p3")
	mkfs(t, "mkswap", "-L", "sw", gpt+"p4")
	mkfs(t, "mkfs.vfat", "-n", "ESP", gpt+"p5")
	mkfs(t, "mkfs.vfat", "-n", "STICK", dos+"p1")
	mkfs(t, "mkfs.ext4", "-q", "-F", dos+"p2")
	mnt := t.TempDir()
	testenv.Run(t, "mount", gpt+"p1", mnt)
	testenv.Run(t, "swapon", gpt+"p4")

	args := []string{"-J", "-b", "-o", liveColumns, gpt, dos}
	theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
	our := decode(t, "ours", ours(t, args...))
	n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, liveDifferences, "")
	t.Logf("lsblk: %d known differences", n)

	sig := []string{"-J", "-b", "-o", "NAME,FSTYPE,FSVER,UUID,LABEL,PTTYPE,PTUUID,PARTTYPE,PARTUUID,PARTLABEL", gpt, dos}
	got := decode(t, "ours", ours(t, sig...))
	checked := 0
	var walk func(l []map[string]any)
	walk = func(l []map[string]any) {
		for _, d := range l {
			name := fmt.Sprint(d["name"])
			want := blkid(t, "/dev/"+name)
			for key, bk := range signatureColumns {
				w, ok := want[bk]
				var wv any
				if ok {
					wv = w
				}
				if fmt.Sprint(d[key]) != fmt.Sprint(wv) {
					t.Errorf("%s %s: blkid -p %s=%v, ours %v", name, key, bk, wv, d[key])
				}
				checked++
			}
			walk(kids(d))
		}
	}
	walk(got.BlockDevices)
	if checked != 9*9 {
		t.Errorf("checked %d signature values, want 81 (9 devices)", checked)
	}
}

// TestDifferentialThisMachine compares the machine's own non-loop devices
// (here a virtio disk holding / and a zram device) with lsblk. Filesystem
// usage and mountpoints are left out: other processes write to / and may
// bind-mount parts of it between the two reads (TestDifferentialLoopDevices
// compares both on devices this test owns).
func TestDifferentialThisMachine(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	g, err := blockdev.Discover(context.Background(), blockdev.WithProbe(false))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range g.Roots() {
		if d.Type != blockdev.TypeLoop && d.MajMin.Major != 1 && d.Size != nil {
			paths = append(paths, d.Path)
		}
	}
	if len(paths) == 0 {
		t.Log("no non-loop block devices on this machine; nothing to compare")
		return
	}
	cols := strings.TrimSuffix(liveColumns, ",MOUNTPOINT,MOUNTPOINTS,FSSIZE,FSUSED,FSAVAIL,FSUSE%")
	args := append([]string{"-J", "-b", "-o", cols}, paths...)
	theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
	our := decode(t, "ours", ours(t, args...))
	known := func(key string, dev map[string]any, a, b any) string {
		if key == "tran" && a == nil && b == "virtio" {
			return "lsblk 2.38 has no virtio transport (added in 2.39); the device's subsystem link says virtio"
		}
		return liveDifferences(key, dev, a, b)
	}
	n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, known, "")
	t.Logf("%v: %d known differences", paths, n)
}
