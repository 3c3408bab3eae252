package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// liveColumns are compared with lsblk on real devices: the tree, sysfs,
// device node and mount columns. lsblk takes the signature columns from
// udev, which these machines lack, so those are compared with blkid -p (and
// with lsblk reading a udev database made by udevadm, lsblkWithUdev)
// instead.
const liveColumns = liveDeviceColumns + "," + liveMountColumns

const (
	liveDeviceColumns = "NAME,KNAME,PATH,MAJ:MIN,SIZE,RO,RM,ROTA,HOTPLUG,TYPE,MODEL,SERIAL,VENDOR,REV,WWN,TRAN,HCTL," +
		"LOG-SEC,PHY-SEC,MIN-IO,OPT-IO,ALIGNMENT,DISC-ALN,DISC-GRAN,DISC-MAX,DISC-ZERO,SCHED,RQ-SIZE,RA,DAX,ZONED," +
		"RAND,WSAME,ZONE-SZ,ZONE-WGRAN,ZONE-APP,ZONE-NR,ZONE-OMAX,ZONE-AMAX,STATE,SUBSYSTEMS,OWNER,GROUP,MODE," +
		"PKNAME,START"
	liveMountColumns = "MOUNTPOINT,MOUNTPOINTS,FSROOTS,FSSIZE,FSUSED,FSAVAIL,FSUSE%"
)

// signatureColumns maps our JSON keys to blkid -p -o export keys.
var signatureColumns = map[string]string{
	"fstype": "TYPE", "fsver": "VERSION", "uuid": "UUID", "label": "LABEL", "pttype": "PTTYPE",
	"ptuuid": "PTUUID", "parttype": "PART_ENTRY_TYPE", "partuuid": "PART_ENTRY_UUID", "partlabel": "PART_ENTRY_NAME",
	"partflags": "PART_ENTRY_FLAGS",
}

// signatureKeys are the signature columns, -o style.
const signatureKeys = "FSTYPE,FSVER,UUID,LABEL,PTTYPE,PTUUID,PARTTYPE,PARTTYPENAME,PARTUUID,PARTLABEL,PARTFLAGS"

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
		"size=40MiB, type=uefi, name=esp, attrs=\"RequiredPartition,LegacyBIOSBootable\"\n")
	// dos with a bootable primary, an extended partition and two logical
	// ones in it (the kernel's extended partition is its first 1 KiB).
	dos := partitioned(t, 64<<20, "label: dos\n"+
		"start=2048, size=32768, type=c, bootable\n"+
		"start=34816, size=16384, type=83\n"+
		"start=51200, size=61440, type=5\n"+
		"start=53248, size=16384, type=83\n"+
		"start=71680, size=16384, type=82\n")
	mkfs(t, "mkfs.ext4", "-q", "-F", "-L", "root", gpt+"p1")
	mkfs(t, "mkfs.xfs", "-q", "-f", "-L", "big", gpt+"p2")
	mkfs(t, "mkfs.btrfs", "-q", "-f", "-L", "pool", gpt+"p3")
	mkfs(t, "mkswap", "-L", "sw", gpt+"p4")
	mkfs(t, "mkfs.vfat", "-n", "ESP", gpt+"p5")
	mkfs(t, "mkfs.vfat", "-n", "STICK", dos+"p1")
	mkfs(t, "mkfs.ext4", "-q", "-F", dos+"p2")
	mkfs(t, "mkfs.ext4", "-q", "-F", "-L", "logical", dos+"p5")
	mnt := t.TempDir()
	testenv.Run(t, "mount", gpt+"p1", mnt)
	testenv.Run(t, "swapon", gpt+"p4")
	// A second mount of a subtree: FSROOTS lists both, MOUNTPOINT the
	// whole filesystem's.
	if err := os.Mkdir(mnt+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	bind := t.TempDir()
	testenv.Run(t, "mount", "--bind", mnt+"/sub", bind)
	t.Cleanup(func() { _, _ = testenv.RunErr("umount", bind) })

	args := []string{"-J", "-b", "-o", liveColumns, gpt, dos}
	theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
	our := decode(t, "ours", ours(t, args...))
	n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, liveDifferences, "")
	t.Logf("lsblk: %d known differences", n)

	sig := []string{"-J", "-b", "-o", "NAME," + signatureKeys, gpt, dos}
	got := decode(t, "ours", ours(t, sig...))
	checked := 0
	var walk func(l []map[string]any, disk map[string]string)
	walk = func(l []map[string]any, disk map[string]string) {
		for _, d := range l {
			name := fmt.Sprint(d["name"])
			want := blkid(t, "/dev/"+name)
			if disk != nil {
				// What lsblk prints for a partition (with udev, which
				// imports the disk's ID_PART_TABLE_* properties): the
				// type of the table holding its entry unless it carries
				// a table itself (the extended partition), and the
				// disk's table identifier.
				if want["PTTYPE"] == "" {
					want["PTTYPE"] = want["PART_ENTRY_SCHEME"]
				}
				if want["PTUUID"] == "" {
					want["PTUUID"] = disk["PTUUID"]
				}
			}
			for key, bk := range signatureColumns {
				w, ok := want[bk]
				var wv any
				if ok && w != "" {
					wv = w
				}
				if fmt.Sprint(d[key]) != fmt.Sprint(wv) {
					t.Errorf("%s %s: blkid -p %s=%v, ours %v", name, key, bk, wv, d[key])
				}
				checked++
			}
			walk(kids(d), want)
		}
	}
	walk(got.BlockDevices, nil)
	if want := 12 * len(signatureColumns); checked != want {
		t.Errorf("checked %d signature values, want %d (12 devices)", checked, want)
	}
	for _, p := range []struct{ dev, key, want string }{
		{gpt + "p1", "pttype", "gpt"}, {dos + "p1", "pttype", "dos"}, {dos + "p3", "pttype", "dos"},
		{dos + "p5", "pttype", "dos"}, {dos + "p6", "pttype", "dos"},
		{gpt + "p5", "partflags", "0x5"}, {dos + "p1", "partflags", "0x80"},
	} {
		l := decode(t, "ours", ours(t, "-J", "-o", "NAME,"+strings.ToUpper(p.key), p.dev))
		if len(l.BlockDevices) != 1 || l.BlockDevices[0][p.key] != p.want {
			t.Errorf("%s %s: %v, want %s", p.dev, p.key, l.BlockDevices, p.want)
		}
	}

	// lsblk with udev: a udev database made by udevadm's own rules for
	// these devices, in a mount namespace of its own.
	theirs, mine := lsblkWithUdev(t, []string{gpt, dos}, "-J", "-O", "-b", gpt, dos)
	n = compareTrees(t, theirs.BlockDevices, mine.BlockDevices, liveDifferences, "")
	t.Logf("lsblk with udev against ours with udev: %d known differences", n)
	// Our signature columns without udev (from our probe) are what
	// lsblk takes from udev.
	probed := decode(t, "ours", ours(t, "-J", "-O", "-b", gpt, dos))
	keys := strings.Split(strings.ToLower("NAME,KNAME,"+signatureKeys), ",")
	compareTrees(t, onlyKeys(theirs.BlockDevices, keys), onlyKeys(probed.BlockDevices, keys), liveDifferences, "")
	if testing.Verbose() {
		j, _ := json.Marshal(onlyKeys(theirs.BlockDevices, keys))
		t.Logf("lsblk with udev: %s", j)
	}
	for _, disk := range theirs.BlockDevices {
		if disk["name"] != filepath.Base(gpt) {
			continue
		}
		for _, d := range kids(disk) {
			if d["pttype"] != "gpt" || d["ptuuid"] != disk["ptuuid"] || d["parttypename"] == nil {
				t.Errorf("lsblk with udev: %v pttype %v ptuuid %v parttypename %v", d["name"], d["pttype"], d["ptuuid"], d["parttypename"])
			}
		}
	}
}

// onlyKeys copies a tree keeping the given keys (and children).
func onlyKeys(l []map[string]any, keys []string) []map[string]any {
	out := make([]map[string]any, 0, len(l))
	for _, d := range l {
		m := map[string]any{}
		for _, k := range keys {
			if v, ok := d[k]; ok {
				m[k] = v
			}
		}
		if c := kids(d); len(c) > 0 {
			var cs []any
			for _, k := range onlyKeys(c, keys) {
				cs = append(cs, k)
			}
			m["children"] = cs
		}
		out = append(out, m)
	}
	return out
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
	args := append([]string{"-J", "-b", "-o", liveDeviceColumns}, paths...)
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
