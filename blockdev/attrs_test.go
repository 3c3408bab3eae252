package blockdev_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func discoverGroups(t *testing.T, dir string, g blockdev.AttrGroup) *blockdev.Graph {
	t.Helper()
	gr, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir), blockdev.WithAttributes(g))
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

func dev(t *testing.T, g *blockdev.Graph, name string) *blockdev.Device {
	t.Helper()
	d, ok := g.ByName(name)
	if !ok {
		t.Fatalf("%s not listed", name)
	}
	return d
}

func u(p *uint64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func b(p *bool) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// TestQueueExtraAndZones: add_random, write-same and the zone limits of a
// host-managed disk, inherited by its partition; absent attributes are nil
// without an error, unreadable ones nil with one; and none is read unless
// asked for.
func TestQueueExtraAndZones(t *testing.T) {
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 1<<30, "SMR", "", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
	tr.Set("sda", "queue/add_random", "1").Set("sda", "queue/write_same_max_bytes", "33553920").
		Set("sda", "queue/zoned", "host-managed").Set("sda", "queue/chunk_sectors", "524288").
		Set("sda", "queue/nr_zones", "55880").Set("sda", "queue/zone_append_max_bytes", "1048576").
		Set("sda", "queue/zone_write_granularity", "4096").Set("sda", "queue/max_open_zones", "128").
		Remove("sda", "queue/max_active_zones")
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.Remove("vda", "queue/zone_write_granularity").Remove("vda", "queue/write_same_max_bytes")
	tr.Remove("vda", "queue/add_random")
	if err := os.Mkdir(filepath.Join(dir, mustSys(t, tr, "vda"), "queue/add_random"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g := discoverGroups(t, dir, blockdev.AttrQueueExtra|blockdev.AttrZones)
	for _, name := range []string{"sda", "sda1"} {
		d := dev(t, g, name)
		got := strings.Join([]string{b(d.AddRandom), u(d.WriteSameMax), u(d.ZoneSize), u(d.Zones), u(d.ZoneAppendMax),
			u(d.ZoneWriteGranularity), u(d.MaxOpenZones), u(d.MaxActiveZones)}, " ")
		if want := "true 33553920 268435456 55880 1048576 4096 128 nil"; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
		if len(d.Errs) != 0 {
			t.Errorf("%s: %v", name, d.Errs)
		}
	}
	vda := dev(t, g, "vda")
	if vda.ZoneWriteGranularity != nil || vda.WriteSameMax != nil || vda.AddRandom != nil || vda.ZoneSize == nil || *vda.ZoneSize != 0 {
		t.Errorf("vda: %s %s %s %s", u(vda.ZoneWriteGranularity), u(vda.WriteSameMax), b(vda.AddRandom), u(vda.ZoneSize))
	}
	if !hasAttrErr(vda, "queue/add_random", syscall.EISDIR) {
		t.Errorf("vda: unreadable add_random not reported: %v", vda.Errs)
	}
	d := dev(t, discoverGroups(t, dir, blockdev.AttrDefault), "sda")
	if d.AddRandom != nil || d.WriteSameMax != nil || d.ZoneSize != nil || d.Zones != nil {
		t.Error("the zone and extra queue groups were read without being asked for")
	}
}

func mustSys(t *testing.T, tr *blockdevtest.Tree, name string) string {
	t.Helper()
	p, ok := tr.SysPath(name)
	if !ok {
		t.Fatalf("%s not in the tree", name)
	}
	return p
}

// TestStateAndSubsystems on the sample machine, checked against lsblk
// --sysroot by examples/lsblk's differential tests.
func TestStateAndSubsystems(t *testing.T) {
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	g := discoverGroups(t, dir, blockdev.AttrState|blockdev.AttrSubsystems|blockdev.AttrHardware)
	for _, c := range []struct{ name, state, suspended, subs string }{
		{"sda", "running", "nil", "[block scsi]"},
		{"sda1", "", "nil", "[block scsi]"},
		{"sdc", "running", "nil", "[block scsi usb]"},
		{"nvme0n1", "live", "nil", "[block nvme]"},
		{"vda", "", "nil", "[block virtio]"},
		{"loop0", "", "nil", "[block]"},
		{"dm-0", "", "false", "[block]"},
		{"md0", "", "nil", "[block]"},
	} {
		d := dev(t, g, c.name)
		if got := fmt.Sprint(d.State, " ", b(d.DMSuspended), " ", d.Subsystems); got != fmt.Sprint(c.state, " ", c.suspended, " ", c.subs) {
			t.Errorf("%s: %s, want %s %s %s", c.name, got, c.state, c.suspended, c.subs)
		}
		if len(d.Errs) != 0 {
			t.Errorf("%s: %v", c.name, d.Errs)
		}
	}
	// Hotplug from the same walk agrees with the walk of its own.
	h := discoverGroups(t, dir, blockdev.AttrHardware)
	for _, d := range g.All() {
		if b(d.Hotplug) != b(dev(t, h, d.KName).Hotplug) {
			t.Errorf("%s: hotplug %s with subsystems, %s without", d.KName, b(d.Hotplug), b(dev(t, h, d.KName).Hotplug))
		}
	}
	// Without the hardware group the walk reads the device's link itself.
	s := discoverGroups(t, dir, blockdev.AttrSubsystems)
	for _, d := range g.All() {
		if fmt.Sprint(d.Subsystems) != fmt.Sprint(dev(t, s, d.KName).Subsystems) {
			t.Errorf("%s: %v with the hardware group, %v without", d.KName, d.Subsystems, dev(t, s, d.KName).Subsystems)
		}
	}
}

// TestSysfsIdentity: the identity strings as the kernel pads them, and
// trimmed in the typed fields.
func TestSysfsIdentity(t *testing.T) {
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 1<<30, "x", "", true)
	tr.Set("sda", "device/model", "KINGSTON SH103S3").Set("sda", "device/vendor", "ATA     ").Set("sda", "device/rev", "BBF0")
	tr.NVMe(0, 0, 1<<30, "KINGSTON SKC1000240G                    ", "50026B728203601D    ")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g := discoverGroups(t, dir, blockdev.AttrHardware)
	sda, nv := dev(t, g, "sda"), dev(t, g, "nvme0n1")
	if want := (blockdev.Identity{Model: "KINGSTON SH103S3", Vendor: "ATA     ", Revision: "BBF0"}); sda.SysfsIdentity != want || sda.Vendor != "ATA" {
		t.Errorf("sda: %+v, vendor %q", sda.SysfsIdentity, sda.Vendor)
	}
	if nv.SysfsIdentity.Model != "KINGSTON SKC1000240G                    " || nv.Model != "KINGSTON SKC1000240G" ||
		nv.SysfsIdentity.Serial != "50026B728203601D    " || nv.Serial != "50026B728203601D" {
		t.Errorf("nvme0n1: %+v, %q %q", nv.SysfsIdentity, nv.Model, nv.Serial)
	}
}

// TestNode: owner, group and mode of a real block device node in the
// tree, names from the tree's /etc/passwd and /etc/group; a placeholder
// file or a node of another number is no node of the device.
func TestNode(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
	tr.SATA("sdb", 1, 16, 1<<30, "M", "", true)
	tr.SATA("sdc", 2, 32, 1<<30, "M", "", true)
	tr.WriteFile("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n# a comment\nnobody:x:65534:65534::/:/bin/false\n")
	tr.WriteFile("/etc/group", "root:x:0:\ndisk:x:6:\n")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	mknod := func(name string, major, minor uint32, mode uint32, uid, gid int) {
		p := filepath.Join(dir, "dev", name)
		os.Remove(p)
		if err := unix.Mknod(p, unix.S_IFBLK|mode, int(unix.Mkdev(major, minor))); err != nil {
			t.Skipf("mknod: %v", err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mknod("sda", 8, 0, 0o660, 0, 6)
	mknod("sda1", 8, 1, 0o2640, 65534, 1234)
	mknod("sdb", 8, 99, 0o600, 0, 0) // another device's number
	g := discoverGroups(t, dir, blockdev.AttrNode)
	sda, sda1 := dev(t, g, "sda"), dev(t, g, "sda1")
	if n := sda.Node; n == nil || n.UID != 0 || n.GID != 6 || n.Owner != "root" || n.Group != "disk" ||
		n.Mode != fs.ModeDevice|0o660 || n.ModeString() != "brw-rw----" {
		t.Errorf("sda: %+v", sda.Node)
	}
	if n := sda1.Node; n == nil || n.Owner != "nobody" || n.Group != "" || n.ModeString() != "brw-r-S---" {
		t.Errorf("sda1: %+v %q", sda1.Node, sda1.Node.ModeString())
	}
	if dev(t, g, "sdb").Node != nil || dev(t, g, "sdc").Node != nil {
		t.Error("a node of another number or a placeholder file taken for the device's node")
	}
	for _, d := range g.All() {
		if len(d.Errs) != 0 {
			t.Errorf("%s: %v", d.KName, d.Errs)
		}
	}
	if discoverGroups(t, dir, blockdev.AttrDefault).All()[0].Node != nil {
		t.Error("node read without being asked for")
	}
}

func TestNodeModeString(t *testing.T) {
	for mode, want := range map[fs.FileMode]string{
		fs.ModeDevice | 0o660:                 "brw-rw----",
		fs.ModeDevice | 0o777 | fs.ModeSetuid: "brwsrwxrwx",
		fs.ModeDevice | 0o644 | fs.ModeSetuid: "brwSr--r--",
		fs.ModeDevice | 0o661 | fs.ModeSticky: "brw-rw---t",
		fs.ModeDevice | 0o660 | fs.ModeSticky: "brw-rw---T",
		fs.ModeDevice | 0o670 | fs.ModeSetgid: "brw-rws---",
		fs.ModeDevice:                         "b---------",
	} {
		n := blockdev.Node{Mode: mode}
		if got := n.ModeString(); got != want {
			t.Errorf("%v: %q, want %q", mode, got, want)
		}
	}
}

// TestOpensPerGroup: each optional group costs what doc.go says, and only
// when asked for.
func TestOpensPerGroup(t *testing.T) {
	build := func(tr *blockdevtest.Tree) {
		tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
		tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
		tr.DM(0, "vg-lv", "LVM-x", 1<<20, "sda1")
	}
	count := func(g blockdev.AttrGroup) int {
		tr := blockdevtest.New(t.TempDir())
		build(tr)
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
		_, n, err := blockdev.DiscoverOpens(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithUdev(false), blockdev.WithAttributes(g))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := count(blockdev.AttrDefault)
	for _, c := range []struct {
		g    blockdev.AttrGroup
		want int
	}{
		{blockdev.AttrQueueExtra, 2 + 2},     // sda, dm-0
		{blockdev.AttrZones, 6 + 6},          // sda, dm-0
		{blockdev.AttrState, 1 + 1},          // sda's device/state, dm-0's dm/suspended
		{blockdev.AttrSubsystems, 6 + 1 + 3}, // sda: its link, 5 directories above its device; sda1: its link; dm-0: its link, block/, virtual/
		{blockdev.AttrNode, 3},               // a stat each (placeholder files: no names to read)
		{blockdev.AttrRotational, 0},         // AttrQueue reads it already
	} {
		if got := count(blockdev.AttrDefault|c.g) - base; got != c.want {
			t.Errorf("group %#x: %d more opens, documented %d", uint(c.g), got, c.want)
		}
	}
	// Alone, AttrRotational is one file per disk (sda, dm-0; sda1 takes its
	// disk's), AttrQueue thirteen.
	if got := count(blockdev.AttrRotational) - count(0); got != 2 {
		t.Errorf("AttrRotational over the core: %d more opens, want 2", got)
	}
}

// TestPartitionTables: a partition's PTType and PTUUID, from the probe of
// the partition and of its disk, or from udev properties where nothing was
// probed.
func TestPartitionTables(t *testing.T) {
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<28)
	tr.AddPartition("sda", "sda2", 8, 2, 2, 257<<20, 1024)  // a dos extended partition
	tr.AddPartition("sda", "sda5", 8, 5, 5, 258<<20, 1<<27) // a logical one in it
	tr.AddPartition("sda", "sda6", 8, 6, 6, 400<<20, 1<<27) // a BSD slice the kernel found in a partition
	tr.AddPartition("sda", "sda7", 8, 7, 7, 600<<20, 1<<27) // probing it failed
	tr.SATA("sdb", 1, 16, 1<<30, "M", "", true)
	tr.AddPartition("sdb", "sdb1", 8, 17, 1, 1<<20, 1<<28)
	tr.PropertyFile("/dev/sdb", "ID_PART_TABLE_TYPE=gpt", "ID_PART_TABLE_UUID=11111111-2222-3333-4444-555555555555")
	tr.PropertyFile("/dev/sdb1", "ID_PART_ENTRY_SCHEME=gpt", "ID_FS_TYPE=ext4")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	results := map[string]*probe.Result{
		"sda":  {PTType: "dos", PTUUID: "0e4c17a4"},
		"sda1": {Type: "ext4", HasPartEntry: true, PartEntryScheme: "dos"},
		"sda2": {PTType: "dos", HasPartEntry: true, PartEntryScheme: "dos"},
		"sda5": {HasPartEntry: true, PartEntryScheme: "dos"},
		"sda6": {HasPartEntry: true, PartEntryScheme: "bsd"},
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir), blockdev.WithProbe(true),
		blockdev.WithProbeFilter(func(_ *blockdev.Graph, d *blockdev.Device) bool { return d.KName[:3] == "sda" }),
		blockdev.WithProbeFunc(fakeProbe(dir, results)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, pttype, ptuuid string }{
		{"sda", "dos", "0e4c17a4"},
		{"sda1", "dos", "0e4c17a4"},
		{"sda2", "dos", "0e4c17a4"}, // its own table has no identifier: the disk's, as udev imports it
		{"sda5", "dos", "0e4c17a4"},
		{"sda6", "bsd", ""}, // its entry is not in the disk's table
		{"sda7", "", ""},
		{"sdb", "gpt", "11111111-2222-3333-4444-555555555555"},
		{"sdb1", "gpt", "11111111-2222-3333-4444-555555555555"},
	} {
		d := dev(t, g, c.name)
		if d.PTType != c.pttype || d.PTUUID != c.ptuuid {
			t.Errorf("%s: %q %q, want %q %q", c.name, d.PTType, d.PTUUID, c.pttype, c.ptuuid)
		}
	}
}

// TestPropertyFiles: a fake tree's /dev entries holding KEY=VALUE lines are
// the devices' udev properties, the first value of a key winning and
// empty values skipped; placeholders, images and directories are not.
func TestPropertyFiles(t *testing.T) {
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
	tr.SATA("sdb", 1, 16, 1<<30, "M", "", true)
	tr.SATA("sdc", 2, 32, 1<<30, "M", "", true)
	tr.DM(0, "vg-lv", "LVM-x", 1<<20)
	tr.PropertyFile("/dev/sda", "DEVNAME=/dev/sda", "ID_SERIAL=M_S1", "ID_SERIAL_SHORT=S1", "ID_SERIAL_SHORT=S2",
		"ID_FS_LABEL=", "not a property", "OWNER=root")
	tr.Image("sdb", append([]byte("ID_FS_TYPE=ext4\n"), make([]byte, 4096)...))
	tr.PropertyFile("/dev/mapper/vg-lv", "DM_NAME=vg-lv", "ID_FS_TYPE=xfs")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g := discoverGroups(t, dir, blockdev.AttrHardware)
	sda := dev(t, g, "sda")
	if want := []string{"DEVNAME", "ID_SERIAL", "ID_SERIAL_SHORT", "OWNER"}; !slices.Equal(sda.UdevKeys, want) ||
		sda.Udev["ID_SERIAL_SHORT"] != "S1" || sda.Serial != "S1" || len(sda.Udev) != 4 {
		t.Errorf("sda: %v %v serial %q", sda.UdevKeys, sda.Udev, sda.Serial)
	}
	if dev(t, g, "sdb").Udev != nil || dev(t, g, "sdc").Udev != nil {
		t.Error("an image or an empty placeholder read as properties")
	}
	if lv := dev(t, g, "dm-0"); lv.Udev["ID_FS_TYPE"] != "xfs" {
		t.Errorf("dm-0: %v", lv.Udev)
	}
	if g := discoverGroupsNoUdev(t, dir); dev(t, g, "sda").Udev != nil {
		t.Error("properties read with udev off")
	}
}

// fakeProbe answers for the tree's /dev nodes from results by kernel name;
// a name without a result fails to probe.
func fakeProbe(dir string, results map[string]*probe.Result) func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error) {
	return func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error) {
		r, ok := results[filepath.Base(path)]
		if !ok {
			return nil, fmt.Errorf("no signature for %s: %w", path, fs.ErrInvalid)
		}
		c := *r
		return &c, nil
	}
}

func discoverGroupsNoUdev(t *testing.T, dir string) *blockdev.Graph {
	t.Helper()
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir), blockdev.WithUdev(false))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseUdevProperties(t *testing.T) {
	r := blockdev.ParseUdevProperties([]byte("A=1\nB=\nA=2\n=x\nC=a=b\nno\r\nD=tail"))
	if !slices.Equal(r.Keys, []string{"A", "C", "D"}) || r.Properties["A"] != "1" || r.Properties["C"] != "a=b" || r.Properties["D"] != "tail" {
		t.Errorf("%v %v", r.Keys, r.Properties)
	}
}

func FuzzParseUdevProperties(f *testing.F) {
	for _, s := range []string{"", "A=1\n", "A=\n", "=\n", "A=1\nA=2", "\x00=\x00", "K=V\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := blockdev.ParseUdevProperties(data)
		if len(r.Keys) != len(r.Properties) {
			t.Fatalf("%d keys, %d properties", len(r.Keys), len(r.Properties))
		}
		for _, k := range r.Keys {
			if k == "" || r.Properties[k] == "" {
				t.Fatalf("empty key or value: %q=%q", k, r.Properties[k])
			}
		}
	})
}

// TestAttrRotational: AttrRotational alone gives whether a disk spins (a
// partition takes its disk's) and none of the other queue attributes.
func TestAttrRotational(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.SATA("sda", 0, 0, 1<<30, "M", "", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
	tr.SATA("sdb", 1, 16, 1<<30, "M", "", false)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithAttributes(blockdev.AttrRotational))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"sda": true, "sda1": true, "sdb": false} {
		d := mustName(t, g, name)
		if d.Rotational == nil || *d.Rotational != want {
			t.Errorf("%s rotational %v, want %v", name, d.Rotational, want)
		}
		if d.LogicalSectorSize != nil || d.Scheduler != "" || d.Model != "" {
			t.Errorf("%s: other groups read: %+v", name, d)
		}
	}
}
