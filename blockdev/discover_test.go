package blockdev_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

func sample(t *testing.T) (*blockdevtest.Tree, *blockdev.Graph) {
	t.Helper()
	tr := blockdevtest.Sample(t.TempDir())
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	return tr, g
}

func mustName(t *testing.T, g *blockdev.Graph, name string) *blockdev.Device {
	t.Helper()
	d, ok := g.ByName(name)
	if !ok {
		t.Fatalf("%s not discovered", name)
	}
	return d
}

func knames(ds []*blockdev.Device) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.KName)
	}
	return out
}

func TestDiscoverSampleGraph(t *testing.T) {
	_, g := sample(t)
	if got, want := knames(g.Roots()), []string{"loop0", "loop200", "sda", "sdb", "sdc", "sr0", "vda", "nvme0n1"}; !slices.Equal(got, want) {
		t.Errorf("roots = %v, want %v (lsblk order: by device number)", got, want)
	}
	for _, c := range []struct {
		name     string
		children []string
		parents  []string
	}{
		{"sda", []string{"sda1", "sda2"}, nil},
		{"sda2", []string{"md0"}, []string{"sda"}},
		{"md0", []string{"dm-0", "dm-1"}, []string{"sda2", "sdb1"}},
		{"dm-3", nil, []string{"sdb2", "nvme0n1p1"}},
		{"nvme0n1", []string{"nvme0n1p1", "nvme0n1p2"}, nil},
	} {
		d := mustName(t, g, c.name)
		if got := knames(g.Children(d)); !slices.Equal(got, c.children) && !(len(got) == 0 && len(c.children) == 0) {
			t.Errorf("children(%s) = %v, want %v", c.name, got, c.children)
		}
		if got := knames(g.Parents(d)); !slices.Equal(got, c.parents) && !(len(got) == 0 && len(c.parents) == 0) {
			t.Errorf("parents(%s) = %v, want %v", c.name, got, c.parents)
		}
	}
	sda := mustName(t, g, "sda")
	if got := knames(g.Descendants(sda)); !slices.Equal(got, []string{"sda1", "sda2", "md0", "dm-0", "dm-1"}) {
		t.Errorf("descendants(sda) = %v", got)
	}
	if got := knames(g.InUse(sda)); !slices.Equal(got, []string{"sda1", "dm-0", "dm-1"}) {
		t.Errorf("in use under sda = %v (want the ESP, root LV and swap LV)", got)
	}
	if got := knames(g.Ancestors(mustName(t, g, "dm-0"))); !slices.Equal(got, []string{"md0", "sda2", "sda", "sdb1", "sdb"}) {
		t.Errorf("ancestors(dm-0) = %v", got)
	}
	if g.Len() != 20 || len(g.All()) != 20 {
		t.Errorf("Len %d, All %d, want 20", g.Len(), len(g.All()))
	}
	if d, ok := g.ByPath("/dev/mapper/vg0-root"); !ok || d.KName != "dm-0" {
		t.Errorf("ByPath(/dev/mapper/vg0-root) = %v %v", d, ok)
	}
	if d, ok := g.ByPath("/dev/dm-0"); !ok || d.Name != "vg0-root" {
		t.Errorf("ByPath(/dev/dm-0) = %v %v", d, ok)
	}
	if d, ok := g.Device(blockdev.MajMin{Major: 259, Minor: 2}); !ok || d.KName != "nvme0n1p2" {
		t.Errorf("Device(259:2) = %v %v", d, ok)
	}
	if _, ok := g.ByName("sdz"); ok {
		t.Error("ByName(sdz) found something")
	}
	if g.Disk(mustName(t, g, "nvme0n1p2")).KName != "nvme0n1" || g.Disk(sda) != sda {
		t.Error("Disk() wrong")
	}
}

func TestDiscoverSampleAttributes(t *testing.T) {
	_, g := sample(t)
	for _, d := range g.All() {
		if len(d.Errs) > 0 {
			t.Errorf("%s: unexpected errors %v", d.KName, d.Errs)
		}
	}
	type want struct {
		typ       blockdev.Type
		tran      string
		hotplug   bool
		removable bool
		rota      bool
	}
	for name, w := range map[string]want{
		"sda":       {blockdev.TypeDisk, "sata", false, false, true},
		"sdb":       {blockdev.TypeDisk, "sata", false, false, false},
		"sdc":       {blockdev.TypeDisk, "usb", true, true, true},
		"sdc1":      {blockdev.TypePart, "", true, true, true},
		"sr0":       {blockdev.TypeROM, "sata", true, true, true},
		"nvme0n1":   {blockdev.TypeDisk, "nvme", false, false, false},
		"vda":       {blockdev.TypeDisk, "virtio", false, false, true},
		"loop0":     {blockdev.TypeLoop, "loop", false, false, true},
		"md0":       {"raid1", "", false, false, false},
		"dm-0":      {blockdev.TypeLVM, "", false, false, false},
		"dm-2":      {blockdev.TypeCrypt, "", false, false, false},
		"nvme0n1p1": {blockdev.TypePart, "", false, false, false},
	} {
		d := mustName(t, g, name)
		if d.Type != w.typ || d.Transport != w.tran || *d.Hotplug != w.hotplug || *d.Removable != w.removable || *d.Rotational != w.rota {
			t.Errorf("%s: type %q tran %q hotplug %v rm %v rota %v, want %+v", name, d.Type, d.Transport, *d.Hotplug, *d.Removable, *d.Rotational, w)
		}
	}
	sda1 := mustName(t, g, "sda1")
	if *sda1.Start != 2048 || *sda1.PartNumber != 1 || *sda1.Size != 512<<20 || sda1.DiskSeq != nil {
		t.Errorf("sda1: start %v partn %v size %v diskseq %v", *sda1.Start, *sda1.PartNumber, *sda1.Size, sda1.DiskSeq)
	}
	if sda1.Scheduler != "mq-deadline" || *sda1.LogicalSectorSize != 512 {
		t.Errorf("sda1 queue attributes not taken from sda: %q %v", sda1.Scheduler, *sda1.LogicalSectorSize)
	}
	sda := mustName(t, g, "sda")
	if sda.HCTL != "0:0:0:0" || sda.Model != "WDC WD640" || sda.Vendor != "ATA" || sda.Serial != "WD-0001" || sda.WWN != "0x5000c50000000001" {
		t.Errorf("sda identity: %q %q %q %q %q", sda.HCTL, sda.Model, sda.Vendor, sda.Serial, sda.WWN)
	}
	if sda.Udev["ID_BUS"] != "ata" {
		t.Errorf("sda udev record not attached: %v", sda.Udev)
	}
	nv := mustName(t, g, "nvme0n1")
	if nv.Serial != "S64DNF0001" || nv.Model != "Samsung SSD 980" || nv.MajMin.String() != "259:0" || nv.Scheduler != "none" {
		t.Errorf("nvme0n1: %q %q %s %q", nv.Serial, nv.Model, nv.MajMin, nv.Scheduler)
	}
	if l := mustName(t, g, "loop0"); l.LoopBackingFile != "/var/lib/images/disk.img" {
		t.Errorf("loop0 backing file %q", l.LoopBackingFile)
	}
	if l := mustName(t, g, "loop200"); l.LoopBackingFile != "" || *l.Size != 0 || l.Type != blockdev.TypeLoop {
		t.Errorf("detached loop200: %+v", l)
	}
	dm := mustName(t, g, "vg0-root")
	if dm.KName != "dm-0" || dm.Path != "/dev/mapper/vg0-root" || dm.DMName != "vg0-root" || dm.Scheduler != "" || dm.NrRequests != nil {
		t.Errorf("dm-0: %q %q %q sched %q rq %v", dm.KName, dm.Path, dm.DMName, dm.Scheduler, dm.NrRequests)
	}
	if got := dm.MountPoints(); !slices.Equal(got, []string{"/"}) {
		t.Errorf("dm-0 mountpoints %v", got)
	}
	if got := mustName(t, g, "dm-1").MountPoints(); !slices.Equal(got, []string{"[SWAP]"}) {
		t.Errorf("dm-1 mountpoints %v", got)
	}
	if got := mustName(t, g, "dm-3").MountPoints(); !slices.Equal(got, []string{"/srv/my data"}) {
		t.Errorf("escaped mountpoint: %v", got)
	}
	if md := mustName(t, g, "md0"); md.MDLevel != "raid1" {
		t.Errorf("md0 level %q", md.MDLevel)
	}
	if dm.FSUsage != nil {
		t.Error("fs usage filled for a fake tree (statfs would read the live system)")
	}
}

func TestDiscoverBtrfsMountBySource(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vdb", 1, 16, 1<<30)
	// btrfs reports an anonymous device number; the source node names the device.
	tr.MountRaw(0, 45, "/@home", "/home", "btrfs", "/dev/vdb")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	d := mustName(t, g, "vdb")
	if len(d.Mounts) != 1 || d.Mounts[0].Root != "/@home" || d.Mounts[0].FSType != "btrfs" {
		t.Errorf("btrfs mount not matched: %+v", d.Mounts)
	}
}

func TestOptionsValidated(t *testing.T) {
	ctx := context.Background()
	for _, o := range []blockdev.Option{
		blockdev.WithRoot("/nonexistent/root/for/test"),
		blockdev.WithProbeTimeout(0),
		blockdev.WithProbeWorkers(0),
	} {
		if _, err := blockdev.Discover(ctx, o); !errors.Is(err, blockdev.ErrInvalidOption) {
			t.Errorf("err = %v, want ErrInvalidOption", err)
		}
	}
	if _, err := blockdev.Discover(ctx, blockdev.WithRoot(t.TempDir())); !errors.Is(err, blockdev.ErrNoDevices) {
		t.Errorf("empty root: err = %v, want ErrNoDevices", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := blockdev.Discover(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestMajMin(t *testing.T) {
	m, err := blockdev.ParseMajMin(" 259:12\n")
	if err != nil || m != (blockdev.MajMin{Major: 259, Minor: 12}) || m.String() != "259:12" {
		t.Fatalf("ParseMajMin = %v, %v", m, err)
	}
	for _, bad := range []string{"", "8", "8:", ":0", "a:b", "8:0:1", "-1:0", "4294967296:0"} {
		if _, err := blockdev.ParseMajMin(bad); !errors.Is(err, blockdev.ErrSyntax) {
			t.Errorf("ParseMajMin(%q) err = %v", bad, err)
		}
	}
}

func FuzzParseMajMin(f *testing.F) {
	for _, s := range []string{"8:0", "259:65535", "", ":", "1:2:3", " 7:1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := blockdev.ParseMajMin(s)
		if err != nil {
			return
		}
		back, err := blockdev.ParseMajMin(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip %q -> %v -> %v, %v", s, m, back, err)
		}
	})
}
